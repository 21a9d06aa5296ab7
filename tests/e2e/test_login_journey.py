"""Logging in as a person does: remembered across reloads and tabs, gone after logout."""

import re
import time

import pytest
from sqlmodel import Session, create_engine

from core import accounts
from tests.e2e.conftest import Portal, new_context, shot, wait_idle
from tests.e2e.journey import (
    ADMIN_PASSWORD,
    PAGES,
    click,
    fill,
    first_run_and_login,
    stays_signed_in,
    stolen_cookies_open_nothing,
)

pytestmark = pytest.mark.browser


def test_logged_out_visitors_see_only_the_login_form(browser_page, portal: Portal) -> None:
    page = browser_page
    first_run_and_login(page, portal)
    context = new_context(page.context.browser)
    visitor = context.new_page()
    for name in PAGES:
        visitor.goto(f"{portal.url}/{name}")
        wait_idle(visitor)
        visitor.get_by_role("button", name="Login").wait_for()
        assert (
            visitor.get_by_role(
                "heading", name=re.compile("Import users|Import history|Users|Settings")
            ).count()
            == 0
        )
        assert visitor.locator("[data-testid=stDataFrame]").count() == 0
    shot(visitor, "10-logged-out")
    context.close()


def test_the_login_is_remembered_until_logout(browser_page, portal: Portal) -> None:
    """Reload, a new tab and a deep link keep the login; logout and disabling end it."""
    page = browser_page
    first_run_and_login(page, portal)
    cookie = next(c for c in page.context.cookies() if c["name"] == "instroom_auth")
    assert cookie["sameSite"] == "Lax" and 0 < cookie["expires"] - time.time() <= 7 * 86400 + 5
    # Set by the server, HttpOnly: no script in the page can read it.
    assert cookie["httpOnly"] is True
    assert "instroom_auth" not in page.evaluate("document.cookie")
    stays_signed_in(page, f"{portal.url}/History?job=1")
    # Logging out in one tab ends the cookie everywhere, even a copy kept by an attacker.
    stolen = page.context.cookies()
    page.get_by_role("button", name="Log out").click()
    wait_idle(page)
    page.get_by_role("button", name="Login").wait_for()
    page.reload()
    wait_idle(page)
    page.get_by_role("button", name="Login").wait_for()
    stolen_cookies_open_nothing(page, stolen, f"{portal.url}/Settings", "Settings")
    # Log in again, then an administrator disables the account from the command line.
    fill(page, "Username", "beheerder")
    fill(page, "Password", ADMIN_PASSWORD)
    click(page, "Login")
    page.get_by_role("heading", name="Instroom").wait_for()
    with Session(create_engine(portal.database_url)) as session:
        accounts.create_account(
            session=session,
            username="tweede",
            email="t@example.org",
            role="admin",
            password=ADMIN_PASSWORD,
        )
        accounts.set_account_disabled(session=session, username="beheerder", disabled=True)
        session.commit()
    page.reload()
    wait_idle(page)
    page.get_by_role("button", name="Login").wait_for()
    assert page.get_by_role("heading", name="Instroom").count() == 0
    # Ten wrong passwords lock 'tweede'; the right one then gets the same answer, which stays.
    for password in ["fout wachtwoord"] * accounts.MAX_FAILED_LOGINS + [ADMIN_PASSWORD]:
        fill(page, "Username", "tweede")
        fill(page, "Password", password)
        click(page, "Login")
        page.get_by_text(accounts.LOGIN_REFUSED).wait_for()
    time.sleep(2)
    assert page.get_by_text(accounts.LOGIN_REFUSED).is_visible()
    assert page.get_by_role("heading", name="Instroom").count() == 0
