"""Passwords from a file end up only as bcrypt hashes: not in any table, issue, change record,
rejected-rows file, CLI output or email."""

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select

from core.config import Settings
from db.engine import get_engine
from db.models import ImportJob
from tests.conftest import ROOT, Inbox

GOOD, WEAK = "Geheim-Wachtwoord-123", "kort1"


def everything_stored(engine: Engine) -> str:
    with engine.connect() as connection:
        return "\n".join(
            str(row)
            for table in inspect(engine).get_table_names()
            for row in connection.execute(text(f'SELECT * FROM "{table}"'))
        )


def test_passwords_never_leave_the_hash(db_url: str, tmp_path: Path, inbox: Inbox) -> None:
    source = tmp_path / "met-wachtwoorden.csv"
    source.write_text(
        "Email;Voornaam;Achternaam;Wachtwoord\n"
        f"a@example.org;Ann;Smit;{GOOD}\nb@example.org;Bob;Bakker;{WEAK}\n"
        f"fout;Fout;Rij;{GOOD}x\n"
    )
    rejected = tmp_path / "afgekeurd.csv"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "INSTROOM_SMTP_HOST": inbox.host,
        "INSTROOM_SMTP_PORT": str(inbox.port),
    }
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "import",
            str(source),
            "--json",
            "--welcome-new",
            "--rejected-out",
            str(rejected),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    out = json.loads(result.stdout)
    assert {i["code"] for i in out["issues"]} == {"weak-password", "invalid-email"}
    engine = get_engine(db_url)
    outputs = [
        result.stdout,
        result.stderr,
        rejected.read_text(encoding="utf-8-sig"),
        everything_stored(engine),
        *(m.as_string() for m in inbox.messages),
    ]
    assert len(inbox.messages) == 1
    for secret in (GOOD, WEAK, GOOD + "x"):
        assert not any(secret in output for output in outputs), secret
    assert "$2b$" in everything_stored(engine)  # the hash is there
    assert "********" in rejected.read_text(encoding="utf-8-sig")


def test_a_queued_import_never_writes_a_typed_password_to_the_database_files(
    sqlite_url: str,
) -> None:
    from core.accounts import verify_password
    from core.worker import run_next_job
    from db.models import User
    from tests.db.test_worker import enqueue

    engine = get_engine(sqlite_url)
    typed = "Uniek-Wachtwoord-7Q4x"
    job_id = enqueue(
        engine,
        "Email;Voornaam;Achternaam;Wachtwoord\n"
        f"a@example.org;Ann;Smit;{typed}\nb@example.org;Bob;Bakker;{WEAK}\n"
        "c@example.org;Cor;Bos;wordt-verbeterd\n",
        corrections={4: {3: "Verbeterd-Wachtwoord-9"}},
        keep_file_days=7,
    )
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    files = [p for p in database.parent.glob("instroom.db*") if p.is_file()]

    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in files if p.exists())

    # Queued, not yet run: the stored file and corrections hold hashes only.
    for secret in (typed, WEAK, "Verbeterd-Wachtwoord-9"):
        assert secret.encode() not in on_disk(), secret
    assert run_next_job(engine, Settings(database_url=sqlite_url)) == job_id
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    for secret in (typed, WEAK, "Verbeterd-Wachtwoord-9"):
        assert secret.encode() not in on_disk(), secret
    with Session(engine) as session:
        users = {u.email: u for u in session.exec(select(User))}
        job = session.get(ImportJob, job_id)
        assert job.status == "completed_with_errors"
    # The row with a short password was refused, as it was in the preview.
    assert set(users) == {"a@example.org", "c@example.org"}
    assert verify_password(typed, users["a@example.org"].password_hash)
    assert verify_password("Verbeterd-Wachtwoord-9", users["c@example.org"].password_hash)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in files if p.exists())
