"""The life of an import job: recorded, run through the pipeline in one transaction, ended."""

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session

from core.apply import Progress, write_issues
from core.export import frame_to_json, rejected_rows, to_csv_bytes
from core.gc_pause import return_freed_memory
from core.i18n import N_
from core.issues import Issue
from core.options import ImportOptions
from core.pipeline import (
    ImportRequest,
    Stopwatch,
    check_import_mapping,
    check_options,
    is_written,
    run_pipeline,
)
from core.plan import CHUNK_ROWS, Plan
from core.read import ReadOptions, Table
from core.source import Corrections, corrections_to_json, storable_source
from core.validate import load_known_names
from db import queries
from db.engine import session_scope
from db.locks import lock_imports, run_now
from db.models import ImportJob, id_of, utcnow
from db.vocabulary import JobStatus

SUCCEEDED, WITH_ERRORS = JobStatus.SUCCEEDED, JobStatus.COMPLETED_WITH_ERRORS
FAILED, INTERRUPTED = JobStatus.FAILED, JobStatus.INTERRUPTED
log = logging.getLogger(__name__)
# Why a job stopped, stored in English and written again in the reader's language.
CONNECTION_LOST = N_(
    "The connection to the database was lost during the import; nothing of it was saved. "
    "Start it again from the history."
)
WORKER_STOPPED = N_(
    "The worker stopped during the import; nothing of it was saved. Start it again from the "
    "history."
)
# From this many rows, an import gives the memory it freed back when it ends (see
# return_freed_memory); for a small one that would only cost time.
LARGE_FILE_ROWS = 10_000
UNEXPECTED = N_("An unexpected error stopped the import; nothing of it was saved. ({detail})")
_WRITE_COUNTS = (
    "created",
    "updated",
    "blocked",
    "unblocked",
    "renamed",
    "deactivated",
    "deleted",
)


@dataclass
class ImportResult:
    """What an import (or a dry run) did, in the shape of the CLI's JSON contract."""

    job_id: int | None
    status: str
    dry_run: bool
    plan: Plan
    applied: bool

    @property
    def counts(self) -> dict[str, int]:
        """Row counts per outcome; nothing counts as written when nothing was."""
        counts = self.plan.counts
        if not self.applied and not self.dry_run:
            counts |= dict.fromkeys(_WRITE_COUNTS, 0)
        return counts

    @property
    def issues(self) -> list[Issue]:
        """Every issue, with the refusal of the whole import first when there is one."""
        refusal = self.plan.refusal
        return ([refusal] if refusal else []) + self.plan.issues

    def as_json(self, language: str = "en") -> dict[str, Any]:
        """The object `cli.py import --json` prints, its messages in the language."""
        sent = self.applied or self.dry_run
        return {
            "job_id": self.job_id,
            "status": self.status,
            "dry_run": self.dry_run,
            "counts": self.counts,
            "issues": [i.as_contract(language) for i in self.issues],
            "emails": {
                "welcome": len(self.plan.welcome) if sent else 0,
                "updated": len(self.plan.notify) if sent else 0,
            },
        }


def status_of(plan: Plan, options: ImportOptions) -> JobStatus:
    """The status an import ends in with this plan."""
    if not is_written(plan, options):
        return FAILED
    return WITH_ERRORS if plan.error_rows else SUCCEEDED


def create_job(
    *,
    session: Session,
    request: ImportRequest,
    file_name: str,
    file_bytes: bytes,
    created_by: str,
    status: JobStatus,
    corrections: Corrections | None = None,
    read_options: ReadOptions | None = None,
) -> ImportJob:
    """Record a new import job; its file only when it may be read again: when it is queued,
    kept by choice, or given with the read_options to start it again after a crash.

    A kept file never holds a typed password (see storable_source).
    """
    table, mapping, options = request.table, request.mapping, request.options
    source: bytes | None = None
    kept_corrections: Corrections = {}
    again = options.keep_file_days or status == JobStatus.QUEUED or read_options is not None
    if file_bytes and again:
        source, kept_corrections = storable_source(file_bytes, table, mapping, corrections or {})
    job = ImportJob(
        created_by=created_by,
        file_name=file_name,
        file_size=len(file_bytes),
        file_sha256=hashlib.sha256(file_bytes).hexdigest(),
        mapping={
            "columns": [
                {"header": table.column_name(i), "field": f} for i, f in sorted(mapping.items())
            ]
        },
        options=options.as_dict(),
        status=status,
        progress_total=table.row_count,
        source_data=source,
        corrections=corrections_to_json(kept_corrections),
        read_options=read_options.choices() if read_options else {},
        heartbeat_at=utcnow(),
    )
    session.add(job)
    session.flush()
    return job


def mapping_of(job: ImportJob) -> dict[int, str | None]:
    """The column index -> field mapping a job was recorded with."""
    return {i: column["field"] for i, column in enumerate(job.mapping.get("columns", []))}


