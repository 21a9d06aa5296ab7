"""Settings > SCIM through the real page: a connection, its token once, its options."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from core.scim import authenticate
from db.models import ScimConnection
from tests.ui.conftest import signed_in, texts, widget
from tests.ui.test_wizard import click

SETTINGS = "pages/4_Settings.py"


def shown_token(at) -> str | None:
    tokens = [c.value for c in at.code if str(c.value).startswith("scim_")]
    assert len(tokens) <= 1
    return tokens[0] if tokens else None


def token_works(engine: Engine, token: str) -> bool:
    with Session(engine) as session:
        return authenticate(session=session, token=token) is not None


def stored(engine: Engine) -> ScimConnection:
    with Session(engine) as session:
        return session.exec(select(ScimConnection)).one()


def test_an_admin_connects_entra_sees_the_token_once_and_sets_its_rules(
    make_account, app_db: Engine
) -> None:
    make_account("beheer", "admin")
    at = signed_in("beheer", "admin", SETTINGS)
    widget(at.radio, "Section").set_value("SCIM")
    at.run()
    assert not at.exception
    assert "http://localhost:8501/scim/v2" in [c.value for c in at.code]

    at = click(at, "Make the connection and its token")
    assert "Give the connection a name, such as Entra ID." in texts(at)
    widget(at.text_input, "Name").input("Entra ID")
    at = click(at, "Make the connection and its token")
    assert "Connection Entra ID made." in texts(at)
    token = shown_token(at)
    assert token is not None and token_works(app_db, token)
    assert "cannot show it again" in texts(at)
    # The next rerun (any click) no longer shows it; only its fingerprint is stored.
    at.run()
    assert shown_token(at) is None
    assert token not in str(stored(app_db).model_dump())

    # The default fields of a new installation are mapped; the table says so in labels.
    table = at.table[0].value
    assert dict(zip(table.iloc[:, 0], table.iloc[:, 1], strict=True))["title"] == "Functie"
    assert "employeeNumber" in " ".join(table.iloc[:, 0])

    widget(at.toggle, "Paused: the provider's calls are refused until resumed").set_value(True)
    widget(at.checkbox, "New users get the welcome mail").set_value(True)
    widget(at.selectbox, "Role of new users").set_value("manager")
    widget(at.selectbox, "Manager (manager)").set_value("department")
    widget(at.selectbox, "Job title (title)").set_value("")
    at = click(at, "Save")
    assert "Saved." in texts(at)
    connection = stored(app_db)
    assert (connection.paused, connection.welcome_new, connection.role) == (True, True, "manager")
    assert connection.profile_map == {
        "department": "department",
        "employeeNumber": "employee_id",
        "manager": "department",
    }
    # After the save the form shows what is stored, also after leaving and coming back.
    widget(at.radio, "Section").set_value("Links")
    at.run()
    widget(at.radio, "Section").set_value("SCIM")
    at.run()
    assert widget(at.toggle, "Paused: the provider's calls are refused until resumed").value
    assert widget(at.selectbox, "Role of new users").value == "manager"
    assert "Paused; token made" in texts(at)

    at = click(at, "Make a new token")
    renewed = shown_token(at)
    assert renewed and renewed != token
    assert token_works(app_db, renewed) and not token_works(app_db, token)
    at = click(at, "Revoke the token")
    assert "The token no longer works." in texts(at)
    assert not token_works(app_db, renewed)
    assert "No token: the provider cannot call." in texts(at)
