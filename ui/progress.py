"""Live progress of an import and its result, polled so it survives a reload or a new tab."""

import functools

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from core import export
from core.history import describe_added, get_rejected_rows, job_error_words
from core.i18n import N_, NP_
from core.plan import COUNT_KEYS
from core.worker import LIVE
from db import queries
from db.locks import count_jobs_ahead
from db.models import ImportJob
from db.vocabulary import JobStatus
from ui.text import _, counted, current_language, number
from ui.widgets import md

FINISHED = {"succeeded", "completed_with_errors", "failed", "interrupted", "reverted"}
# Every count but "rows", in the order of the CLI contract, with the word a reader sees.
COUNT_LABELS = COUNT_KEYS[1:]
# Only a provider's DELETE deletes: its tile is shown where something was deleted.
_ONLY_WHEN_ANY = {"deleted"}
COUNT_WORDS = {
    "created": N_("Created"),
    "updated": N_("Updated"),
    "unchanged": N_("Unchanged"),
    "skipped": N_("Skipped"),
    "blocked": N_("Blocked"),
    "unblocked": N_("Unblocked"),
    "renamed": N_("Renamed"),
    "deactivated": N_("Deactivated"),
    "deleted": N_("Deleted"),
    "errors": N_("Errors"),
    "warnings": N_("Warnings"),
}


def count_tiles(counts: dict[str, int]) -> None:
    """One tile per count, five to a row, as many rows as the counts take."""
    shown = [k for k in COUNT_LABELS if k not in _ONLY_WHEN_ANY or counts.get(k)]
    tiles = [tile for _row in range(0, len(shown), 5) for tile in st.columns(5)]
    for tile, key in zip(tiles, shown, strict=False):
        tile.metric(_(COUNT_WORDS[key]), number(counts.get(key, 0)))


def rejected_downloads(frame: pd.DataFrame, job: ImportJob, key: str) -> None:
    """Download buttons for the rows an import rejected, in the reader's words."""
    if frame.empty:
        return
    stem = f"import-{job.id}-rejected"
    left, right = st.columns(2)
    # Made when clicked: an import with many rejected rows would build both files on every
    # rerun of the page that shows it.
    left.download_button(
        _("Rejected rows (CSV, {count})").format(count=number(len(frame))),
        functools.partial(export.to_csv_bytes, frame),
        f"{stem}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
    )
    right.download_button(
        _("Rejected rows (XLSX)"),
        functools.partial(export.to_xlsx_bytes, frame, _(export.USERS_SHEET)),
        f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
        on_click="ignore",
    )


def _summary(job: ImportJob, labels: dict[str, str], rejected: pd.DataFrame, error: str) -> None:
    label = {"succeeded": st.success, "completed_with_errors": st.warning}.get(job.status, st.error)
    label(
        _("Import {job_id} finished: {status}.").format(
            job_id=job.id, status=_(job.status).replace("_", " ")
        )
        + (f" {md(error)}" if error else "")
    )
    count_tiles(job.counts or {})
    if added := describe_added(job.catalogue_added, labels, current_language()):
        st.info(md(added))
    st.markdown(
        "["
        + _("Open import {job_id} in the history").format(job_id=job.id)
        + f"](History?job={job.id})"
    )
    rejected_downloads(rejected, job, f"progress_{job.id}")


def _mail_status(mail: dict[str, int]) -> None:
    """How far the import's emails are: they are sent after the import, in the background."""
    total = sum(mail.values())
    if not total:
        return
    waiting = mail.get("queued", 0) + mail.get("sending", 0)
    parts = [
        _("{sent} of {total} emails sent").format(
            sent=number(mail.get("sent", 0)), total=number(total)
        )
    ]
    words = {"failed": N_("{count} failed"), "skipped": N_("{count} skipped")}
    parts += [_(words[k]).format(count=number(mail[k])) for k in words if mail.get(k)]
    if waiting:
        waits = _("{count} waiting").format(count=number(waiting))
        st.progress(mail.get("sent", 0) / total, text=", ".join([*parts, waits]))
    else:
        st.caption(", ".join(parts) + ".")


def job_progress(engine: Engine, job_id: int | None) -> None:
    """A progress bar while the job waits or runs, then its summary."""
    if job_id is None:
        st.info(_("No import has been started in this session."))
        return
    with Session(engine) as session:
        job = session.get(ImportJob, job_id)
        mail = queries.count_emails_by_status(session=session, job_id=job_id)
    if job is None:
        st.error(_("There is no import {job_id}.").format(job_id=job_id))
        return
    settled = job.status in FINISHED and not (mail.get("queued") or mail.get("sending"))

    # A quarter of a second: the result is on screen within half a second of the job's end.
    @st.fragment(run_every=None if settled else 0.25)
    def live() -> None:
        with Session(engine) as session:
            current = session.get(ImportJob, job_id)
            ahead = count_jobs_ahead(session=session, job_id=job_id)
            now = queries.count_emails_by_status(session=session, job_id=job_id)
            labels = {f.key: f.label for f in queries.list_profile_fields(session=session)}
            rejected, error = pd.DataFrame(), ""
            if current is not None and current.status in FINISHED:
                language = current_language()
                rejected = get_rejected_rows(session=session, job=current, language=language)
                error = job_error_words(session=session, job=current, language=language)
        if current is None:
            st.error(_("Import {job_id} is no longer in the history.").format(job_id=job_id))
            return
        if current.status in FINISHED:
            if job.status not in FINISHED or (
                not settled and not (now.get("queued") or now.get("sending"))
            ):
                st.rerun()  # leave the polling fragment for the final page
            _summary(current, labels, rejected, error)
            _mail_status(now)
        elif current.status == JobStatus.QUEUED:
            st.info(
                counted(
                    NP_(
                        "Import {job_id} waits for the import before it to finish.",
                        "Import {job_id} waits for the {count} imports before it to finish.",
                    ),
                    ahead,
                    job_id=job_id,
                )
                if ahead
                else _("Import {job_id} starts in a moment.").format(job_id=job_id)
            )
        else:
            progress = LIVE.get(job_id)
            done = progress.done if progress else current.progress_done
            total = (progress.total if progress else current.progress_total) or 1
            text = (
                _("{done} of {total} rows written").format(done=number(done), total=number(total))
                if done
                else counted(
                    NP_("Checking {count} row…", "Checking {count} rows…"), current.progress_total
                )
            )
            st.progress(min(done / total, 1.0), text=text)

    live()
