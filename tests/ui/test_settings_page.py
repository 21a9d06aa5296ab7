"""The Settings page changes the catalogue through the real forms."""

import re

from sqlalchemy import Engine
from sqlmodel import Session, select

from db.models import Account, Group, Level, ProfileField, User, UserGroup
from tests.conftest import Inbox
from tests.ui.conftest import ACTIVATE, new_app, signed_in, texts, widget
from tests.ui.test_login_and_guards import login

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
    assert group_names(app_db) == ["Financien", "Iedereen"]

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
    assert group_names(app_db) == ["Finance", "Iedereen"]

    widget(at.selectbox, "Delete group").set_value(financien_id)
    at = submit(at, "Delete group")
    assert "Users have the group 'Finance' (1)." in texts(at)
    assert group_names(app_db) == ["Finance", "Iedereen"]
    widget(at.selectbox, "Delete group").set_value(financien_id)
    widget(at.checkbox, "Also remove the group from the users who have it").check()
    at = submit(at, "Delete group")
    assert "Deleted group 'Finance' (1 users had it)." in texts(at)
    assert group_names(app_db) == ["Iedereen"]

    # The group every user is in: renamed, it stays theirs; removed, never.
    with Session(app_db) as session:
        everyone_id = session.exec(select(Group.id).where(Group.everyone)).one()
    widget(at.selectbox, "Rename group").set_value(everyone_id)
    widget(at.text_input, "New name for the group").input("Alle medewerkers")
    at = submit(at, "Rename group")
    widget(at.selectbox, "Delete group").set_value(everyone_id)
    widget(at.checkbox, "Also remove the group from the users who have it").check()
    at = submit(at, "Delete group")
    assert (
        "Every user is in the group 'Alle medewerkers'; it can be renamed, not removed."
        in texts(at)
    )
    assert group_names(app_db) == ["Alle medewerkers"]


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
    # The admin names the field; its key (for the command line) is made from the name.
    widget(at.text_input, "New field label").input("Cost center")
    at = submit(at, "Add field")
    assert "Added the profile field 'Cost center'." in texts(at)
    table = at.dataframe[0].value
    assert "Key" not in table.columns
    assert (
        table.set_index("Label")["Type"]["Cost center"] == "text"
        and "a term of a taxonomy" in widget(at.selectbox, "New field type").options
    )
    with Session(app_db) as session:
        field = session.exec(select(ProfileField).where(ProfileField.key == "cost_center")).one()
    assert (field.label, field.type, field.importable) == ("Cost center", "text", True)

    change = widget(at.selectbox, "Change field")
    assert "Cost center" in change.options and "cost_center" not in change.options
    change.set_value(field.id)
    at.run()
    widget(at.text_input, "Label").input("Kostenplaats")
    widget(at.checkbox, "Open for import").uncheck()
    at = submit(at, "Save field")
    with Session(app_db) as session:
        field = session.get(ProfileField, field.id)
        assert (field.label, field.importable) == ("Kostenplaats", False)

    at = submit(at, "Add field")
    assert "A new field needs a label, such as Kostenplaats." in texts(at)
    widget(at.text_input, "New field label").input("kostenplaats")
    at = submit(at, "Add field")
    assert "Another field already has the label 'Kostenplaats'; choose another label." in texts(at)

    widget(at.selectbox, "Change field").set_value(field.id)
    at.run()
    widget(at.checkbox, "Delete this field (stored values are kept but hidden)").check()
    at = submit(at, "Save field")
    with Session(app_db) as session:
        assert session.get(ProfileField, field.id) is None


def test_a_portal_account_is_invited_chooses_its_password_and_is_disabled(
    make_account, app_db: Engine
) -> None:
    """Without a mail server the admin is given the one-time link; it sets the password."""
    at = open_settings(make_account, "Portal accounts")
    assert "No mail server is set up" in texts(at)
    assert [w for w in at.text_input if "password" in w.label.lower()] == []
    widget(at.text_input, "Username").input("helpdesk")
    widget(at.text_input, "Name").input("Hanna Helpdesk")
    widget(at.text_input, "Email").input("help@example.org")
    widget(at.selectbox, "Role").set_value("support")
    at = submit(at, "Invite")
    shown = texts(at)
    assert "Give helpdesk this link to choose a password; it works once, until" in shown
    token = re.findall(r"/Activate\?invite=([\w-]+)", shown)[0]

    activate = new_app(ACTIVATE)
    activate.query_params["invite"] = token
    activate.run()
    assert not activate.exception and "Choose a password for **helpdesk**" in texts(activate)
    widget(activate.text_input, "New password").input("paarse tulpen in maart 1")
    widget(activate.text_input, "Repeat the password").input("paarse tulpen in maart 1")
    widget(activate.button, "Set my password").click()
    activate.run()
    assert "Your password is set. You can log in to the portal now." in texts(activate)
    again = new_app(ACTIVATE)
    again.query_params["invite"] = token
    assert "not valid or has already been used" in texts(again.run())
    assert "Log out" in [
        b.label for b in login(new_app().run(), "helpdesk", "paarse tulpen in maart 1").button
    ]

    widget(at.selectbox, "Account").set_value("helpdesk")
    widget(at.radio, "Change").set_value("Disable")
    submit(at, "Save account")
    with Session(app_db) as session:
        helpdesk = session.exec(select(Account).where(Account.username == "helpdesk")).one()
    assert (helpdesk.role, helpdesk.name, helpdesk.is_disabled) == (
        "support",
        "Hanna Helpdesk",
        True,
    )


