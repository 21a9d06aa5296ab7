"""What an administrator and a new user do, in a real browser against the real server."""

import re
import time

import pytest
from sqlmodel import Session, create_engine

from core import accounts
from tests.conftest import SAMPLES, Inbox
from tests.e2e.conftest import Portal, shot, wait_idle

pytestmark = pytest.mark.browser
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


def test_administrator_imports_a_sample_and_a_new_user_activates(
    browser_page, portal: Portal, inbox: Inbox
) -> None:
    page = browser_page
    first_run_and_login(page, portal)

    open_page(page, "Settings")
    page.locator("[data-testid=stRadio]").get_by_text("Groups", exact=True).click()
    wait_idle(page)
    fill(page, "New group", "Stagiairs")
    click(page, "Add group")
    page.get_by_text("Added group 'Stagiairs'.").wait_for()
    page.locator("[data-testid=stRadio]").get_by_text("Levels", exact=True).click()
    wait_idle(page)
    for level in ("A", "B"):
        fill(page, "New level", level)
        click(page, "Add level")
        page.get_by_text(f"Added level '{level}'.").wait_for()
    shot(page, "03-settings-levels")

    open_page(page, "Import")
    upload(page, str(SAMPLES / "huddle-puntkomma.csv"))
    page.get_by_text("huddle-puntkomma.csv: 2 rows").wait_for()
    shot(page, "04-upload")
    click(page, "Next")
    page.get_by_text("Step 2 of 6: Map columns").wait_for()
    shot(page, "05-map")
    click(page, "Next")
    page.get_by_text("Step 3 of 6: Options").wait_for()
    page.get_by_text("Send new users a welcome email").click()
    wait_idle(page)
    click(page, "Next")
    page.get_by_text("Step 4 of 6: Preview").wait_for()
    shot(page, "06-preview")
    click(page, "Next")
    page.get_by_text("Create 2 users and send 2 welcome mails?").wait_for()
    click(page, "Start the import")
    page.get_by_text(re.compile(r"Import \d+ finished: succeeded")).wait_for(timeout=60_000)
    shot(page, "07-result")

    open_page(page, "History")
    page.get_by_text("huddle-puntkomma.csv · succeeded").first.wait_for()
    shot(page, "08-history")

    welcome = inbox.first_to("pieter@voorbeeld.nl")
    link = re.search(r"http://\S+/Activate\?token=[\w-]+", Inbox.text(welcome)).group(0)
    page.goto(link)
    wait_idle(page)
    page.get_by_text("pieter@voorbeeld.nl").wait_for()
    fill(page, "New password", "Zonnige-Dinsdag-Morgen-8")
    fill(page, "Repeat the password", "Zonnige-Dinsdag-Morgen-8")
    click(page, "Set my password")
    page.get_by_text("Your password is set and your account is active.").wait_for()
    shot(page, "09-activated")


def test_logged_out_visitors_see_only_the_login_form(browser_page, portal: Portal) -> None:
    page = browser_page
    first_run_and_login(page, portal)
    context = page.context.browser.new_context()
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
    assert cookie["sameSite"] == "Strict" and 0 < cookie["expires"] - time.time() <= 7 * 86400 + 5
    page.reload()
    wait_idle(page)
    page.get_by_role("heading", name="Instroom").wait_for()
    tab = page.context.new_page()
    tab.goto(f"{portal.url}/History?job=1")
    wait_idle(tab)
    tab.get_by_role("heading", name="Import history").wait_for()
    assert tab.get_by_role("button", name="Login").count() == 0
    tab.close()
    # Logging out in one tab ends the cookie everywhere, even a copy kept by an attacker.
    stolen = page.context.cookies()
    page.get_by_role("button", name="Log out").click()
    wait_idle(page)
    page.get_by_role("button", name="Login").wait_for()
    page.reload()
    wait_idle(page)
    page.get_by_role("button", name="Login").wait_for()
    thief = page.context.browser.new_context()
    thief.add_cookies(stolen)
    other = thief.new_page()
    other.goto(f"{portal.url}/Settings")
    wait_idle(other)
    other.get_by_role("button", name="Login").wait_for()
    assert other.get_by_role("heading", name="Settings").count() == 0
    thief.close()
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


