"""Run an import end to end: check the mapping, plan, and apply in one transaction."""

import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session, select

from core.apply import Progress, apply_plan, write_issues
from core.bulk import collector_paused, without_collector
from core.export import frame_to_json, rejected_rows, to_csv_bytes
from core.fields import BUILTIN_FIELDS
from core.issues import ERROR, Issue, UnusableFileError
from core.mail import queue_import_emails
from core.mapping import check_mapping, normalise, suggest_mapping
from core.options import ImportOptions, OptionsError
from core.plan import CHUNK_ROWS, Plan, plan_chunks
from core.read import Table
from core.validate import Catalog, load_catalog, validate_rows
from db.engine import session_scope
from db.locks import lock_imports, run_now
from db.models import WITHOUT_FILE, ImportJob, utcnow

SUCCEEDED, WITH_ERRORS, FAILED = "succeeded", "completed_with_errors", "failed"
INTERRUPTED = "interrupted"
log = logging.getLogger(__name__)
# The preview plans small chunks, so its first screen comes after a few thousand rows.
PREVIEW_CHUNK_ROWS = 5_000
_WRITE_COUNTS = ("created", "updated", "blocked", "unblocked", "renamed", "deactivated")


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
        refusal = [Issue("too-many-deactivations", self.plan.refused)] if self.plan.refused else []
        return refusal + self.plan.issues

    def as_json(self) -> dict[str, Any]:
        """The object `cli.py import --json` prints."""
        sent = self.applied or self.dry_run
        return {
            "job_id": self.job_id,
            "status": self.status,
            "dry_run": self.dry_run,
            "counts": self.counts,
            "issues": [i.as_contract() for i in self.issues],
            "emails": {
                "welcome": len(self.plan.welcome) if sent else 0,
                "updated": len(self.plan.notify) if sent else 0,
            },
        }


def known_fields(catalog: Catalog) -> list[str]:
    """Every field key a column can be mapped to in this portal."""
    return [*BUILTIN_FIELDS, *catalog.importable_profile_fields]


def resolve_mapping(
    table: Table,
    catalog: Catalog,
    overrides: Sequence[tuple[str, str | None]] = (),
    saved: dict[int, str | None] | None = None,
) -> dict[int, str | None]:
    """Suggestions (or a saved mapping), then the caller's `Header=field` overrides."""
    samples = [table.data[i].head(20).tolist() for i in range(len(table.headers))]
    mapping = (
        saved
        if saved is not None
        else suggest_mapping(table.headers, catalog.importable_profile_fields, samples)
    )
    mapping = dict(mapping)
    for header, field in overrides:
        matches = [
            i
            for i in range(len(table.headers))
            if normalise(table.column_name(i)) == normalise(header)
        ]
        if not matches:
            names = ", ".join(repr(table.column_name(i)) for i in range(len(table.headers)))
            raise UnusableFileError(
                "unknown-column", f"The file has no column {header!r}; its columns are {names}."
            )
        for index in matches:
            mapping[index] = field or None
    return mapping


def check_options(*, catalog: Catalog, options: ImportOptions) -> None:
    """Raise OptionsError when the role or language for new users is not in the catalogue."""
    for what, value, known in (
        ("role", options.role, catalog.roles),
        ("language", options.language, catalog.languages),
    ):
        if value and value.casefold() not in known:
            raise OptionsError(
                f"There is no {what} {value!r}; choose one of: {', '.join(known.values())} "
                f"(Settings lists them, and adds new ones)."
            )


def check_import_mapping(*, catalog: Catalog, table: Table, mapping: dict[int, str | None]) -> None:
    """Raise UnusableFileError when the mapping cannot be imported (nothing is written then)."""
    check = check_mapping(table.headers, mapping, known_fields(catalog))
    errors = [i for i in check.issues if i.severity == ERROR]
    if errors:
        raise UnusableFileError(errors[0].code, " ".join(i.message for i in errors))


def preview_import(
    *,
    session: Session,
    table: Table,
    mapping: dict[int, str | None],
    options: ImportOptions,
    chunk_rows: int = PREVIEW_CHUNK_ROWS,
    keep_rows: bool = True,
) -> Iterator[Plan]:
    """The preview as it grows: after each chunk, the one plan of every row so far.

    So a screen can show the first rows and counts while the rest is checked. When the
    iteration ends, the plan is complete, rows and issues in row order. Without keep_rows
    it holds counts, issues and rejected rows only (a dry run of a million rows). Writes
    nothing.
    """
    catalog = load_catalog(session=session)
    check_import_mapping(catalog=catalog, table=table, mapping=mapping)
    validated = validate_rows(table, mapping, options, catalog)
    chunks = plan_chunks(session=session, validated=validated, options=options, size=chunk_rows)
    plan = Plan.empty()
    while True:
        with collector_paused():
            chunk = next(chunks, None)
            if chunk is None:
                plan.rows.sort(key=lambda r: r.row)
                plan.issues.sort(key=lambda i: (i.row or 0, i.code))
                return
            plan.add(chunk, keep_rows=keep_rows)
        yield plan


def prepare_import(
    *, session: Session, table: Table, mapping: dict[int, str | None], options: ImportOptions
) -> Plan:
    """Check the mapping, validate every row and plan it: the whole preview. Writes nothing."""
    *_, plan = preview_import(
        session=session, table=table, mapping=mapping, options=options, chunk_rows=CHUNK_ROWS
    )
    return plan


def _status(plan: Plan, options: ImportOptions) -> tuple[str, bool]:
    """(status, whether the plan is written)."""
    if plan.refused or (options.strict and plan.error_rows):
        return FAILED, False
    return (WITH_ERRORS if plan.error_rows else SUCCEEDED), True


