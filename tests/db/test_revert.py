"""Reverting an import puts the database back, except where users were changed since."""

import json

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.issues import JobError
from core.revert import run_revert
from db.models import ImportChange, ImportJob, User, utcnow
from tests.db.test_import_engine import run, seed, users
from tests.test_cli_import import cli


def snapshot(engine: Engine) -> dict:
    return users(engine)


def test_import_then_revert_restores_the_database(engine: Engine) -> None:
    seed(
        engine,
        {
            "email": "a@example.org",
            "first_name": "Ann",
            "last_name": "Smit",
            "status": "active",
            "profile": {"job_title": "Chef"},
            "groups": ["Iedereen"],
        },
        {
            "email": "b@example.org",
            "first_name": "Bob",
            "last_name": "Bakker",
            "status": "active",
            "groups": ["Iedereen", "Sales"],
        },
        {
            "email": "c@example.org",
            "first_name": "Cas",
            "last_name": "Visser",
            "status": "blocked",
            "username": "cas",
        },
    )
    before = snapshot(engine)
    result = run(
        engine,
        "Actie;Email;Voornaam;Achternaam;Functie;Groep;Niveau\n"
        "1;a@example.org;Anna;Smit-Jansen;Directeur;Support;A\n"
        "0;b@example.org;;;;;\n6;c@example.org;;;;;\n"
        "1;new@example.org;Nieuw;Lid;;Support;\n",
        create_groups=True,
        create_levels=True,
    )
    assert result.status == "succeeded" and snapshot(engine) != before
    reverted = run_revert(engine=engine, job_id=result.job_id, created_by="test")
    assert reverted.status == "succeeded" and reverted.plan.conflicts == []
    assert reverted.plan.counts["removed"] == 1 and reverted.plan.counts["updated"] == 3
    assert snapshot(engine) == before
    with Session(engine) as session:
        original = session.get(ImportJob, result.job_id)
        revert_job = session.get(ImportJob, reverted.job_id)
        assert (original.status, revert_job.kind, revert_job.reverts_job_id) == (
            "reverted",
            "revert",
            result.job_id,
        )
        actions = sorted(
            c.action
            for c in session.exec(
                select(ImportChange).where(ImportChange.job_id == reverted.job_id)
            )
        )
        assert actions == ["revert-remove", "revert-restore", "revert-restore", "revert-restore"]
    with pytest.raises(JobError, match="already reverted by job"):
        run_revert(engine=engine, job_id=result.job_id, created_by="test")


def test_a_later_change_is_a_conflict_and_is_kept(engine: Engine) -> None:
    run(engine, "Email;Voornaam;Achternaam\na@example.org;Ann;Smit\nb@example.org;Bob;B\n")
    seed(engine, {"email": "x@example.org"})
    second = run(engine, "Email;Achternaam\na@example.org;Jansen\nb@example.org;Bakker\n")
    third = run(engine, "Email;Achternaam\na@example.org;Visser\n")
    assert third.counts["updated"] == 1
    dry = run_revert(engine=engine, job_id=second.job_id, created_by="test", dry_run=True)
    assert [r.email for r in dry.plan.conflicts] == ["a@example.org"]
    assert dry.plan.issues[0].text("nl").startswith("a@example.org is na de import gewijzigd;")
    # The preview says what differs, in labels and words: Visser now, Smit after the revert.
    row = dry.plan.conflicts[0]
    assert dry.plan.row_words(row, {"last_name": "Achternaam"}, "nl") == (
        "blijft zoals het is",
        "Achternaam: Visser → Smit",
        "na de import opnieuw gewijzigd",
    )
    assert snapshot(engine)["b@example.org"]["last_name"] == "Bakker"  # the dry run wrote nothing
    result = run_revert(engine=engine, job_id=second.job_id, created_by="test")
    assert result.status == "completed_with_errors"
    found = snapshot(engine)
    assert (found["a@example.org"]["last_name"], found["b@example.org"]["last_name"]) == (
        "Visser",
        "B",
    )


def test_overwriting_a_conflict_takes_the_import_back_anyway(engine: Engine) -> None:
    run(engine, "Email;Voornaam;Achternaam\na@example.org;Ann;Smit\n")
    second = run(engine, "Email;Achternaam\na@example.org;Jansen\n")
    run(engine, "Email;Achternaam\na@example.org;Visser\n")
    run_revert(engine=engine, job_id=second.job_id, created_by="test", overwrite={"a@example.org"})
    assert snapshot(engine)["a@example.org"]["last_name"] == "Smit"


def test_a_created_user_who_activated_is_blocked_not_removed(engine: Engine) -> None:
    result = run(engine, "Email;Voornaam;Achternaam\na@example.org;Ann;Smit\n")
    with Session(engine) as session:
        user = session.exec(select(User)).one()
        user.activated_at = user.updated_at = utcnow()
        user.status = "active"
        session.add(user)
        session.commit()
    reverted = run_revert(engine=engine, job_id=result.job_id, created_by="test")
    assert reverted.plan.counts["blocked"] == 1
    assert snapshot(engine)["a@example.org"]["status"] == "blocked"


def test_reverting_a_full_list_import_reactivates_the_deactivated(engine: Engine) -> None:
    seed(
        engine,
        *(
            {
                "email": f"u{i}@example.org",
                "first_name": "U",
                "last_name": str(i),
                "status": "active",
            }
            for i in range(3)
        ),
    )
    before = snapshot(engine)
    result = run(engine, "Email;Voornaam;Achternaam\nu0@example.org;U;0\n", full_list=True)
    assert result.counts["deactivated"] == 2
    run_revert(engine=engine, job_id=result.job_id, created_by="test")
    assert snapshot(engine) == before


