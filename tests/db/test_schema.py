"""The migrations build exactly the schema the models describe, on both databases."""

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, text
from sqlmodel import Session, SQLModel, select

import db.models
from core import export
from core.source import job_file_words
from db.engine import MIGRATIONS_DIR, forget_engine, get_engine
from db.models import Group, ImportJob, Language, ProfileField, Role, User, UserGroup
from db.seed import DEFAULT_PROFILE_FIELDS


def test_migrations_and_models_agree(db_url: str) -> None:
    engine = get_engine(db_url)  # migrated here, not the copy other tests get
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def test_first_start_seeds_the_defaults(session: Session) -> None:
    keys = [f.key for f in session.exec(select(ProfileField).order_by(ProfileField.position))]
    assert keys == [key for key, _ in DEFAULT_PROFILE_FIELDS]
    assert sorted(r.name for r in session.exec(select(Role))) == ["manager", "member"]
    assert sorted(lang.code for lang in session.exec(select(Language))) == ["en", "nl"]
    assert [g.name for g in session.exec(select(Group))] == ["Iedereen"]


def test_a_deleted_default_stays_deleted_after_a_restart(db_url: str, engine: Engine) -> None:
    with Session(engine) as session:
        session.delete(session.exec(select(Role).where(Role.name == "manager")).one())
        session.commit()
    forget_engine(db_url)
    with Session(get_engine(db_url)) as session:
        assert [r.name for r in session.exec(select(Role))] == ["member"]


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(sqlite_url: str) -> None:
    engine = get_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() == 30000


def installation_at(db_url: str, revision: str) -> Engine:
    """An installation whose schema stopped at revision, as an older version left it."""
    from alembic import command
    from alembic.config import Config

    from db.engine import create_db_engine

    engine = create_db_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return engine


def test_an_installation_on_an_older_revision_is_upgraded(db_url: str) -> None:
    engine = installation_at(db_url, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO import_jobs (kind, created_by, created_at, file_name,"
                " file_size, file_sha256, mapping, options, status, dry_run,"
                " progress_done, progress_total, counts) VALUES ('import', 'x',"
                " CURRENT_TIMESTAMP, 'old.csv', 1, '', '{}', '{}', 'succeeded',"
                " false, 1, 1, '{}')"
            )
        )
    engine.dispose()
    with Session(get_engine(db_url)) as session:
        job = session.exec(select(db.models.ImportJob)).one()
    assert (job.file_name, job.read_options, job.corrections) == ("old.csv", {}, {})


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    from db.engine import head_revision

    assert head_revision() == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def test_seeded_english_labels_become_dutch_and_renamed_ones_stay(db_url: str) -> None:
    engine = installation_at(db_url, "0013")
    with engine.begin() as connection:
        for position, (key, label) in enumerate(
            [("job_title", "Job title"), ("department", "Team"), ("phone", "Phone")]
        ):
            connection.execute(
                text(
                    "INSERT INTO profile_fields (key, label, type, importable, position)"
                    " VALUES (:key, :label, 'text', true, :position)"
                ),
                {"key": key, "label": label, "position": position},
            )
    engine.dispose()
    with Session(get_engine(db_url)) as session:
        labels = {f.key: f.label for f in session.exec(select(ProfileField))}
    assert (labels["job_title"], labels["department"], labels["phone"]) == (
        "Functie",
        "Team",
        "Telefoon",
    )


def test_the_old_everyone_group_becomes_iedereen(db_url: str) -> None:
    engine = installation_at(db_url, "0014")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO groups (name, created_at) VALUES ('Everyone', CURRENT_TIMESTAMP)")
        )
    engine.dispose()
    with Session(get_engine(db_url)) as session:
        assert [g.name for g in session.exec(select(Group))] == ["Iedereen"]