def create_job(
    *,
    session: Session,
    table: Table,
    mapping: dict[int, str | None],
    options: ImportOptions,
    file_name: str,
    file_bytes: bytes,
    created_by: str,
    status: str,
) -> ImportJob:
    """Record a new import job; the file itself only when the administrator chose to keep it."""
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
        source_data=file_bytes if options.keep_file_days and file_bytes else None,
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
    table: Table,
    mapping: dict[int, str | None],
    options: ImportOptions,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportResult:
    """Plan and apply a recorded job in one transaction; on any failure nothing of it stays."""
    # Marked running in its own transaction: progress reports update the same row on
    # PostgreSQL while the import's transaction runs, so that transaction must not lock it.
    with session_scope(engine) as session:
        job = session.get(ImportJob, job_id)
        job.status, job.started_at, job.heartbeat_at = "running", utcnow(), utcnow()
        job.progress_total = table.row_count
        session.add(job)
    try:
        with session_scope(engine) as session:
            lock_imports(session)
            plan, applied = _plan_and_apply(
                session, job_id, table, mapping, options, progress, chunk_rows
            )
            status = _status(plan, options)[0]
            result = ImportResult(job_id, status, False, plan, applied)
            if not applied:
                write_issues(session=session, job_id=job_id, issues=result.issues)
            job = session.get(ImportJob, job_id)
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
        return result
    except BaseException as exc:
        _record_failure(engine, job_id, exc)
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


def _chunk_progress(
    progress: Progress | None, offset: int, rows: int, total: int
) -> Progress | None:
    """Report a chunk's written share as rows of the whole file."""
    if progress is None:
        return None
    return lambda written, of: progress(offset + (rows * written // of if of else rows), total)


@without_collector
def _plan_and_apply(
    session: Session,
    job_id: int,
    table: Table,
    mapping: dict[int, str | None],
    options: ImportOptions,
    progress: Progress | None,
    chunk_rows: int,
) -> tuple[Plan, bool]:
    """Plan and write the rows a chunk at a time; (the plan without its rows, whether written).

    A strict import that meets an error after writing chunks rolls the transaction back.
    """
    catalog = load_catalog(session=session)
    check_import_mapping(catalog=catalog, table=table, mapping=mapping)
    validated = validate_rows(table, mapping, options, catalog)
    plan, wrote = Plan.empty(), False
    writing = not (options.strict and validated.error_rows)
    done = 0
    chunks = plan_chunks(session=session, validated=validated, options=options, size=chunk_rows)
    for chunk in chunks:
        plan.add(chunk, keep_rows=False)
        writing = writing and _status(plan, options)[1]
        if writing:
            apply_plan(
                session=session,
                plan=chunk,
                job_id=job_id,
                progress=_chunk_progress(progress, done, len(chunk.rows), table.row_count),
            )
            queue_import_emails(
                session=session, job_id=job_id, plan=chunk, options=options, completion=False
            )
            wrote = True
        done += len(chunk.rows)
        if writing and progress is not None:
            # Every row of the chunk is handled now, also those with nothing to write (the
            # bar stopped at 86% when the last rows were unchanged).
            progress(done, table.row_count)
    if writing:
        queue_import_emails(
            session=session, job_id=job_id, plan=Plan.empty(), options=options, completion=True
        )
    elif wrote:
        session.rollback()
    plan.issues.sort(key=lambda i: (i.row or 0, i.code))
    return plan, writing


def _record_failure(engine: Engine, job_id: int, exc: BaseException) -> None:
    """Mark a job whose transaction failed; a lost connection leaves it restartable."""
    lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
    try:
        with session_scope(engine) as session:
            job = session.get(ImportJob, job_id)
            job.finished_at = utcnow()
            if lost:
                job.status = INTERRUPTED
                job.error = (
                    "The connection to the database was lost during the import; "
                    "nothing of it was saved. Start it again from the history."
                )
            else:
                job.status, job.source_data = FAILED, None
                job.error = f"{type(exc).__name__}: {exc}"[:2000]
            session.add(job)
    except SQLAlchemyError:
        # The database is still away: the job stays running until the next start marks it.
        log.exception("Could not record the failure of job %s", job_id)


def run_import(
    *,
    engine: Engine,
    table: Table,
    mapping: dict[int, str | None],
    options: ImportOptions,
    file_name: str = "",
    file_bytes: bytes = b"",
    created_by: str = "",
    dry_run: bool = False,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportResult:
    """Plan and (unless dry_run) apply an import now, in this process, recorded as a job."""
    with Session(engine) as session:
        catalog = load_catalog(session=session)
        check_options(catalog=catalog, options=options)
        if dry_run:
            *_, plan = preview_import(
                session=session,
                table=table,
                mapping=mapping,
                options=options,
                chunk_rows=chunk_rows,
                keep_rows=False,
            )
            return ImportResult(None, _status(plan, options)[0], True, plan, False)
        check_import_mapping(catalog=catalog, table=table, mapping=mapping)
    return run_now(
        engine,
        lambda session: (
            create_job(
                session=session,
                table=table,
                mapping=mapping,
                options=options,
                file_name=file_name,
                file_bytes=file_bytes,
                created_by=created_by,
                status="running",
            ).id
        ),
        lambda job_id: execute_job(
            engine=engine,
            job_id=job_id,
            table=table,
            mapping=mapping,
            options=options,
            progress=progress,
            chunk_rows=chunk_rows,
        ),
    )


def list_jobs(*, session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """The newest jobs as plain dictionaries."""
    jobs = session.exec(
        select(ImportJob).options(WITHOUT_FILE).order_by(ImportJob.id.desc()).limit(limit)
    ).all()
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
