"""The import wizard, driven through AppTest from upload to result."""

import time

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from core import export
from core.config import load_settings
from core.pipeline import PREVIEW_CHUNK_ROWS
from core.worker import claim_next_job, run_job
from db.models import ImportJob
from tests.conftest import SAMPLES
from tests.db.test_worker import enqueue
from tests.ui.conftest import signed_in, texts, widget
from ui.widgets import md

IMPORT = "pages/1_Import.py"


def click(at: AppTest, label: str) -> AppTest:
    widget(at.button, label).click()
    return at.run()


def users(engine: Engine) -> dict:
    with Session(engine) as session:
        return {u["email"]: u for u in export.list_users(session=session)}


def wait_for_job(engine: Engine, job_id: int) -> ImportJob:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with Session(engine) as session:
            job = session.get(ImportJob, job_id)
        if job.status not in {"queued", "running"}:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job.status}")


def test_wizard_end_to_end_with_a_fixed_row(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin")
    at = signed_in("beheer", "admin", IMPORT)
    assert not at.exception
    assert "Step 1 of 6: Upload" in at.get("progress")[0].proto.text
    sample = (SAMPLES / "caseware-personeel.csv").read_text()
    broken = sample.replace("ben.holt@cwtestgebruiker.nl", "ben.holt(at)cwtestgebruiker.nl")
    widget(at.text_area, "…or paste the rows here (with a header row)").input(broken)
    at.run()
    assert "4 rows" in texts(at) and "comma-separated" in texts(at)

    widget(at.selectbox, "Delimiter").set_value(";")
    at.run()
    assert "semicolon-separated" in texts(at)
    widget(at.selectbox, "Delimiter").set_value(",")
    at = click(at, "Next")

    assert "Step 2 of 6: Map columns" in at.get("progress")[0].proto.text
    titel = widget(at.selectbox, "Field for Titel")
    assert titel.value == "job_title"
    titel.set_value("department")
    at = click(at, "Next")

    assert "Step 3 of 6: Options" in at.get("progress")[0].proto.text
    widget(at.checkbox, "Create groups that do not exist yet").check()
    widget(at.checkbox, "Send new users a welcome email").check()
    at = click(at, "Next")

    assert "Step 4 of 6: Preview" in at.get("progress")[0].proto.text
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Created"], metrics["Errors"]) == ("3", "1")
    assert "is not a valid email address" in at.dataframe[-1].value.to_string() or any(
        "is not a valid email address" in d.value.to_string() for d in at.dataframe
    )
    assert "No mail server is configured" in texts(at)
    emails = next(d.value for d in at.dataframe if list(d.value.columns) == ["To", "Message"])
    assert len(emails) == 3 and set(emails["Message"]) == {"welcome"}
    assert "ngra@cwtestgebruiker.nl" in emails["To"].tolist()
    # The preview is the message its first recipient gets: heading and body name one person.
    preview = next(e for e in at.expander if e.label.startswith("Welkom"))
    assert emails["To"].iloc[0] == "j.brooy@cwtestgebruiker.nl"
    assert md("j.brooy@cwtestgebruiker.nl") in preview.label
    assert preview.text[0].value.startswith("Beste Jan Brooy,")
    widget(at.selectbox, "Row").set_value(4)
    widget(at.selectbox, "Column").set_value(2)
    widget(at.text_input, "New value").input("ben.holt@cwtestgebruiker.nl")
    at = click(at, "Correct and revalidate")
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Created"], metrics["Errors"]) == ("4", "0")
    at = click(at, "Next")

    assert "Create 4 users, create 2 new groups (G1, G2) and send 4 welcome mails?" in texts(at)
    at = click(at, "Start the import")
    job_id = int(
        at.query_params["job"][0]
        if isinstance(at.query_params["job"], list)
        else at.query_params["job"]
    )
    job = wait_for_job(app_db, job_id)
    assert (job.status, job.counts["created"]) == ("succeeded", 4)
    at.run()
    assert f"Import {job_id} finished: succeeded." in texts(at)
    assert "Added to the catalogue: 2 groups (G1, G2)." in texts(at)
    found = users(app_db)
    assert set(found) == {
        "j.brooy@cwtestgebruiker.nl",
        "ngra@cwtestgebruiker.nl",
        "ben.holt@cwtestgebruiker.nl",
        "ron.hartman@cwtestgebruiker.nl",
    }
    assert found["ngra@cwtestgebruiker.nl"]["profile"]["department"] == "Teamleider"
    assert found["ngra@cwtestgebruiker.nl"]["groups"] == ["G1", "G2", "Iedereen"]


def test_reload_returns_to_a_started_import(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin")
    job_id = enqueue(app_db, "Email;Voornaam;Achternaam\na@example.org;A;A\n")
    claim_next_job(engine=app_db)
    run_job(engine=app_db, job_id=job_id, settings=load_settings())
    at = signed_in("beheer", "admin")
    at.switch_page(IMPORT)
    at.query_params["job"] = str(job_id)
    at.run()
    assert f"Import {job_id} finished: succeeded." in texts(at)


def test_a_file_without_email_column_cannot_go_past_mapping(
    make_account,
    app_db: Engine,
) -> None:
    make_account("beheer", "admin")
    at = signed_in("beheer", "admin", IMPORT)
    widget(at.text_area, "…or paste the rows here (with a header row)").input(
        "Naam;Plaats\nAnn;Delft\n"
    )
    at.run()
    at = click(at, "Next")
    assert "No column is mapped to 'email'" in texts(at)
    assert widget(at.button, "Next").disabled


def test_unusable_paste_is_explained(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin")
    at = signed_in("beheer", "admin", IMPORT)
    widget(at.text_area, "…or paste the rows here (with a header row)").input("Email\n\n")
    at.run()
    assert not at.exception
    assert "no rows of users below it" in texts(at)
    assert [b for b in at.button if b.label == "Next"] == []


def test_preview_of_a_file_larger_than_one_chunk(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin")
    at = signed_in("beheer", "admin", IMPORT)
    rows = "".join(f"u{i}@example.org;U{i};Test\n" for i in range(PREVIEW_CHUNK_ROWS + 1_500))
    widget(at.text_area, "…or paste the rows here (with a header row)").input(
        "Email;Voornaam;Achternaam\n" + rows
    )
    at.run()
    at = click(at, "Next")
    at = click(at, "Next")
    at = click(at, "Next")
    assert not at.exception
    assert "Step 4 of 6: Preview" in at.get("progress")[0].proto.text
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Created"], metrics["Errors"]) == (f"{PREVIEW_CHUNK_ROWS + 1_500:,}", "0")
    # The progress of the growing preview is gone once the whole file is checked.
    assert not any("Checked" in p.proto.text for p in at.get("progress"))
    shown = at.dataframe[0].value
    assert len(shown) == 50 and shown["Email"].iloc[0] == "u0@example.org"


def test_a_file_with_a_repeated_header_shows_its_columns(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin")
    at = signed_in("beheer", "admin", IMPORT)
    widget(at.text_area, "…or paste the rows here (with a header row)").input(
        "email;Naam;Naam\na@example.org;Ann;Smit\n"
    )
    at.run()
    assert not at.exception
    assert at.dataframe[0].value.columns.tolist() == ["email", "Naam", "Naam (2)"]


def paste(at: AppTest, text: str) -> AppTest:
    box = next(w for w in at.text_area if w.label.startswith("…or paste"))
    box.input(text)
    return at.run()


def test_options_survive_back_and_next_but_not_another_file(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin")
    at = paste(signed_in("beheer", "admin", IMPORT), "Email;Voornaam;Achternaam\na@x.nl;A;B\n")
    at = click(click(at, "Next"), "Next")
    widget(at.checkbox, "Email me when the import is done").check()
    widget(at.checkbox, "This file is the full list").check()
    at = click(click(at, "Next"), "Back")
    assert "Step 3 of 6: Options" in at.get("progress")[0].proto.text
    assert widget(at.checkbox, "Email me when the import is done").value
    assert widget(at.checkbox, "This file is the full list").value
    at = click(click(at, "Back"), "Back")
    at = paste(at, "Email;Voornaam;Achternaam\nb@x.nl;B;C\n")
    at = click(click(at, "Next"), "Next")
    assert not widget(at.checkbox, "Email me when the import is done").value
    assert not widget(at.checkbox, "This file is the full list").value


def test_start_over_forgets_the_file_and_its_choices(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin")
    at = paste(signed_in("beheer", "admin", IMPORT), "Email;Voornaam;Achternaam\na@x.nl;A;B\n")
    at = click(click(at, "Next"), "Next")
    widget(at.checkbox, "This file is the full list").check()
    at = click(at, "Start over")
    assert "Step 1 of 6: Upload" in at.get("progress")[0].proto.text
    assert "Upload a file or paste rows to begin." in texts(at)
    assert next(w for w in at.text_area if w.label.startswith("…or paste")).value == ""
    assert [b for b in at.button if b.label == "Start over"] == []


def test_the_result_says_how_far_the_emails_are(
    make_account, app_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mail goes out after the import: the result keeps saying how many are still waiting."""
    from tests.db.test_faults import silent_mail_server

    make_account("beheer", "admin")
    job_id = enqueue(
        app_db,
        "Email;Voornaam;Achternaam\na@example.org;A;A\nb@example.org;B;B\n",
        welcome_new=True,
    )
    claim_next_job(engine=app_db)
    run_job(engine=app_db, job_id=job_id, settings=load_settings())
    with silent_mail_server() as port:
        monkeypatch.setenv("INSTROOM_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("INSTROOM_SMTP_PORT", str(port))
        monkeypatch.setenv("INSTROOM_SMTP_TIMEOUT", "3")
        at = signed_in("beheer", "admin")
        at.switch_page(IMPORT)
        at.query_params["job"] = str(job_id)
        at.run()
        assert "Import 1 finished: succeeded." in texts(at)
        assert [p.proto.text for p in at.get("progress")][-1] == "0 of 2 emails sent, 2 waiting"
