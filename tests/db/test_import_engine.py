"""The import engine against a real database: samples, rules, outcomes, strict and lenient."""

from pathlib import Path
from typing import Any

import bcrypt
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from core import export
from core.apply import Progress
from core.issues import UnusableFileError
from core.jobs import ImportResult, run_import
from core.options import ImportOptions
from core.pipeline import ImportRequest, prepare_import, resolve_mapping
from core.plan import CHUNK_ROWS
from core.read import read_upload
from core.validate import load_known_names
from db.engine import session_scope
from db.models import Group, ImportChange, ImportIssue, ImportJob, Level, User, UserGroup
from tests.conftest import SAMPLES


def run(
    engine: Engine,
    content: str | bytes | Path,
    name: str = "users.csv",
    overrides: tuple[tuple[str, str | None], ...] = (),
    dry_run: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
    **options: Any,
) -> ImportResult:
    if isinstance(content, Path):
        name, content = content.name, content.read_bytes()
    data = content.encode() if isinstance(content, str) else content
    table = read_upload(data, name)
    with Session(engine) as session:
        mapping = resolve_mapping(table, load_known_names(session=session), overrides)
    return run_import(
        engine=engine,
        request=ImportRequest(table, mapping, ImportOptions(**options)),
        file_name=name,
        file_bytes=data,
        created_by="test",
        dry_run=dry_run,
        chunk_rows=chunk_rows,
        progress=progress,
    )


def users(engine: Engine) -> dict[str, dict[str, Any]]:
    with Session(engine) as session:
        return {u["email"]: u for u in export.list_users(session=session)}


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def issue_codes(result: ImportResult) -> list[tuple[int | None, str]]:
    return [(i.row, i.code) for i in result.issues]


def test_plek_sample_with_its_extra_profile_field(engine: Engine) -> None:
    result = run(
        engine, SAMPLES / "plek-voorbeeld.tsv", overrides=(("Extra profielveld", "job_title"),)
    )
    assert (result.status, result.counts["created"]) == ("succeeded", 1)
    jan = users(engine)["jandebruin@plek.co"]
    # Plek carries the whole surname in one column; the insert goes to its own field.
    assert (jan["first_name"], jan["name_insert"], jan["last_name"], jan["status"]) == (
        "Jan",
        "de",
        "Bruin",
        "invited",
    )
    assert jan["profile"] == {"job_title": "HR manager"} and jan["groups"] == ["Iedereen"]


def test_huddle_sample_levels_need_creating(engine: Engine) -> None:
    refused = run(engine, SAMPLES / "huddle-puntkomma.csv")
    assert refused.status == "completed_with_errors"
    assert issue_codes(refused) == [
        (2, "unknown-level"),
        (3, "unknown-level"),
        (3, "unknown-level"),
    ]
    assert users(engine) == {}
    result = run(engine, SAMPLES / "huddle-puntkomma.csv", create_levels=True)
    assert result.counts["created"] == 2 and result.issues == []
    pieter = users(engine)["pieter@voorbeeld.nl"]
    assert (pieter["name_insert"], pieter["last_name"], pieter["levels"]) == (
        "van der",
        "Berg",
        ["A", "B"],
    )


def test_caseware_sample_with_groups(engine: Engine) -> None:
    result = run(engine, SAMPLES / "caseware-personeel.csv", create_groups=True)
    assert result.counts["created"] == 4 and result.status == "succeeded"
    nicole = users(engine)["ngra@cwtestgebruiker.nl"]
    assert (nicole["first_name"], nicole["name_insert"], nicole["last_name"]) == (
        "Nicole",
        "de",
        "Graaf",
    )
    assert nicole["groups"] == ["G1", "G2", "Iedereen"]
    assert nicole["profile"] == {
        "initials": "NG",
        "job_title": "Teamleider",
        "phone": "416-555-5117 Ext: 176",
    }


def seed(engine: Engine, *rows: dict[str, Any]) -> None:
    with Session(engine) as session:
        for row in rows:
            groups = row.pop("groups", [])
            user = User(**row)
            session.add(user)
            session.flush()
            for name in groups:
                group = session.exec(select(Group).where(Group.name == name)).first()
                group = group or Group(name=name)
                session.add(group)
                session.flush()

                session.add(UserGroup(user_id=user.id, group_id=group.id))
        session.commit()


