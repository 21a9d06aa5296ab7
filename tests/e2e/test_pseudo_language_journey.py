"""A Dutch admin's journey in Chromium with Dutch as the pseudo-language: every word drawn
on the page came through the catalog, except Streamlit's own (listed in the README)."""

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import Portal, new_page, wait_idle
from tests.e2e.journey import ADMIN_PASSWORD, click, fill, upload
from tests.pseudo import findings, words

pytestmark = pytest.mark.browser

# Words Streamlit draws itself and lets no page translate (the README lists them).
STREAMLIT_WORDS = words(
    "Drag and drop file here Limit 200MB per file Browse files Upload Skip to main content "
    "Press Enter to apply Press Enter to submit form icon"
)
# The names of Material icons, which innerText reads but a person sees as a symbol.
ICON_NAMES = (
    "() => [...document.querySelectorAll('[data-testid=stIconMaterial]')].map(e => e.innerText)"
)
EXPORT = (
    "E-mail;Voornaam;Achternaam;Functie\nsanne@voorbeeld.nl;Sanne;Bakker;Teamleider\n"
    "mo@voorbeeld.nl;Mo;Haddou;Verpleegkundige\ngeen-adres;Fout;Rij;Stagiair\n"
)


def read(page, where: str, data: set[str], found: list[str]) -> None:
    """What the page draws, main area and sidebar, checked like the AppTest pages."""
    wait_idle(page)
    drawn = page.evaluate("() => document.querySelector('[data-testid=stApp]').innerText")
    for icon in sorted(set(page.evaluate(ICON_NAMES)), key=len, reverse=True):
        drawn = drawn.replace(icon, " ")
    for line in drawn.splitlines():
        found.extend(f"{where}: {f}" for f in findings(line, data | STREAMLIT_WORDS))


def test_a_dutch_admin_reads_only_catalog_words_in_the_browser(
    chromium, pseudo_portal: Portal, tmp_path: Path
) -> None:
    page = new_page(chromium, locale="nl-NL")
    export = tmp_path / "medewerkers.csv"
    export.write_text(EXPORT, encoding="utf-8")
    data = words(EXPORT + " medewerkers csv beheerder Bea Heer Instroom Iedereen")
    data |= words("Functie Afdeling Telefoon Mobiel Voorletters Personeelsnummer Woonplaats")
    found: list[str] = []

    page.goto(pseudo_portal.url)
    read(page, "first run", data, found)
    fill(page, "⟦Gebruikersnaam⟧", "beheerder")
    fill(page, "⟦Je naam⟧", "Bea Heer")
    fill(page, "⟦E-mailadres⟧", "bea@example.org")
    fill(page, "⟦Wachtwoord⟧", ADMIN_PASSWORD)
    fill(page, "⟦Herhaal het wachtwoord⟧", ADMIN_PASSWORD)
    click(page, "⟦Beheerder aanmaken⟧")
    read(page, "login", data, found)
    fill(page, "⟦Gebruikersnaam⟧", "beheerder")
    fill(page, "⟦Wachtwoord⟧", ADMIN_PASSWORD)
    click(page, "⟦Inloggen⟧")
    page.get_by_role("link", name="⟦Import⟧", exact=True).wait_for()
    read(page, "home", data, found)

    page.get_by_role("link", name="⟦Import⟧", exact=True).click()
    wait_idle(page)
    read(page, "step 1", data, found)
    upload(page, export)
    read(page, "step 1 with a file", data, found)
    for step in (2, 3, 4, 5):
        click(page, "⟦Volgende⟧")
        read(page, f"step {step}", data, found)
    click(page, "⟦De import starten⟧")
    page.get_by_text(re.compile(r"⟦Import \d+ openen in de geschiedenis⟧")).wait_for()
    read(page, "result", data, found)

    for link in ("⟦Geschiedenis⟧", "⟦Gebruikers⟧", "⟦Instellingen⟧"):
        page.get_by_role("link", name=link, exact=True).click()
        read(page, link, data, found)
    page.goto(f"{pseudo_portal.url}/History?job=1")
    read(page, "history of import 1", data, found)
    page.reload()
    read(page, "history after a reload", data, found)
    click(page, "⟦Uitloggen⟧")
    read(page, "after logging out", data, found)
    # Never an empty sidebar after logout: the language can be chosen before logging in.
    assert "Taal / Language" in page.get_by_test_id("stSidebar").inner_text()

    print("\n".join(dict.fromkeys(found)))
    assert found == []
