"""Settings > Links and the wizard's "save as a link", through the real pages."""

import os
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from core.config import load_settings
from core.links import run_link
from db.models import ImportJob, Link, LinkRun, User
from tests.conftest import SAMPLES
from tests.ui.conftest import signed_in, texts, widget
from tests.ui.test_wizard import IMPORT, click, paste

SETTINGS = "pages/4_Settings.py"


def open_links(make_account):
    make_account("beheer", "admin")
    at = signed_in("beheer", "admin", SETTINGS)
    widget(at.radio, "Section").set_value("Links")
    return at.run()


def test_a_link_is_added_run_skipped_when_unchanged_and_paused(
    make_account, app_db: Engine, tmp_path: Path
) -> None:
    (tmp_path / "medewerkers_1.csv").write_text(
        "E-mail;Voornaam;Achternaam\na@example.nl;An;Bos\nb@example.nl;Bo;Dam\n", encoding="utf-8"
    )
    at = open_links(make_account)
    assert not at.exception
    assert "There are no links yet." in texts(at)
    (tmp_path / "medewerkers_0.csv").write_text(
        "E-mail;Voornaam;Achternaam\nc@example.nl;Cor;Vos\ngeen-adres;X;Y\n", encoding="utf-8"
    )
    os.utime(tmp_path / "medewerkers_0.csv", (1_000, 1_000))
    widget(at.text_input, "Name of the link").input("Personeel")
    widget(at.text_input, "Source").input(f"folder:{tmp_path}/medewerkers_*.csv")
    widget(at.radio, "When").set_value("Daily at")
    at.run()
    widget(at.text_input, "Time (HH:MM)").input("25:00")
    at.run()
    assert "'25:00' is not a time of day" in texts(at)
    widget(at.text_input, "Time (HH:MM)").input("06:30")
    at.run()
    shown = texts(at)
    assert shown.count("06:30") == 3 and "(Europe/Amsterdam)" in shown
    at = click(at, "Save the link")
    assert "Link 'Personeel' saved." in texts(at)
    table = at.dataframe[0].value
    assert table.iloc[0]["Name"] == "Personeel" and table.iloc[0]["Schedule"] == "daily at 06:30"
    assert table.iloc[0]["Last run"] == "never"

    at = click(at, "Run now")
    assert "Import 1: succeeded (2 rows; created 2)." in texts(at)
    assert at.dataframe[0].value.iloc[0]["Last run"].endswith(": succeeded")
    (tmp_path / "medewerkers_1.csv").unlink()
    at = click(at, "Dry run now")
    assert "Dry run: completed, rows rejected (2 rows; created 1, errors 1)." in texts(at)
    issues = at.dataframe[1].value
    assert issues.iloc[0]["Row"] == 3 and "geen-adres" in issues.iloc[0]["Message"]
    (tmp_path / "medewerkers_1.csv").write_text(
        "E-mail;Voornaam;Achternaam\na@example.nl;An;Bos\nb@example.nl;Bo;Dam\n", encoding="utf-8"
    )
    at = click(at, "Run now")
    assert "The source is unchanged since the last run; nothing was imported." in texts(at)
    runs = at.dataframe[-1].value
    assert list(runs["Status"]) == [
        "unchanged, skipped",
        "completed, rows rejected (dry run)",
        "succeeded",
    ]
    at = click(at, "Pause")
    assert "Link 'Personeel' paused." in texts(at)
    assert "Paused by hand." in texts(at)
    with Session(app_db) as session:
        assert session.exec(select(Link)).one().paused
        assert len(session.exec(select(User)).all()) == 2
    at = click(at, "Remove the link")
    assert "Link 'Personeel' removed; its imports stay in the history." in texts(at)
    with Session(app_db) as session:
        assert session.exec(select(Link)).all() == [] and session.exec(select(LinkRun)).all() == []
        assert session.get(ImportJob, 1).created_by == "link Personeel"


def test_a_source_that_cannot_work_is_explained_and_nothing_is_saved(
    make_account, app_db: Engine
) -> None:
    at = open_links(make_account)
    widget(at.text_input, "Name of the link").input("Web")
    widget(at.text_input, "Source").input("http://hr.example.nl/export.csv")
    at = click(at, "Save the link")
    assert "uses plain http://" in texts(at)
    assert not at.exception
    with Session(app_db) as session:
        assert session.exec(select(Link)).all() == []


def test_the_wizard_saves_its_mapping_and_options_as_a_link(
    make_account, app_db: Engine, tmp_path: Path
) -> None:
    sample = (SAMPLES / "caseware-personeel.csv").read_text()
    (tmp_path / "caseware.csv").write_text(sample, encoding="utf-8")
    make_account("beheer", "admin")
    at = signed_in("beheer", "admin", IMPORT)
    at = paste(at, sample)
    at = click(at, "Next")
    widget(at.selectbox, "Field for Titel").set_value("department")
    at = click(at, "Next")
    widget(at.checkbox, "Create groups that do not exist yet").check()
    at = click(at, "Next")
    at = click(at, "Next")
    assert "Create 4 users and create 2 new groups (G1, G2)?" in texts(at)
    widget(at.text_input, "Name of the link").input("Caseware")
    widget(at.text_input, "Source").input(f"folder:{tmp_path}/caseware.csv")
    widget(at.radio, "When").set_value("Every N hours")
    at = click(at, "Save the link")
    assert "Link 'Caseware' saved." in texts(at)
    with Session(app_db) as session:
        link = session.exec(select(Link)).one()
        assert {"header": "Titel", "field": "department"} in link.mapping["columns"]
        assert (link.options["create_groups"], link.schedule, link.created_by) == (
            True,
            "every 6h",
            "beheer",
        )
    outcome = run_link(engine=app_db, settings=load_settings(), name="Caseware")
    assert (outcome.status, outcome.result.counts["created"]) == ("succeeded", 4)
    with Session(app_db) as session:
        ngra = session.exec(select(User).where(User.email == "ngra@cwtestgebruiker.nl")).one()
        assert ngra.profile["department"] == "Teamleider"
        assert session.exec(select(LinkRun)).one().job_id == outcome.job_id