def test_cli_revert_contract(db_url: str, tmp_path) -> None:
    source = tmp_path / "u.csv"
    source.write_text("Email;Voornaam;Achternaam\na@example.org;Ann;Smit\n")
    imported = json.loads(cli(db_url, "import", str(source), "--json").stdout)
    dry = cli(db_url, "revert", str(imported["job_id"]), "--dry-run", "--json")
    out = json.loads(dry.stdout)
    assert dry.returncode == 0 and out["dry_run"] and out["counts"]["removed"] == 1
    assert set(out) == {"job_id", "status", "dry_run", "counts", "issues", "emails"}
    done = cli(db_url, "revert", str(imported["job_id"]), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["status"] == "succeeded"
    assert json.loads(cli(db_url, "users", "--json").stdout) == []
    twice = cli(db_url, "revert", str(imported["job_id"]), "--json")
    assert twice.returncode == 2
    assert json.loads(twice.stdout)["issues"][0]["code"] == "already-reverted"
    missing = cli(db_url, "revert", "999")
    assert missing.returncode == 2 and "There is no import 999" in missing.stderr


def test_a_password_set_by_an_import_is_taken_back(engine: Engine) -> None:
    from core.accounts import hash_password, verify_password

    seed(
        engine,
        {
            "email": "a@example.org",
            "first_name": "A",
            "last_name": "A",
            "password_hash": hash_password("het oude wachtwoord"),
        },
    )
    result = run(engine, "Email;Wachtwoord\na@example.org;het nieuwe wachtwoord\n")
    with Session(engine) as session:
        change = session.exec(select(ImportChange)).one()
        assert "het oude" not in str(change.before) and change.before["password"] == "********"
    run_revert(engine=engine, job_id=result.job_id, created_by="test")
    with Session(engine) as session:
        user = session.exec(select(User)).one()
        assert verify_password("het oude wachtwoord", user.password_hash)


def test_revert_leaves_users_protected_since_alone(engine: Engine) -> None:
    from core import catalog
    from db.engine import session_scope

    seed(engine, {"email": "old@example.org", "first_name": "O", "last_name": "Ud"})
    result = run(
        engine,
        "Email;Voornaam;Achternaam\nold@example.org;Oud;Ud\nnew@example.org;Nieuw;Lid\n",
    )
    with session_scope(engine) as session:
        for email in ("old@example.org", "new@example.org"):
            catalog.set_user_protected(session=session, email=email, protected=True)
    before = snapshot(engine)
    reverted = run_revert(engine=engine, job_id=result.job_id, created_by="test")
    assert snapshot(engine) == before
    assert sorted((i.code, i.value) for i in reverted.plan.issues) == [
        ("revert-protected", "new@example.org"),
        ("revert-protected", "old@example.org"),
    ]
    assert reverted.plan.counts["removed"] == 0


def test_revert_after_a_group_it_added_was_deleted(engine: Engine) -> None:
    from core import catalog
    from db.engine import session_scope
    from db.models import Group

    seed(engine, {"email": "a@example.org", "first_name": "A", "last_name": "B"})
    result = run(engine, "Email;Groep\na@example.org;Projectteam\n", create_groups=True)
    with session_scope(engine) as session:
        group = session.exec(select(Group).where(Group.name == "Projectteam")).one()
        catalog.delete_named(session=session, kind_name="group", entry_id=group.id, force=True)
    reverted = run_revert(engine=engine, job_id=result.job_id, created_by="test")
    assert reverted.status == "succeeded" and reverted.plan.counts["updated"] == 1


def test_revert_waits_for_a_running_import_and_keeps_its_changes(engine: Engine) -> None:
    """Import 2 updates every user import 1 created; reverting import 1 meanwhile must wait,
    then see import 2's changes as later changes (block, not remove), losing none of them."""
    import threading

    rows = "".join(f"u{i}@example.org;Voor{i};Achter{i}\n" for i in range(300))
    first = run(engine, "Email;Voornaam;Achternaam\n" + rows)
    updates = "".join(f"u{i}@example.org;Teamleider\n" for i in range(300))
    inside, proceed = threading.Event(), threading.Event()

    def hold(done: int, total: int) -> None:
        inside.set()
        proceed.wait(30)

    outcome: dict[str, object] = {}
    importing = threading.Thread(
        target=lambda: outcome.update(
            second=run(engine, "Email;Functie\n" + updates, progress=hold)
        )
    )
    reverting = threading.Thread(
        target=lambda: outcome.update(
            revert=run_revert(engine=engine, job_id=first.job_id, created_by="test")
        )
    )
    importing.start()
    assert inside.wait(30)  # import 2 is inside its transaction, holding the import lock
    reverting.start()
    reverting.join(1.0)
    assert reverting.is_alive(), "the revert must wait for the running import"
    proceed.set()
    importing.join(60)
    reverting.join(60)
    assert outcome["second"].status == "succeeded"
    counts = outcome["revert"].plan.counts
    assert (counts["removed"], counts["blocked"]) == (0, 300)
    after = snapshot(engine)
    assert len(after) == 300
    assert {u["profile"].get("job_title") for u in after.values()} == {"Teamleider"}
    assert {u["status"] for u in after.values()} == {"blocked"}
