"""The portal speaks each account's language; before login, the browser's."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from db.models import Account
from tests.conftest import SAMPLES
from tests.ui.conftest import new_app, signed_in, texts, widget
from tests.ui.test_wizard import IMPORT, click


def test_the_login_and_first_run_follow_the_browser_language(make_account, app_db: Engine) -> None:
    first = new_app(locale="nl-NL").run()
    assert "Welkom bij Instroom" in [t.value for t in first.title]
    widget(first.text_input, "Gebruikersnaam").input("beheer")
    widget(first.text_input, "Je naam").input("Bea Heer")
    widget(first.text_input, "E-mailadres").input("bea@example.nl")
    widget(first.text_input, "Wachtwoord").input("een lang genoeg wachtwoord")
    widget(first.text_input, "Herhaal het wachtwoord").input("een lang genoeg wachtwoord")
    first = click(first, "Beheerder aanmaken")
    with Session(app_db) as session:
        assert session.exec(select(Account.language)).one() == "nl"
    dutch = new_app(locale="nl-BE").run()
    assert "Inloggen" in [s.value for s in dutch.subheader]
    english = new_app(locale="en-US").run()
    assert "Login" in [s.value for s in english.subheader]
    # A browser asking for a language the portal does not have gets Dutch.
    german = new_app(locale="de-DE").run()
    assert "Inloggen" in [s.value for s in german.subheader]


def test_the_sidebar_choice_is_remembered_for_the_account(make_account, app_db: Engine) -> None:
    make_account("support1", "support", "en")
    at = signed_in("support1", "support")
    assert "Log out" in [b.label for b in at.button]
    widget(at.selectbox, "Taal / Language").set_value("nl")
    at.run()
    assert "Uitloggen" in [b.label for b in at.button]
    with Session(app_db) as session:
        assert session.exec(select(Account.language)).one() == "nl"
    again = signed_in("support1", "support")  # another browser session, the same account
    assert "Uitloggen" in [b.label for b in again.button]
    assert "Nog geen imports." in texts(again)


def test_a_whole_import_in_dutch(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin", "nl")
    at = signed_in("beheer", "admin", IMPORT)
    assert "Stap 1 van 6: Uploaden" in at.get("progress")[0].proto.text
    sample = (SAMPLES / "caseware-personeel.csv").read_text()
    broken = sample.replace("ben.holt@cwtestgebruiker.nl", "ben.holt(at)cwtestgebruiker.nl")
    widget(at.text_area, "…of plak de rijen hier (met een kopregel)").input(broken)
    at = at.run()
    assert "4 rijen" in texts(at) and "gescheiden door komma" in texts(at)
    at = click(at, "Volgende")
    assert "Stap 2 van 6: Kolommen koppelen" in at.get("progress")[0].proto.text
    assert widget(at.selectbox, "Veld voor Voornaam").value == "first_name"
    at = click(at, "Volgende")
    widget(at.checkbox, "Groepen aanmaken die nog niet bestaan").check()
    at = click(at, "Volgende")
    assert "Stap 4 van 6: Voorbeeld" in at.get("progress")[0].proto.text
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Aangemaakt"], metrics["Fouten"]) == ("3", "1")
    issues = next(d.value for d in at.dataframe if "Probleem en wat te doen" in d.value.columns)
    assert (
        issues["Probleem en wat te doen"]
        .iloc[0]
        .startswith("'ben.holt(at)cwtestgebruiker.nl' is geen geldig e-mailadres")
    )
    at = click(at, "Volgende")
    assert "3 gebruikers aanmaken? 1 afgekeurde rijen worden niet geïmporteerd." in texts(at)
    assert "De import starten" in [b.label for b in at.button]
