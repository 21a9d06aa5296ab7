"""History: every import, what it did row by row, its emails and its rejected rows."""

from datetime import date, timedelta

import streamlit as st

from core import export
from core.history import (
    JOB_STATUSES,
    STATUS_COLOURS,
    get_job_detail,
    list_job_rows,
    list_people,
    outcomes_over_time,
)
from core.mail import requeue_messages
from core.worker import requeue_job
from db.engine import read_session
from ui.auth import require_account
from ui.history_panels import kept_file_panel, revert_panel, user_history_panel
from ui.progress import rejected_downloads
from ui.widgets import md, run_action, show_flash

DETAILS_SHOWN, CHANGES_SHOWN = 50, 1_000
st.set_page_config(page_title="History · Instroom", layout="wide")
account, settings, engine = require_account("admin", "support")
is_admin = account.role == "admin"
st.title("Import history")
show_flash()

filters = st.columns(4)
statuses = filters[0].pills("Status", JOB_STATUSES, selection_mode="multi")
since = filters[1].date_input("From", date.today() - timedelta(days=365))
until = filters[2].date_input("Until", date.today())
with read_session(engine) as session:
    person = filters[3].selectbox(
        "Started by",
        [None, *list_people(session=session)],
        format_func=lambda p: "anyone" if p is None else p,
    )
    jobs = list_job_rows(
        session=session, statuses=statuses, since=since, until=until, person=person
    )
    chart = outcomes_over_time(session=session)

user_history_panel(engine)
if jobs.empty:
    st.info("No imports match these filters.")
    st.stop()
if len(chart):
    st.bar_chart(chart, height=200, color=[STATUS_COLOURS[s] for s in chart.columns])
st.dataframe(jobs, hide_index=True)

wanted = st.query_params.get("job")
shown = list(jobs["Import"].head(DETAILS_SHOWN))
if wanted and wanted.isdigit() and int(wanted) in set(jobs["Import"]) and int(wanted) not in shown:
    shown.append(int(wanted))
if len(jobs) > DETAILS_SHOWN:
    st.caption(
        f"Details below for the newest {DETAILS_SHOWN} of {len(jobs):,} imports; narrow the "
        "filters to see others."
    )
for job_id in shown:
    with read_session(engine) as session:
        detail = get_job_detail(session=session, job_id=int(job_id))
    if detail is None:
        continue  # removed since the list was read
    job = detail.job
    title = f"Import {job.id} · {md(job.file_name or '—')} · {job.status.replace('_', ' ')}"
    with st.expander(title, expanded=str(job.id) == wanted):
        st.caption(
            f"Started by {md(job.created_by or '—')} on {job.created_at:%Y-%m-%d %H:%M} UTC"
            + (f"; {md(job.error)}" if job.error else "")
        )
        options, mapping = st.columns(2)
        options.json(job.options, expanded=False)
        mapping.json(job.mapping, expanded=False)
        if detail.issue_counts:
            st.markdown("**Issues**")
            for code, count in detail.issue_counts.items():
                with st.expander(f"{code}: {count:,}"):
                    st.dataframe(detail.issues[detail.issues["Code"] == code], hide_index=True)
            st.download_button(
                "Issues (CSV)",
                export.to_csv_bytes(detail.issues),
                f"import-{job.id}-issues.csv",
                key=f"issues_{job.id}",
            )
        if len(detail.changes):
            st.markdown(f"**What changed** ({detail.changes['Email'].nunique():,} users)")
            st.dataframe(detail.changes.head(CHANGES_SHOWN), hide_index=True)
            if len(detail.changes) > CHANGES_SHOWN:
                st.caption(
                    f"The first {CHANGES_SHOWN:,} of {len(detail.changes):,} changed values; "
                    "download them all:"
                )
                st.download_button(
                    "Changes (CSV)",
                    export.to_csv_bytes(detail.changes),
                    f"import-{job.id}-changes.csv",
                    key=f"changes_{job.id}",
                )
        if len(detail.emails):
            st.markdown("**Emails**")
            st.dataframe(detail.emails, hide_index=True)
            unsent = detail.emails[detail.emails["Status"].isin(["failed", "skipped"])]
            if (
                is_admin
                and len(unsent)
                and st.button(f"Send {len(unsent):,} again", key=f"resend_{job.id}")
            ):
                run_action(
                    engine,
                    requeue_messages,
                    "Messages queued again; they are sent within a few seconds.",
                    message_ids=unsent["Id"].tolist(),
                )
        rejected_downloads(job, f"history_{job.id}")
        if is_admin:
            kept_file_panel(engine, job)
            revert_panel(engine, job, account.username)
        if (
            is_admin
            and job.status == "interrupted"
            and st.button("Start this import again", key=f"restart_{job.id}")
        ):
            run_action(engine, requeue_job, f"Import {job.id} is queued again.", job_id=job.id)
