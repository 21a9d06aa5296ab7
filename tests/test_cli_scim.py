"""cli.py scim token create, list and revoke, as the server's administrator runs them."""

from sqlmodel import Session

from core.scim import authenticate
from db.engine import get_engine
from tests.test_cli_accounts import run_cli


def works(db_url: str, token: str) -> bool:
    with Session(get_engine(db_url)) as session:
        return authenticate(session=session, token=token) is not None


def test_a_token_is_printed_once_listed_and_revoked(db_url: str) -> None:
    made = run_cli(db_url, "scim", "token", "create", "Entra ID")
    assert made.returncode == 0, made.stderr
    said, token = made.stdout.strip().splitlines()
    assert said == "Connection 'Entra ID' made. Its token, shown this once:"
    assert token.startswith("scim_") and works(db_url, token)

    again = run_cli(db_url, "scim", "token", "create", "entra id")
    assert again.returncode != 0
    assert "There is already a connection named 'entra id'" in again.stderr
    assert "Traceback" not in again.stderr

    listed = run_cli(db_url, "scim", "token", "list")
    assert listed.stdout.strip() == "Entra ID\tactive\tlast used: never"
    # The token is not in the list, nor anywhere the list could show it.
    assert token not in listed.stdout

    revoked = run_cli(db_url, "scim", "token", "revoke", "Entra ID")
    assert revoked.returncode == 0
    assert revoked.stdout.strip() == "The token of 'Entra ID' no longer works."
    assert not works(db_url, token)
    assert run_cli(db_url, "scim", "token", "list").stdout.startswith("Entra ID\trevoked\t")

    unknown = run_cli(db_url, "scim", "token", "revoke", "Okta")
    assert unknown.returncode != 0 and "There is no SCIM connection named 'Okta'." in unknown.stderr
