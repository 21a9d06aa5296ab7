"""History: every import, what it did row by row, its emails and its rejected rows."""

from datetime import date, timedelta

import streamlit as st

from core import export
from core.fields import labels_in
from core.history import (
    JOB_STATUSES,
    STATUS_COLOURS,
    get_job_detail,
    list_job_rows,
    list_people,
    outcomes_over_time,
)
from core.i18n import NP_
from core.issues import ISSUE_TYPES
from core.mail import requeue_messages
from core.source import job_file_words
from core.validate import load_known_names
from core.vocabulary import AccountRole
from core.worker import requeue_job
from db.engine import read_session
from ui.auth import require_account
from ui.history_panels import (
    job_settings_panel,
    kept_file_panel,
    revert_panel,
    user_history_panel,
)
from ui.progress import rejected_downloads
from ui.text import _, bold, counted, current_language, number, shown
from ui.widgets import md, run_action, show_flash

DETAILS_SHOWN, CHANGES_SHOWN = 50, 1_000
st.set_page_config(page_title="History · Instroom", layout="wide")
account, settings, engine = require_account(AccountRole.ADMIN, AccountRole.SUPPORT)
is_admin = account.role == AccountRole.ADMIN
language, zone = current_language(), settings.time_zone
status_words = {s: _(s).replace("_", " ") for s in JOB_STATUSES}
anyone = _("anyone")


with read_session(engine) as session:
    labels = labels_in(language, load_known_names(session=session).importable_profile_fields)
st.title(_("Import history"))
show_flash()

# The status pills get a row of their own: in a quarter of the page they were cut off.
statuses = st.pills(
    _("Status"), JOB_STATUSES, selection_mode="multi", format_func=lambda s: status_words[s]
)
filters = st.columns(3)
# Days written as the reader writes them: 06-12-2026 in Dutch, 06/12/2026 in British English.
day_format = "DD-MM-YYYY" if current_language() == "nl" else "DD/MM/YYYY"
since = filters[0].date_input(_("From"), date.today() - timedelta(days=365), format=day_format)
until = filters[1].date_input(_("Until"), date.today(), format=day_format)
with read_session(engine) as session:
    person = filters[2].selectbox(
        _("Started by"),
        [None, *list_people(session=session)],
        format_func=lambda p: anyone if p is None else p,
    )
    jobs = list_job_rows(
        session=session,
        statuses=statuses,
        since=since,
        until=until,
        person=person,
        language=language,
    )
    chart = outcomes_over_time(session=session)

user_history_panel(engine, zone)
if jobs.empty:
    st.info(_("No imports match these filters."))
    st.stop()
if len(chart):
    st.bar_chart(
        chart.rename(columns=status_words),
        height=200,
        color=[STATUS_COLOURS[s] for s in chart.columns],
    )
st.dataframe(shown(jobs, zone), hide_index=True)

wanted = st.query_params.get("job")
opened = list(jobs["Import"].head(DETAILS_SHOWN))
if wanted and wanted.isdigit() and int(wanted) in set(jobs["Import"]) and int(wanted) not in opened:
    opened.append(int(wanted))
if len(jobs) > DETAILS_SHOWN:
    st.caption(
        _(
            "Details below for the newest {shown} of {count} imports; narrow the filters to "
            "see others."
        ).format(shown=DETAILS_SHOWN, count=number(len(jobs)))
    )
for job_id in opened:
    with read_session(engine) as session:
        detail = get_job_detail(session=session, job_id=int(job_id), language=language)
    if detail is None:
        continue  # removed since the list was read
    job = detail.job
    title = _("Import {job_id} · {file} · {status}").format(
        job_id=job.id,
        file=md(job_file_words(job, language)),
        status=status_words[job.status],
    )
    with st.expander(title, expanded=str(job.id) == wanted):
        job_settings_panel(job, labels, zone)
        if detail.issue_counts:
            st.markdown(bold(_("Issues")))
            for code, count in detail.issue_counts.items():
                kind = _(ISSUE_TYPES[code].meaning).rstrip(".")
                with st.expander(f"{kind} ({number(count)})"):
                    of_code = detail.issues[detail.issues["Code"] == code]
                    st.dataframe(shown(of_code.drop(columns="Code"), zone), hide_index=True)
            st.download_button(
                _("Issues (CSV)"),
                export.to_csv_bytes(shown(detail.issues, zone)),
                f"import-{job.id}-issues.csv",
                key=f"issues_{job.id}",
            )
        if len(detail.changes):
            users = detail.changes["Email"].nunique()
            st.markdown(
                bold(_("What changed")) + counted(NP_("{count} user", "{count} users"), users)
            )
            st.dataframe(shown(detail.changes.head(CHANGES_SHOWN), zone), hide_index=True)
            if len(detail.changes) > CHANGES_SHOWN:
                st.caption(
                    _("The first {shown} of {count} changed values; download them all:").format(
                        shown=number(CHANGES_SHOWN), count=number(len(detail.changes))
                    )
                )
                st.download_button(
                    _("Changes (CSV)"),
                    export.to_csv_bytes(shown(detail.changes, zone)),
                    f"import-{job.id}-changes.csv",
                    key=f"changes_{job.id}",
                )
        if len(detail.emails):
            st.markdown(bold(_("Emails")))
            st.dataframe(shown(detail.emails, zone), hide_index=True)
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
        rejected_downloads(detail.rejected, job, f"history_{job.id}")
        if is_admin:
            kept_file_panel(engine, job, zone)
            revert_panel(engine, job, account.username, labels)
        if (
            is_admin
            and job.status == "interrupted"
            and st.button(_("Start this import again"), key=f"restart_{job.id}")
        ):
            queued = _("Import {job_id} is queued again.").format(job_id=job.id)
            run_action(engine, requeue_job, queued, job_id=job.id)