def test_afas_sample_runs_every_mutation_code(engine: Engine) -> None:
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
        {
            "email": "tijdelijk@voorbeeld.nl",
            "first_name": "Tijdelijk",
            "last_name": "Account",
            "username": "12345.TMP",
            "status": "blocked",
        },
    )
    result = run(engine, SAMPLES / "afas-mutaties.csv")
    assert result.status == "succeeded", result.issues
    assert {k: v for k, v in result.counts.items() if v} == {
        "rows": 5,
        "created": 2,
        "renamed": 1,
        "blocked": 1,
        "unblocked": 1,
    }
    found = users(engine)
    assert found["b.kroon@voorbeeld.nl"]["username"] == "12345.BRK"
    assert found["b.kroon@voorbeeld.nl"]["groups"] == ["Financien", "Iedereen"]
    assert found["l.devries@voorbeeld.nl"]["groups"] == ["Financien", "Iedereen"]
    assert (
        found["l.devries@voorbeeld.nl"]["first_name"],
        found["l.devries@voorbeeld.nl"]["name_insert"],
    ) == ("Lotte", "de")
    assert (found["oud@voorbeeld.nl"]["status"], found["oud@voorbeeld.nl"]["groups"]) == (
        "blocked",
        ["Iedereen"],
    )
    assert found["tijdelijk@voorbeeld.nl"]["status"] == "invited"
    again = run(engine, SAMPLES / "afas-mutaties.csv")
    assert {k: v for k, v in again.counts.items() if v} == {"rows": 5, "unchanged": 5}
    assert users(engine) == found


def test_code_2_imports_blocked_and_code_5_sets_a_password(engine: Engine) -> None:
    seed(
        engine, {"email": "a@example.org", "first_name": "A", "last_name": "A", "status": "active"}
    )
    result = run(
        engine,
        "Actie;Email;Voornaam;Achternaam;Wachtwoord\n"
        "2;new@example.org;Nieuw;Persoon;\n5;a@example.org;;;nieuw wachtwoord\n",
    )
    assert (result.counts["created"], result.counts["updated"]) == (1, 1)
    assert users(engine)["new@example.org"]["status"] == "blocked"
    with Session(engine) as session:
        stored = session.exec(select(User).where(User.email == "a@example.org")).one()
        assert bcrypt.checkpw(b"nieuw wachtwoord", stored.password_hash.encode())
        change = session.exec(
            select(ImportChange).where(ImportChange.email == "a@example.org")
        ).one()
        assert change.after["password"] == "(changed)"
        assert "nieuw wachtwoord" not in str(change.before) + str(change.after)


def test_update_only_changes_what_the_file_says(engine: Engine) -> None:
    seed(
        engine,
        {
            "email": "a@example.org",
            "first_name": "Ann",
            "last_name": "Smit",
            "profile": {"job_title": "Chef", "city": "Delft"},
            "groups": ["Iedereen"],
        },
    )
    result = run(
        engine,
        "Email;Voornaam;Achternaam;Functie;Plaats;Groep\n"
        "A@example.org;;Smit-Jansen;Directeur;;Sales\n",
        create_groups=True,
    )
    assert result.counts["updated"] == 1
    with Session(engine) as session:
        change = session.exec(
            select(ImportChange).where(ImportChange.job_id == result.job_id)
        ).one()
    assert change.before == {"last_name": "Smit", "profile.job_title": "Chef"}
    assert change.after == {
        "last_name": "Smit-Jansen",
        "profile.job_title": "Directeur",
        "groups_added": ["Sales"],
    }
    ann = users(engine)["a@example.org"]
    assert (ann["first_name"], ann["last_name"]) == ("Ann", "Smit-Jansen")
    assert ann["profile"] == {"job_title": "Directeur", "city": "Delft"}
    assert ann["groups"] == ["Iedereen", "Sales"]


def test_fill_missing_only_fills_empty_fields(engine: Engine) -> None:
    seed(engine, {"email": "a@example.org", "first_name": "Ann", "last_name": "Smit"})
    run(engine, "Email;Voornaam;Tussenvoegsel\na@example.org;Anna;van\n", fill_missing=True)
    ann = users(engine)["a@example.org"]
    assert (ann["first_name"], ann["name_insert"]) == ("Ann", "van")


