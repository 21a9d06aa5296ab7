"""What a person does in the browser, step by step: the journeys' shared moves."""

import re

from tests.e2e.conftest import Portal, new_context, shot, wait_idle

ADMIN_PASSWORD = "groene-appels-en-peren-1"
PAGES = ["Import", "History", "Users", "Settings"]


def fill(page, label: str, value: str) -> None:
    page.get_by_label(label, exact=True).fill(value)


def click(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()
    wait_idle(page)


def open_page(page, name: str) -> None:
    """Navigate with the sidebar, as a person does."""
    page.get_by_role("link", name=name, exact=True).click()
    wait_idle(page)


def first_run_and_login(page, portal: Portal) -> None:
    page.goto(portal.url)
    wait_idle(page)
    page.get_by_text("No portal account exists yet").wait_for()
    shot(page, "01-first-run")
    fill(page, "Username", "beheerder")
    fill(page, "Your name", "Bea Heer")
    fill(page, "Email address", "bea@example.org")
    fill(page, "Password", ADMIN_PASSWORD)
    fill(page, "Repeat the password", ADMIN_PASSWORD)
    click(page, "Create administrator")
    page.get_by_role("button", name="Login").wait_for()
    fill(page, "Username", "beheerder")
    fill(page, "Password", ADMIN_PASSWORD)
    click(page, "Login")
    page.get_by_role("heading", name="Instroom").wait_for()
    shot(page, "02-home")


def choose(page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox."""
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def upload(page, path) -> None:
    """Choose a file in the uploader, as a person would."""
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    wait_idle(page)


def import_file(
    page,
    path,
    *,
    options: tuple[str, ...] = (),
    remap: dict[str, str] | None = None,
    fix: tuple[int, str, str] | None = None,
    expect: str,
) -> None:
    """Upload a file and walk the wizard to its result."""
    open_page(page, "Import")
    if page.get_by_role("button", name="Start another import").count():
        click(page, "Start another import")
    upload(page, str(path))
    click(page, "Next")
    for header, field in (remap or {}).items():
        choose(page, f"Field for {header}", field)
    click(page, "Next")
    for option in options:
        page.get_by_text(option, exact=True).click()
        wait_idle(page)
    click(page, "Next")
    page.get_by_text("Step 4 of 6: Preview").wait_for()
    if fix:
        row, column, value = fix
        choose(page, "Row", str(row))
        choose(page, "Column", column)
        fill(page, "New value", value)
        click(page, "Correct and revalidate")
    shot(page, f"preview-{path.stem}")
    click(page, "Next")
    click(page, "Start the import")
    page.get_by_text(re.compile(rf"Import \d+ finished: {expect}")).wait_for(timeout=60_000)


def stolen_cookies_open_nothing(page, cookies: list, url: str, heading: str) -> None:
    """A copy of the cookies, tried in a browser of its own, meets only the login form."""
    thief = new_context(page.context.browser)
    thief.add_cookies(cookies)
    other = thief.new_page()
    other.goto(url)
    wait_idle(other)
    other.get_by_role("button", name="Login").wait_for()
    assert other.get_by_role("heading", name=heading).count() == 0
    thief.close()


def stays_signed_in(page, url: str) -> None:
    """A reload keeps the session, and so does a deep link opened in a new tab."""
    page.reload()
    wait_idle(page)
    page.get_by_role("heading", name="Instroom").wait_for()
    tab = page.context.new_page()
    tab.goto(url)
    wait_idle(tab)
    tab.get_by_role("heading", name="Import history").wait_for()
    assert tab.get_by_role("button", name="Login").count() == 0
    tab.close()