def test_a_revert_stored_under_english_words_keeps_only_its_file_name(db_url: str) -> None:
    engine = installation_at(db_url, "0016")
    with engine.begin() as connection:
        for job_id, kind, name, undone in (
            (1, "import", "personeel.xlsx", None),
            (2, "revert", "revert of import 1 (personeel.xlsx)", 1),
            (3, "import", "revert of import 9 (a file someone named so).csv", None),
        ):
            connection.execute(
                text(
                    "INSERT INTO import_jobs (id, kind, created_by, created_at, file_name, "
                    "file_size, file_sha256, mapping, options, status, dry_run, progress_done, "
                    "progress_total, counts, read_options, corrections, rejected, "
                    "reverts_job_id) VALUES (:id, :kind, 'test', CURRENT_TIMESTAMP, :name, 0, "
                    "'', '{}', '{}', 'succeeded', false, 0, 0, '{}', '{}', '{}', '{}', :undone)"
                ),
                {"id": job_id, "kind": kind, "name": name, "undone": undone},
            )
    engine.dispose()
    with Session(get_engine(db_url)) as session:
        names = {j.id: j.file_name for j in session.exec(select(ImportJob))}
        words = job_file_words(session.get(ImportJob, 2), "nl")
    # An import's own file name is the admin's, even when it looks like the old words.
    assert names == {
        1: "personeel.xlsx",
        2: "personeel.xlsx",
        3: "revert of import 9 (a file someone named so).csv",
    }
    assert words == "terugdraaien van import 1 (personeel.xlsx)"


def test_the_stored_memberships_of_iedereen_go_and_every_user_keeps_it(db_url: str) -> None:
    engine = installation_at(db_url, "0020")
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO groups (id, name, created_at) VALUES (1, 'Iedereen', CURRENT_TIMESTAMP),"
            " (2, 'Sales', CURRENT_TIMESTAMP)",
            "INSERT INTO users (id, email, first_name, name_insert, last_name, kind, status,"
            " is_protected, profile, created_at, updated_at) VALUES"
            " (1, 'a@voorbeeld.nl', 'Ann', '', 'Smit', 'employee', 'active', false, '{}',"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
            " (2, 'b@voorbeeld.nl', 'Bas', '', 'Boer', 'employee', 'active', false, '{}',"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            "INSERT INTO user_groups (user_id, group_id) VALUES (1, 1), (1, 2), (2, 1)",
        ):
            connection.execute(text(statement))
    engine.dispose()
    with Session(get_engine(db_url)) as session:
        links = session.exec(select(UserGroup.user_id, UserGroup.group_id)).all()
        everyone = session.exec(select(Group.name).where(Group.everyone)).all()
        groups = {u["email"]: u["groups"] for u in export.list_users(session=session)}
    assert links == [(1, 2)] and everyone == ["Iedereen"]
    assert groups == {"a@voorbeeld.nl": ["Iedereen", "Sales"], "b@voorbeeld.nl": ["Iedereen"]}


def test_token_and_provider_key_lookups_use_their_partial_indexes(engine: Engine) -> None:
    """Indexed only where set (a new user's insert skips them), yet found by index."""
    postgres = engine.dialect.name == "postgresql"
    explain = "EXPLAIN" if postgres else "EXPLAIN QUERY PLAN"
    with engine.begin() as connection:
        if postgres:  # an empty table is scanned whatever its indexes: ask for the index
            connection.execute(text("SET LOCAL enable_seqscan = off"))
        for column in ("activation_token_hash", "external_id"):
            query = text(f"{explain} SELECT id FROM users WHERE {column} = :value")
            plan = " ".join(str(row) for row in connection.execute(query, {"value": "x"}))
            assert f"ix_users_{column}" in plan


