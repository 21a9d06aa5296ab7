"""The Settings page changes the catalogue through the real forms."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from db.models import Account, Group, Level, ProfileField, User, UserGroup
from tests.ui.conftest import signed_in, texts, widget

SETTINGS = "pages/4_Settings.py"


def open_settings(make_account, section: str):
    make_account("beheer", "admin")
    at = signed_in("beheer", "admin", SETTINGS)
    widget(at.radio, "Section").set_value(section)
    return at.run()


def submit(at, label: str):
    widget(at.button, label).click()
    return at.run()


def group_names(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(g.name for g in session.exec(select(Group)))


def test_groups_are_added_renamed_and_removed(make_account, app_db: Engine) -> None:
    at = open_settings(make_account, "Groups")
    assert not at.exception
    widget(at.text_input, "New group").input("Financien")
    at = submit(at, "Add group")
    assert "Added group 'Financien'." in texts(at)
    assert group_names(app_db) == ["Everyone", "Financien"]

    widget(at.text_input, "New group").input("financien")
    at = submit(at, "Add group")
    assert "A group named 'financien' already exists." in texts(at)

    with Session(app_db) as session:
        financien = session.exec(select(Group).where(Group.name == "Financien")).one()
        user = User(email="jan@example.org", first_name="Jan", last_name="Jansen")
        session.add(user)
        session.flush()
        session.add(UserGroup(user_id=user.id, group_id=financien.id))
        session.commit()
        financien_id = financien.id
    widget(at.selectbox, "Rename group").set_value(financien_id)
    widget(at.text_input, "New name for the group").input("Finance")
    at = submit(at, "Rename group")
    assert group_names(app_db) == ["Everyone", "Finance"]

    widget(at.selectbox, "Delete group").set_value(financien_id)
    at = submit(at, "Delete group")
    assert "1 user(s) have the group 'Finance'" in texts(at)
    assert group_names(app_db) == ["Everyone", "Finance"]
    widget(at.selectbox, "Delete group").set_value(financien_id)
    widget(at.checkbox, "Also remove the group from the users who have it").check()
    at = submit(at, "Delete group")
    assert "Deleted group 'Finance' (1 users had it)." in texts(at)
    assert group_names(app_db) == ["Everyone"]


def test_levels_are_added_and_removed(make_account, app_db: Engine) -> None:
    at = open_settings(make_account, "Levels")
    widget(at.text_input, "New level").input("A")
    at = submit(at, "Add level")
    with Session(app_db) as session:
        level = session.exec(select(Level)).one()
    assert level.name == "A"
    widget(at.selectbox, "Delete level").set_value(level.id)
    submit(at, "Delete level")
    with Session(app_db) as session:
        assert session.exec(select(Level)).all() == []


def test_profile_fields_are_added_changed_and_removed(make_account, app_db: Engine) -> None:
    at = open_settings(make_account, "Profile fields")
    widget(at.text_input, "New field key").input("cost_center")
    widget(at.text_input, "New field label").input("Cost center")
    at = submit(at, "Add field")
    assert "Added profile field 'cost_center'." in texts(at)
    with Session(app_db) as session:
        field = session.exec(select(ProfileField).where(ProfileField.key == "cost_center")).one()
    assert (field.label, field.type, field.importable) == ("Cost center", "text", True)

    widget(at.selectbox, "Change field").set_value(field.id)
    at.run()
    widget(at.text_input, "Label").input("Kostenplaats")
    widget(at.checkbox, "Open for import").uncheck()
    at = submit(at, "Save field")
    with Session(app_db) as session:
        field = session.get(ProfileField, field.id)
        assert (field.label, field.importable) == ("Kostenplaats", False)

    widget(at.text_input, "New field key").input("Bad Key")
    at = submit(at, "Add field")
    assert "A field key starts with a letter" in texts(at)

    widget(at.selectbox, "Change field").set_value(field.id)
    widget(at.checkbox, "Delete this field (stored values are kept but hidden)").check()
    submit(at, "Save field")
    with Session(app_db) as session:
        assert session.get(ProfileField, field.id) is None


def test_portal_accounts_are_added_and_disabled(make_account, app_db: Engine) -> None:
    at = open_settings(make_account, "Portal accounts")
    widget(at.text_input, "Username").input("helpdesk")
    widget(at.text_input, "Email").input("help@example.org")
    widget(at.selectbox, "Role").set_value("support")
    widget(at.text_input, "Initial password").input("helpdesk password 1")
    at = submit(at, "Add account")
    assert "Account 'helpdesk' added." in texts(at)
    widget(at.selectbox, "Account").set_value("helpdesk")
    widget(at.radio, "State").set_value("Disable")
    submit(at, "Save account")
    with Session(app_db) as session:
        helpdesk = session.exec(select(Account).where(Account.username == "helpdesk")).one()
    assert (helpdesk.role, helpdesk.is_disabled) == ("support", True)
