"""Imports planned and written a chunk of rows at a time behave as one import."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from core.options import ImportOptions
from core.pipeline import ImportRequest, preview_import, resolve_mapping
from core.read import read_upload
from core.validate import load_known_names
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
