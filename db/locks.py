"""The job queue's SQL: locks that say an import or revert is running (held by a live
process, gone when it dies), claiming queued jobs, and marking the ones whose worker died."""

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, func, select, text, update
from sqlmodel import Session, col

from db.engine import session_scope
from db.models import ImportJob, utcnow
from db.vocabulary import JobStatus

T = TypeVar("T")

# PostgreSQL advisory locks are per database, not per schema: keys are taken from the
# schema's name, so installations (or test runs) in other schemas never share a lock.
# One key says "imports run one at a time"; the second half of a job's key is its id.
_IMPORT_LOCK = "hashtext(current_schema() || '/imports')"
_JOB_LOCK = "hashtext(current_schema() || '/jobs'), :id"


def is_postgresql(engine: Engine | Connection) -> bool:
    """Whether the database is PostgreSQL (else SQLite)."""
    return engine.dialect.name == "postgresql"


def lock_imports(session: Session) -> None:
    """Serialise writes to users (imports and reverts): one transaction at a time, in order.

    Call first in the transaction, so that what it reads is what the previous one committed.
    """
    if is_postgresql(session.get_bind()):
        session.execute(text(f"SELECT pg_advisory_xact_lock({_IMPORT_LOCK})"))
    else:
        # SQLite has one writer: taking the write lock now makes the snapshot current.
        session.execute(text("UPDATE import_jobs SET id = id WHERE 0"))


def _lock_file(engine: Engine) -> Path:
    database = engine.url.database or ""
    return Path(f"{database}.import-lock")


@contextmanager
def _file_lock(engine: Engine, *, wait: bool) -> Iterator[bool]:
    """An OS lock beside the SQLite file; the kernel releases it when the process dies."""
    path = _lock_file(engine)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


class JobLease:
    """Held by the process that runs jobs: on SQLite the import file lock, on PostgreSQL a
    connection whose session locks name the jobs it runs. Either ends with the process."""

    def __init__(self, engine: Engine, connection: Connection | None) -> None:
        self.engine, self.connection = engine, connection

    def hold(self, job_id: int) -> None:
        """Say that this process runs job_id until release(job_id)."""
        self._call("pg_advisory_lock", job_id)

    def release(self, job_id: int) -> None:
        """The job has ended here."""
        self._call("pg_advisory_unlock", job_id)

    def _call(self, function: str, job_id: int) -> None:
        if self.connection is not None:
            self.connection.execute(text(f"SELECT {function}({_JOB_LOCK})"), {"id": job_id})
            self.connection.commit()


@contextmanager
def job_lease(engine: Engine, *, wait: bool = True) -> Iterator[JobLease | None]:
    """A lease to run jobs under; None when wait is False and another process runs imports.

    On SQLite a second process waits here (imports queue behind each other instead of
    failing with "database is locked"); on PostgreSQL jobs run side by side and the import
    transaction's own lock orders them.
    """
    if is_postgresql(engine):
        with engine.connect() as connection:
            yield JobLease(engine, connection)
        return
    with _file_lock(engine, wait=wait) as held:
        yield JobLease(engine, None) if held else None


def run_now(engine: Engine, create: Callable[[Session], int], execute: Callable[[int], T]) -> T:
    """Record a job (create returns its id) and run it in this process, holding its lease.

    On SQLite this waits while another process imports, instead of failing half-way.
    """
    with job_lease(engine) as lease:
        assert lease is not None
        with session_scope(engine) as session:
            job_id = create(session)
        lease.hold(job_id)
        try:
            return execute(job_id)
        finally:
            lease.release(job_id)


def running_elsewhere(engine: Engine, job_ids: list[int]) -> set[int]:
    """Which of these running jobs a live process still holds; the others' workers died."""
    if not job_ids:
        return set()
    if not is_postgresql(engine):
        with _file_lock(engine, wait=False) as free:
            return set() if free else set(job_ids)
    held = set()
    with engine.connect() as connection:
        for job_id in job_ids:
            params = {"id": job_id}
            if connection.execute(
                text(f"SELECT pg_try_advisory_lock({_JOB_LOCK})"), params
            ).scalar():
                connection.execute(text(f"SELECT pg_advisory_unlock({_JOB_LOCK})"), params)
            else:
                held.add(job_id)
        connection.commit()
    return held


def claim_oldest_queued(engine: Engine) -> int | None:
    """Mark the oldest queued job running and return its id; each is claimed exactly once.

    On PostgreSQL several workers claim side by side (FOR UPDATE SKIP LOCKED); SQLite has
    one writer at a time.
    """
    job_id, status = col(ImportJob.id), col(ImportJob.status)
    oldest = select(job_id).where(status == JobStatus.QUEUED).order_by(job_id).limit(1)
    if is_postgresql(engine):
        oldest = oldest.with_for_update(skip_locked=True)
    claim = (
        update(ImportJob)
        .where(job_id == oldest.scalar_subquery(), status == JobStatus.QUEUED)
        .values(status=JobStatus.RUNNING, heartbeat_at=utcnow())
        .returning(job_id)
    )
    with session_scope(engine) as session:
        return session.execute(claim).scalar_one_or_none()


def record_progress(engine: Engine, job_id: int, done: int) -> None:
    """Write a running job's progress to its row, where another transaction may write.

    On SQLite the import's transaction holds the only write lock, so progress is shared in
    the memory of the process that runs it instead (core.worker.LIVE).
    """
    if is_postgresql(engine):
        with engine.begin() as connection:
            connection.execute(
                update(ImportJob).where(col(ImportJob.id) == job_id).values(progress_done=done)
            )


def count_jobs_ahead(*, session: Session, job_id: int) -> int:
    """How many queued or running jobs are ahead of this one."""
    waiting = col(ImportJob.status).in_(("queued", "running"))
    query = select(func.count()).select_from(ImportJob).where(col(ImportJob.id) < job_id, waiting)
    ahead: int = session.execute(query).scalar_one()
    return ahead


def list_running_jobs(engine: Engine, *, claimed_before: datetime) -> list[int]:
    """Jobs marked running whose claim (or last sign of life) is older than claimed_before."""
    heartbeat = col(ImportJob.heartbeat_at)
    query = select(col(ImportJob.id)).where(
        col(ImportJob.status) == JobStatus.RUNNING,
        heartbeat.is_(None) | (heartbeat <= claimed_before),
    )
    with engine.connect() as connection:
        return [job_id for job_id in connection.execute(query).scalars() if job_id is not None]


def mark_jobs_interrupted(engine: Engine, job_ids: list[int], *, error: str) -> None:
    """Jobs whose worker died: interrupted, with the reason, to be started again."""
    with session_scope(engine) as session:
        session.execute(
            update(ImportJob)
            .where(col(ImportJob.id).in_(job_ids), col(ImportJob.status) == JobStatus.RUNNING)
            .values(status=JobStatus.INTERRUPTED, finished_at=utcnow(), error=error)
        )


def discard_expired_files(*, engine: Engine) -> int:
    """Delete kept upload files whose time is up; returns how many."""
    until = col(ImportJob.keep_file_until)
    with session_scope(engine) as session:
        result = session.execute(
            update(ImportJob)
            .where(until.is_not(None), until < utcnow())
            .values(source_data=None, keep_file_until=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)
