"""Imports planned and written a chunk of rows at a time behave as one import."""

from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

import core.apply
import db.imports
from core.options import ImportOptions
from core.pipeline import ImportRequest, preview_import, resolve_mapping
from core.read import read_upload
from core.validate import load_known_names
from db.engine import get_engine
from db.models import ImportIssue, ImportJob
from tests.conftest import SAMPLES
from tests.db.test_import_engine import run, seed, users


def test_a_rename_finds_the_user_a_chunk_before_created(engine: Engine) -> None:
    seed(
        engine,
        {
            "email": "oud@voorbeeld.nl",
            "first_name": "Oud",
            "last_name": "Account",
            "username": "12345.OUD",
            "status": "active",
            "groups": ["Iedereen", "Financien"],
        },
    )
    # One row per chunk: row 2 creates 12345.BKR, row 4 renames it to 12345.BRK.
    result = run(engine, SAMPLES / "afas-mutaties.csv", chunk_rows=1)
    assert {k: v for k, v in result.counts.items() if v} == {
        "rows": 5,
        "created": 2,
        "renamed": 1,
        "blocked": 1,
        "errors": 1,
    }
    assert [(i.row, i.code) for i in result.issues] == [(6, "unknown-user")]
    found = users(engine)
    assert found["b.kroon@voorbeeld.nl"]["username"] == "12345.BRK"
    assert found["b.kroon@voorbeeld.nl"]["groups"] == ["Financien", "Iedereen"]
    assert found["oud@voorbeeld.nl"]["groups"] == ["Iedereen"]
    again = run(engine, SAMPLES / "afas-mutaties.csv", chunk_rows=2)
    assert again.counts["unchanged"] == 4 and users(engine) == found


def test_strict_import_undoes_chunks_written_before_an_error(engine: Engine) -> None:
    text = (
        "Email;Voornaam;Achternaam;Actie\n"
        "a@example.org;A;Een;1\nb@example.org;B;Twee;1\n"
        "c@example.org;C;Drie;1\nweg@example.org;Weg;Vier;0\n"
    )
    strict = run(engine, text, strict=True, chunk_rows=2)
    assert strict.status == "failed" and strict.counts["created"] == 0
    assert users(engine) == {}
    with Session(engine) as session:
        job = session.get(ImportJob, strict.job_id)
        assert (job.status, job.counts["errors"], job.counts["created"]) == ("failed", 1, 0)
        issues = session.exec(select(ImportIssue.row, ImportIssue.code)).all()
    assert issues == [(5, "unknown-user")]
    lenient = run(engine, text, chunk_rows=2)
    assert (lenient.status, lenient.counts["created"]) == ("completed_with_errors", 3)
    assert sorted(users(engine)) == ["a@example.org", "b@example.org", "c@example.org"]


def test_progress_counts_rows_across_chunks(engine: Engine) -> None:
    lines = "".join(f"u{i}@example.org;U{i};Test\n" for i in range(7))
    reports: list[tuple[int, int]] = []
    result = run(
        engine,
        "Email;Voornaam;Achternaam\n" + lines,
        chunk_rows=3,
        progress=lambda done, total: reports.append((done, total)),
    )
    assert result.counts["created"] == 7 and len(users(engine)) == 7
    assert reports[-1] == (7, 7)
    assert [d for d, _ in reports] == sorted(d for d, _ in reports)
    assert {t for _, t in reports} == {7}


def test_the_preview_grows_a_chunk_at_a_time_and_ends_complete(engine: Engine) -> None:
    seed(engine, {"email": "u3@example.org", "first_name": "Oud", "last_name": "Naam"})
    text = "Email;Voornaam;Achternaam\n" + "".join(
        f"u{i}@example.org;U{i};Test\n" for i in range(7)
    )
    table = read_upload(text.encode(), "u.csv")
    with Session(engine) as session:
        mapping = resolve_mapping(table, load_known_names(session=session))
        sizes, outcomes = [], []
        request = ImportRequest(table, mapping, ImportOptions())
        for plan in preview_import(session=session, request=request, chunk_rows=3):
            sizes.append(len(plan.rows))
            outcomes.append(dict(plan.outcomes))
    # Three chunks of rows, then the (empty) chunk of renames and deactivations.
    assert sizes == [3, 6, 7, 7]
    assert outcomes[0] == {"create": 3}
    assert outcomes[-1] == {"create": 6, "update": 1}
    assert [r.row for r in plan.rows] == list(range(2, 9))
    assert plan.rows[3].changes == {"first_name": ("Oud", "U3"), "last_name": ("Naam", "Test")}


