"""History: every import, what it did row by row, its emails and its rejected rows."""

from datetime import date, timedelta

import streamlit as st

from core.fields import labels_in
from core.history import (
    JOB_STATUSES,
    STATUS_COLOURS,
    list_job_rows,
    list_people,
    outcomes_over_time,
)
from core.validate import load_known_names
from core.worker import requeue_job
from db.engine import read_session
from db.vocabulary import AccountRole
from ui.auth import require_account
from ui.history_panels import (
    job_detail,
    job_records_panel,
    job_settings_panel,
    kept_file_panel,
    revert_panel,
    user_history_panel,
)
from ui.progress import rejected_downloads
from ui.text import _, current_language, number, shown
from ui.widgets import md, run_action, show_flash

DETAILS_SHOWN = 50
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
st.dataframe(shown(jobs, zone), hide_index=True, placeholder="")

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
files, states = jobs.set_index("Import")["File"], jobs.set_index("Import")["Status"]
for job_id in opened:
    title = _("Import {job_id} · {file} · {status}").format(
        job_id=job_id, file=md(files[job_id]), status=status_words[states[job_id]]
    )
    # Lazy: a job's changes, issues and downloads are read only while its expander is open,
    # so a click on this page does not read every listed import's records again.
    box = st.expander(title, expanded=str(job_id) == wanted, key=f"job_{job_id}", on_change="rerun")
    if not box.open:
        continue
    detail = job_detail(engine, int(job_id), language)
    if detail is None:
        continue  # removed since the list was read
    job = detail.job
    with box:
        job_settings_panel(job, labels, zone)
        job_records_panel(engine, detail, zone, is_admin)
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