def test_every_sample_a_revert_and_a_support_account(
    browser_page,
    portal: Portal,
    inbox: Inbox,
    tmp_path,
) -> None:
    page = browser_page
    first_run_and_login(page, portal)
    import_file(
        page,
        SAMPLES / "plek-voorbeeld.tsv",
        remap={"Extra profielveld": "Functie"},
        expect="succeeded",
    )
    broken = tmp_path / "caseware-personeel.csv"
    broken.write_text(
        (SAMPLES / "caseware-personeel.csv")
        .read_text()
        .replace("ben.holt@cwtestgebruiker.nl", "ben.holt(at)cwtestgebruiker.nl")
    )
    import_file(
        page,
        broken,
        options=("Create groups that do not exist yet",),
        fix=(4, "E-mailadres", "ben.holt@cwtestgebruiker.nl"),
        expect="succeeded",
    )
    import_file(
        page,
        SAMPLES / "huddle-puntkomma.csv",
        options=("Create levels that do not exist yet",),
        expect="succeeded",
    )
    import_file(page, SAMPLES / "afas-mutaties.csv", expect="completed with errors")
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile(r"Rejected rows \(CSV")).click()
    rejected = download.value.path().read_text(encoding="utf-8-sig")
    assert "oud@voorbeeld.nl" in rejected and "cannot be blocked" in rejected
    shot(page, "11-afas-result")

    open_page(page, "History")
    afas = page.locator("[data-testid=stExpander]", has_text="afas-mutaties").first
    afas.locator("summary").first.click()
    wait_idle(page)
    with page.expect_download() as download:
        afas.get_by_role("button", name="Issues (CSV)").click()
    assert "unknown-user" in download.value.path().read_text(encoding="utf-8-sig")
    expander = page.locator("[data-testid=stExpander]", has_text="plek-voorbeeld").first
    expander.locator("summary").first.click()
    wait_idle(page)
    expander.get_by_text("Revert this import…").click()
    wait_idle(page)
    click(page, "Confirm: revert import 1")
    page.get_by_text("The revert is queued as job").wait_for()
    shot(page, "12-revert")

    open_page(page, "Settings")
    page.locator("[data-testid=stRadio]").get_by_text("Portal accounts", exact=True).click()
    wait_idle(page)
    fill(page, "Username", "helpdesk")
    fill(page, "Email", "help@example.org")
    choose(page, "Role", "support")
    click(page, "Invite")
    page.get_by_text("A link to choose a password is being mailed to help@example.org.").wait_for()
    invitation = Inbox.text(inbox.first_to("help@example.org"))
    link = re.search(r"http://\S+/Activate\?invite=[\w-]+", invitation).group(0)

    # The helpdesk opens the mail's link in a browser of their own.
    helpdesk = page.context.browser.new_context().new_page()
    helpdesk.goto(link)
    wait_idle(helpdesk)
    helpdesk.get_by_text("Choose a password for helpdesk").wait_for()
    fill(helpdesk, "New password", "paarse tulpen in maart 1")
    fill(helpdesk, "Repeat the password", "paarse tulpen in maart 1")
    click(helpdesk, "Set my password")
    helpdesk.get_by_text("Your password is set. You can log in to the portal now.").wait_for()
    helpdesk.get_by_role("link", name="Log in").click()
    wait_idle(helpdesk)
    helpdesk.get_by_role("button", name="Login").wait_for()
    fill(helpdesk, "Username", "helpdesk")
    fill(helpdesk, "Password", "paarse tulpen in maart 1")
    click(helpdesk, "Login")
    helpdesk.get_by_role("link", name="History").wait_for()
    assert helpdesk.get_by_role("link", name="Import", exact=True).count() == 0
    # The link from the mail works once.
    helpdesk.goto(link)
    wait_idle(helpdesk)
    helpdesk.get_by_text("not valid or has already been used").wait_for()
    page = helpdesk
    page.goto(f"{portal.url}/History")
    wait_idle(page)
    page.get_by_text(re.compile(r"reverted")).first.wait_for()
    assert page.get_by_text("Revert this import…").count() == 0
    shot(page, "13-support-history")
    page.goto(f"{portal.url}/Import")
    wait_idle(page)
    page.get_by_text(re.compile("This page is for the administrator role|Login")).first.wait_for()
    assert page.get_by_text("Step 1 of 6").count() == 0


def test_hostile_files_through_the_wizard(browser_page, portal: Portal, tmp_path) -> None:
    from tests.test_hostile_files import zip_bomb

    page = browser_page
    first_run_and_login(page, portal)
    open_page(page, "Import")
    picture, header_only, bomb, quotes = (
        tmp_path / "picture.csv",
        tmp_path / "header-only.csv",
        tmp_path / "bomb.xlsx",
        tmp_path / "quotes.csv",
    )
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(500))
    header_only.write_text("Email;Voornaam;Achternaam\n")
    zip_bomb(bomb)
    quotes.write_text('Email;Voornaam\na@example.org;"Ann\nb@example.org;Bob\n')
    for path, message in (
        (picture, "The file is a PNG image, not a spreadsheet."),
        (header_only, "no rows of users below it"),
        (bomb, "more than Instroom reads"),
        (quotes, "Row 2 opens a quote"),
    ):
        upload(page, str(path))
        page.get_by_text(message).wait_for()
        assert page.get_by_role("button", name="Next").count() == 0
    shot(page, "14-hostile-file")
    hostile_rows = tmp_path / "hostile-rows.csv"
    hostile_rows.write_text(
        "Email;Voornaam;Achternaam\nok@example.org;Ok;Rij\nc@example.org,Comma,Row\n"
        "d@example.org;Bell\x07;Ring\n\u202eevil@example.org;Rtl;Override\n"
        "lookalike@ex\u0430mple.org;Look;Alike\nlong@example.org;"
        + "x" * 100_000
        + ";Long\nhtml@example.org;<b>Vet</b>;=1+1\n",
        encoding="utf-8",
    )
    upload(page, str(hostile_rows))
    page.get_by_text("hostile-rows.csv: 7 rows, utf-8").wait_for()
    for _ in range(3):
        click(page, "Next")
    page.get_by_text("Step 4 of 6: Preview").wait_for()
    metrics = {
        m.locator("[data-testid=stMetricLabel]").inner_text().strip(): m.locator(
            "[data-testid=stMetricValue]"
        )
        .inner_text()
        .strip()
        for m in page.locator("[data-testid=stMetric]").all()
    }
    assert (metrics["Created"], metrics["Errors"], metrics["Warnings"]) == ("3", "4", "1")
    shot(page, "15-hostile-rows-preview")
