"""What an administrator and a new user do, in a real browser against the real server."""

import re

import pytest

from tests.conftest import SAMPLES, Inbox
from tests.e2e.conftest import Portal, shot, wait_idle
from tests.e2e.journey import (
    click,
    fill,
    first_run_and_login,
    open_page,
    upload,
)

pytestmark = pytest.mark.browser


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
