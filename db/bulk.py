"""Bulk writes and reads with each database's fastest path: COPY on PostgreSQL, executemany
on SQLite, keys sent as one JSON list to both. The one place that knows which database it
talks to."""

import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Dialect,
    Integer,
    Table,
    Text,
    bindparam,
    cast,
    func,
    select,
    text,
)
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from db.models import User, table_of

BATCH = 2000


def json_text(value: Any) -> str:
    """value as JSON text, as json.dumps writes it but ten times faster (orjson)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def batches(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _driver_values(
    table: Table,
    columns: Mapping[str, Sequence[Any]],
    shared: Mapping[str, Any],
    dialect: Dialect,
) -> tuple[list[str], Iterable[tuple[Any, ...]]]:
    """The columns to write and the rows as tuples the driver takes, each value through its
    column type's own bind processing (a value all rows share, once).

    psycopg adapts dates itself and takes JSON as text; SQLite needs dates processed too.
    A column that is empty in every row is left out, as the table fills it with NULL
    anyway: SQLite's driver binds each None after two failed adapter lookups (4 s of a
    million users, whose ten optional columns are mostly empty).
    """
    count = len(next(iter(columns.values())))
    kept, converted = [], []
    for column, values in [*columns.items(), *((c, [v]) for c, v in shared.items())]:
        kind = table.c[column].type
        if values.count(None) == len(values) and _null_unless_given(table, column):
            continue
        process = (
            None
            if dialect.name == "postgresql"
            else kind.dialect_impl(dialect).bind_processor(dialect)
        )
        if isinstance(kind, JSON):
            # Every new user's change record has an empty "before".
            values = [None if v is None else "{}" if v == {} else json_text(v) for v in values]
        elif process is not None:
            memo: dict[Any, Any] = {}
            values = [
                None if v is None else memo[v] if v in memo else memo.setdefault(v, process(v))
                for v in values
            ]
        kept.append(column)
        converted.append(values if column in columns else repeat(values[0], count))
    # A shared value repeats without end: the rows end with the given columns.
    assert any(c in columns for c in kept), "a given column that is not empty in every row"
    return kept, zip(*converted, strict=False)


def _null_unless_given(table: Table, column: str) -> bool:
    """Whether a row that leaves column out stores NULL in it."""
    definition = table.c[column]
    return definition.nullable is True and definition.server_default is None


def bulk_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows given as dicts with the same keys; see insert_columns."""
    if rows:
        insert_columns(connection, table, {c: [row[c] for row in rows] for c in rows[0]})


def insert_columns(
    connection: Connection,
    table: Table,
    columns: Mapping[str, Sequence[Any]],
    shared: Mapping[str, Any] | None = None,
) -> None:
    """Insert rows given column by column (and the values all of them share) with the
    driver's fastest path: COPY on PostgreSQL, executemany on SQLite.

    Values pass through each column type's own bind processing (JSON, dates), but not
    through SQLAlchemy's per-row statement machinery: psycopg's executemany sends a
    statement per row (25 s for 100k users with their groups and change records) and
    SQLAlchemy's parameter handling costs more than SQLite's own insert. Columns, not a
    dict per row: building and taking apart a million users' dicts cost 3 s.
    """
    count = len(next(iter(columns.values()), []))
    if not count:
        return
    assert all(len(v) == count for v in columns.values()), "columns of one length"
    dialect = connection.dialect
    raw = connection.connection.driver_connection
    assert raw is not None, "an open connection"
    size = 20 * BATCH
    for start in range(0, count, size):
        batch = {c: v[start : start + size] for c, v in columns.items()}
        names, values = _driver_values(table, batch, shared or {}, dialect)
        listed = ", ".join(f'"{c}"' for c in names)
        if dialect.name != "postgresql":
            marks = ", ".join("?" * len(names))
            raw.cursor().executemany(
                f'INSERT INTO "{table.name}" ({listed}) VALUES ({marks})', values
            )
            continue
        statement = f'COPY "{table.name}" ({listed}) FROM STDIN'
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)


def new_user_ids(connection: Connection, count: int) -> list[int]:
    """Ids for count new users, taken before inserting so no insert has to return them."""
    if connection.dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence("users", "id")
        if count > 1 and _holds_users_to_itself(connection):
            # Nobody else can insert a user now (a large import dropped the memberships'
            # keys): move the sequence once instead of a nextval per id (5 s of a million).
            first = connection.execute(select(func.nextval(sequence))).scalar_one()
            connection.execute(select(func.setval(sequence, first + count - 1)))
            return list(range(first, first + count))
        # One statement, its rows fetched by the driver: SQLAlchemy's row handling cost
        # more than the sequence (0.4 s of 100,000 ids).
        series = func.generate_series(1, count).table_valued("n")
        query = select(func.nextval(sequence)).select_from(series)
        return [i for (i,) in driver_rows(connection, query)]
    # SQLite: the import holds the only write lock, so nobody else takes these ids.
    users = table_of(User)
    first = connection.execute(select(func.coalesce(func.max(users.c.id), 0))).scalar_one() + 1
    return list(range(first, first + count))


def _holds_users_to_itself(connection: Connection) -> bool:
    """Whether this transaction holds a lock on users that keeps every other writer out."""
    held = connection.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND granted "
            "AND pid = pg_backend_pid() AND relation = to_regclass('users') "
            "AND mode IN ('ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')"
        )
    ).scalar_one()
    return bool(held)


def driver_rows(connection: Connection, statement: ClauseElement) -> list[Any]:
    """A query's rows as the driver fetches them, past SQLAlchemy's row objects and result
    processing (0.5 s of 200,000 rows here); for columns that need no processing."""
    # Postcompile values (the separator of aggregate_strings) are written into the text.
    compiled = typing.cast(
        SQLCompiler,
        statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True}),
    )
    params: Any = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    raw = connection.connection.driver_connection
    assert raw is not None, "an open connection"
    cursor = raw.cursor()
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def one_of(column: Any, values: list[Any], connection: Connection) -> ColumnElement[bool]:
    """column IN values, sent as one parameter however many values there are.

    An IN list binds a parameter per value, and SQLAlchemy's rendering of 20,000 of them
    costs more than the query; one JSON list does not.
    """
    listed: Any
    if connection.dialect.name == "postgresql":
        # Not an array: psycopg dumps a list of text item by item in Python (0.4 s of
        # 100,000 addresses); JSON is one string, written by orjson.
        keys = cast(bindparam("values", json_text(values), type_=Text), JSON)
        listed = func.json_array_elements_text(keys).table_valued("value").c.value
        if isinstance(values[0], int):
            listed = cast(listed, Integer)
    else:
        listed = func.json_each(json_text(values)).table_valued("value").c.value
    condition: ColumnElement[bool] = column.in_(select(listed))
    return condition
