"""Signing in with Microsoft or Google: a real OpenID Connect provider on loopback
(oidc-provider-mock), configured like Entra ID and like Google, and Chromium."""

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlmodel import Session, create_engine, select

from core import accounts
from core.config import Settings
from core.invitations import invite_account
from db.models import LoginEvent
from tests.conftest import Inbox, free_port
from tests.e2e.conftest import Portal, _portal, shot, wait_idle
from tests.e2e.journey import (
    click,
    first_run_and_login,
    stays_signed_in,
    stolen_cookies_open_nothing,
)

pytestmark = pytest.mark.browser
TENANT = "7f4bc1a3-0000-4000-8000-contoso00001"
DOMAIN = "voorbeeld.nl"


@pytest.fixture
def provider() -> Iterator[str]:
    """An OpenID Connect provider on a free port; its address."""
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread(port=free_port()) as server:
        yield f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def signin_portal(tmp_path: Path, inbox: Inbox, provider: str) -> Iterator[Portal]:
    """The portal with Microsoft and Google configured the Streamlit way, both at the mock."""
    port = free_port()
    metadata = f"{provider}/.well-known/openid-configuration"
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        + "".join(
            f'[auth.{name}]\nclient_id = "instroom"\nclient_secret = "geheim"\n'
            f'server_metadata_url = "{metadata}"\n'
            for name in ("microsoft", "google")
        )
    )
    yield from _portal(
        tmp_path,
        inbox,
        ["-m", "streamlit"],
        port=port,
        extra=["--secrets.files", str(secrets_file)],
        extra_env={"INSTROOM_SIGNIN_TENANT": TENANT, "INSTROOM_SIGNIN_DOMAIN": DOMAIN},
    )


def person(provider: str, sub: str, **claims: object) -> None:
    """What the organisation's directory says of someone."""
    httpx2.put(f"{provider}/users/{sub}", json=claims).raise_for_status()


def invite(portal: Portal, username: str, email: str) -> None:
    with Session(create_engine(portal.database_url)) as session:
        invite_account(
            session=session,
            settings=Settings(database_url=portal.database_url),
            username=username,
            email=email,
            name=username.title(),
            role="support",
            language="en",
        )
        session.commit()


def sign_in(page, button: str, sub: str) -> None:
    """Click the provider's button and sign in there as sub, as the person would."""
    page.get_by_role("button", name=button, exact=True).click()  # leaves the page
    page.wait_for_url("**/oauth2/authorize**")
    page.locator("input[name=sub]").fill(sub)
    page.locator("button[type=submit]").first.click()
    page.wait_for_url("**127.0.0.1**")
    wait_idle(page)


def test_microsoft_sign_in_links_the_invitation_and_keeps_the_rules(
    chromium, signin_portal: Portal, provider: str
) -> None:
    from tests.e2e.conftest import new_page

    page = new_page(chromium)
    first_run_and_login(page, signin_portal)
    invite(signin_portal, "sanne", "sanne@contoso.nl")
    person(provider, "sanne", tid=TENANT, oid="oid-sanne", email="sanne@contoso.nl")
    person(provider, "gast", tid="another-tenant", oid="oid-gast", email="gast@contoso.nl")
    click(page, "Log out")

    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/oauth2callback" in r.url else None)
    sign_in(page, "Sign in with Microsoft", "sanne")
    page.get_by_role("heading", name="Instroom").wait_for()
    page.get_by_text("Sanne", exact=False).first.wait_for()
    shot(page, "30-signed-in-with-microsoft")
    cookies = {c["name"]: c for c in page.context.cookies()}
    # Instroom's own HttpOnly cookie governs; the provider's hand-over cookie is gone.
    assert cookies["instroom_auth"]["httpOnly"] and "_streamlit_user" not in cookies
    stays_signed_in(page, f"{signin_portal.url}/History")
    stolen = page.context.cookies()
    click(page, "Log out")
    page.get_by_role("button", name="Login").wait_for()
    page.reload()
    wait_idle(page)
    page.get_by_role("button", name="Login").wait_for()
    # A copy of the cookies taken before the logout opens nothing afterwards.
    stolen_cookies_open_nothing(page, stolen, f"{signin_portal.url}/History", "Import history")

    # The provider's answer, replayed after logout, opens nothing.
    assert callbacks
    page.goto(callbacks[0])
    wait_idle(page)
    page.get_by_role("button", name="Login").wait_for()
    assert page.get_by_role("heading", name="Instroom").count() == 0

    # The email may change at the provider: the link is the tenant and object id.
    person(provider, "sanne", tid=TENANT, oid="oid-sanne", email="s.devries@contoso.nl")
    sign_in(page, "Sign in with Microsoft", "sanne")
    page.get_by_role("heading", name="Instroom").wait_for()
    # Disabling the account ends its session at once, wherever it is open.
    with Session(create_engine(signin_portal.database_url)) as session:
        accounts.set_account_disabled(session=session, username="sanne", disabled=True)
        session.commit()
    page.reload()
    wait_idle(page)
    page.get_by_role("button", name="Login").wait_for()
    assert page.get_by_role("heading", name="Instroom").count() == 0

    # Another tenant, an identity without an account, and a disabled account: one answer.
    refused = "This account cannot sign in to Instroom."
    sign_in(page, "Sign in with Microsoft", "gast")
    page.get_by_text(refused, exact=False).wait_for()
    assert page.get_by_role("heading", name="Instroom").count() == 0
    person(provider, "onbekend", tid=TENANT, oid="oid-x", email="niemand@contoso.nl")
    sign_in(page, "Sign in with Microsoft", "onbekend")
    page.get_by_text(refused, exact=False).wait_for()
    sign_in(page, "Sign in with Microsoft", "sanne")
    page.get_by_text(refused, exact=False).wait_for()
    assert page.get_by_role("heading", name="Instroom").count() == 0
    # Every attempt is in the login log, the refused ones with the address they gave.
    with Session(create_engine(signin_portal.database_url)) as session:
        events = session.exec(select(LoginEvent).where(LoginEvent.method == "microsoft")).all()
    assert [(e.username, e.signed_in) for e in events] == [
        ("sanne", True),
        ("sanne", True),
        ("gast@contoso.nl", False),
        ("niemand@contoso.nl", False),
        ("s.devries@contoso.nl", False),
    ]


def test_google_sign_in_needs_the_allowed_domain_and_a_verified_address(
    chromium, signin_portal: Portal, provider: str
) -> None:
    from tests.e2e.conftest import new_page

    page = new_page(chromium)
    first_run_and_login(page, signin_portal)
    invite(signin_portal, "mo", "mo@voorbeeld.nl")
    invite(signin_portal, "lex", "lex@voorbeeld.nl")
    person(provider, "g-mo", hd=DOMAIN, email="mo@voorbeeld.nl", email_verified=True)
    person(provider, "g-lex", hd="gmail.com", email="lex@voorbeeld.nl", email_verified=True)
    click(page, "Log out")

    sign_in(page, "Sign in with Google", "g-lex")
    page.get_by_text("This account cannot sign in to Instroom.", exact=False).wait_for()
    sign_in(page, "Sign in with Google", "g-mo")
    page.get_by_role("heading", name="Instroom").wait_for()
    stays_signed_in(page, f"{signin_portal.url}/History?job=1")
    click(page, "Log out")
    page.get_by_role("button", name="Login").wait_for()
    # Signing in again: the link made the first time is used, no invitation needed.
    sign_in(page, "Sign in with Google", "g-mo")
    page.get_by_role("heading", name="Instroom").wait_for()