def test_modes_and_missing_names(engine: Engine) -> None:
    seed(engine, {"email": "a@example.org", "first_name": "Ann", "last_name": "Smit"})
    text = "Email;Voornaam;Achternaam\na@example.org;Anna;Smit\nb@example.org;Bob;Bakker\n"
    create = run(engine, text, mode="create", dry_run=True)
    assert issue_codes(create) == [(2, "already-exists")]
    assert (create.counts["created"], create.counts["skipped"]) == (1, 1)
    update = run(engine, text, mode="update", dry_run=True)
    assert issue_codes(update) == [(3, "not-found")]
    assert (update.counts["updated"], update.counts["skipped"]) == (1, 1)
    nameless = run(engine, "Email\nnew@example.org\na@example.org\n")
    assert issue_codes(nameless) == [(2, "missing-name")]
    assert "needs a first name and a last name" in nameless.issues[0].message
    assert nameless.counts["unchanged"] == 1


def test_protected_users_are_never_changed(engine: Engine) -> None:
    seed(
        engine,
        {
            "email": "svc@example.org",
            "first_name": "Svc",
            "last_name": "Account",
            "is_protected": True,
            "status": "active",
        },
    )
    result = run(engine, "Email;Voornaam\nsvc@example.org;Hacked\n")
    assert issue_codes(result) == [(2, "protected-user")]
    assert result.counts["skipped"] == 1 and users(engine)["svc@example.org"]["first_name"] == "Svc"


def test_username_taken_by_another_user(engine: Engine) -> None:
    seed(engine, {"email": "a@example.org", "first_name": "A", "last_name": "A", "username": "ann"})
    result = run(engine, "Email;Voornaam;Achternaam;Gebruikersnaam\nb@example.org;B;B;ANN\n")
    assert issue_codes(result) == [(2, "username-taken")]
    assert "already belongs to a@example.org" in result.issues[0].message


def test_full_list_blocks_the_absent_but_not_protected_users(engine: Engine) -> None:
    seed(
        engine,
        *(
            {
                "email": f"u{i}@example.org",
                "first_name": "U",
                "last_name": str(i),
                "status": "active",
            }
            for i in range(1, 5)
        ),
        {"email": "svc@example.org", "is_protected": True, "status": "active"},
        {"email": "klant@example.org", "kind": "contact", "status": "active"},
    )
    text = "Email;Voornaam;Achternaam\nu1@example.org;U;1\nu2@example.org;U;2\n"
    refused = run(engine, text, full_list=True, max_deactivate="25%")
    assert refused.status == "failed" and refused.counts["deactivated"] == 0
    assert refused.issues[0].code == "too-many-deactivations"
    assert "would deactivate 2 of 4 employee users, more than the limit of 1" in (
        refused.issues[0].message
    )
    assert users(engine)["u3@example.org"]["status"] == "active"
    result = run(engine, text, full_list=True, max_deactivate="2")
    assert result.status == "succeeded" and result.counts["deactivated"] == 2
    statuses = {e: u["status"] for e, u in users(engine).items()}
    assert statuses == {
        "u1@example.org": "active",
        "u2@example.org": "active",
        "u3@example.org": "blocked",
        "u4@example.org": "blocked",
        "svc@example.org": "active",
        "klant@example.org": "active",
    }


def test_strict_writes_nothing_lenient_writes_the_valid_rows(engine: Engine) -> None:
    text = "Email;Voornaam;Achternaam\ngood@example.org;Goed;Rij\nbad;Slecht;Rij\n"
    strict = run(engine, text, strict=True)
    assert strict.status == "failed" and strict.counts["created"] == 0
    assert users(engine) == {}
    with Session(engine) as session:
        job = session.get(ImportJob, strict.job_id)
        assert job.status == "failed"
        assert [i.code for i in session.exec(select(ImportIssue))] == ["invalid-email"]
    lenient = run(engine, text)
    assert lenient.status == "completed_with_errors" and lenient.counts["created"] == 1
    assert list(users(engine)) == ["good@example.org"]
    rejected = export.rejected_rows(read_upload(text.encode(), "u.csv"), lenient.plan)
    assert rejected.columns.tolist() == ["Email", "Voornaam", "Achternaam", "Error"]
    assert rejected.values.tolist()[0][:3] == ["bad", "Slecht", "Rij"]
    assert "'bad' is not a valid email address" in rejected.values.tolist()[0][3]


