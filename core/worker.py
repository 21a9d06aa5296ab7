"""Queued imports: enqueue, claim exactly once, run in the background, recover after a crash."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from core.apply import write_issues
from core.config import Settings
from core.issues import JobError, UnusableFileError
from core.jobs import FAILED, WORKER_STOPPED, ImportResult, execute_job, mapping_of
from core.key_rotation import finish_pending_rotation
from core.links import recover_lost_runs, run_due_links
from core.mail import deliver_pending
from core.options import ImportOptions
from core.pipeline import ImportRequest
from core.read import ReadOptions, Table
from core.revert import execute_revert
from core.saved_settings import effective_settings
from core.signin import forget_old_attempts
from core.source import corrections_from_json, read_source
from db import queries
from db.locks import (
    JobLease,
    claim_oldest_queued,
    discard_expired_files,
    job_lease,
    list_running_jobs,
    mark_jobs_interrupted,
    record_progress,
    running_elsewhere,
)
from db.models import ImportJob, id_of, utcnow
from db.vocabulary import JobStatus

log = logging.getLogger(__name__)
# A job claimed this recently may not hold its lock yet; older ones without a lock are dead.
CLAIM_GRACE = timedelta(seconds=1)
PROGRESS_EVERY = 2.0
# How often an idle worker looks for jobs whose worker died.
RECOVER_EVERY = 5.0
# The mail thread gives each round this long, then looks for new messages again.
MAIL_ROUND_SECONDS = 60.0


@dataclass(frozen=True)
class LiveProgress:
    """How far a job running in this process is."""

    done: int
    total: int


# Progress of jobs run by this process. SQLite lets only one transaction write, so while an
# import writes, its progress can only be shared in memory; PostgreSQL also gets it in the row.
LIVE: dict[int, LiveProgress] = {}


def enqueue_import(*, session: Session, job: ImportJob, read_options: ReadOptions) -> int:
    """Queue a job recorded with its file (create_job, status queued) for the worker."""
    job.status = JobStatus.QUEUED
    job.read_options = read_options.choices()
    session.add(job)
    session.flush()
    return id_of(job)


def claim_next_job(*, engine: Engine, lease: JobLease | None = None) -> int | None:
    """Take the oldest queued job; each job is claimed by exactly one worker.

    With a lease, the job is held under it (see mark_interrupted) until lease.release.
    """
    job_id = claim_oldest_queued(engine)
    if job_id is not None and lease is not None:
        lease.hold(job_id)
    return job_id


def load_table(job: ImportJob, settings: Settings) -> Table:
    """The job's file read again as it was previewed, with the corrections made in the wizard."""
    options = ReadOptions(**job.read_options, **settings.read_limits)
    corrections = corrections_from_json(job.corrections)
    return read_source(job.source_data or b"", job.file_name, options, corrections)


class _Progress:
    def __init__(self, engine: Engine, job_id: int) -> None:
        self.engine, self.job_id, self.last = engine, job_id, 0.0

    def __call__(self, done: int, total: int) -> None:
        LIVE[self.job_id] = LiveProgress(done, total)
        now = time.monotonic()
        if now - self.last > PROGRESS_EVERY:
            self.last = now
            record_progress(self.engine, self.job_id, done)


def run_job(*, engine: Engine, job_id: int, settings: Settings) -> ImportResult | None:
    """Run a claimed job (its mail is sent by send_mail); an unreadable file fails the job."""
    with Session(engine) as session:
        job = queries.get_job(session=session, job_id=job_id)
        if job.kind == "revert":
            session.close()
            execute_revert(engine=engine, revert_job_id=job_id)
            return None
        try:
            table = load_table(job, settings)
        except UnusableFileError as exc:
            job.status, job.error, job.finished_at = FAILED, exc.message, utcnow()
            job.source_data = None
            session.add(job)
            # Kept as the job's issues too, so the history says why in the reader's language.
            write_issues(session=session, job_id=job_id, issues=[exc.issue, *exc.findings])
            session.commit()
            return None
        request = ImportRequest(table, mapping_of(job), ImportOptions.from_dict(job.options))
    try:
        result = execute_job(
            engine=engine,
            job_id=job_id,
            request=request,
            progress=_Progress(engine, job_id),
        )
    finally:
        LIVE.pop(job_id, None)
    return result


def mark_interrupted(*, engine: Engine, grace: timedelta = CLAIM_GRACE) -> list[int]:
    """Jobs left running by a worker that died are marked interrupted, to be started again.

    A live worker holds a lock for each job it runs (see db.locks); the lock of a worker
    killed with kill -9 is gone at once, so its job is recognised at the next look.
    """
    running = list_running_jobs(engine, claimed_before=utcnow() - grace)
    alive = running_elsewhere(engine, running)
    dead = [job_id for job_id in running if job_id not in alive]
    if dead:
        mark_jobs_interrupted(
            engine,
            dead,
            error=WORKER_STOPPED,
        )
    return dead


