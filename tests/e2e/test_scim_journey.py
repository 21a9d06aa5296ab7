"""An administrator connects Entra ID in Settings > SCIM, and the provider's user appears."""

import httpx2
import pytest

from tests.e2e.conftest import Portal, shot, wait_idle
from tests.e2e.journey import click, fill, first_run_and_login, open_page

pytestmark = pytest.mark.browser


def test_a_connection_made_in_settings_lets_entra_create_a_user(
    browser_page, portal: Portal
) -> None:
    page = browser_page
    first_run_and_login(page, portal)
    open_page(page, "Settings")
    page.locator("[data-testid=stRadio]").get_by_text("SCIM", exact=True).click()
    wait_idle(page)
    address = f"{portal.url}/scim/v2"
    page.locator("[data-testid=stCode]").filter(has_text=address).wait_for()
    fill(page, "Name", "Entra ID")
    click(page, "Make the connection and its token")
    page.get_by_text("Connection Entra ID made.").wait_for()
    token = page.locator("[data-testid=stCode]").filter(has_text="scim_").inner_text().strip()
    shot(page, "20-scim-token")
    # Shown once: after a reload only its fingerprint is left.
    page.reload()
    wait_idle(page)
    page.locator("[data-testid=stRadio]").get_by_text("SCIM", exact=True).click()
    wait_idle(page)
    page.locator("[data-testid=stExpander]").get_by_text("Entra ID", exact=True).click()
    page.get_by_text("not used yet", exact=False).wait_for()
    assert page.locator("[data-testid=stCode]").filter(has_text="scim_").count() == 0

    # What Entra ID does with the address and token pasted in its provisioning page.
    user = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "lotte.devries@contoso.nl",
        "name": {"givenName": "Lotte", "familyName": "de Vries"},
        "emails": [{"value": "lotte.devries@contoso.nl", "type": "work", "primary": True}],
        "active": True,
    }
    headers = {"Authorization": f"Bearer {token}"}
    with httpx2.Client(base_url=address, headers=headers, timeout=30) as entra:
        assert entra.get("/Users?startIndex=1&count=2").status_code == 200
        created = entra.post("/Users", json=user)
    assert created.status_code == 201, created.text

    page.reload()
    wait_idle(page)
    page.locator("[data-testid=stRadio]").get_by_text("SCIM", exact=True).click()
    page.locator("[data-testid=stExpander]").get_by_text("Entra ID", exact=True).click()
    page.get_by_text("last used", exact=False).wait_for()
    # The tables draw on a canvas; their cells are in the page for screen readers.
    open_page(page, "Users")
    cells = page.locator("[role=gridcell]")
    cells.filter(has_text="lotte.devries@contoso.nl").first.wait_for(state="attached")
    open_page(page, "History")
    cells.filter(has_text="SCIM: Entra ID").first.wait_for(state="attached")
    shot(page, "21-scim-history")