def test_memberships_survive_their_rebuild_in_key_order(db_url: str) -> None:
    engine = installation_at(db_url, "0023")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, first_name, name_insert, last_name, kind, status,"
                " is_protected, profile, created_at, updated_at) VALUES (7, 'ann@example.nl',"
                " 'Ann', '', 'Smit', 'employee', 'active', false, '{}', CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP)"
            )
        )
        for table in ("groups", "levels"):
            connection.execute(
                text(
                    f"INSERT INTO {table} (id, name, created_at) VALUES (3, 'B', CURRENT_TIMESTAMP)"
                )
            )
        connection.execute(text("INSERT INTO user_groups (user_id, group_id) VALUES (7, 3)"))
        connection.execute(text("INSERT INTO user_levels (user_id, level_id) VALUES (7, 3)"))
    engine.dispose()
    engine = get_engine(db_url)
    with engine.begin() as connection:
        for table in ("user_groups", "user_levels"):
            assert connection.execute(text(f"SELECT * FROM {table}")).all() == [(7, 3)]
        if engine.dialect.name == "sqlite":
            tables = "SELECT sql FROM sqlite_master WHERE name IN ('user_groups', 'user_levels')"
            assert all(
                sql.rstrip().endswith("WITHOUT ROWID") for sql in connection.scalars(text(tables))
            )
        # The keys still hold: removing the user removes both links.
        connection.execute(text("DELETE FROM users WHERE id = 7"))
        for table in ("user_groups", "user_levels"):
            assert connection.execute(text(f"SELECT * FROM {table}")).all() == []


def test_lookups_by_a_lowered_name_use_their_partial_indexes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The importer's and SCIM's own queries, not copies: each index holds named users only."""
    import db.users
    from db.scim import find_user_ids

    postgres = engine.dialect.name == "postgresql"
    explain = "EXPLAIN" if postgres else "EXPLAIN QUERY PLAN"
    sent: list[tuple[str, Any]] = []

    def keep_scim_query(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "FROM users" in statement:
            sent.append((statement, params))

    def keep_import_query(connection: Any, statement: Any) -> list[Any]:
        compiled = statement.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        params = compiled.construct_params()
        if compiled.positional:
            params = tuple(params[name] for name in compiled.positiontup or ())
        sent.append((str(compiled), params))
        return []

    monkeypatch.setattr(db.users, "driver_rows", keep_import_query)
    event.listen(engine, "before_cursor_execute", keep_scim_query)
    try:
        with Session(engine) as session:
            db.users.load_users(session=session, column=User.username, keys=["Anne"])
            find_user_ids(session=session, attribute="username", value="Anne")
            find_user_ids(session=session, attribute="user_name", value="anne@example.nl")
    finally:
        event.remove(engine, "before_cursor_execute", keep_scim_query)
    wanted = ["ix_users_lower_username"] * 2 + ["ix_users_lower_scim_user_name"]
    assert len(sent) == len(wanted)
    with engine.begin() as connection:
        if postgres:  # an empty table is scanned whatever its indexes: ask for the index
            connection.execute(text("SET LOCAL enable_seqscan = off"))
        for (statement, params), index in zip(sent, wanted, strict=True):
            plan = connection.exec_driver_sql(f"{explain} {statement}", params).all()
            assert index in " ".join(str(row) for row in plan)


def test_a_column_a_bulk_write_leaves_out_is_empty_in_the_migrated_database(
    engine: Engine,
) -> None:
    # bulk_insert leaves out a column that is empty in every row it writes, trusting that the
    # table stores NULL then: no migration may have given such a column a default.
    from sqlalchemy import inspect

    from db.bulk import _null_unless_given
    from db.models import EmailMessage, ImportChange, ImportIssue, User, UserLevel, table_of

    inspector = inspect(engine)
    checked = []
    for model in (User, ImportChange, ImportIssue, UserGroup, UserLevel, EmailMessage):
        table = table_of(model)
        defaults = {c["name"]: c.get("default") for c in inspector.get_columns(table.name)}
        left_out = [c.name for c in table.c if _null_unless_given(table, c.name)]
        assert {name: defaults[name] for name in left_out} == dict.fromkeys(left_out)
        checked += [f"{table.name}.{name}" for name in left_out]
    assert {"users.username", "users.password_hash", "import_changes.user_id"} <= set(checked)