def execute_job(
    *,
    engine: Engine,
    job_id: int,
    request: ImportRequest,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    stopwatch: Stopwatch | None = None,
) -> ImportResult:
    """Plan and apply a recorded job in one transaction; on any failure nothing of it stays."""
    table, mapping, options = request.table, request.mapping, request.options
    # Marked running in its own transaction: progress reports update the same row on
    # PostgreSQL while the import's transaction runs, so that transaction must not lock it.
    with session_scope(engine) as session:
        job = queries.get_job(session=session, job_id=job_id)
        job.status, job.started_at, job.heartbeat_at = JobStatus.RUNNING, utcnow(), utcnow()
        job.progress_total = table.row_count
        session.add(job)
    with job_transaction(engine, job_id) as session:
        *_, plan = run_pipeline(
            session=session,
            request=request,
            write=True,
            job_id=job_id,
            chunk_rows=chunk_rows,
            progress=progress,
            stopwatch=stopwatch,
        )
        applied, status = is_written(plan, options), status_of(plan, options)
        result = ImportResult(job_id, status, False, plan, applied)
        if not applied:
            write_issues(session=session, job_id=job_id, issues=result.issues)
        job = queries.get_job(session=session, job_id=job_id)
        job.status, job.counts, job.finished_at = status, result.counts, utcnow()
        job.progress_done = table.row_count if applied else 0
        job.error = plan.refused
        if options.keep_file_days and job.source_data:
            job.keep_file_until = utcnow() + timedelta(days=options.keep_file_days)
        else:
            job.source_data = None
        forget_passwords(job, table, mapping)
        if plan.error_rows:
            job.rejected = frame_to_json(rejected_rows(table, plan, mapping))
        session.add(job)
    if table.row_count >= LARGE_FILE_ROWS:
        return_freed_memory()
    return result


@contextmanager
def job_transaction(engine: Engine, job_id: int, *, restartable: bool = True) -> Iterator[Session]:
    """The one transaction a job (import or revert) writes in, after any running import.

    Taken first, so what it reads is what the previous job committed; when anything fails,
    nothing of the job stays and the job is marked failed (or interrupted: restartable).
    """
    try:
        with session_scope(engine) as session:
            lock_imports(session)
            yield session
    except BaseException as exc:
        _record_failure(engine, job_id, exc, restartable=restartable)
        raise


def forget_passwords(job: ImportJob, table: Table, mapping: dict[int, str | None]) -> None:
    """Once a job has run, no typed or uploaded password stays with it in plain text.

    Password corrections are dropped; a kept file loses its password columns (it is kept as
    CSV then, since the original bytes cannot be edited safely).
    """
    secret = {i for i, f in mapping.items() if f == "password"}
    if not secret:
        return
    job.corrections = {
        row: kept
        for row, cells in job.corrections.items()
        if (kept := {c: v for c, v in cells.items() if int(c) not in secret})
    }
    if job.source_data:
        columns = [i for i in table.data.columns if i not in secret]
        frame = table.data[columns]
        frame.columns = [table.column_name(i) for i in columns]
        job.source_data = to_csv_bytes(frame)


def _record_failure(
    engine: Engine, job_id: int, exc: BaseException, *, restartable: bool = True
) -> None:
    """Mark a job whose transaction failed; a lost connection leaves an import restartable."""
    lost = restartable and isinstance(exc, DBAPIError) and exc.connection_invalidated
    try:
        with session_scope(engine) as session:
            job = queries.get_job(session=session, job_id=job_id)
            job.finished_at = utcnow()
            if lost:
                job.status = INTERRUPTED
                job.error = CONNECTION_LOST
            else:
                job.status, job.source_data = FAILED, None
                job.error = UNEXPECTED.format(detail=f"{type(exc).__name__}: {exc}")[:2000]
            session.add(job)
    except SQLAlchemyError:
        # The database is still away: the job stays running until the next start marks it.
        log.exception("Could not record the failure of job %s", job_id)


def run_import(
    *,
    engine: Engine,
    request: ImportRequest,
    file_name: str = "",
    file_bytes: bytes = b"",
    created_by: str = "",
    dry_run: bool = False,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    stopwatch: Stopwatch | None = None,
    read_options: ReadOptions | None = None,
    on_job: Callable[[Session, int], None] | None = None,
) -> ImportResult:
    """Plan and (unless dry_run) apply an import now, in this process, recorded as a job.

    read_options: keep the file to start the job again after a crash; on_job: told the new
    job's id in the transaction that records it.
    """
    with Session(engine) as session:
        known_names = load_known_names(session=session)
        check_options(known_names=known_names, options=request.options)
        if dry_run:
            *_, plan = run_pipeline(
                session=session, request=request, chunk_rows=chunk_rows, stopwatch=stopwatch
            )
            return ImportResult(None, status_of(plan, request.options), True, plan, False)
        check_import_mapping(known_names=known_names, table=request.table, mapping=request.mapping)

    def create(session: Session) -> int:
        job_id = id_of(
            create_job(
                session=session,
                request=request,
                file_name=file_name,
                file_bytes=file_bytes,
                created_by=created_by,
                status=JobStatus.RUNNING,
                read_options=read_options,
            )
        )
        if on_job is not None:
            on_job(session, job_id)
        return job_id

    return run_now(
        engine,
        create,
        lambda job_id: execute_job(
            engine=engine,
            job_id=job_id,
            request=request,
            progress=progress,
            chunk_rows=chunk_rows,
            stopwatch=stopwatch,
        ),
    )


def list_jobs(*, session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """The newest jobs as plain dictionaries."""
    jobs = queries.list_recent_jobs(session=session, limit=limit)
    return [
        {
            "job_id": j.id,
            "kind": j.kind,
            "status": j.status,
            "created_by": j.created_by,
            "created_at": j.created_at.isoformat() if j.created_at else None,
            "finished_at": j.finished_at.isoformat() if j.finished_at else None,
            "file_name": j.file_name,
            "file_sha256": j.file_sha256,
            "counts": j.counts,
            "error": j.error,
            "file_kept_until": j.keep_file_until.isoformat() if j.keep_file_until else None,
        }
        for j in jobs
    ]
