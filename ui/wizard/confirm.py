"""Step 5: everything that will happen in one sentence, then the import is queued."""

from dataclasses import replace
from functools import partial

import streamlit as st
from sqlalchemy import Engine

from core.accounts import SignedInAccount
from core.config import Settings
from core.i18n import NP_, format_list
from core.jobs import create_job
from core.links import LinkDraft
from core.pipeline import (
    ImportRequest,
    check_import_mapping,
)
from core.plan import Plan
from core.validate import load_known_names
from core.worker import enqueue_import, wake_worker
from db.engine import session_scope
from db.vocabulary import JobStatus
from ui.links import link_form
from ui.text import _, counted, current_language
from ui.widgets import show_flash
from ui.wizard.preview import current_plan
from ui.wizard.state import Wizard, current_table

ACTION_WORDS = (
    ("created", NP_("create {count} user", "create {count} users")),
    ("updated", NP_("update {count} user", "update {count} users")),
    ("blocked", NP_("block {count} user", "block {count} users")),
    ("unblocked", NP_("unblock {count} user", "unblock {count} users")),
    ("renamed", NP_("rename {count} user", "rename {count} users")),
    ("deactivated", NP_("deactivate {count} user", "deactivate {count} users")),
)


def confirmation_text(plan: Plan) -> str:
    """The question an administrator confirms: every change, every new name, every mail."""
    counts = plan.counts
    parts = [counted(words, counts[key]) for key, words in ACTION_WORDS if counts[key]]
    terms = sorted({t for names in plan.new_terms.values() for t in names})
    for names, words in (
        (
            plan.new_groups,
            NP_("create {count} new group ({names})", "create {count} new groups ({names})"),
        ),
        (
            plan.new_levels,
            NP_("create {count} new level ({names})", "create {count} new levels ({names})"),
        ),
        (terms, NP_("create {count} new term ({names})", "create {count} new terms ({names})")),
    ):
        if names:
            parts.append(counted(words, len(names), names=", ".join(names)))
    for mails, words in (
        (plan.welcome, NP_("send {count} welcome mail", "send {count} welcome mails")),
        (plan.notify, NP_("send {count} change notice", "send {count} change notices")),
    ):
        if mails:
            parts.append(counted(words, len(mails)))
    actions = format_list(parts, current_language()) or _("change nothing for users")
    question = actions[0].upper() + actions[1:] + "?"
    if counts["errors"]:
        question += " " + counted(
            NP_(
                "{count} rejected row will not be imported.",
                "{count} rejected rows will not be imported.",
            ),
            counts["errors"],
        )
    return question


def step_confirm(
    wizard: Wizard, settings: Settings, engine: Engine, account: SignedInAccount
) -> None:
    show_flash()  # "Link saved", after the rerun that saving a link makes
    plan = current_plan(wizard, settings, engine)
    st.subheader(confirmation_text(plan))
    if wizard.options.strict and plan.error_rows:
        st.warning(
            _(
                "All or nothing is chosen and rows are rejected: the import will change "
                "nothing. Go back to fix the rows, or choose to import the valid ones."
            )
        )
    back, start = st.columns([1, 5])
    if back.button(_("Back")):
        wizard.step -= 1
        st.rerun()
    if start.button(_("Start the import"), type="primary"):
        table = current_table(wizard, settings)
        options = replace(wizard.options, notify_admin=account.email if wizard.notify_me else None)
        with session_scope(engine) as session:
            mapping = wizard.mapping or {}
            check_import_mapping(
                known_names=load_known_names(session=session), table=table, mapping=mapping
            )
            job = create_job(
                session=session,
                request=ImportRequest(table, mapping, options),
                file_name=wizard.file_name,
                file_bytes=wizard.data,
                created_by=account.username,
                status=JobStatus.QUEUED,
                corrections=wizard.corrections,
            )
            wizard.job_id = enqueue_import(
                session=session, job=job, read_options=wizard.read_options(settings)
            )
        wake_worker(settings.database_url)
        st.query_params["job"] = str(wizard.job_id)
        wizard.step += 1
        st.rerun()
    with st.expander(_("Save as a link: import the HR system's export like this, by itself")):
        st.caption(
            _(
                "The link keeps this mapping (by column name), these options and how the file "
                "is read; corrections typed in the preview are not kept, since every export is "
                "read afresh."
            )
        )
        table = current_table(wizard, settings)
        make = partial(
            LinkDraft,
            mapping=[(table.column_name(i), f) for i, f in sorted((wizard.mapping or {}).items())],
            options=replace(
                wizard.options, notify_admin=account.email if wizard.notify_me else None
            ),
            read_options=wizard.read_options(settings),
        )
        link_form(engine, settings, account, key="wizard_link", make=make)
