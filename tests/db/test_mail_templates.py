"""Mail in the organisation's own words, in each user's language, through a real SMTP server."""

from sqlalchemy import Engine

from core.mail import deliver_pending
from core.mail_templates import save_organisation, save_template
from db.engine import session_scope
from tests.conftest import Inbox
from tests.db.test_import_engine import run
from tests.db.test_mail_and_activation import LINK, mail_settings

WELCOME_NL = (
    "Welkom bij {{ organisatie }}, {{ voornaam }}",
    "Hallo {{ voornaam }},\n\nJe account bij {{ organisatie }} staat klaar. Kies je wachtwoord "
    "voor {{ geldig_tot }}:\n\n{{ activatielink }}\n\nGroet,\nTeam HR",
)
WELCOME_EN = (
    "Welcome to {{ organisatie }}",
    "Hi {{ naam }},\n\nChoose your password before {{ geldig_tot }}:\n\n{{ activatielink }}",
)


def test_edited_welcome_mails_in_both_languages_with_html_and_text(
    engine: Engine, db_url: str, inbox: Inbox
) -> None:
    with session_scope(engine) as session:
        save_organisation(session=session, name="Zorggroep De Linde", sender_name="HR De Linde")
        for language, (subject, body) in (("nl", WELCOME_NL), ("en", WELCOME_EN)):
            save_template(
                session=session,
                kind="welcome",
                language=language,
                subject=subject,
                body=body,
                updated_by="beheer",
            )
    text = (
        "Email;Voornaam;Achternaam;Taal\nnina@example.org;Nina;Nieuw;nl\n"
        "ned@example.org;Ned;O'Neil & Zn;en\n"
    )
    run(engine, text, welcome_new=True)
    report = deliver_pending(engine=engine, settings=mail_settings(db_url, inbox.port))
    assert report.sent == 2
    (dutch,) = inbox.to("nina@example.org")
    (english,) = inbox.to("ned@example.org")
    assert dutch["Subject"] == "Welkom bij Zorggroep De Linde, Nina"
    assert dutch["From"] == "HR De Linde <instroom@example.org>"
    text_nl = Inbox.text(dutch).replace("\r\n", "\n")
    assert text_nl.startswith("Hallo Nina,\n\nJe account bij Zorggroep De Linde staat klaar.")
    assert "Team HR" in text_nl and LINK.search(text_nl)
    html = next(p for p in dutch.walk() if p.get_content_type() == "text/html").get_content()
    assert '<a href="http://portal.test/Activate?token=' in html and "Kies je wachtwoord" in html
    assert english["Subject"] == "Welcome to Zorggroep De Linde"
    text_en = Inbox.text(english).replace("\r\n", "\n")
    assert text_en.startswith("Hi Ned O'Neil & Zn,") and LINK.search(text_en)
    # A name from the file is text in the HTML part, never markup.
    html_en = next(p for p in english.walk() if p.get_content_type() == "text/html").get_content()
    assert "Hi Ned O&#x27;Neil &amp; Zn," in html_en
