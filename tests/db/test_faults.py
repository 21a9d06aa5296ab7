"""Faults: a slow mail server, a full disk, a lost database connection, two imports at once.
After each: nothing half-written, the job marked truthfully, and the import can run again."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, func, text
from sqlmodel import Session, select

from core.config import Settings
from core.mail import deliver_pending
from core.worker import claim_next_job, requeue_job, run_job, start_threads, stop_background_worker
from db.engine import get_engine, session_scope
from db.models import EmailMessage, ImportChange, ImportJob, User
from tests.conftest import ROOT
from tests.db.test_import_engine import run
from tests.db.test_worker import enqueue, job_of

ROWS = "Email;Voornaam;Achternaam;Telefoon\n" + "".join(
    f"u{i}@example.org;Voor{i};Achter{i};06{i:08d}\n" for i in range(30_000)
)


def count_users(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(User)).one()


def test_a_mail_server_that_never_answers_times_out(engine: Engine, db_url: str) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts connections, never sends the SMTP greeting
    result = run(engine, "Email;Voornaam;Achternaam\na@example.org;A;A\n", welcome_new=True)
    settings = Settings(
        database_url=db_url,
        smtp_host="127.0.0.1",
        smtp_port=silent.getsockname()[1],
        smtp_timeout=0.5,
    )
    started = time.monotonic()
    report = deliver_pending(
        engine=engine, settings=settings, job_id=result.job_id, sleep=lambda _: None
    )
    silent.close()
    assert report.failed == 1 and time.monotonic() - started < 20
    with Session(engine) as session:
        message = session.exec(select(EmailMessage)).one()
    assert message.status == "failed" and "timed out" in message.error
    assert message.attempts == 3


@contextlib.contextmanager
def silent_mail_server():
    """A server that accepts connections and never says a word, as a hung relay does."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(50)
    try:
        yield silent.getsockname()[1]
    finally:
        silent.close()


def wait_for(check, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.1)


def test_a_silent_mail_server_never_delays_the_import_queue(engine: Engine, db_url: str) -> None:
    """While the mail thread waits on a relay that never answers, the next import runs."""

    def mail() -> dict[str, str]:
        with Session(engine) as session:
            return {m.recipient: m.status for m in session.exec(select(EmailMessage))}

    # The threads are stopped and joined once the silent server has gone, before the
    # database is dropped (a thread still writing deadlocked DROP SCHEMA on PostgreSQL).
    try:
        with silent_mail_server() as port:
            settings = Settings(
                database_url=db_url, smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=20
            )
            first = enqueue(
                engine, "Email;Voornaam;Achternaam\na@example.org;A;A\n", welcome_new=True
            )
            stop = start_threads(engine=engine, settings=settings)
            wait_for(lambda: mail().get("a@example.org") == "sending")
            second = enqueue(
                engine, "Email;Voornaam;Achternaam\nb@example.org;B;B\n", welcome_new=True
            )
            wait_for(lambda: job_of(engine, second).status == "succeeded")
            # The first message still waits for the server's greeting (20 s per attempt).
            assert mail() == {"a@example.org": "sending", "b@example.org": "queued"}
            stop.set()
    finally:
        stop_background_worker(db_url)
    assert job_of(engine, first).status == "succeeded"


