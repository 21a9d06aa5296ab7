"""Passwords from a file end up only as bcrypt hashes: not in any table, issue, change record,
rejected-rows file, CLI output or email."""

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from db.engine import get_engine
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
