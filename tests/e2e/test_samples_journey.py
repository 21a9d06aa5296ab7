"""Every sample file through the wizard, a revert, and a support account, in the browser."""

import re

import pytest

from tests.conftest import SAMPLES, Inbox
from tests.e2e.conftest import Portal, new_context, shot, wait_idle
from tests.e2e.journey import (
    choose,
    click,
    fill,
    first_run_and_login,
    import_file,
    open_page,
)

pytestmark = pytest.mark.browser


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
    helpdesk = new_context(page.context.browser).new_page()
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
