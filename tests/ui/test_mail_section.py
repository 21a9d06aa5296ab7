"""Settings > Mail: the organisation writes its welcome mail, sees it for a real user, saves it."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from db.engine import session_scope
from db.models import MailTemplate, User
from tests.ui.conftest import signed_in, texts, widget

SETTINGS = "pages/4_Settings.py"


def click(at, label: str):
    widget(at.button, label).click()
    return at.run()


def test_the_welcome_mail_is_edited_previewed_refused_when_unsafe_and_saved(
    make_account, app_db: Engine
) -> None:
    with session_scope(app_db) as session:
        session.add(User(email="jan@example.nl", first_name="Jan", last_name="Jansen"))
    make_account("beheer", "admin")
    at = signed_in("beheer", "admin", SETTINGS)
    widget(at.radio, "Section").set_value("Mail")
    at = at.run()
    assert not at.exception
    widget(at.text_input, "Name of the organisation").input("Zorggroep De Linde")
    at = click(at, "Save")
    assert "Saved." in texts(at)
    assert "{{ activatielink }}" in texts(at)  # the placeholders are listed beside the editor

    widget(at.text_input, "Preview for the user with this email address").input("jan@example.nl")
    widget(at.text_area, "Text").input("Hallo {{ voornaam }},\n\n{{ salaris }}")
    at.run()
    assert "The template names salaris, which this message does not have." in texts(at)
    widget(at.text_area, "Text").input("{{ ''.__class__.__mro__ }}")
    at = click(at, "Save the message")
    assert "The template tries something a mail template may not do." in texts(at)
    with Session(app_db) as session:
        assert session.exec(select(MailTemplate)).all() == []

    widget(at.text_input, "Subject").input("Welkom bij {{ organisatie }}")
    widget(at.text_area, "Text").input(
        "Hallo {{ voornaam }},\n\nKies je wachtwoord: {{ activatielink }}\n\n{{ organisatie }}"
    )
    at.run()
    preview = [t.value for t in at.text]
    assert any(p.startswith("Hallo Jan,") and "Zorggroep De Linde" in p for p in preview)
    assert "**Welkom bij Zorggroep De Linde**" in [m.value for m in at.markdown]
    at = click(at, "Save the message")
    assert "Welcome mail (Nederlands) saved." in texts(at)
    with Session(app_db) as session:
        stored = session.exec(select(MailTemplate)).one()
        assert (stored.kind, stored.language, stored.updated_by) == ("welcome", "nl", "beheer")
        assert stored.body.startswith("Hallo {{ voornaam }},")
    assert "The organisation's own text." in texts(at)

    at = click(at, "Use Instroom's own text again")
    assert "Instroom's own text is used again." in texts(at)
    assert widget(at.text_area, "Text").value.startswith("Beste {{ naam }},")
    with Session(app_db) as session:
        assert session.exec(select(MailTemplate)).all() == []


def test_the_mail_server_is_set_in_the_portal_tested_and_its_password_sealed(
    make_account, app_db: Engine, inbox, monkeypatch
) -> None:
    from core.config import load_settings
    from core.saved_settings import effective_settings
    from db.models import AppSetting

    make_account("beheer", "admin")
    at = signed_in("beheer", "admin", SETTINGS)
    widget(at.radio, "Section").set_value("Mail")
    at = at.run()
    assert "No mail server is set yet: messages are kept, not sent." in texts(at)
    at = click(at, "Send a test mail to beheer@example.org")
    assert "The test mail was not sent: No mail server is configured" in texts(at)
    widget(at.text_input, "Server").input(inbox.host)
    widget(at.number_input, "Port").set_value(inbox.port)
    widget(at.text_input, "Sender's address").input("hr@delinde.nl")
    at = click(at, "Save the mail server")
    assert "The mail server is saved." in texts(at)
    at = click(at, "Send a test mail to beheer@example.org")
    assert "The mail server accepted the test mail for beheer@example.org." in texts(at)
    (mail,) = inbox.to("beheer@example.org")
    assert mail["From"] == "hr@delinde.nl" and "testbericht" in mail["Subject"]

    # A password is kept sealed, and opened again for sending.
    widget(at.text_input, "User name").input("hr")
    widget(at.text_input, "Password").input("Geheim-Mailwachtwoord-7")
    at = click(at, "Save the mail server")
    with Session(app_db) as session:
        stored = session.get(AppSetting, "mail.smtp_password").value
    assert stored and "Geheim-Mailwachtwoord-7" not in stored
    used = effective_settings(app_db, load_settings())
    assert (used.smtp_user, used.smtp_password) == ("hr", "Geheim-Mailwachtwoord-7")

    # What the environment sets wins and is locked in the form.
    monkeypatch.setenv("INSTROOM_SMTP_HOST", "smtp.omgeving.nl")
    at = signed_in("beheer", "admin", SETTINGS)
    widget(at.radio, "Section").set_value("Mail")
    at = at.run()
    assert widget(at.text_input, "Server").disabled
    assert widget(at.text_input, "Server").value == "smtp.omgeving.nl"
    assert "locked here: INSTROOM_SMTP_HOST." in texts(at)
    assert effective_settings(app_db, load_settings()).smtp_host == "smtp.omgeving.nl"