def test_second_import_of_the_same_file_changes_nothing(engine: Engine) -> None:
    text = (
        "Email;Voornaam;Achternaam;Groep;Niveau;Telefoon\n"
        "a@example.org;Ann;Smit;Sales~Support;A;0612345678\n"
        "b@example.org;Bob;Bakker;Sales;;+31 6 1234\n"
    )
    first = run(engine, text, create_groups=True, create_levels=True, welcome_new=True)
    assert first.counts["created"] == 2 and first.as_json()["emails"]["welcome"] == 2
    before = users(engine)
    changes = count(engine, ImportChange)
    second = run(engine, text, create_groups=True, create_levels=True, welcome_new=True)
    assert {k: v for k, v in second.counts.items() if v} == {"rows": 2, "unchanged": 2}
    assert second.as_json()["emails"] == {"welcome": 0, "updated": 0}
    assert users(engine) == before and count(engine, ImportChange) == changes
    assert users(engine)["a@example.org"]["profile"]["phone"] == "0612345678"


@pytest.mark.parametrize("language", [None, "nl", "en"])
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(
    engine: Engine, file_format: str, language: str | None
) -> None:
    """The export for other systems (field names) and the readable one (labels, words) both
    import back as they are."""
    run(
        engine,
        "Email;Voornaam;Tussenvoegsel;Achternaam;Functie;Groep;Gebruikersnaam;Soort;Taal;Rol;"
        "Status\n"
        "a@example.org;Ann;van;Smit;=1+1;Sales;ann;contact;nl;manager;actief\n"
        "b@example.org;Bob;;Bakker;@home;;;;en;;\n",
        create_groups=True,
    )
    before = users(engine)
    assert before["a@example.org"]["profile"]["job_title"] == "=1+1"
    with Session(engine) as session:
        frame = export.users_frame(session=session, language=language)
    if language == "nl":
        assert list(frame.columns[:4]) == ["E-mailadres", "Voornaam", "Tussenvoegsel", "Achternaam"]
        assert "Functie" in frame.columns and "job_title" not in frame.columns
        ann, bob = frame.to_dict("records")
        assert (ann["Status"], ann["Soort"], ann["Taal"]) == (
            "actief",
            "contactpersoon",
            "Nederlands",
        )
        assert (bob["Status"], bob["Soort"], bob["Taal"]) == ("uitgenodigd", "medewerker", "Engels")
    data = export.to_xlsx_bytes(frame) if file_format == "xlsx" else export.to_csv_bytes(frame)
    if file_format == "csv":
        assert "'=1+1" in data.decode("utf-8-sig") and "'@home" in data.decode("utf-8-sig")
    result = run(engine, data, name=f"export.{file_format}")
    assert {k: v for k, v in result.counts.items() if v} == {"rows": 2, "unchanged": 2}
    assert users(engine) == before


def test_the_plan_is_pure(engine: Engine) -> None:
    text = "Email;Voornaam;Achternaam;Groep\nnew@example.org;N;N;Nieuw\n"
    table = read_upload(text.encode(), "u.csv")
    with Session(engine) as session:
        known_names = load_known_names(session=session)
        request = ImportRequest(
            table,
            resolve_mapping(table, known_names),
            ImportOptions(create_groups=True, welcome_new=True),
        )
        plan = prepare_import(session=session, request=request)
    assert plan.counts["created"] == 1 and plan.new_groups == ["Nieuw"]
    assert plan.welcome == ["new@example.org"]
    assert (
        count(engine, User),
        count(engine, ImportJob),
        count(engine, Group),
        count(engine, Level),
    ) == (0, 0, 1, 0)
    dry = run(engine, text, dry_run=True, create_groups=True)
    assert dry.job_id is None and dry.counts["created"] == 1
    assert (count(engine, User), count(engine, ImportJob)) == (0, 0)


def test_mapping_problems_make_the_file_unusable(engine: Engine) -> None:
    with pytest.raises(UnusableFileError) as caught:
        run(engine, "Voornaam;Achternaam\nAnn;Smit\n")
    assert caught.value.code == "missing-required-field"
    with pytest.raises(UnusableFileError) as caught:
        run(engine, "Email;Mail\na@example.org;b@example.org\n", overrides=(("Mail", "email"),))
    assert caught.value.code == "field-mapped-twice"
    with pytest.raises(UnusableFileError, match="no column 'Nope'"):
        run(engine, "Email\na@example.org\n", overrides=(("Nope", "email"),))
    assert count(engine, ImportJob) == 0


