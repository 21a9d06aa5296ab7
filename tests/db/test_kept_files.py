"""Uploaded files are dropped after the import unless kept on purpose, and then for a while."""

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from core.config import Settings
from core.history import get_kept_file
from core.worker import claim_next_job, run_job
from db.engine import session_scope
from db.locks import discard_expired_files
from db.models import ImportJob, utcnow
from tests.db.test_import_engine import run
from tests.db.test_worker import enqueue, job_of

TEXT = "Email;Voornaam;Achternaam\na@example.org;A;A\n"


def test_files_are_not_kept_by_default(engine: Engine, db_url: str) -> None:
    direct = run(engine, TEXT)
    queued = enqueue(engine, TEXT)
    claim_next_job(engine=engine)
    run_job(engine=engine, job_id=queued, settings=Settings(database_url=db_url))
    for job_id in (direct.job_id, queued):
        job = job_of(engine, job_id)
        assert (job.source_data, job.keep_file_until) == (None, None)
        with Session(engine) as session:
            assert get_kept_file(session=session, job_id=job_id) is None


def test_a_kept_file_is_downloadable_until_its_day(engine: Engine, db_url: str) -> None:
    queued = enqueue(engine, TEXT, keep_file_days=3)
    claim_next_job(engine=engine)
    run_job(engine=engine, job_id=queued, settings=Settings(database_url=db_url))
    direct = run(engine, TEXT, keep_file_days=1)
    for job_id, days in ((queued, 3), (direct.job_id, 1)):
        job = job_of(engine, job_id)
        assert abs(job.keep_file_until - utcnow() - timedelta(days=days)) < timedelta(minutes=1)
        with Session(engine) as session:
            assert get_kept_file(session=session, job_id=job_id) == (
                "users.csv" if job_id == direct.job_id else "u.csv",
                TEXT.encode(),
            )
    assert discard_expired_files(engine=engine) == 0
    with session_scope(engine) as session:
        session.get(ImportJob, queued).keep_file_until = utcnow() - timedelta(seconds=1)
    assert discard_expired_files(engine=engine) == 1
    assert job_of(engine, queued).source_data is None
    assert job_of(engine, direct.job_id).source_data == TEXT.encode()


def test_no_password_stays_in_plain_text_with_a_job(engine: Engine, db_url: str) -> None:
    """A password typed as a correction and a kept file's password column are gone once the
    job has run; the kept file comes back as CSV without that column."""
    from sqlalchemy import inspect, text

    typed, in_file = "Getypt-Wachtwoord-1", "Bestand-Wachtwoord-2"
    content = f"Email;Voornaam;Achternaam;Wachtwoord\na@example.org;Ann;Smit;{in_file}\n"
    queued = enqueue(engine, content, keep_file_days=3, corrections={2: {3: typed, 1: "Anna"}})
    claim_next_job(engine=engine)
    run_job(engine=engine, job_id=queued, settings=Settings(database_url=db_url))
    with engine.connect() as connection:
        stored = "\n".join(
            str(row)
            for table in inspect(engine).get_table_names()
            for row in connection.execute(text(f'SELECT * FROM "{table}"'))
        )
    assert typed not in stored and in_file not in stored
    assert job_of(engine, queued).corrections == {"2": {"1": "Anna"}}
    with Session(engine) as session:
        name, data = get_kept_file(session=session, job_id=queued)
    assert name == "u (without passwords).csv"
    assert data.decode("utf-8-sig") == "Email;Voornaam;Achternaam\r\na@example.org;Anna;Smit\r\n"
