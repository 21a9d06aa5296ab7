"""The portal speaks each account's language; before login, the browser's."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from db.models import Account, ImportJob
from tests.conftest import SAMPLES
from tests.ui.conftest import new_app, signed_in, texts, widget
from tests.ui.test_wizard import IMPORT, click, wait_for_job


def test_the_login_and_first_run_follow_the_browser_language(make_account, app_db: Engine) -> None:
    first = new_app(locale="nl-NL").run()
    assert "Welkom bij Instroom" in [t.value for t in first.title]
    widget(first.text_input, "Gebruikersnaam").input("beheer")
    widget(first.text_input, "Je naam").input("Bea Heer")
    widget(first.text_input, "E-mailadres").input("bea@example.nl")
    widget(first.text_input, "Wachtwoord").input("een lang genoeg wachtwoord")
    widget(first.text_input, "Herhaal het wachtwoord").input("een lang genoeg wachtwoord")
    first = click(first, "Beheerder aanmaken")
    # The login form that follows says the account was made.
    assert [s.value for s in first.success] == [
        "Beheerder aangemaakt. Log in met je nieuwe account."
    ]
    assert "Inloggen" in [s.value for s in first.subheader]
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
    # "Koppeling" is the link with the HR export (Plek's word); a saved mapping is another thing.
    assert widget(at.text_input, "Deze kolomindeling bewaren als")
    at = click(at, "Volgende")
    # Defaults and choices in words, Streamlit's own placeholders set in Dutch.
    role = widget(at.selectbox, "Rol van nieuwe gebruikers")
    assert role.options[0] == "geen standaardrol: de rol uit het bestand"
    language = widget(at.selectbox, "Taal van nieuwe gebruikers")
    assert language.options[0] == "geen standaardtaal: de taal uit het bestand"
    assert {"Nederlands", "Engels"} <= set(language.options)
    assert [m.placeholder for m in at.multiselect][:2] == [
        "Kies groepen, of typ een nieuwe",
        "Kies niveaus, of typ een nieuw",
    ]
    widget(at.checkbox, "Groepen aanmaken die nog niet bestaan").check()
    at = click(at, "Volgende")
    assert "Stap 4 van 6: Voorbeeld" in at.get("progress")[0].proto.text
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Aangemaakt"], metrics["Fouten"]) == ("3", "1")
    created = next(d.value for d in at.dataframe if "Wijzigingen" in d.value.columns)
    assert "Voornaam: leeg → Jan" in created["Wijzigingen"].iloc[0]  # labels, not field keys
    assert "first_name" not in created.to_string()
    assert "Soort: leeg → medewerker" in created["Wijzigingen"].iloc[0]  # values in words too
    for key in ("employee", "invited", "None"):
        assert key not in created.to_string(), key
    issues = next(d.value for d in at.dataframe if "Probleem en wat te doen" in d.value.columns)
    assert (
        issues["Probleem en wat te doen"]
        .iloc[0]
        .startswith("'ben.holt(at)cwtestgebruiker.nl' is geen geldig e-mailadres")
    )
    # email-validator's own reason too, not its English.
    assert "Een e-mailadres moet een @-teken hebben." in issues["Probleem en wat te doen"].iloc[0]
    at = click(at, "Volgende")
    assert (
        "3 gebruikers aanmaken en 2 nieuwe groepen aanmaken (G1, G2)? 1 afgekeurde rij "
        "wordt niet geïmporteerd." in texts(at)
    )
    at = click(at, "De import starten")
    wait_for_job(app_db, int(at.query_params["job"][0]))
    at.run()
    assert "Toegevoegd aan de catalogus: 2 groepen (G1, G2)." in texts(at)


def test_the_same_history_in_dutch_for_the_admin_and_english_for_support(
    make_account, app_db: Engine
) -> None:
    from tests.db.test_import_engine import run

    make_account("beheer", "admin", "nl")
    make_account("helpdesk", "support", "en")
    result = run(
        app_db,
        "Email;Voornaam;Achternaam\nok@example.org;Ok;Rij\nfout;Fout;Rij\n",
        welcome_new=True,
        create_groups=True,
    )
    for who, role, words in (
        ("beheer", "admin", ("Geschiedenis van de imports", "is geen geldig e-mailadres")),
        ("helpdesk", "support", ("Import history", "is not a valid email address")),
    ):
        at = signed_in(who, role, "pages/2_History.py")
        at.query_params["job"] = str(result.job_id)
        at.run()
        assert not at.exception
        shown = texts(at) + "\n".join(d.value.to_string() for d in at.dataframe)
        assert all(w in shown for w in words), (who, words)
    dutch = signed_in("beheer", "admin", "pages/2_History.py")
    dutch.query_params["job"] = str(result.job_id)
    dutch.run()
    labels = [e.label for e in dutch.expander]
    assert f"Import {result.job_id} · users\\.csv · klaar, met afgekeurde rijen" in labels
    shown = texts(dutch)
    assert (
        "Nieuwe gebruikers worden aangemaakt en bestaande bijgewerkt; groepen die nog niet "
        "bestaan worden aangemaakt; nieuwe gebruikers krijgen een welkomstmail." in shown
    )
    assert "Gestart door test op " in shown
    table = dutch.dataframe[0].value
    assert list(table.columns)[:5] == ["Import", "Wanneer", "Wie", "Bestand", "Status"]
    assert table["Status"].tolist() == ["klaar, met afgekeurde rijen"]


def test_the_activation_page_speaks_the_imported_user_s_language(app_db: Engine) -> None:
    from core.one_time_links import token_hash
    from db.models import User, utcnow

    with Session(app_db) as session:
        session.add(
            User(
                email="nina@example.nl",
                first_name="Nina",
                last_name="Nieuw",
                language="nl",
                activation_token_hash=token_hash("tok-nl"),
                activation_expires_at=utcnow().replace(year=utcnow().year + 1),
            )
        )
        session.commit()
    at = new_app("pages/5_Activate.py", locale="en-US")  # an English browser, a Dutch user
    at.query_params["token"] = "tok-nl"
    at.run()
    assert "Activeer je account" in [t.value for t in at.title]
    widget(at.text_input, "Nieuw wachtwoord").input("kort")
    widget(at.text_input, "Herhaal het wachtwoord").input("kort")
    widget(at.button, "Mijn wachtwoord instellen").click()
    at.run()
    assert "Het wachtwoord moet minstens 10 tekens lang zijn." in texts(at)
    unknown = new_app("pages/5_Activate.py", locale="en-US")
    unknown.query_params["token"] = "no-such-token"
    unknown.run()
    assert "This link is not valid or has already been used." in texts(unknown)


def test_settings_in_dutch(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin", "nl")
    at = signed_in("beheer", "admin", "pages/4_Settings.py")
    assert "Instellingen" in [t.value for t in at.title]
    section = widget(at.radio, "Onderdeel")
    assert "Koppelingen" in section.options and "Profielvelden" in section.options
    section.set_value("Groups")
    at = at.run()
    widget(at.text_input, "Nieuwe groep").input("Stagiairs")
    at = click(at, "Groep toevoegen")
    assert "Groep 'Stagiairs' toegevoegd." in texts(at)
    widget(at.text_input, "Nieuwe groep").input("stagiairs")
    at = click(at, "Groep toevoegen")
    assert "Er bestaat al een groep met de naam 'stagiairs'." in texts(at)
    widget(at.radio, "Onderdeel").set_value("Links")
    at = at.run()
    assert "Er zijn nog geen koppelingen." in texts(at)
    assert "Naam van de koppeling" in [t.label for t in at.text_input]


def test_a_dutch_admin_invites_a_dutch_colleague(make_account, app_db: Engine) -> None:
    import re

    make_account("beheer", "admin", "nl")
    at = signed_in("beheer", "admin", "pages/4_Settings.py")
    widget(at.radio, "Onderdeel").set_value("Portal accounts")
    at = at.run()
    assert "Er is geen mailserver ingesteld (Instellingen > Mail)." in texts(at)
    widget(at.text_input, "Gebruikersnaam").input("collega")
    widget(at.text_input, "E-mailadres").input("collega@example.nl")
    at = click(at, "Uitnodigen")
    shown = texts(at)
    assert "Geef collega deze link om een wachtwoord te kiezen; hij werkt één keer, tot" in shown
    token = re.findall(r"/Activate\?invite=([\w-]+)", shown)[0]
    states = dict(zip(*at.dataframe[0].value[["Gebruikersnaam", "Toestand"]].T.values, strict=True))
    assert states["beheer"] == "actief"
    assert states["collega"].startswith("uitgenodigd, de link werkt tot ")
    page = new_app("pages/5_Activate.py", locale="en-US")  # an English browser, a Dutch account
    page.query_params["invite"] = token
    page.run()
    assert "Kies je wachtwoord" in [t.value for t in page.title]
    widget(page.text_input, "Nieuw wachtwoord").input("aaaaaaaaaaaa")
    widget(page.text_input, "Herhaal het wachtwoord").input("aaaaaaaaaaaa")
    widget(page.button, "Mijn wachtwoord instellen").click()
    page.run()
    assert "Het wachtwoord is te makkelijk te raden" in texts(page)


def test_the_home_page_writes_counts_the_dutch_way(make_account, app_db: Engine) -> None:
    from tests.db.test_import_engine import run

    make_account("beheer", "admin", "nl")
    rows = "".join(f"u{i}@example.nl;U;{i};{'nee' if i % 10 else 'ja'}\n" for i in range(1_017))
    run(app_db, "E-mail;Voornaam;Achternaam;Geblokkeerd\n" + rows)
    at = signed_in("beheer", "admin")
    shown = {m.label: m.value for m in at.metric}
    assert shown["Gebruikers"] == "1.017"
    assert (shown["Actief"], shown["Geblokkeerd"]) == ("915", "102")


def test_one_of_a_kind_is_written_in_the_singular(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin", "nl")
    at = signed_in("beheer", "admin", IMPORT)
    widget(at.text_area, "…of plak de rijen hier (met een kopregel)").input(
        "Medewerkers december\nEmail;Voornaam;Achternaam\nann@example.org;Ann;Smit\n"
    )
    at = at.run()
    shown = texts(at)
    assert "1 rij" in shown and "1 rijen" not in shown
    assert "1 punt om te controleren in dit bestand:" in shown
    findings = next(d.value for d in at.dataframe if "Probleem" in d.value.columns)
    assert "None" not in findings.to_string() and "nan" not in findings.to_string()


def test_a_pasted_list_and_a_link_are_named_in_the_readers_words_in_the_history(
    make_account, app_db: Engine
) -> None:
    from core.source import PASTED
    from tests.db.test_import_engine import run

    make_account("beheer", "admin", "nl")
    run(app_db, "E-mail;Voornaam;Achternaam\nann@example.org;Ann;Smit\n", name=PASTED)
    with Session(app_db) as session:  # as a link's run records who started it
        job = session.exec(select(ImportJob)).one()
        job.created_by = "link Personeel map"
        session.add(job)
        session.commit()
    at = signed_in("beheer", "admin", "pages/2_History.py")
    jobs = next(d.value for d in at.dataframe if "Bestand" in d.value.columns)
    assert jobs["Bestand"].tolist() == ["(geplakte tekst)"]
    assert jobs["Wie"].tolist() == ["de koppeling Personeel map"]
    assert any("(geplakte tekst)" in e.label.replace("\\", "") for e in at.expander)


def test_before_login_the_sidebar_offers_the_language(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin", "nl")
    at = new_app(locale="nl-NL").run()
    # Never an empty sidebar before login: it holds the language choice.
    choice = widget(at.sidebar.selectbox, "Taal / Language")
    assert choice.value == "nl" and "Inloggen" in [s.value for s in at.subheader]
    choice.set_value("en")
    at.run()
    assert "Login" in [s.value for s in at.subheader]
    widget(at.text_input, "Username").input("beheer")
    widget(at.text_input, "Password").input("a long enough password")
    widget(at.button, "Login").click()
    at.run()
    # Signed in, the account's own language wins over the visitor's choice.
    assert "Uitloggen" in [b.label for b in at.button]