def test_job_records_what_happened(engine: Engine) -> None:
    result = run(engine, "Email;Voornaam;Achternaam\na@example.org;Ann;Smit\nx;y;z\n")
    with Session(engine) as session:
        job = session.get(ImportJob, result.job_id)
        assert (job.status, job.file_name, job.created_by) == (
            "completed_with_errors",
            "users.csv",
            "test",
        )
        assert len(job.file_sha256) == 64 and job.counts["created"] == 1
        assert job.mapping["columns"][0] == {"header": "Email", "field": "email"}
        assert job.options["mode"] == "upsert" and job.finished_at is not None
        change = session.exec(select(ImportChange)).one()
        assert (change.action, change.email, change.row) == ("create", "a@example.org", 2)
        # In Iedereen without a membership to record.
        assert change.after["first_name"] == "Ann" and "groups_added" not in change.after
        issue = session.exec(select(ImportIssue)).one()
        assert (issue.row, issue.column, issue.code) == (3, "Email", "invalid-email")


def test_a_term_for_every_row_fills_the_cells_the_file_leaves_empty(engine: Engine) -> None:
    from core import catalog
    from core.options import OptionsError

    with session_scope(engine) as session:
        sites = catalog.add_named(session=session, kind_name="taxonomy", name="Afdelingen")
        for name in ("Zorg", "Keuken"):
            catalog.add_term(session=session, taxonomy_id=sites.id, name=name)
        catalog.add_profile_field(
            session=session,
            key="afdeling",
            label="Zorgafdeling",
            type="taxonomy",
            taxonomy_id=sites.id,
        )
    text = (
        "Email;Voornaam;Achternaam;Afdeling\nzorg@example.org;Zo;Rg;\nkok@example.org;Ko;K;Keuken\n"
    )
    result = run(engine, text, terms=("afdeling=Zorg",))
    assert result.counts["created"] == 2
    with Session(engine) as session:
        stored = {u.email: u.profile.get("afdeling") for u in session.exec(select(User))}
    assert stored == {"zorg@example.org": "Zorg", "kok@example.org": "Keuken"}
    # Without the column the option fills every row; a term that does not exist is refused.
    unmapped = run(
        engine, "Email;Voornaam;Achternaam\nnog@example.org;No;G\n", terms=("afdeling=Tuin",)
    )
    assert unmapped.plan.issues[0].code == "unknown-term"
    with pytest.raises(OptionsError, match="no taxonomy field 'kleur'"):
        run(engine, "Email;Voornaam;Achternaam\nx@example.org;X;Y\n", terms=("kleur=Rood",))


def test_an_import_keeps_what_it_added_to_the_catalogue(engine: Engine) -> None:
    from core.catalog import add_named, add_profile_field
    from core.history import describe_added
    from db.engine import session_scope

    with session_scope(engine) as session:
        site = add_named(session=session, kind_name="taxonomy", name="Vestigingen")
        add_profile_field(
            session=session, key="site", label="Vestiging", type="taxonomy", taxonomy_id=site.id
        )
        add_named(session=session, kind_name="level", name="Basis")
    text = (
        "Email;Voornaam;Achternaam;Groepen;Niveaus;Vestiging\n"
        "a@example.org;A;A;Financiën;Basis;Zwolle\n"
        "b@example.org;B;B;G3;Gevorderd;Deventer\n"
        "c@example.org;C;C;Financiën;Basis;Zwolle\n"
    )
    result = run(
        engine,
        text,
        overrides=(("Groepen", "groups"), ("Niveaus", "levels"), ("Vestiging", "site")),
        create_groups=True,
        create_levels=True,
        create_terms=True,
        chunk_rows=2,  # what the chunks added is gathered on the one job
    )
    assert result.status == "succeeded", result.issues
    with Session(engine) as session:
        job = session.get(ImportJob, result.job_id)
    assert job.catalogue_added == {
        "groups": ["Financiën", "G3"],
        "levels": ["Gevorderd"],
        "terms": {"site": ["Deventer", "Zwolle"]},
    }
    assert describe_added(job.catalogue_added, {"site": "Vestiging"}, "nl") == (
        "Toegevoegd aan de catalogus: 2 groepen (Financiën, G3), 1 niveau (Gevorderd) en "
        "2 termen van Vestiging (Deventer, Zwolle)."
    )
    again = run(
        engine,
        text,
        overrides=(("Groepen", "groups"), ("Niveaus", "levels"), ("Vestiging", "site")),
    )
    with Session(engine) as session:
        assert session.get(ImportJob, again.job_id).catalogue_added is None