def test_progress_reaches_every_row_when_the_last_rows_change_nothing(engine: Engine) -> None:
    """The bar stopped at 86% when the last chunk only held unchanged users."""
    seed(
        *[engine],
        *(
            {"email": f"u{i}@example.org", "first_name": f"U{i}", "last_name": "Test"}
            for i in range(4, 7)
        ),
    )
    lines = "".join(f"u{i}@example.org;U{i};Test\n" for i in range(7))
    reports: list[tuple[int, int]] = []
    result = run(
        engine,
        "Email;Voornaam;Achternaam\n" + lines,
        chunk_rows=3,
        progress=lambda done, total: reports.append((done, total)),
    )
    assert (result.counts["created"], result.counts["unchanged"]) == (4, 3)
    assert reports[-1] == (7, 7)


def test_an_action_on_an_unknown_user_names_the_key_it_was_looked_up_by(engine: Engine) -> None:
    text = "Email;Gebruikersnaam;Voornaam;Achternaam;Actie\nweg@example.org;12345.WEG;W;Weg;0\n"
    by_username = run(engine, text, match="username")
    (found,) = by_username.issues
    assert (found.code, found.variant, found.column) == (
        "unknown-user",
        "by-username",
        "Gebruikersnaam",
    )
    assert found.text("nl").startswith(
        "Er bestaat geen gebruiker met de gebruikersnaam '12345.WEG'"
    )
    by_email = run(engine, text)
    assert by_email.issues[0].variant == "email" and "weg@example.org" in by_email.issues[0].message


def _membership_keys(engine: Engine) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the memberships' foreign keys on PostgreSQL."""
    query = text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid IN (to_regclass('user_groups'), "
        "to_regclass('user_levels')) ORDER BY 1, 2"
    )
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]  # type: ignore[misc]


def _group_rows(count: int, first: int = 0) -> str:
    return "Email;Voornaam;Achternaam;Groep\n" + "".join(
        f"u{i}@example.org;U{i};Test;Team {i % 3}\n" for i in range(first, first + count)
    )


def test_a_large_import_on_postgresql_checks_its_memberships_at_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From LARGE_IMPORT_ROWS rows the memberships' keys are dropped and added back: they
    hold afterwards, the ids taken at once do not collide, and a key still cascades."""
    engine = get_engine(postgres_url)
    keys = _membership_keys(engine)
    assert len(keys) == 4  # user and group or level, of both tables
    monkeypatch.setattr(db.imports, "LARGE_IMPORT_ROWS", 5)
    result = run(engine, _group_rows(7), chunk_rows=3, create_groups=True)
    assert (result.status, result.counts["created"]) == ("succeeded", 7)
    assert _membership_keys(engine) == keys
    stored = users(engine)
    assert stored["u4@example.org"]["groups"] == ["Iedereen", "Team 1"]
    # A small import after it takes ids the normal way, past the ones reserved at once.
    small = run(engine, _group_rows(2, first=7), create_groups=True)
    assert small.counts["created"] == 2
    with engine.begin() as connection:
        ids = connection.execute(text("SELECT id FROM users ORDER BY id")).scalars().all()
        assert ids == list(range(1, 10))
        # The keys work again: a removed user's memberships go with them.
        gone = connection.execute(
            text("SELECT id FROM users WHERE email = 'u4@example.org'")
        ).scalar_one()
        connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": gone})
        left = connection.execute(
            text("SELECT count(*) FROM user_groups WHERE user_id = :id"), {"id": gone}
        )
        assert left.scalar_one() == 0
        with pytest.raises(IntegrityError), connection.begin_nested():
            connection.execute(text("INSERT INTO user_groups VALUES (999999, 1)"))


def test_a_large_import_that_fails_leaves_the_memberships_keys_in_place(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = get_engine(postgres_url)
    keys = _membership_keys(engine)
    monkeypatch.setattr(db.imports, "LARGE_IMPORT_ROWS", 5)
    # Strict, with an error in the last chunk: the chunks written before it are undone.
    text_ = _group_rows(6) + "weg@example.org;Weg;Vier;Team 1\n"
    strict = run(
        engine,
        text_.replace("Groep\n", "Groep;Actie\n", 1).replace("Vier;Team 1\n", "Vier;Team 1;0\n"),
        strict=True,
        chunk_rows=3,
        create_groups=True,
    )
    assert strict.status == "failed" and users(engine) == {}
    assert _membership_keys(engine) == keys


def test_a_write_that_fails_in_the_background_fails_the_whole_import(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a chunk is written while the next is planned; its error still ends the
    import, and nothing of it stays."""
    written = 0
    apply = core.apply.apply_plan

    def failing_second_chunk(**kwargs: Any) -> None:
        nonlocal written
        written += 1
        if written == 2:
            raise RuntimeError("the database went away")
        apply(**kwargs)

    monkeypatch.setattr("core.pipeline.apply_plan", failing_second_chunk)
    with pytest.raises(RuntimeError, match="went away"):
        run(engine, _group_rows(7), chunk_rows=3, create_groups=True)
    assert users(engine) == {}
    with Session(engine) as session:
        (job,) = session.exec(select(ImportJob)).all()
    assert job.status == "failed" and "went away" in (job.error or "")
