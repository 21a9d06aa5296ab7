"""Fixtures shared by the whole suite: databases on SQLite and, when present, PostgreSQL."""

import functools
import getpass
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
# Files in the shapes admins bring from Plek, Huddle, Caseware and AFAS (see its README).
SAMPLES = ROOT / "tests" / "fixtures" / "samples"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from db.engine import forget_engine, get_engine  # noqa: E402


@functools.cache
def _local_postgres() -> str | None:
    """A local server's instroom_test database over its socket, made if missing; or None."""
    user = getpass.getuser()
    url = f"postgresql+psycopg://{user}@/instroom_test?host=/var/run/postgresql"
    try:
        server = create_engine(url.replace("/instroom_test?", "/postgres?"))
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = 'instroom_test'")
            ).first()
            if not found:
                connection.execute(text("CREATE DATABASE instroom_test"))
        server.dispose()
    except Exception:  # no server, no socket, or no role for this user: not available here
        return None
    return url


def postgres_base_url() -> str | None:
    """The PostgreSQL database tests use: TEST_DATABASE_URL, else a local server, else None."""
    url = os.environ.get("TEST_DATABASE_URL") or _local_postgres()
    if not url and os.environ.get("CI"):
        pytest.fail("CI must test on PostgreSQL: .ci/run sets TEST_DATABASE_URL.")
    return url


def make_postgres_schema_url(base: str, schema: str) -> str:
    """A URL to base whose connections see only the given schema."""
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


# Files that start processes of their own (a portal, Chromium, a benchmark): 10-60 s each.
SLOW_FIRST = ("tests/e2e/", "tests/bench/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest files first, so that the quick ones fill in the end of both workers' runs
    instead of one worker finishing a browser journey alone."""
    items.sort(key=lambda item: not item.nodeid.startswith(SLOW_FIRST))


@pytest.fixture(autouse=True)
def english_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI speaks English unless a test asks otherwise, whatever this machine's LANG."""
    monkeypatch.delenv("INSTROOM_LANGUAGE", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    # In a folder of its own, as under data/: the rest of tmp_path may hold a link's exports.
    url = f"sqlite:///{tmp_path / 'data' / 'instroom.db'}"
    yield url
    forget_engine(url)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    base = postgres_base_url()
    if not base:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: .ci/run starts PostgreSQL.")
        pytest.skip(
            "PostgreSQL is not available here: set TEST_DATABASE_URL or start a local server"
        )
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_postgres_schema_url(base, schema)
    yield url
    forget_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database: SQLite and, whenever TEST_DATABASE_URL is set, PostgreSQL."""
    return request.getfixturevalue(
        f"{request.param}_url" if request.param == "sqlite" else "postgres_url"
    )


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated and seeded once per test process, for tests to copy."""
    path = tmp_path_factory.mktemp("migrated") / "instroom.db"
    url = f"sqlite:///{path}"
    get_engine(url)
    forget_engine(url)  # the last connection closed: its write-ahead log is in the file
    return path


@pytest.fixture(scope="session")
def migrated_postgres_script() -> Iterator[str | None]:
    """SQL that makes a migrated, seeded schema named {schema}; None without pg_dump."""
    base = postgres_base_url()
    if not base or not shutil.which("pg_dump"):
        yield None
        return
    schema = f"t_migrated_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_postgres_schema_url(base, schema)
    get_engine(url)
    forget_engine(url)
    libpq = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "--no-privileges", "--inserts", "--schema", schema, libpq],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
    # Backslash lines are psql's (\restrict); the test's schema exists already.
    kept = [
        line
        for line in dump.splitlines()
        if not line.startswith("\\") and not line.startswith("CREATE SCHEMA")
    ]
    yield "\n".join(kept).replace(schema, "{schema}")


@pytest.fixture
def engine(db_url: str, migrated_sqlite: Path, migrated_postgres_script: str | None) -> Engine:
    """The migrated and seeded engine for a fresh database (a copy: migrating each is slow)."""
    return migrated_copy(db_url, migrated_sqlite, migrated_postgres_script)


def migrated_copy(url: str, sqlite_file: Path, postgres_script: str | None) -> Engine:
    """The engine for url after a copy of the migrated database is put there."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        target = Path(str(parsed.database))
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sqlite_file, target)
    elif postgres_script is not None:
        admin = create_engine(url)
        with admin.connect() as connection:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
            # The driver's own cursor: many statements, and no parameters to look for.
            connection.connection.cursor().execute(postgres_script.replace("{schema}", schema))
            connection.commit()
        admin.dispose()
    return get_engine(url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """What a real SMTP server (aiosmtpd) on 127.0.0.1 received."""

    def __init__(self, port: int) -> None:
        self.host, self.port = "127.0.0.1", port
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in str(m["To"])]

    def first_to(self, address: str, seconds: float = 30) -> object:
        """The first message to address, waiting for a sender in the background."""
        import time

        deadline = time.monotonic() + seconds
        while not self.to(address) and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.to(address)[0]

    @staticmethod
    def text(message) -> str:
        parts = [p for p in message.walk() if p.get_content_type() == "text/plain"]
        return "\n".join(p.get_content() for p in parts)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1 that keeps every message it receives."""
    from aiosmtpd.controller import Controller

    box = Inbox(free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    yield box
    controller.stop()
