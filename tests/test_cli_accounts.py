"""cli.py create-account and protect, run as a user runs them: a subprocess."""

import io
import os
import subprocess
import sys

from sqlmodel import Session, select

from db.engine import get_engine
from db.models import Account, User
from tests.conftest import ROOT


def run_cli(
    db_url: str, *args: str, stdin: str = "", process: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run cli.py: in this process (fast), or as a real process with its own start-up."""
    if process:
        return subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), *args],
            input=stdin,
            env={**os.environ, "DATABASE_URL": db_url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    from tests.test_cli_import import cli

    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return cli(db_url, *args)
    finally:
        sys.stdin = saved


def test_help_lists_the_commands(sqlite_url: str) -> None:
    result = run_cli(sqlite_url, "--help", process=True)
    assert result.returncode == 0
    assert "create-account" in result.stdout and "protect" in result.stdout


def test_create_account_reads_the_password_from_stdin(db_url: str) -> None:
    result = run_cli(
        db_url,
        "create-account",
        "helpdesk",
        "--email",
        "help@example.org",
        "--role",
        "support",
        "--password-stdin",
        stdin="a good password here\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Created support account 'helpdesk'." in result.stdout
    with Session(get_engine(db_url)) as session:
        account = session.exec(select(Account)).one()
    assert (account.username, account.role) == ("helpdesk", "support")
    assert "a good password" not in account.password_hash

    again = run_cli(
        db_url,
        "create-account",
        "helpdesk",
        "--email",
        "h@example.org",
        "--role",
        "support",
        "--password-stdin",
        stdin="a good password here\n",
    )
    assert again.returncode == 2
    assert "already exists" in again.stderr and "Traceback" not in again.stderr


def test_weak_password_and_missing_stdin_flag_are_refused(sqlite_url: str) -> None:
    weak = run_cli(
        sqlite_url,
        "create-account",
        "a1",
        "--email",
        "a@example.org",
        "--role",
        "admin",
        "--password-stdin",
        stdin="short\n",
    )
    assert weak.returncode == 2 and "at least 10 characters" in weak.stderr
    no_flag = run_cli(
        sqlite_url, "create-account", "a1", "--email", "a@example.org", "--role", "admin"
    )
    assert no_flag.returncode == 2 and "--password-stdin" in no_flag.stderr


def test_protect_marks_the_user(db_url: str) -> None:
    missing = run_cli(db_url, "protect", "svc@example.org")
    assert missing.returncode == 2 and "no user with the email address" in missing.stderr
    with Session(get_engine(db_url)) as session:
        session.add(User(email="svc@example.org", first_name="Service", last_name="Account"))
        session.commit()
    result = run_cli(db_url, "protect", "SVC@example.org")
    assert result.returncode == 0, result.stderr
    with Session(get_engine(db_url)) as session:
        assert session.exec(select(User)).one().is_protected is True


def test_a_locked_out_administrator_gets_back_in_with_reset_password(db_url: str) -> None:
    from core import accounts
    from db.engine import session_scope

    engine = get_engine(db_url)
    with session_scope(engine) as session:
        accounts.create_account(
            session=session,
            username="beheer",
            email="b@example.org",
            role="admin",
            password="the old password",
        )
    with session_scope(engine) as session:
        for _ in range(accounts.MAX_FAILED_LOGINS):
            accounts.authenticate(session=session, username="beheer", password="guess")
        assert accounts.locked_until(session=session, username="beheer") is not None
    result = run_cli(
        db_url, "reset-password", "beheer", "--password-stdin", stdin="a new password 1\n"
    )
    assert result.returncode == 0, result.stderr
    assert "unlocked and logged out" in result.stdout
    with session_scope(engine) as session:
        signed_in = accounts.authenticate(
            session=session, username="beheer", password="a new password 1"
        )
        assert signed_in is not None and signed_in.session_version == 1
