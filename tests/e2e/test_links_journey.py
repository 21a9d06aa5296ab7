"""An administrator saves a link from the wizard and runs it now, in a real browser."""

from pathlib import Path

import pytest

from tests.e2e.conftest import Portal, shot, wait_idle
from tests.e2e.journey import click, fill, first_run_and_login, open_page, upload

pytestmark = pytest.mark.browser


def test_a_link_saved_in_the_wizard_runs_now_and_is_in_the_history(
    browser_page, portal: Portal, tmp_path: Path
) -> None:
    page = browser_page
    exports = tmp_path / "hr"
    exports.mkdir()
    export = exports / "medewerkers_20261202.csv"
    export.write_text(
        "E-mail;Voornaam;Achternaam\nsanne@voorbeeld.nl;Sanne;Bakker\nmo@voorbeeld.nl;Mo;Haddou\n",
        encoding="utf-8",
    )
    first_run_and_login(page, portal)

    open_page(page, "Import")
    upload(page, str(export))
    page.get_by_text("medewerkers_20261202.csv: 2 rows").wait_for()
    for step in ("Step 2 of 6: Map columns", "Step 3 of 6: Options", "Step 4 of 6: Preview"):
        click(page, "Next")
        page.get_by_text(step).wait_for()
    click(page, "Next")
    page.get_by_text("Create 2 users?").wait_for()
    page.get_by_text("Save as a link", exact=False).click()
    wait_idle(page)
    fill(page, "Name of the link", "Personeel nachtelijk")
    fill(page, "Source", f"folder:{exports}/medewerkers_*.csv")
    page.locator("[data-testid=stRadio]").get_by_text("Daily at", exact=True).click()
    wait_idle(page)
    page.get_by_text("(Europe/Amsterdam)", exact=False).wait_for()
    click(page, "Save the link")
    page.get_by_text("Link 'Personeel nachtelijk' saved.").wait_for()

    # A reload keeps the login; the link is in Settings > Links, not yet run.
    page.reload()
    wait_idle(page)
    open_page(page, "Settings")
    page.locator("[data-testid=stRadio]").get_by_text("Links", exact=True).click()
    wait_idle(page)
    page.get_by_text("Next runs:", exact=False).first.wait_for()
    click(page, "Run now")
    page.get_by_text("Import 1: succeeded (2 rows; created 2).").wait_for(timeout=60_000)
    shot(page, "10-links")

    # The run is an ordinary import in the history, opened in a new tab.
    history = page.context.new_page()
    history.goto(f"{portal.url}/History?job=1")
    wait_idle(history)
    history.get_by_text("Started by the link Personeel nachtelijk", exact=False).wait_for()
    history.close()

    click(page, "Run now")
    page.get_by_text("The source is unchanged since the last run; nothing was imported.").wait_for()
    click(page, "Pause")
    page.get_by_text("Link 'Personeel nachtelijk' paused.").wait_for()
