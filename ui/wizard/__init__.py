"""The import wizard: one module per step, the state they share in ui.wizard.state."""

import streamlit as st
from sqlalchemy import Engine

from core.accounts import SignedInAccount
from core.config import Settings
from ui.progress import job_progress
from ui.text import _
from ui.wizard.confirm import step_confirm
from ui.wizard.mapping import step_map
from ui.wizard.options import step_options
from ui.wizard.preview import step_preview
from ui.wizard.state import GENERATION_KEY, STEPS, Wizard, get_wizard
from ui.wizard.upload import step_upload


def render_wizard(account: SignedInAccount, settings: Settings, engine: Engine) -> None:
    """The wizard at its current step; an import started earlier is shown by its job id."""
    wizard = get_wizard()
    job_param = st.query_params.get("job")
    if job_param and job_param.isdigit() and wizard.job_id is None:
        wizard.job_id, wizard.step = int(job_param), len(STEPS) - 1
    # Room for "Opnieuw beginnen" in full: Dutch words are longer than English ones.
    progress, restart = st.columns([4, 1], vertical_alignment="bottom")
    progress.progress(
        (wizard.step + 1) / len(STEPS),
        text=_("Step {number} of {steps}: {name}").format(
            number=wizard.step + 1, steps=len(STEPS), name=_(STEPS[wizard.step])
        ),
    )
    if wizard.data and wizard.step < len(STEPS) - 1:
        restart.button(
            _("Start over"),
            on_click=_start_over,
            help=_("Forget this file and its choices."),
            width="stretch",
        )
    if wizard.step == 0:
        step_upload(wizard, settings, engine)
    elif wizard.step == 1:
        step_map(wizard, settings, engine, account)
    elif wizard.step == 2:
        step_options(wizard, settings, engine)
    elif wizard.step == 3:
        step_preview(wizard, settings, engine)
    elif wizard.step == 4:
        step_confirm(wizard, settings, engine, account)
    else:
        job_progress(engine, wizard.job_id)
        st.button(_("Start another import"), on_click=_start_over)


def _start_over() -> None:
    st.query_params.clear()
    st.session_state["wizard"] = Wizard()
    st.session_state.pop("wizard_plan", None)
    st.session_state[GENERATION_KEY] = st.session_state.get(GENERATION_KEY, 0) + 1
