"""History panels: reverting an import, and one user's changes."""

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from core.history import SECRET_KEYS, get_kept_file, user_history
from core.issues import JobError
from core.revert import REVERTIBLE, create_revert_job, plan_revert
from db import queries
from db.engine import read_session, session_scope
from db.models import ImportJob
from ui.widgets import md


def revert_panel(engine: Engine, job: ImportJob, username: str) -> None:
    """Preview a revert like an import, choose which conflicts to overwrite, and queue it."""
    if job.id is None or job.kind != "import" or job.status not in REVERTIBLE:
        return
    if not st.toggle("Revert this import…", key=f"revert_open_{job.id}"):
        return
    with read_session(engine) as session:
        try:
            plan = plan_revert(session=session, job_id=job.id)
        except JobError as exc:
            st.error(md(exc.message))
            return
    counts = plan.counts
    columns = st.columns(4)
    for column, (key, label) in zip(
        columns,
        (
            ("updated", "Restored"),
            ("removed", "Removed"),
            ("blocked", "Blocked"),
            ("conflicts", "Conflicts"),
        ),
        strict=True,
    ):
        column.metric(label, f"{counts[key]:,}")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Email": r.email,
                    "Action": r.action,
                    "Changes": "; ".join(
                        f"{k}: {now or '∅'} → {old or '∅'}"
                        for k, (now, old) in r.changes.items()
                        if k not in SECRET_KEYS
                    ),
                    "Conflict": r.conflict or "",
                }
                for r in plan.rows
            ]
        ),
        hide_index=True,
    )
    overwrite = []
    if plan.conflicts:
        st.warning(
            "These users were changed after the import and are left alone unless you "
            "choose them here:"
        )
        overwrite = (
            st.pills(
                "Overwrite anyway",
                [r.email for r in plan.conflicts],
                selection_mode="multi",
                key=f"overwrite_{job.id}",
            )
            or []
        )
    if st.button(f"Confirm: revert import {job.id}", type="primary", key=f"revert_{job.id}"):
        try:
            with session_scope(engine) as session:
                revert_id = create_revert_job(
                    session=session, job_id=job.id, created_by=username, overwrite=set(overwrite)
                ).id
        except JobError as exc:
            st.error(md(exc.message))
            return
        st.success(f"The revert is queued as job {revert_id}; it appears in the history.")


def user_history_panel(engine: Engine) -> None:
    """Every change imports made to one user, newest first."""
    email = st.text_input("History of one user (email address)")
    if not email.strip():
        return
    with read_session(engine) as session:
        user = queries.get_user_by_email(session=session, email=email)
        if user is None or user.id is None:
            st.info(md(f"There is no user {email.strip()!r}."))
            return
        history = user_history(session=session, user_id=user.id)
    st.dataframe(history, hide_index=True)


def kept_file_panel(engine: Engine, job: ImportJob) -> None:
    """Download of the original file, for as long as the administrator chose to keep it."""
    if job.id is None or job.keep_file_until is None:
        return
    label = f"Original file (kept until {job.keep_file_until:%Y-%m-%d})"
    if not st.toggle(label, key=f"kept_{job.id}"):
        return
    with read_session(engine) as session:
        kept = get_kept_file(session=session, job_id=job.id)
    if kept is None:
        st.info("The file is no longer kept.")
        return
    st.download_button(f"Download {kept[0]}", kept[1], kept[0], key=f"kept_download_{job.id}")
