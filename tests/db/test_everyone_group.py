"""The group every user is in (Iedereen): no stored membership, shown everywhere, renamable."""

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from core import catalog, export
from core.catalog import CatalogError
from core.users import UserSearch, count_users, get_user_detail
from db.engine import session_scope
from db.models import Group, User, UserGroup
from db.users import StoredUsers
from tests.db.test_import_engine import run

FILE = (
    "E-mailadres;Voornaam;Achternaam;Groep\n"
    "ann@voorbeeld.nl;Ann;Smit;Sales\n"
    "bas@voorbeeld.nl;Bas;de Boer;\n"
)


def groups_of(engine: Engine) -> dict[str, list[str]]:
    with Session(engine) as session:
        return {u["email"]: u["groups"] for u in export.list_users(session=session)}


def everyone_id(engine: Engine) -> int:
    with Session(engine) as session:
        group = session.exec(select(Group).where(Group.everyone)).one()
        assert group.id is not None
        return group.id


def stored_memberships(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(UserGroup)).one()


def test_every_user_is_in_it_without_a_stored_membership(engine: Engine) -> None:
    assert run(engine, FILE, create_groups=True).counts["created"] == 2
    assert stored_memberships(engine) == 1  # Ann in Sales; nobody's Iedereen is a row
    assert groups_of(engine) == {
        "ann@voorbeeld.nl": ["Iedereen", "Sales"],
        "bas@voorbeeld.nl": ["Iedereen"],
    }
    with Session(engine) as session:
        assert count_users(session=session, search=UserSearch(group="Iedereen")) == 2
        assert count_users(session=session, search=UserSearch(group="Sales")) == 1
        bas = session.exec(select(User).where(User.email == "bas@voorbeeld.nl")).one()
        detail = get_user_detail(session=session, user_id=bas.id)
        assert detail is not None and detail["groups"] == ["Iedereen"]
        uses = catalog.count_users_of(
            session=session, kind_name="group", entry_id=everyone_id(engine)
        )
        assert uses == 2
    # Named in a file it is already theirs: nothing to add, the re-import changes nothing.
    again = run(engine, FILE.replace(";Sales\n", ";Sales~Iedereen\n"), create_groups=True)
    assert again.counts["unchanged"] == 2 and stored_memberships(engine) == 1


def test_renamed_it_stays_the_group_of_everyone_and_blocking_keeps_it(engine: Engine) -> None:
    run(engine, FILE, create_groups=True)
    with session_scope(engine) as session:
        catalog.rename_named(
            session=session, kind_name="group", entry_id=everyone_id(engine), new_name="Allen"
        )
    run(engine, "E-mailadres;Voornaam;Achternaam\ncor@voorbeeld.nl;Cor;Smit\n")
    with Session(engine) as session:
        assert sorted(g.name for g in session.exec(select(Group))) == ["Allen", "Sales"]
    assert groups_of(engine)["cor@voorbeeld.nl"] == ["Allen"]
    blocked = run(engine, "E-mailadres;Actie\nann@voorbeeld.nl;0\n")
    assert blocked.counts["blocked"] == 1
    assert groups_of(engine)["ann@voorbeeld.nl"] == ["Allen"]


def test_it_cannot_be_deleted(engine: Engine) -> None:
    run(engine, FILE, create_groups=True)
    with session_scope(engine) as session, pytest.raises(CatalogError) as refused:
        catalog.delete_named(
            session=session, kind_name="group", entry_id=everyone_id(engine), force=True
        )
    assert refused.value.text("nl") == (
        "Iedere gebruiker zit in de groep 'Iedereen'; u kunt die een andere naam geven, maar "
        "niet verwijderen."
    )
    assert groups_of(engine)["bas@voorbeeld.nl"] == ["Iedereen"]


def test_the_planner_reads_each_users_own_groups_and_levels(engine: Engine) -> None:
    rows = (
        "E-mailadres;Gebruikersnaam;Voornaam;Achternaam;Groep;Niveau\n"
        "ann@voorbeeld.nl;Ann;Ann;Smit;Sales~Support;Senior\n"
        "bas@voorbeeld.nl;bas;Bas;Boer;Support~Sales;Senior\n"
        "cor@voorbeeld.nl;cor;Cor;Bos;;\n"
        "dirk@voorbeeld.nl;dirk;Dirk;Berg;Sales;Junior~Senior\n"
    )
    assert run(engine, rows, create_groups=True, create_levels=True).counts["created"] == 4
    with Session(engine) as session:
        users = StoredUsers(session)
        found = users.by_email(f"{name}@voorbeeld.nl" for name in ("ann", "bas", "cor", "dirk"))
        found |= users.by_username(["DIRK", "ANN"])
    held = {key: (sorted(u.groups), sorted(u.levels)) for key, u in found.items()}
    ann = (["Iedereen", "Sales", "Support"], ["Senior"])
    dirk = (["Iedereen", "Sales"], ["Junior", "Senior"])
    assert held == {
        "ann@voorbeeld.nl": ann,
        "bas@voorbeeld.nl": ann,
        "cor@voorbeeld.nl": (["Iedereen"], []),
        "dirk@voorbeeld.nl": dirk,
        "ann": ann,
        "dirk": dirk,
    }
