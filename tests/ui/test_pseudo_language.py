"""Every screen read in the pseudo-language: no text a Dutch admin sees escaped the catalog."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.mail_templates import DEFAULTS
from core.one_time_links import token_hash
from db.models import User, utcnow
from tests.conftest import SAMPLES
from tests.pseudo import catalogue_words, findings, install, words
from tests.ui.conftest import ACTIVATE, new_app, signed_in, widget
from tests.ui.test_wizard import IMPORT, wait_for_job

HISTORY, USERS, SETTINGS = "pages/2_History.py", "pages/3_Users.py", "pages/4_Settings.py"

# The proto fields of an element a person reads (ids, keys, icons and urls are not read).
READ_FIELDS = frozenset({"label", "body", "text", "options", "placeholder", "help", "caption"})
SETTINGS_SECTIONS = (
    "Profile fields",
    "Groups",
    "Levels",
    "Roles",
    "Languages",
    "Taxonomies",
    "Protected users",
    "Portal accounts",
    "Mail",
    "Time zone",
    "Links",
)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple) or type(value).__name__.startswith("Repeated"):
        for item in value:
            yield from _strings(item)
    elif hasattr(value, "ListFields"):
        for field, inner in value.ListFields():
            if field.name in READ_FIELDS or field.message_type is not None:
                yield from _strings(inner)


def _frame(frame: pd.DataFrame) -> Iterator[str]:
    yield from map(str, frame.columns)
    for column in frame.columns:
        yield from (str(v) for v in frame[column].tolist() if not isinstance(v, int | float))


def shown_texts(at: AppTest) -> list[str]:
    """Every text of the page a person can read: labels, bodies, options, cells."""
    texts: list[str] = []

    def walk(node: object) -> None:
        if type(node).__name__ == "Dataframe":
            texts.extend(_frame(node.value))  # type: ignore[attr-defined]
        elif getattr(node, "proto", None) is not None and type(node).__name__ != "Dataframe":
            texts.extend(_strings(node.proto))  # type: ignore[attr-defined]
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return texts


class Reader:
    """Collects what the pages show and what is not Dutch in it."""

    def __init__(self, data: set[str]) -> None:
        self.data, self.found = data, []

    def learn_catalogue(self, engine: Engine) -> None:
        with Session(engine) as session:
            self.data |= catalogue_words(session=session)

    def read(self, at: AppTest, where: str) -> AppTest:
        assert not at.exception, (where, at.exception)
        for text in shown_texts(at):
            self.found += [f"{where}: {f}" for f in findings(text, self.data)]
        return at


@pytest.fixture
def pseudo(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch)


def test_every_screen_reads_only_catalog_words(
    pseudo, make_account, app_db: Engine, tmp_path: Path
) -> None:
    sample = (SAMPLES / "caseware-personeel.csv").read_text()
    broken = sample.replace("ben.holt@cwtestgebruiker.nl", "ben.holt(at)cwtestgebruiker.nl")
    reader = Reader(words(broken) | {"beheer"} | _template_words())
    reader.read(new_app(locale="nl-NL").run(), "first run")
    make_account("beheer", "admin", "nl")
    login = reader.read(new_app(locale="nl-NL").run(), "login")
    widget(login.text_input, "⟦Gebruikersnaam⟧").input("beheer")
    widget(login.text_input, "⟦Wachtwoord⟧").input("wrong password here")
    widget(login.button, "⟦Inloggen⟧").click()
    assert reader.read(login.run(), "login refused").error
    home = reader.read(signed_in("beheer", "admin"), "home")
    assert home.title[0].value == "Instroom"
    reader.learn_catalogue(app_db)

    at = reader.read(signed_in("beheer", "admin", IMPORT), "step 1")
    at.text_area[0].input(broken)
    reader.read(at.run(), "step 1 with rows")
    for step in range(2, 6):
        if step == 4:
            widget(at.checkbox, "⟦Groepen aanmaken die nog niet bestaan⟧").check()
            widget(at.checkbox, "⟦Stuur nieuwe gebruikers een welkomstmail⟧").check()
        widget(at.button, "⟦Volgende⟧").click()
        at = reader.read(at.run(), f"step {step}")
    widget(at.button, "⟦De import starten⟧").click()
    at = at.run()
    job_id = int(at.query_params["job"][0])
    wait_for_job(app_db, job_id)
    reader.read(at.run(), "step 6")
    reader.learn_catalogue(app_db)  # the groups the import added
    reader.read(signed_in("beheer", "admin"), "home after an import")
    _activation(reader, app_db)

    users = reader.read(signed_in("beheer", "admin", USERS), "users")
    shown_user = widget(users.selectbox, "⟦Gebruiker tonen⟧")
    shown_user.set_value(shown_user.options[0])
    reader.read(users.run(), "one user")
    history = signed_in("beheer", "admin", HISTORY)
    history.query_params["job"] = str(job_id)
    history = reader.read(history.run(), "history")
    history.toggle(key=f"revert_open_{job_id}").set_value(True)
    history = reader.read(history.run(), "revert preview")
    history.button(key=f"revert_{job_id}").click()
    reader.read(history.run(), "revert queued")
    wait_for_job(app_db, job_id + 1)
    history = signed_in("beheer", "admin", HISTORY)
    history.query_params["job"] = str(job_id + 1)
    reader.read(history.run(), "history of the revert")
    for section in SETTINGS_SECTIONS:
        at = signed_in("beheer", "admin", SETTINGS)
        at.radio(key="settings_section").set_value(section)
        reader.read(at.run(), f"settings {section}")
    (tmp_path / "medewerkers_1.csv").write_text(sample, encoding="utf-8")
    reader.data |= words("Personeel medewerkers_1.csv")  # the link's name and its file's
    widget(at.text_input, "⟦Naam van de koppeling⟧").input("Personeel")
    widget(at.text_input, "⟦Bron⟧").input(f"folder:{tmp_path}/medewerkers_*.csv")
    widget(at.radio, "⟦Wanneer⟧").set_value("daily")
    at.run()
    widget(at.text_input, "⟦Tijd (UU:MM)⟧").input("06:30")
    at = reader.read(at.run(), "a link with its next runs")
    widget(at.button, "⟦De koppeling bewaren⟧").click()
    at = reader.read(at.run(), "a saved link")
    widget(at.button, "⟦Nu uitvoeren⟧").click()
    reader.read(at.run(), "a link that ran")
    print("\n".join(dict.fromkeys(reader.found)))
    assert reader.found == []


def _activation(reader: Reader, engine: Engine) -> None:
    """An imported user opens the page of their welcome mail and types a short password."""
    with Session(engine) as session:
        user = session.exec(select(User)).first()
        assert user is not None
        user.activation_token_hash = token_hash("pseudo-token")
        user.activation_expires_at = utcnow() + timedelta(days=3)
        session.add(user)
        session.commit()
    at = new_app(ACTIVATE, locale="nl-NL")
    at.query_params["token"] = "pseudo-token"
    at = reader.read(at.run(), "activation")
    for label in ("⟦Nieuw wachtwoord⟧", "⟦Herhaal het wachtwoord⟧"):
        widget(at.text_input, label).input("kort")
    widget(at.button, "⟦Mijn wachtwoord instellen⟧").click()
    assert reader.read(at.run(), "activation refused").error


def _template_words() -> set[str]:
    """The words of Instroom's own Dutch mails: texts an organisation edits, not the catalog's."""
    return words(" ".join(f"{s} {b}" for (_, lang), (s, b) in DEFAULTS.items() if lang == "nl"))
