"""Step 4: what the import will do, row by row, with rejected cells to correct."""

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from core.config import Settings
from core.fields import labels_in
from core.i18n import LANGUAGES, NP_
from core.issues import ISSUE_TYPES, UnusableFileError
from core.mail import preview_message
from core.pipeline import (
    ImportRequest,
    preview_import,
)
from core.plan import Plan, RowPlan, describe_changes
from core.read import (
    Table,
)
from core.validate import load_known_names
from ui.progress import count_tiles
from ui.text import _, counted, current_language, number
from ui.widgets import md
from ui.wizard.state import (
    FIX_ROWS_SHOWN,
    OUTCOME_LABELS,
    PAGE_SIZE,
    Wizard,
    current_table,
    step_buttons,
)
from ui.wizard.upload import with_headers


def current_plan(wizard: Wizard, settings: Settings, engine: Engine) -> Plan:
    """The preview, computed once per set of choices; its first rows show while it grows."""
    cached = st.session_state.get("wizard_plan")
    if cached and cached[0] == wizard.key():
        return cached[1]
    table = current_table(wizard, settings)
    total, early = table.row_count, None
    labels = screen_labels(engine)
    with Session(engine) as session:
        request = ImportRequest(table, wizard.mapping or {}, wizard.options)
        for plan in preview_import(session=session, request=request):
            done = plan.outcomes.total()
            if done < total:
                # A large file: show what is known while the rest is checked.
                early = early if early is not None else st.empty()
                with early.container():
                    st.progress(
                        done / total,
                        text=_("Checked {done} of {total} rows…").format(
                            done=number(done), total=number(total)
                        ),
                    )
                    count_tiles(plan.counts)
                    st.dataframe(
                        _rows_table(plan.rows[:PAGE_SIZE], labels), hide_index=True, placeholder=""
                    )
    if early is not None:
        early.empty()
    st.session_state["wizard_plan"] = (wizard.key(), plan)
    return plan


def screen_labels(engine: Engine) -> dict[str, str]:
    """Field key -> label, as the reader's screens name the fields."""
    with Session(engine) as session:
        profile = load_known_names(session=session).importable_profile_fields
    return labels_in(current_language(), profile)


def _rows_table(rows: list[RowPlan], labels: dict[str, str]) -> pd.DataFrame:
    language = current_language()
    return pd.DataFrame(
        [
            {
                _("Row"): r.row,
                _("Email"): r.email,
                _("Outcome"): _(OUTCOME_LABELS.get(r.outcome, r.outcome)),
                _("Changes"): describe_changes(r, labels, language),
            }
            for r in rows
        ],
        columns=[_("Row"), _("Email"), _("Outcome"), _("Changes")],
    )