def requeue_job(*, session: Session, job_id: int) -> None:
    """Queue an interrupted job again; its file was kept for this."""
    job = queries.find_job(session=session, job_id=job_id)
    if job is None or job.status != JobStatus.INTERRUPTED or not job.source_data:
        raise JobError.of("not-restartable")
    job.status, job.error, job.finished_at, job.heartbeat_at = JobStatus.QUEUED, None, None, None
    job.created_at = utcnow()
    session.add(job)


def work(
    *,
    engine: Engine,
    settings: Settings,
    stop: threading.Event,
    poll_seconds: float = 1.0,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Run queued jobs one after the other, and links when they are due, until stop is set."""
    recovered = 0.0
    waker = _wakers.setdefault(settings.database_url, threading.Event())
    while not stop.is_set():
        try:
            # The time zone chosen in Settings may have changed since the last round.
            current = effective_settings(engine, settings)
            if time.monotonic() - recovered > RECOVER_EVERY:
                mark_interrupted(engine=engine)
                recover_lost_runs(engine=engine, settings=current, now=clock())
                discard_expired_files(engine=engine)
                forget_old_attempts(engine=engine)
                recovered = time.monotonic()
            ran = run_next_job(engine, current) is not None
            if not ran:
                ran = bool(run_due_links(engine=engine, settings=current, now=clock()))
        except OperationalError as exc:  # the database is busy or away for a moment
            log.warning("Could not look for queued imports (%s); trying again", exc.orig)
            ran = False
        if not ran:
            # A job queued in this process wakes the loop at once (wake_worker); one queued
            # by another process is found at the next poll.
            waker.wait(poll_seconds)
            waker.clear()


def wake_worker(database_url: str) -> None:
    """Tell this process's worker that a job was queued (after its commit), not to wait."""
    _wakers.setdefault(database_url, threading.Event()).set()


def run_next_job(engine: Engine, settings: Settings) -> int | None:
    """Run the oldest queued job under a lease; its id, or None when there was none to run."""
    # On SQLite the lease is not free while another process imports: its turn comes next.
    with job_lease(engine, wait=False) as lease:
        if lease is None:
            return None
        job_id = claim_next_job(engine=engine, lease=lease)
        if job_id is None:
            return None
        try:
            run_job(engine=engine, job_id=job_id, settings=settings)
        except Exception:  # the job is marked failed with the reason; keep serving the queue
            log.exception("Import job %s failed", job_id)
        finally:
            lease.release(job_id)
        return job_id


def send_mail(
    *, engine: Engine, settings: Settings, stop: threading.Event, poll_seconds: float = 1.0
) -> None:
    """Send queued messages until stop is set; a slow mail server delays only this loop."""
    while not stop.is_set():
        try:
            report = deliver_pending(
                engine=engine, settings=settings, budget=MAIL_ROUND_SECONDS, sleep=stop.wait
            )
        except Exception:  # keep sending later; the database may be back by then
            log.exception("Sending mail failed")
            report = None
        if report is None or not (report.sent or report.failed or report.skipped):
            stop.wait(poll_seconds)


def start_threads(*, engine: Engine, settings: Settings, imports: bool = True) -> threading.Event:
    """The mail thread, and unless imports is False the import worker thread; set to stop."""
    stop = threading.Event()
    loops = [("instroom-mail", send_mail)] + ([("instroom-worker", work)] if imports else [])
    threads = []
    for name, loop in loops:
        thread = threading.Thread(
            target=loop,
            name=name,
            daemon=True,
            kwargs={"engine": engine, "settings": settings, "stop": stop},
        )
        thread.start()
        threads.append(thread)
    _threads[settings.database_url] = (threads, stop)
    return stop


_threads: dict[str, tuple[list[threading.Thread], threading.Event]] = {}
_wakers: dict[str, threading.Event] = {}
_threads_lock = threading.Lock()


def ensure_background_worker(*, engine: Engine, settings: Settings) -> None:
    """Start this process's worker and mail threads once, so `streamlit run app.py` runs all."""
    with _threads_lock:
        running = _threads.get(settings.database_url)
        if running is not None and all(t.is_alive() for t in running[0]):
            return
        if running is not None:
            running[1].set()
        finish_pending_rotation(engine=engine, settings=settings)
        start_threads(engine=engine, settings=settings)


def stop_background_worker(database_url: str) -> None:
    """Stop the threads of a database and wait for the current job and message to end."""
    with _threads_lock:
        running = _threads.pop(database_url, None)
    if running is not None:
        running[1].set()
        wake_worker(database_url)
        for thread in running[0]:
            thread.join(timeout=60)
