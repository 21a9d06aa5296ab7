"""Queued imports: claimed once, run in order, recovered after a crash."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from core.config import Settings
from core.history import job_error_words
from core.issues import ISSUE_TYPES
from core.jobs import create_job
from core.options import ImportOptions
from core.pipeline import ImportRequest, resolve_mapping
from core.read import ReadOptions, read_upload
from core.validate import load_known_names
from core.worker import (
    claim_next_job,
    enqueue_import,
    mark_interrupted,
    requeue_job,
    run_job,
    wake_worker,
    work,
)
from db.engine import session_scope
from db.locks import count_jobs_ahead
from db.models import ImportChange, ImportJob, User
from tests.conftest import ROOT


def enqueue(
    engine: Engine,
    text: str | bytes,
    name: str = "u.csv",
    corrections: dict[int, dict[int, str]] | None = None,
    **options: object,
) -> int:
    data = text.encode() if isinstance(text, str) else text
    table = read_upload(data, name)
    with session_scope(engine) as session:
        mapping = resolve_mapping(table, load_known_names(session=session))
        job = create_job(
            session=session,
            request=ImportRequest(table, mapping, ImportOptions(**options)),
            file_name=name,
            file_bytes=data,
            created_by="beheer",
            status="queued",
            corrections=corrections,
        )
        return enqueue_import(session=session, job=job, read_options=ReadOptions())


def job_of(engine: Engine, job_id: int) -> ImportJob:
    with Session(engine) as session:
        return session.get(ImportJob, job_id)


def test_jobs_run_one_after_the_other_in_order(engine: Engine, db_url: str) -> None:
    first = enqueue(engine, "Email;Voornaam;Achternaam\na@example.org;A;Eerst\n")
    second = enqueue(engine, "Email;Voornaam;Achternaam\na@example.org;A;Tweede\n")
    with Session(engine) as session:
        assert (
            count_jobs_ahead(session=session, job_id=first),
            count_jobs_ahead(session=session, job_id=second),
        ) == (0, 1)
    settings = Settings(database_url=db_url)
    assert claim_next_job(engine=engine) == first
    run_job(engine=engine, job_id=first, settings=settings)
    assert claim_next_job(engine=engine) == second
    run_job(engine=engine, job_id=second, settings=settings)
    assert claim_next_job(engine=engine) is None
    done = [job_of(engine, first), job_of(engine, second)]
    assert [j.status for j in done] == ["succeeded", "succeeded"]
    assert [j.counts["created"] for j in done] == [1, 0] and done[1].counts["updated"] == 1
    assert done[0].finished_at <= done[1].started_at
    assert all(j.source_data is None for j in done)
    with Session(engine) as session:
        assert session.exec(select(User)).one().last_name == "Tweede"


def test_a_job_queued_in_this_process_wakes_the_worker(engine: Engine, db_url: str) -> None:
    """The wizard's import starts at once, not at the worker's next poll (here an hour)."""
    settings, stop = Settings(database_url=db_url), threading.Event()
    loop = threading.Thread(
        target=work,
        kwargs={"engine": engine, "settings": settings, "stop": stop, "poll_seconds": 3600},
    )
    loop.start()

    def finished(job_id: int) -> str:
        deadline = time.monotonic() + 60
        while job_of(engine, job_id).status != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.05)
        return job_of(engine, job_id).status

    try:
        # A first job, found by the first round; then the loop has gone back to waiting.
        first = enqueue(engine, "Email;Voornaam;Achternaam\na@example.org;A;Eerst\n")
        wake_worker(db_url)
        assert finished(first) == "succeeded"
        time.sleep(1)
        second = enqueue(engine, "Email;Voornaam;Achternaam\na@example.org;A;Wakker\n")
        wake_worker(db_url)
        assert finished(second) == "succeeded"
    finally:
        stop.set()
        wake_worker(db_url)
        loop.join(timeout=60)
    assert not loop.is_alive()


def test_corrections_from_the_wizard_are_imported(engine: Engine, db_url: str) -> None:
    job_id = enqueue(
        engine,
        "Email;Voornaam;Achternaam\nfout;Ann;Smit\n",
        corrections={2: {0: "ann@example.org"}},
    )
    claim_next_job(engine=engine)
    result = run_job(engine=engine, job_id=job_id, settings=Settings(database_url=db_url))
    assert result.status == "succeeded" and result.counts["created"] == 1


def test_an_unreadable_queued_file_fails_the_job_with_its_reason(
    engine: Engine, db_url: str
) -> None:
    job_id = enqueue(engine, "Email\na@example.org\n")
    with session_scope(engine) as session:
        session.get(ImportJob, job_id).source_data = b""
    claim_next_job(engine=engine)
    assert run_job(engine=engine, job_id=job_id, settings=Settings(database_url=db_url)) is None
    job = job_of(engine, job_id)
    assert job.status == "failed" and "The file is empty" in job.error
    # The history says it in the reader's language, from the stored issue.
    with Session(engine) as session:
        dutch = job_error_words(session=session, job=job, language="nl")
    assert dutch == ISSUE_TYPES["empty-file"].message("file", {}, "nl") != job.error


def worker_process(db_url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "worker", *args],
        env={**os.environ, "DATABASE_URL": db_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.postgres
def test_two_worker_processes_never_run_the_same_job(postgres_url: str) -> None:
    from db.engine import get_engine

    engine = get_engine(postgres_url)
    jobs = [
        enqueue(
            engine,
            "Email;Voornaam;Achternaam\n"
            + "".join(f"u{j}_{i}@example.org;U;{i}\n" for i in range(200)),
        )
        for j in range(6)
    ]
    workers = [worker_process(postgres_url, "--once") for _ in range(2)]
    outputs = [w.communicate(timeout=240)[0] for w in workers]
    ran = [
        int(line.split()[2].rstrip("."))
        for out in outputs
        for line in out.splitlines()
        if line.startswith("Ran job")
    ]
    assert sorted(ran) == jobs
    with Session(engine) as session:
        assert {j.status for j in session.exec(select(ImportJob))} == {"succeeded"}
        assert session.exec(select(func.count()).select_from(User)).one() == 1200
        per_job = session.exec(
            select(ImportChange.job_id, func.count()).group_by(ImportChange.job_id)
        ).all()
        assert sorted(per_job) == [(j, 200) for j in jobs]


def test_a_killed_worker_leaves_nothing_and_the_job_interrupted(db_url: str) -> None:
    """kill -9 the worker and start it again at once: the job is recognised as interrupted
    straight away (the dead worker's lock is gone), then runs again to completion."""
    from db.engine import get_engine

    engine = get_engine(db_url)
    rows = "".join(f"u{i}@example.org;Voor{i};Achter{i};06{i:08d}\n" for i in range(60_000))
    job_id = enqueue(engine, "Email;Voornaam;Achternaam;Telefoon\n" + rows)
    worker = worker_process(db_url)
    deadline = time.monotonic() + 60
    while job_of(engine, job_id).status != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # well inside the import, which takes several seconds
    assert worker.poll() is None and job_of(engine, job_id).status == "running"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(User)).one() == 0
    restarted = worker_process(db_url, "--once")
    output = restarted.communicate(timeout=120)[0]
    assert f"Marked interrupted: {job_id}." in output, output
    job = job_of(engine, job_id)
    assert job.status == "interrupted" and "Start it again" in job.error
    with session_scope(engine) as session:
        requeue_job(session=session, job_id=job_id)
    assert claim_next_job(engine=engine) == job_id
    result = run_job(engine=engine, job_id=job_id, settings=Settings(database_url=db_url))
    assert result.counts["created"] == 60_000


