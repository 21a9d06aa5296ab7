"""Live progress of an import and its result, polled so it survives a reload or a new tab."""

import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from core import export
from core.plan import COUNT_KEYS
from core.worker import LIVE
from db import queries
from db.locks import count_jobs_ahead
from db.models import ImportJob
from ui.widgets import md

FINISHED = {"succeeded", "completed_with_errors", "failed", "interrupted", "reverted"}
# Every count but "rows", in the order of the CLI contract.
COUNT_LABELS = COUNT_KEYS[1:]


def rejected_downloads(job: ImportJob, key: str) -> None:
    """Download buttons for the rows an import rejected."""
    frame = export.frame_from_json(job.rejected or {})
    if frame.empty:
        return
    stem = f"import-{job.id}-rejected"
    left, right = st.columns(2)
    left.download_button(
        f"Rejected rows (CSV, {len(frame):,})",
        export.to_csv_bytes(frame),
        f"{stem}.csv",
        mime="text/csv",
        key=f"{key}_csv",
    )
    right.download_button(
        "Rejected rows (XLSX)", export.to_xlsx_bytes(frame), f"{stem}.xlsx", key=f"{key}_xlsx"
    )


def _summary(job: ImportJob) -> None:
    label = {"succeeded": st.success, "completed_with_errors": st.warning}.get(job.status, st.error)
    label(
        f"Import {job.id} finished: {job.status.replace('_', ' ')}."
        + (f" {md(job.error)}" if job.error else "")
    )
    counts = job.counts or {}
    columns = st.columns(5)
    for column, key in zip(columns * 2, COUNT_LABELS, strict=False):
        column.metric(key.capitalize(), f"{counts.get(key, 0):,}")
    st.markdown(f"[Open import {job.id} in the history](History?job={job.id})")
    rejected_downloads(job, f"progress_{job.id}")


def _mail_status(mail: dict[str, int]) -> None:
    """How far the import's emails are: they are sent after the import, in the background."""
    total = sum(mail.values())
    if not total:
        return
    waiting = mail.get("queued", 0) + mail.get("sending", 0)
    parts = [f"{mail.get('sent', 0):,} of {total:,} emails sent"]
    parts += [f"{mail[k]:,} {k}" for k in ("failed", "skipped") if mail.get(k)]
    if waiting:
        st.progress(mail.get("sent", 0) / total, text=", ".join(parts) + f", {waiting:,} waiting")
    else:
        st.caption(", ".join(parts) + ".")


def job_progress(engine: Engine, job_id: int | None) -> None:
    """A progress bar while the job waits or runs, then its summary."""
    if job_id is None:
        st.info("No import has been started in this session.")
        return
    with Session(engine) as session:
        job = session.get(ImportJob, job_id)
        mail = queries.count_emails_by_status(session=session, job_id=job_id)
    if job is None:
        st.error(f"There is no import {job_id}.")
        return
    settled = job.status in FINISHED and not (mail.get("queued") or mail.get("sending"))

    @st.fragment(run_every=None if settled else 1.0)
    def live() -> None:
        with Session(engine) as session:
            current = session.get(ImportJob, job_id)
            ahead = count_jobs_ahead(session=session, job_id=job_id)
            now = queries.count_emails_by_status(session=session, job_id=job_id)
        if current is None:
            st.error(f"Import {job_id} is no longer in the history.")
            return
        if current.status in FINISHED:
            if job.status not in FINISHED or (
                not settled and not (now.get("queued") or now.get("sending"))
            ):
                st.rerun()  # leave the polling fragment for the final page
            _summary(current)
            _mail_status(now)
        elif current.status == "queued":
            st.info(f"Import {job_id} is waiting; {ahead:,} import(s) before it.")
        else:
            progress = LIVE.get(job_id)
            done = progress.done if progress else current.progress_done
            total = (progress.total if progress else current.progress_total) or 1
            text = (
                f"{done:,} of {total:,} rows written"
                if done
                else f"Checking {current.progress_total:,} rows…"
            )
            st.progress(min(done / total, 1.0), text=text)

    live()
