"""History panels: reverting an import, and one user's changes."""

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from core.history import (
    JobDetail,
    change_labels,
    describe_added,
    get_job_detail,
    get_kept_file,
    job_change_rows,
    user_history,
)
from core.i18n import N_, NP_
from core.issues import ISSUE_TYPES, JobError
from core.mail import requeue_messages
from core.options import describe_options
from core.revert import REVERTIBLE, create_revert_job, plan_revert
from db import queries
from db.engine import read_session, session_scope
from db.models import ImportJob
from ui.text import (
    _,
    bold,
    counted,
    csv_when_clicked,
    current_language,
    moment,
    number,
    shown,
    starter,
)
from ui.widgets import md, run_action

# The changed values a job's details show; the download has them all.
CHANGES_SHOWN = 1_000


def revert_panel(engine: Engine, job: ImportJob, username: str, labels: dict[str, str]) -> None:
    """Preview a revert like an import, choose which conflicts to overwrite, and queue it."""
    if job.id is None or job.kind != "import" or job.status not in REVERTIBLE:
        return
    if not st.toggle(_("Revert this import…"), key=f"revert_open_{job.id}"):
        return
    with read_session(engine) as session:
        try:
            plan = plan_revert(session=session, job_id=job.id)
        except JobError as exc:
            st.error(md(exc.text(current_language())))
            return
    language = current_language()
    counts = plan.counts
    columns = st.columns(4)
    for column, (key, label) in zip(
        columns,
        (
            ("updated", N_("Restored")),
            ("removed", N_("Removed")),
            ("blocked", N_("Blocked")),
            ("conflicts", N_("Conflicts")),
        ),
        strict=True,
    ):
        column.metric(_(label), number(counts[key]))
    st.dataframe(
        pd.DataFrame(
            [
                dict(
                    zip(
                        (_("Email"), _("Action"), _("Changes"), _("Conflict")),
                        (r.email, *plan.row_words(r, labels, language)),
                        strict=True,
                    )
                )
                for r in plan.rows
            ]
        ),
        hide_index=True,
        placeholder="",
    )
    overwrite = []
    if plan.conflicts:
        st.warning(
            _(
                "These users were changed after the import and are left alone unless you "
                "choose them here:"
            )
        )
        overwrite = (
            st.pills(
                _("Overwrite anyway"),
                [r.email for r in plan.conflicts],
                selection_mode="multi",
                key=f"overwrite_{job.id}",
            )
            or []
        )
    confirm = _("Confirm: revert import {job_id}").format(job_id=job.id)
    if st.button(confirm, type="primary", key=f"revert_{job.id}"):
        try:
            with session_scope(engine) as session:
                revert_id = create_revert_job(
                    session=session, job_id=job.id, created_by=username, overwrite=set(overwrite)
                ).id
        except JobError as exc:
            st.error(md(exc.text(current_language())))
            return
        st.success(
            _("The revert is queued as job {job_id}; it appears in the history.").format(
                job_id=revert_id
            )
        )


def user_history_panel(engine: Engine, time_zone: str) -> None:
    """Every change imports made to one user, newest first."""
    email = st.text_input(_("History of one user (email address)"))
    if not email.strip():
        return
    with read_session(engine) as session:
        user = queries.get_user_by_email(session=session, email=email)
        if user is None or user.id is None:
            st.info(md(_("There is no user {email!r}.").format(email=email.strip())))
            return
        history = user_history(session=session, user_id=user.id, language=current_language())
    st.dataframe(shown(history, time_zone), hide_index=True, placeholder="")


def kept_file_panel(engine: Engine, job: ImportJob, time_zone: str) -> None:
    """Download of the original file, for as long as the administrator chose to keep it."""
    if job.id is None or job.keep_file_until is None:
        return
    until = moment(job.keep_file_until, time_zone)
    label = _("Original file (kept until {when})").format(when=until)
    if not st.toggle(label, key=f"kept_{job.id}"):
        return
    with read_session(engine) as session:
        kept = get_kept_file(session=session, job_id=job.id)
    if kept is None:
        st.info(_("The file is no longer kept."))
        return
    st.download_button(
        _("Download {name}").format(name=kept[0]),
        kept[1],
        kept[0],
        key=f"kept_download_{job.id}",
        on_click="ignore",
    )