def test_a_running_import_is_not_taken_for_dead(db_url: str) -> None:
    """While a live process holds its job, a worker starting elsewhere leaves it running."""
    from db.engine import get_engine
    from db.locks import job_lease

    engine = get_engine(db_url)
    job_id = enqueue(engine, "Email;Voornaam;Achternaam\na@example.org;A;B\n")
    with job_lease(engine) as lease:
        assert claim_next_job(engine=engine, lease=lease) == job_id
        with session_scope(engine) as session:
            session.get(ImportJob, job_id).heartbeat_at -= timedelta(minutes=5)
        assert mark_interrupted(engine=engine) == []
        assert job_of(engine, job_id).status == "running"
        lease.release(job_id)
    assert mark_interrupted(engine=engine) == [job_id]


def test_a_corrected_formula_cell_is_the_administrators_value(engine: Engine, db_url: str) -> None:
    """The file's formula is reported on its cell; once corrected, the row goes in."""
    import io

    from openpyxl import Workbook

    from core.read import with_corrections

    workbook = Workbook()
    workbook.active.append(["Email", "Voornaam", "Achternaam"])
    workbook.active.append(["a@example.org", '=UPPER("ann")', "Smit"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_upload(buffer.getvalue(), "f.xlsx")
    assert [(f.code, f.row, f.column) for f in table.findings] == [("formula", 2, "Voornaam")]
    assert with_corrections(table, {2: {1: "Ann"}}).findings == []
    job_id = enqueue(engine, buffer.getvalue(), "f.xlsx", corrections={2: {1: "Ann"}})
    claim_next_job(engine=engine)
    result = run_job(engine=engine, job_id=job_id, settings=Settings(database_url=db_url))
    assert (result.status, result.counts["created"]) == ("succeeded", 1)
    with Session(engine) as session:
        assert session.exec(select(User)).one().first_name == "Ann"
