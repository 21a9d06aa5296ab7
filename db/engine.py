"""Engine and session from DATABASE_URL, with migrations applied on first use."""

import os
import re
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r"^(down_)?revision\s*=\s*['\"]?([\w-]+|None)['\"]?\s*$", re.MULTILINE)

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the history page read while an import writes; the busy timeout makes a
    # second writer wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted content (a job's file once it has run) is overwritten, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _private_sqlite_file(path: Path) -> None:
    """The database file, made readable by Instroom's user only (its -wal and -shm follow it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists():
            os.chmod(companion, 0o600)


def create_db_engine(url: str) -> Engine:
    """A new engine for url; SQLite files get their folder, WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_sqlite_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def head_revision() -> str:
    """The newest migration: the one no other migration names as its predecessor.

    Read from the files without Alembic, which takes longer to import than a small
    command takes to run.
    """
    revisions, predecessors = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict((bool(down), name) for down, name in _REVISION.findall(path.read_text()))
        revisions.add(found[False])
        predecessors.add(found.get(True))
    (head,) = revisions - predecessors
    return str(head)


def stored_revision(engine: Engine) -> str | None:
    """The migration the database was last upgraded to; None for a new database."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest Alembic revision, when it is not there yet."""
    if stored_revision(engine) == head_revision():
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def get_engine(url: str) -> Engine:
    """The migrated and seeded engine for url, made once per process."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_db_engine(url)
            migrate(engine)
            from db.seed import seed_defaults

            with Session(engine) as session:
                seed_defaults(session=session)
                session.commit()
            _engines[url] = engine
        return engine


def forget_engine(url: str) -> None:
    """Dispose of the cached engine for url (tests drop their databases)."""
    with _lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def close_engines() -> None:
    """Close every cached engine's connections (a command that ends without teardown)."""
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()


def database_errors() -> tuple[type[Exception], ...]:
    """The errors a database can raise: bulk writes use the drivers directly (executemany,
    COPY), so their own errors arrive too. psycopg counts once it is loaded (by PostgreSQL)."""
    psycopg = sys.modules.get("psycopg")
    return (SQLAlchemyError, sqlite3.Error, *((psycopg.Error,) if psycopg else ()))


def is_busy(exc: BaseException) -> bool:
    """Whether a database error means another writer holds the lock, not a broken setup."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


@contextmanager
def brief_write(engine: Engine, milliseconds: int = 2000) -> Iterator[Session]:
    """A session for a small write that may be lost: on SQLite it waits only briefly for an
    import's write lock and is then rolled back (the caller keeps what it computed)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={int(milliseconds)}")
            connection.commit()  # else the session would only join this transaction
        try:
            with Session(bind=connection) as session:
                yield session
                try:
                    session.commit()
                    connection.commit()
                except OperationalError as exc:
                    if not is_busy(exc):
                        raise
                    session.rollback()
                    connection.rollback()
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA busy_timeout=30000")


def read_session(engine: Engine) -> Session:
    """A session for reading; objects stay usable after it closes (nothing is committed)."""
    return Session(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
