"""A Dutch administrator's first import, in a Dutch browser: no English on the way."""

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import Portal, new_page, shot, wait_idle
from tests.e2e.journey import ADMIN_PASSWORD, click, fill, upload

pytestmark = pytest.mark.browser


def test_a_dutch_administrator_imports_in_dutch(
    browser_page, portal: Portal, tmp_path: Path
) -> None:
    page = new_page(browser_page.context.browser, locale="nl-NL")
    export = tmp_path / "medewerkers.csv"
    export.write_text(
        "E-mail;Voornaam;Achternaam;Functie\nsanne@voorbeeld.nl;Sanne;Bakker;Teamleider\n"
        "mo@voorbeeld.nl;Mo;Haddou;Verpleegkundige\n",
        encoding="utf-8",
    )
    page.goto(portal.url)
    wait_idle(page)
    page.get_by_text("Er is nog geen account voor het portaal").wait_for()
    fill(page, "Gebruikersnaam", "beheerder")
    fill(page, "Je naam", "Bea Heer")
    fill(page, "E-mailadres", "bea@example.org")
    fill(page, "Wachtwoord", ADMIN_PASSWORD)
    fill(page, "Herhaal het wachtwoord", ADMIN_PASSWORD)
    click(page, "Beheerder aanmaken")
    page.get_by_role("button", name="Inloggen").wait_for()
    fill(page, "Gebruikersnaam", "beheerder")
    fill(page, "Wachtwoord", ADMIN_PASSWORD)
    click(page, "Inloggen")
    page.get_by_text("Maak veel gebruikersaccounts tegelijk aan").wait_for()
    shot(page, "nl-01-start")

    page.get_by_role("link", name="Import", exact=True).click()
    wait_idle(page)
    upload(page, export)
    page.get_by_text("medewerkers.csv: 2 rijen").wait_for()
    # The encoding by the name Excel gives it, not Python's codec name.
    detected = page.get_by_text("medewerkers.csv: 2 rijen").first.inner_text()
    assert "UTF-8" in detected and "utf-8" not in detected, detected
    shot(page, "nl-02-uploaden")
    click(page, "Volgende")
    page.get_by_text("Stap 2 van 6: Kolommen koppelen").wait_for()
    click(page, "Volgende")
    page.get_by_text("Stap 3 van 6: Opties").wait_for()
    page.get_by_text("Stuur nieuwe gebruikers een welkomstmail").click()
    wait_idle(page)
    click(page, "Volgende")
    page.get_by_text("Stap 4 van 6: Voorbeeld").wait_for()
    shot(page, "nl-03-voorbeeld")
    click(page, "Volgende")
    page.get_by_text("2 gebruikers aanmaken en 2 welkomstmails versturen?").wait_for()
    shot(page, "nl-04-bevestigen")
    click(page, "De import starten")
    page.get_by_text(re.compile(r"Import \d+ is klaar: geslaagd")).wait_for(timeout=60_000)
    shot(page, "nl-05-resultaat")

    page.get_by_text(re.compile(r"Import \d+ openen in de geschiedenis")).wait_for()
    page.goto(f"{portal.url}/History?job=1")  # the link opens a new tab; this one follows it
    wait_idle(page)
    page.get_by_text("Geschiedenis van de imports").wait_for()
    page.get_by_text("nieuwe gebruikers krijgen een welkomstmail", exact=False).first.wait_for()
    shot(page, "nl-06-geschiedenis")
    # A reload keeps the login and the language.
    page.reload()
    wait_idle(page)
    page.get_by_role("button", name="Uitloggen").wait_for()
    page.context.close()