def test_the_cli_reports_mail_it_could_not_send(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import cli

    path = tmp_path / "twee.csv"
    path.write_text("Email;Voornaam;Achternaam\na@example.org;A;A\nb@example.org;B;B\n")
    with silent_mail_server() as port:
        for name, value in {
            "DATABASE_URL": db_url,
            "INSTROOM_SMTP_HOST": "127.0.0.1",
            "INSTROOM_SMTP_PORT": str(port),
            "INSTROOM_SMTP_TIMEOUT": "0.3",
            "INSTROOM_MAIL_BUDGET": "2",
        }.items():
            monkeypatch.setenv(name, value)
        code = cli.main(["import", str(path), "--welcome-new", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["counts"]["created"] == 2
    emails = out["emails"]
    assert (emails["welcome"], emails["sent"]) == (2, 0)
    assert emails["failed"] + emails["queued"] == 2


@contextlib.contextmanager
def full_disk(engine: Engine):
    """The SQLite file may grow only 40 pages: an import of ROWS fills the 'disk'."""
    with engine.connect() as connection:
        pages = connection.execute(text("PRAGMA page_count")).scalar_one()

    def small_disk(dbapi_connection, _record) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + 40}")

    event.listen(engine, "connect", small_disk)
    engine.dispose()
    try:
        yield
    finally:
        event.remove(engine, "connect", small_disk)
        engine.dispose()


def test_a_full_sqlite_disk_leaves_nothing_and_the_import_runs_again(sqlite_url: str) -> None:
    engine = get_engine(sqlite_url)
    with full_disk(engine), pytest.raises(Exception, match="full"):
        run(engine, ROWS)
    assert count_users(engine) == 0
    with Session(engine) as session:
        job = session.exec(select(ImportJob)).one()
    assert job.status == "failed" and "full" in job.error
    assert run(engine, ROWS).counts["created"] == 30_000


@pytest.mark.postgres
def test_a_lost_postgres_connection_interrupts_and_the_job_runs_again(postgres_url: str) -> None:
    url = postgres_url + "&application_name=instroom_fault"
    engine = get_engine(url)
    job_id = enqueue(engine, ROWS)
    claim_next_job(engine=engine)
    worker = threading.Thread(target=lambda: _run_quietly(engine, job_id, url))
    worker.start()
    admin = create_engine(postgres_url)
    deadline = time.monotonic() + 60
    killed = 0
    while not killed and time.monotonic() < deadline:
        with admin.begin() as connection:
            killed = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'instroom_fault' AND state = 'active' "
                    "AND query ILIKE '%COPY%users%'"
                )
            ).scalar_one()
        time.sleep(0.02)
    worker.join(timeout=120)
    admin.dispose()
    assert killed, "the import finished before it could be interrupted"
    assert count_users(engine) == 0
    job = job_of(engine, job_id)
    assert job.status == "interrupted" and job.source_data
    with session_scope(engine) as session:
        requeue_job(session=session, job_id=job_id)
    assert claim_next_job(engine=engine) == job_id
    result = run_job(engine=engine, job_id=job_id, settings=Settings(database_url=url))
    assert result.counts["created"] == 30_000 and count_users(engine) == 30_000


def _run_quietly(engine: Engine, job_id: int, url: str) -> None:
    # The lost connection is the point of the test; the job records it.
    with contextlib.suppress(Exception):
        run_job(engine=engine, job_id=job_id, settings=Settings(database_url=url))


def test_two_administrators_import_overlapping_files_at_once(db_url: str, tmp_path: Path) -> None:
    first, second = tmp_path / "eerste.csv", tmp_path / "tweede.csv"
    first.write_text(
        "Email;Voornaam;Achternaam;Afdeling\n"
        + "".join(f"u{i}@example.org;Voor{i};Achter{i};Eerste\n" for i in range(0, 3000))
    )
    second.write_text(
        "Email;Voornaam;Achternaam;Functie\n"
        + "".join(f"u{i}@example.org;Voor{i};Achter{i};Tweede\n" for i in range(2000, 5000))
    )
    get_engine(db_url)  # migrate first, so the two processes only import
    env = {**os.environ, "DATABASE_URL": db_url}
    processes = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "cli.py"), "import", str(path), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in (first, second)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    engine = get_engine(db_url)
    with Session(engine) as session:
        users = session.exec(select(User)).all()
        assert len(users) == 5000 and len({u.email for u in users}) == 5000
        overlap = [u for u in users if 2000 <= int(u.email[1:].split("@")[0]) < 3000]
        # Neither import's values were lost: the department of one and the job title of the
        # other are both there for the users in both files.
        assert all(
            u.profile.get("department") == "Eerste" and u.profile.get("job_title") == "Tweede"
            for u in overlap
        )
        jobs = session.exec(select(ImportJob).order_by(ImportJob.id)).all()
        assert [j.status for j in jobs] == ["succeeded", "succeeded"]
        assert sorted(j.counts["created"] for j in jobs) == [2000, 3000]
        changes = session.exec(select(func.count()).select_from(ImportChange)).one()
        assert changes == 6000


def test_a_full_disk_ends_the_cli_with_a_message_not_a_traceback(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import cli

    engine = get_engine(sqlite_url)
    path = tmp_path / "groot.csv"
    path.write_text(ROWS)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    with full_disk(engine):
        code = cli.main(["import", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "the disk of the database is full" in err and "Traceback" not in err
    assert count_users(engine) == 0


def test_the_cli_never_writes_through_a_symbolic_link(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import cli

    target = tmp_path / "important.txt"
    target.write_text("keep me")
    link = tmp_path / "export.csv"
    link.symlink_to(target)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert cli.main(["export", "--out", str(link)]) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert target.read_text() == "keep me"
