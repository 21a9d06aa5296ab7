"""Welcome, update and completion emails through a real SMTP server, and account activation."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.accounts import verify_password
from core.activation import ActivationError, activate
from core.config import Settings
from core.mail import NOT_CONFIGURED, deliver_pending, requeue_messages
from core.one_time_links import token_hash
from db.models import EmailMessage, User, utcnow
from tests.conftest import Inbox, free_port
from tests.db.test_import_engine import run, seed

LINK = re.compile(r"http://portal\.test/Activate\?token=([\w-]+)")
PASSWORD = "Blauwe-fiets-onder-de-brug-4"


def mail_settings(db_url: str, port: int) -> Settings:
    return Settings(
        database_url=db_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        mail_from="instroom@example.org",
        base_url="http://portal.test",
    )


def messages(engine: Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        return [
            (m.recipient, m.template, m.status)
            for m in session.exec(select(EmailMessage).order_by(EmailMessage.id))
        ]


def test_import_sends_exactly_the_expected_messages(
    engine: Engine, db_url: str, inbox: Inbox
) -> None:
    seed(
        engine,
        {
            "email": "oud@example.org",
            "first_name": "Oud",
            "last_name": "Lid",
            "language": "en",
            "status": "active",
        },
        {"email": "same@example.org", "first_name": "Zelfde", "last_name": "Lid"},
    )
    text = (
        "Email;Voornaam;Achternaam;Taal\nnieuw@example.org;Nina;Nieuw;nl\n"
        "new@example.org;Ned;New;en\noud@example.org;Oud;Lid-Anders;\n"
        "same@example.org;Zelfde;Lid;\n"
    )
    result = run(
        engine, text, welcome_new=True, notify_updated=True, notify_admin="beheer@example.org"
    )
    assert result.as_json()["emails"] == {"welcome": 2, "updated": 1}
    report = deliver_pending(
        engine=engine, settings=mail_settings(db_url, inbox.port), job_id=result.job_id
    )
    assert (report.sent, report.failed) == (4, 0)
    assert sorted(str(m["To"]) for m in inbox.messages) == [
        "beheer@example.org",
        "new@example.org",
        "nieuw@example.org",
        "oud@example.org",
    ]
    assert inbox.to("same@example.org") == []
    dutch, english = inbox.to("nieuw@example.org")[0], inbox.to("new@example.org")[0]
    assert dutch["Subject"] == "Welkom, je account is klaar"
    assert "Beste Nina Nieuw" in Inbox.text(dutch)
    assert english["Subject"] == "Welcome, your account is ready"
    assert inbox.to("oud@example.org")[0]["Subject"] == "Your details were updated"
    completion = inbox.to("beheer@example.org")[0]
    said = Inbox.text(completion)
    assert f"http://portal.test/History?job={result.job_id}" in said
    # In words, in the mail's language: no status codes, no field keys.
    assert completion["Subject"] == f"Import {result.job_id}: klaar"
    assert "4 rijen, 2 aangemaakt, 1 bijgewerkt en 1 ongewijzigd." in said
    assert "succeeded" not in said and "created" not in said

    token = LINK.search(Inbox.text(dutch)).group(1)
    with Session(engine) as session:
        nina = session.exec(select(User).where(User.email == "nieuw@example.org")).one()
        assert nina.activation_token_hash and token not in nina.activation_token_hash
        activate(session=session, token=token, password=PASSWORD, repeat=PASSWORD)
        session.commit()
        session.refresh(nina)
        assert nina.status == "active" and verify_password(PASSWORD, nina.password_hash)
        with pytest.raises(ActivationError, match="already been used"):
            activate(session=session, token=token, password=PASSWORD, repeat=PASSWORD)

    again = run(engine, text, welcome_new=True, notify_updated=True)
    assert again.as_json()["emails"] == {"welcome": 0, "updated": 0}
    deliver_pending(engine=engine, settings=mail_settings(db_url, inbox.port))
    assert len(inbox.messages) == 4


def test_activation_rules(engine: Engine, db_url: str, inbox: Inbox) -> None:
    result = run(engine, "Email;Voornaam;Achternaam\na@example.org;A;A\n", welcome_new=True)
    deliver_pending(engine=engine, settings=mail_settings(db_url, inbox.port), job_id=result.job_id)
    token = LINK.search(Inbox.text(inbox.messages[0])).group(1)
    with Session(engine) as session:
        for password, repeat, words in [
            ("Kort-1", "Kort-1", "at least 10"),
            (PASSWORD, PASSWORD + "x", "differ"),
            # One rule for everyone: long enough, not guessable; no composition rules.
            ("password1234", "password1234", "too easy to guess"),
        ]:
            with pytest.raises(ActivationError, match=words):
                activate(session=session, token=token, password=password, repeat=repeat)
        with pytest.raises(ActivationError, match="not valid"):
            activate(session=session, token="made-up", password=PASSWORD, repeat=PASSWORD)
        user = session.exec(select(User)).one()
        user.activation_expires_at = utcnow() - timedelta(minutes=1)
        session.add(user)
        session.commit()
        with pytest.raises(ActivationError, match="expired"):
            activate(session=session, token=token, password=PASSWORD, repeat=PASSWORD)


def test_smtp_down_retries_fails_and_resend_succeeds(engine: Engine, db_url: str) -> None:
    result = run(engine, "Email;Voornaam;Achternaam\na@example.org;A;A\n", welcome_new=True)
    port = free_port()
    waits: list[float] = []
    report = deliver_pending(
        engine=engine,
        settings=mail_settings(db_url, port),
        job_id=result.job_id,
        backoff=0.5,
        sleep=waits.append,
    )
    assert (report.sent, report.failed) == (0, 1) and waits == [0.5, 1.0]
    with Session(engine) as session:
        message = session.exec(select(EmailMessage)).one()
        assert (message.status, message.attempts) == ("failed", 3)
        assert "cannot be reached" in message.error
        assert requeue_messages(session=session, message_ids=[message.id]) == 1
        session.commit()

    from aiosmtpd.controller import Controller

    box = Inbox(port)
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        report = deliver_pending(engine=engine, settings=mail_settings(db_url, port))
    finally:
        controller.stop()
    assert report.sent == 1 and len(box.messages) == 1
    assert messages(engine) == [("a@example.org", "welcome", "sent")]


def test_without_smtp_messages_are_kept_as_not_sent(engine: Engine, db_url: str) -> None:
    result = run(engine, "Email;Voornaam;Achternaam\na@example.org;A;A\n", welcome_new=True)
    report = deliver_pending(
        engine=engine, settings=Settings(database_url=db_url), job_id=result.job_id
    )
    assert report.skipped == 1
    with Session(engine) as session:
        message = session.exec(select(EmailMessage)).one()
    assert (message.status, message.error) == ("skipped", NOT_CONFIGURED)


def test_a_dry_run_queues_nothing(engine: Engine) -> None:
    run(engine, "Email;Voornaam;Achternaam\na@example.org;A;A\n", welcome_new=True, dry_run=True)
    assert messages(engine) == []


def test_names_in_emails_are_text_not_html(engine: Engine, db_url: str, inbox: Inbox) -> None:
    run(
        engine,
        "Email;Voornaam;Achternaam\nx@example.org;<script>alert(1)</script>;<b>X</b>\n",
        welcome_new=True,
    )
    deliver_pending(engine=engine, settings=mail_settings(db_url, inbox.port))
    # The text part says the name as written; the HTML part shows it, never runs it.
    assert "Beste <script>alert(1)</script> <b>X</b>," in Inbox.text(inbox.messages[0])
    page = html_part(inbox.messages[0])
    assert "<script>" not in page and "<b>X" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;X&lt;/b&gt;" in page


def html_part(message) -> str:
    return next(p for p in message.walk() if p.get_content_type() == "text/html").get_content()


def test_mail_has_a_clean_text_part_and_a_real_link(
    engine: Engine, db_url: str, inbox: Inbox
) -> None:
    run(engine, "Email;Voornaam;Achternaam\nnina@example.org;Nina;Nieuw\n", welcome_new=True)
    deliver_pending(engine=engine, settings=mail_settings(db_url, inbox.port))
    message = inbox.messages[0]
    text = Inbox.text(message).replace("\r\n", "\n")
    assert "<br>" not in text and "Beste Nina Nieuw,\n\nEr is een account" in text
    link = LINK.search(text).group(0)
    page = html_part(message)
    assert f'<a href="{link}"' in page and "Kies je wachtwoord</a>" in page


def test_a_change_notice_names_the_changed_fields_never_a_password(
    engine: Engine, db_url: str, inbox: Inbox
) -> None:
    seed(
        engine,
        {"email": "oud@example.org", "first_name": "Oud", "last_name": "Lid", "status": "active"},
        {"email": "old@example.org", "first_name": "Old", "last_name": "Member", "language": "en"},
    )
    run(
        engine,
        "Email;Achternaam;Functie;Wachtwoord;Groep\n"
        "oud@example.org;Lid-Anders;Teamleider;Geheim-Wachtwoord-9;Sales\n"
        "old@example.org;;Manager;;\n",
        notify_updated=True,
        create_groups=True,
    )
    deliver_pending(engine=engine, settings=mail_settings(db_url, inbox.port))
    dutch = Inbox.text(inbox.to("oud@example.org")[0])
    assert "je gegevens bijgewerkt: achternaam, Functie, groepen." in dutch
    assert "Geheim-Wachtwoord-9" not in dutch and "wachtwoord," not in dutch
    english = Inbox.text(inbox.to("old@example.org")[0])
    assert "updated your details: Functie." in english


def test_protecting_a_user_revokes_its_welcome_link(
    engine: Engine, db_url: str, inbox: Inbox
) -> None:
    from core import catalog

    result = run(engine, "Email;Voornaam;Achternaam\nsvc@example.org;S;V\n", welcome_new=True)
    deliver_pending(engine=engine, settings=mail_settings(db_url, inbox.port), job_id=result.job_id)
    token = LINK.search(Inbox.text(inbox.messages[0])).group(1)
    with Session(engine) as session:
        catalog.set_user_protected(session=session, email="svc@example.org", protected=True)
        session.commit()
        with pytest.raises(ActivationError, match="not valid"):
            activate(session=session, token=token, password=PASSWORD, repeat=PASSWORD)
        user = session.exec(select(User)).one()
        assert (user.status, user.password_hash) == ("invited", None)
        # Even a link issued after protecting (by a mail queued earlier) does not open it.
        user.activation_token_hash = token_hash(token)
        user.activation_expires_at = utcnow() + timedelta(days=1)
        session.add(user)
        session.commit()
        with pytest.raises(ActivationError, match="managed by your administrator"):
            activate(session=session, token=token, password=PASSWORD, repeat=PASSWORD)


def test_a_welcome_to_updated_users_reaches_only_those_without_a_password(
    engine: Engine, db_url: str, inbox: Inbox
) -> None:
    seed(
        engine,
        {"email": "nog@example.org", "first_name": "Nog", "last_name": "Niet", "status": "invited"},
        {
            "email": "al@example.org",
            "first_name": "Al",
            "last_name": "Actief",
            "status": "active",
            "activated_at": utcnow(),
        },
    )
    text = (
        "Email;Voornaam;Achternaam\nnog@example.org;Nog;Nieuwe-Naam\n"
        "al@example.org;Al;Andere-Naam\nnieuw@example.org;Nieuw;Lid\n"
    )
    result = run(engine, text, welcome_updated=True)
    assert result.plan.welcome == ["nog@example.org"]  # not the active user, not the new one
    deliver_pending(engine=engine, settings=mail_settings(db_url, inbox.port))
    (mail,) = inbox.messages
    assert "nog@example.org" in str(mail["To"]) and LINK.search(Inbox.text(mail))


def test_a_message_whose_sender_was_killed_is_sent_once_more(
    engine: Engine, db_url: str, inbox: Inbox
) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    from core.mail import SENDING_LEASE, recover_lost_messages
    from tests.conftest import ROOT

    run(engine, "Email;Voornaam;Achternaam\na@example.org;A;A\n", welcome_new=True)
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from core.mail import deliver_pending; from core.config import Settings;"
        "from db.engine import get_engine;"
        "s = Settings(database_url=sys.argv[2], smtp_host='127.0.0.1', smtp_port=int(sys.argv[3]),"
        " smtp_timeout=600);"
        "deliver_pending(engine=get_engine(sys.argv[2]), settings=s)"
    )
    sender = subprocess.Popen(
        [sys.executable, "-c", script, str(ROOT), db_url, str(silent.getsockname()[1])]
    )
    try:
        for _ in range(200):
            if messages(engine)[0][2] == "sending":
                break
            time.sleep(0.1)
        assert messages(engine)[0][2] == "sending"
        os.kill(sender.pid, signal.SIGKILL)
        sender.wait()
    finally:
        silent.close()
    assert recover_lost_messages(engine=engine) == 0  # not yet past its lease
    later = utcnow() + SENDING_LEASE + timedelta(minutes=1)
    assert recover_lost_messages(engine=engine, now=later) == 1
    report = deliver_pending(engine=engine, settings=mail_settings(db_url, inbox.port))
    assert report.sent == 1 and len(inbox.to("a@example.org")) == 1
    with Session(engine) as session:
        message = session.exec(select(EmailMessage)).one()
        assert (message.status, message.attempts) == ("sent", 3)


def test_the_completion_mail_counts_rejected_rows_in_words(
    engine: Engine, db_url: str, inbox: Inbox
) -> None:
    text = "Email;Voornaam;Achternaam\na@example.org;A;A\nfout;B;B\nb@example.org;C;C\n"
    result = run(engine, text, notify_admin="beheer@example.org")
    deliver_pending(engine=engine, settings=mail_settings(db_url, inbox.port))
    (mail,) = inbox.to("beheer@example.org")
    assert mail["Subject"] == f"Import {result.job_id}: klaar, 1 rij afgekeurd"
    assert "3 rijen, 2 aangemaakt en 1 afgekeurd." in Inbox.text(mail)
    assert "completed_with_errors" not in Inbox.text(mail)