def test_with_a_mail_server_the_invitation_is_mailed_in_the_accounts_language(
    make_account, app_db: Engine, inbox: Inbox, monkeypatch
) -> None:
    monkeypatch.setenv("INSTROOM_SMTP_HOST", inbox.host)
    monkeypatch.setenv("INSTROOM_SMTP_PORT", str(inbox.port))
    at = open_settings(make_account, "Portal accounts")
    assert "No mail server is set up" not in texts(at)
    widget(at.text_input, "Username").input("ondersteuning")
    widget(at.text_input, "Email").input("steun@example.org")
    widget(at.selectbox, "Language").set_value("nl")
    at = submit(at, "Invite")
    assert "A link to choose a password is being mailed to steun@example.org." in texts(at)
    assert "/Activate?invite=" not in texts(at)
    mail = inbox.first_to("steun@example.org")
    assert mail["Subject"] == "Je account voor Instroom"
    assert "Je gebruikersnaam is ondersteuning." in Inbox.text(mail)


def test_the_time_zone_chosen_in_settings_is_the_portal_s_clock(
    make_account, app_db: Engine
) -> None:
    from core.i18n import format_moment
    from db.models import ImportJob
    from tests.db.test_import_engine import run

    at = open_settings(make_account, "Time zone")
    assert widget(at.selectbox, "Time zone").value == "Europe/Amsterdam"
    widget(at.selectbox, "Time zone").set_value("Asia/Tokyo")
    at = submit(at, "Save time zone")
    assert "The portal's time zone is now Asia/Tokyo." in texts(at)
    assert widget(at.selectbox, "Time zone").value == "Asia/Tokyo"

    result = run(app_db, "Email;Voornaam;Achternaam\na@example.org;A;A\n")
    with Session(app_db) as session:
        started = session.get(ImportJob, result.job_id).created_at
    history = signed_in("beheer", "admin", "pages/2_History.py")
    history.query_params["job"] = str(result.job_id)
    shown = texts(history.run())
    assert f"Started by test on {format_moment(started, 'en', 'Asia/Tokyo')}" in shown
    assert format_moment(started, "en", "Europe/Amsterdam") not in shown


def test_a_time_zone_set_on_the_server_is_locked(make_account, app_db: Engine, monkeypatch) -> None:
    import pytest

    from core.config import load_settings
    from core.saved_settings import TimeZoneError, save_time_zone
    from db.engine import session_scope

    monkeypatch.setenv("INSTROOM_TIME_ZONE", "Europe/London")
    at = open_settings(make_account, "Time zone")
    zone = widget(at.selectbox, "Time zone")
    assert (zone.value, zone.disabled) == ("Europe/London", True)
    with pytest.raises(TimeZoneError, match="on the server"), session_scope(app_db) as session:
        save_time_zone(session=session, settings=load_settings(), name="Asia/Tokyo")
    monkeypatch.delenv("INSTROOM_TIME_ZONE")
    with pytest.raises(TimeZoneError, match="not a time zone"), session_scope(app_db) as session:
        save_time_zone(session=session, settings=load_settings(), name="Mars/Olympus")


def test_the_terms_just_added_to_stay_open_for_the_next_one(make_account, app_db: Engine) -> None:
    from core import catalog
    from db.engine import session_scope

    with session_scope(app_db) as session:
        catalog.add_named(session=session, kind_name="taxonomy", name="Vestiging")
    at = open_settings(make_account, "Taxonomies")
    terms = next(e for e in at.expander if e.label == "Terms of Vestiging")
    assert not terms.proto.expanded
    widget(at.text_input, "New term").input("Zwolle")
    at = submit(at, "Add term")
    at.run()  # the rerun after saving, as the browser makes it
    terms = next(e for e in at.expander if e.label == "Terms of Vestiging")
    assert terms.proto.expanded
    assert "Zwolle" in texts(at)
