"""Settings > Sign-in and the login page with an identity provider, through the real pages."""

from sqlalchemy import Engine
from sqlmodel import Session

from core import signin
from tests.test_cli_accounts import run_cli
from tests.ui.conftest import PASSWORD, button, new_app, signed_in, texts, widget

SETTINGS = "pages/4_Settings.py"
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "streamlit-own-secret-never-shown",
    "microsoft": {
        "client_id": "instroom",
        "client_secret": "client-secret-never-shown",
        "server_metadata_url": "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration",
    },
}


def login_page() -> object:
    at = new_app()
    at.secrets["auth"] = AUTH
    return at.run()


def test_local_passwords_off_leaves_only_the_provider_and_the_cli_opens_them_again(
    make_account, app_db: Engine, sqlite_url: str
) -> None:
    make_account("beheer", "admin")
    at = login_page()
    assert [b.label for b in at.button] == ["Sign in with Microsoft", "Login"]
    widget(at.text_input, "Username").input("beheer")
    widget(at.text_input, "Password").input("wrong password")
    button(at, "Login").click().run()

    settings = signed_in("beheer", "admin", SETTINGS)
    settings.secrets["auth"] = AUTH
    widget(settings.radio, "Section").set_value("Sign-in").run()
    shown = texts(settings)
    assert "Microsoft Entra ID" in shown
    assert "never-shown" not in shown and "never-shown" not in str(settings.dataframe)
    log = settings.dataframe[0].value
    assert (log.iloc[0]["Username"], log.iloc[0]["How"], log.iloc[0]["Signed in"]) == (
        "beheer",
        "password",
        "no",
    )
    widget(settings.toggle, "Local passwords allowed").set_value(False).run()
    assert "Local passwords are off." in texts(settings)

    at = login_page()
    assert not [w for w in at.text_input if w.label == "Password"]
    assert [b.label for b in at.button] == ["Sign in with Microsoft"]
    # Without a provider the form is always there: nobody can be locked out by the setting.
    assert [w.label for w in new_app().run().text_input] == ["Username", "Password"]

    # On the server an administrator gets back in with a new password.
    reset = run_cli(sqlite_url, "reset-password", "beheer", "--password-stdin", stdin=PASSWORD)
    assert reset.returncode == 0, reset.stderr
    assert "Local passwords were off; they are allowed again." in reset.stdout
    with Session(app_db) as session:
        assert signin.local_passwords_allowed(session=session)
    at = login_page()
    widget(at.text_input, "Username").input("beheer")
    widget(at.text_input, "Password").input(PASSWORD)
    button(at, "Login").click().run()
    assert at.session_state["authentication_status"] is True