def _page(count: int, key: str) -> slice:
    """The positions of the page chosen under key; only these rows are formatted and sent."""
    pages = max(1, -(-count // PAGE_SIZE))
    label = _("Page (of {pages})").format(pages=number(pages))
    page = st.number_input(label, 1, pages, 1, key=key) if pages > 1 else 1
    return slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE)


def _rows_page(plan: Plan, outcome: str, labels: dict[str, str]) -> None:
    rows = [r for r in plan.rows if r.outcome == outcome]
    shown = _rows_table(rows[_page(len(rows), f"page_{outcome}")], labels)
    st.dataframe(shown.drop(columns=_("Outcome")), hide_index=True, placeholder="")


def _paged(frame: pd.DataFrame, key: str) -> None:
    st.dataframe(frame.iloc[_page(len(frame), key)], hide_index=True, placeholder="")


def step_preview(wizard: Wizard, settings: Settings, engine: Engine) -> None:
    table = current_table(wizard, settings)
    try:
        plan = current_plan(wizard, settings, engine)
    except UnusableFileError as exc:
        language = current_language()
        st.error(md(" ".join([exc.text(language), *(f.text(language) for f in exc.findings)])))
        step_buttons(wizard, can_next=False)
        return
    count_tiles(plan.counts)
    if plan.refusal:
        st.error(md(plan.refusal.text(current_language())))
    present = [o for o in OUTCOME_LABELS if plan.outcomes[o]]
    if present:
        for tab, outcome in zip(
            st.tabs([_(OUTCOME_LABELS[o]) for o in present]), present, strict=True
        ):
            with tab:
                _rows_page(plan, outcome, screen_labels(engine))
    if plan.issues:
        st.subheader(_("Issues"))
        language = current_language()
        frame = pd.DataFrame(
            [
                {
                    _("Row"): i.row,
                    _("Column"): i.column,
                    _("Severity"): _(i.severity),
                    _("Problem and what to do"): i.text(language),
                }
                for i in plan.issues
            ]
        )
        # Grouped by what kind of problem it is, in words; the code stays for the downloads.
        kinds = pd.Series([_(ISSUE_TYPES[i.code].meaning) for i in plan.issues])
        chosen = st.multiselect(
            _("Show only"), sorted(kinds.unique()), placeholder=_("All kinds of problems")
        )
        _paged(frame[kinds.isin(chosen).to_numpy()] if chosen else frame, "page_issues")
    if plan.error_rows:
        _corrections_editor(wizard, table, plan)
    if plan.deactivate:
        st.subheader(
            counted(
                NP_(
                    "Would be blocked: {count} user not in the file",
                    "Would be blocked: {count} users not in the file",
                ),
                len(plan.deactivate),
            )
        )
        _paged(
            pd.DataFrame([{"Email": d.email, "Name": d.name} for d in plan.deactivate]).rename(
                columns=_
            ),
            "page_deactivate",
        )
    _emails(wizard, settings, engine, plan)
    step_buttons(
        wizard, can_next=not plan.refused and (plan.writes_anything or bool(plan.error_rows))
    )


def _corrections_editor(wizard: Wizard, table: Table, plan: Plan) -> None:
    st.subheader(_("Fix rejected rows"))
    st.caption(_("Correct the cells below and revalidate; no need to upload the file again."))
    rows = sorted(plan.error_rows)[:FIX_ROWS_SHOWN]
    if len(plan.error_rows) > FIX_ROWS_SHOWN:
        st.caption(
            _(
                "The first {shown} of {count} rejected rows; fix the others in the file of "
                "rejected rows after the import, or in the file itself."
            ).format(shown=FIX_ROWS_SHOWN, count=number(len(plan.error_rows)))
        )
    edited = st.data_editor(
        with_headers(table, table.data.loc[rows]), key="corrections", disabled=False
    )
    if st.button(_("Revalidate")):
        for row in rows:
            for index in range(table.data.shape[1]):
                value = str(edited.iloc[rows.index(row), index])
                if value != table.data.at[row, index]:
                    wizard.corrections.setdefault(row, {})[index] = value
        st.rerun()
    with st.form("correct_cell"):
        st.caption(_("Or correct one cell:"))
        row_col, column_col, value_col = st.columns(3)
        row = row_col.selectbox(_("Row"), rows)
        column = column_col.selectbox(
            _("Column"), range(table.data.shape[1]), format_func=table.column_name
        )
        value = value_col.text_input(_("New value"))
        if st.form_submit_button(_("Correct and revalidate")):
            wizard.corrections.setdefault(row, {})[column] = value.strip()
            st.rerun()


def _emails(wizard: Wizard, settings: Settings, engine: Engine, plan: Plan) -> None:
    if not (plan.welcome or plan.notify or wizard.notify_me):
        return
    st.subheader(_("Emails"))
    st.write(
        _("Welcome emails: {welcome}; change notices: {notices}.").format(
            welcome=number(len(plan.welcome)), notices=number(len(plan.notify))
        )
    )
    to, what = _("To"), _("Message")
    messages = [{to: e, what: _("welcome")} for e in plan.welcome]
    messages += [{to: e, what: _("change notice")} for e in plan.notify]
    if wizard.notify_me:
        messages.append({to: _("you"), what: _("import finished")})
    _paged(pd.DataFrame(messages, columns=[to, what]), "page_emails")
    if not settings.smtp_configured:
        st.warning(
            _(
                "No mail server is configured, so these emails will be kept as not sent. "
                "Set INSTROOM_SMTP_HOST to send them."
            )
        )
    language = st.radio(
        _("Preview the message in"),
        # Mails are Dutch unless a user's language says otherwise: show that first.
        list(LANGUAGES),
        format_func=lambda code: LANGUAGES[code],
        horizontal=True,
    )
    rows = {r.email: r for r in plan.rows}
    with Session(engine) as session:
        for template, recipients in (("welcome", plan.welcome), ("updated", plan.notify)):
            if recipients and recipients[0] in rows:
                subject, body = preview_message(
                    session=session,
                    template=template,
                    language=language,
                    row=rows[recipients[0]],
                    settings=settings,
                )
                more = (
                    _(" and {count} more").format(count=number(len(recipients) - 1))
                    if len(recipients) > 1
                    else ""
                )
                with st.expander(f"{md(subject)} → {md(recipients[0])}{more}"):
                    st.text(body)
