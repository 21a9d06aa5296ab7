"""The mail server's stored password goes only to the server it was typed for, as typed."""

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine

from core.config import Settings
from core.mail import MailError, send_test_mail
from core.saved_settings import MailServerError, save_mail_server
from db.engine import session_scope
from db.models import AppSetting
from tests.conftest import free_port

PASSWORD = "SmtpRealPassw0rd!"


class Recorder:
    """An SMTP server that accepts any login and remembers every one it was offered."""

    def __init__(self) -> None:
        self.logins: list[tuple[str, str]] = []
        self.messages = 0

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages += 1
        return "250 OK"


@pytest.fixture
def two_servers() -> Iterator[tuple[tuple[Recorder, int], tuple[Recorder, int]]]:
    started = []
    for _ in range(2):
        recorder, port = Recorder(), free_port()
        controller = Controller(
            recorder,
            hostname="127.0.0.1",
            port=port,
            authenticator=recorder,
            auth_require_tls=False,
        )
        controller.start()
        started.append((recorder, port, controller))
    yield tuple((r, p) for r, p, _ in started)  # type: ignore[misc]
    for *_, controller in started:
        controller.stop()


def save(engine: Engine, settings: Settings, port: int, password: str | None) -> None:
    with session_scope(engine) as session:
        save_mail_server(
            session=session,
            settings=settings,
            host="127.0.0.1",
            port=port,
            security="none",
            user="hr",
            password=password,
            mail_from="hr@delinde.nl",
        )


def test_a_kept_password_is_never_sent_to_a_server_typed_later(
    engine: Engine, db_url: str, two_servers
) -> None:
    (real, real_port), (stranger, stranger_port) = two_servers
    settings = Settings(database_url=db_url)
    save(engine, settings, real_port, PASSWORD)
    send_test_mail(engine=engine, settings=settings, recipient="beheer@delinde.nl")
    # The login name goes as typed, not as yagmail's "hr@gmail.com".
    assert real.logins == [("hr", PASSWORD)] and real.messages == 1

    with pytest.raises(MailServerError, match="type the password for the new server again"):
        save(engine, settings, stranger_port, None)
    # Even a port changed behind the form's back gets no password.
    with session_scope(engine) as session:
        session.merge(AppSetting(key="mail.smtp_port", value=str(stranger_port)))
    with pytest.raises(MailError, match="no password"):
        send_test_mail(engine=engine, settings=settings, recipient="beheer@delinde.nl")
    assert stranger.logins == [] and stranger.messages == 0

    save(engine, settings, stranger_port, "Another-Passw0rd!")
    send_test_mail(engine=engine, settings=settings, recipient="beheer@delinde.nl")
    assert stranger.logins == [("hr", "Another-Passw0rd!")]