def job_settings_panel(job: ImportJob, labels: dict[str, str], time_zone: str) -> None:
    """Who started an import and when, its options in sentences, its columns by label."""
    language = current_language()
    st.caption(
        _("Started by {who} on {when}").format(
            who=md(starter(job.created_by)), when=moment(job.created_at, time_zone)
        )
        + (f"; {md(job.error)}" if job.error else "")
    )
    options, mapping = st.columns(2)
    options.markdown(bold(_("Options")) + md(describe_options(job.options, language)))
    if added := describe_added(job.catalogue_added, labels, language):
        options.markdown(md(added))
    mapping.markdown(
        bold(_("Columns"))
        + "  \n".join(
            f"{md(c['header'])} → {md(labels.get(c['field'], c['field']))}"
            if c["field"]
            else f"{md(c['header'])} → " + _("left out")
            for c in job.mapping.get("columns", [])
        )
    )


# Imports up to this many rows keep their change rows in memory (about 40 MB at 100,000),
# at most 8 of them; a larger one is read on each click rather than held.
CACHED_IMPORT_ROWS = 100_000


def job_detail(engine: Engine, job_id: int, language: str) -> JobDetail | None:
    """An import's detail; a finished import's changed values are read once, not per click."""
    with read_session(engine) as session:
        job = queries.find_job(session=session, job_id=job_id, without_file=True)
        if job is None:
            return None
        changes = None
        rows = (job.counts or {}).get("rows", 0)
        if job.finished_at is not None and rows <= CACHED_IMPORT_ROWS:
            # A finished import's changes never change; its labels and words may, so they
            # are part of the key, as is the database (tests run several in one process).
            labels = tuple(sorted(change_labels(session=session, language=language).items()))
            changes = _finished_changes(
                str(engine.url), job_id, job.finished_at.isoformat(), language, labels, engine
            )
        return get_job_detail(session=session, job_id=job_id, language=language, changes=changes)


@st.cache_data(max_entries=8, show_spinner=False)
def _finished_changes(
    database: str,
    job_id: int,
    finished: str,
    language: str,
    labels: tuple[tuple[str, str], ...],
    _engine: Engine,
) -> pd.DataFrame:
    """The change rows of a finished import; database and finished only key the cache."""
    with read_session(_engine) as session:
        job = queries.find_job(session=session, job_id=job_id, without_file=True)
        assert job is not None, "the caller has just read it"
        return job_change_rows(session=session, job=job, labels=dict(labels), language=language)


def job_records_panel(engine: Engine, detail: JobDetail, zone: str, is_admin: bool) -> None:
    """A job's issues (by kind of problem), its changed values and its emails, with downloads."""
    job = detail.job
    if detail.issue_counts:
        st.markdown(bold(_("Issues")))
        for code, count in detail.issue_counts.items():
            kind = _(ISSUE_TYPES[code].meaning).rstrip(".")
            with st.expander(f"{kind} ({number(count)})"):
                of_code = detail.issues[detail.issues["Code"] == code]
                st.dataframe(
                    shown(of_code.drop(columns="Code"), zone), hide_index=True, placeholder=""
                )
        st.download_button(
            _("Issues (CSV)"),
            csv_when_clicked(detail.issues, zone),
            f"import-{job.id}-issues.csv",
            mime="text/csv",
            key=f"issues_{job.id}",
            on_click="ignore",
        )
    if len(detail.changes):
        users = detail.changes["Email"].nunique()
        st.markdown(bold(_("What changed")) + counted(NP_("{count} user", "{count} users"), users))
        st.dataframe(
            shown(detail.changes.head(CHANGES_SHOWN), zone), hide_index=True, placeholder=""
        )
        if len(detail.changes) > CHANGES_SHOWN:
            st.caption(
                _("The first {shown} of {count} changed values; download them all:").format(
                    shown=number(CHANGES_SHOWN), count=number(len(detail.changes))
                )
            )
            st.download_button(
                _("Changes (CSV)"),
                csv_when_clicked(detail.changes, zone),
                f"import-{job.id}-changes.csv",
                mime="text/csv",
                key=f"changes_{job.id}",
                on_click="ignore",
            )
    if len(detail.emails):
        st.markdown(bold(_("Emails")))
        st.dataframe(shown(detail.emails, zone), hide_index=True, placeholder="")
        unsent = detail.emails[detail.emails["Status"].isin(["failed", "skipped"])]
        if (
            is_admin
            and len(unsent)
            and st.button(
                _("Send {count} again").format(count=number(len(unsent))),
                key=f"resend_{job.id}",
            )
        ):
            run_action(
                engine,
                requeue_messages,
                _("Messages queued again; they are sent within a few seconds."),
                message_ids=unsent["Id"].tolist(),
            )
