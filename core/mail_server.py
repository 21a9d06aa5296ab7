"""The mail server as Settings > Mail keeps it: used where the environment sets nothing.

A value from the environment or secrets.toml always wins and is shown as locked; a password
entered in the portal is sealed with the portal's secret (core.vault), never kept in plain.
"""

from dataclasses import dataclass, replace

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session

from core.i18n import N_
from core.issues import Explained
from core.settings import Settings, resolve_cookie_key
from core.vault import Vault
from db import queries
from db.models import AppSetting

# Settings field -> the environment name that locks it.
MAIL_SERVER_FIELDS = {
    "smtp_host": "INSTROOM_SMTP_HOST",
    "smtp_port": "INSTROOM_SMTP_PORT",
    "smtp_security": "INSTROOM_SMTP_SECURITY",
    "smtp_user": "INSTROOM_SMTP_USER",
    "smtp_password": "INSTROOM_SMTP_PASSWORD",
    "mail_from": "INSTROOM_MAIL_FROM",
}
SECURITY = ("none", "starttls", "ssl")
_PREFIX = "mail."


class MailServerError(Explained):
    """The mail server's settings cannot be saved as typed."""


@dataclass(frozen=True)
class MailServer:
    """What Settings > Mail shows: the values in use and which of them are locked."""

    host: str
    port: int
    security: str
    user: str
    has_password: bool
    mail_from: str
    locked: frozenset[str]


def _vault(settings: Settings) -> Vault:
    return Vault(resolve_cookie_key(settings), purpose="mail password")


def locked_fields(settings: Settings) -> frozenset[str]:
    """The mail server's fields the environment or secrets.toml set."""
    return frozenset(f for f, name in MAIL_SERVER_FIELDS.items() if name in settings.from_outside)


def with_mail_server(*, session: Session, settings: Settings) -> Settings:
    """The settings with the mail server entered in the portal, where nothing outside set it."""
    stored = queries.list_app_settings(
        session=session, keys=[_PREFIX + f for f in MAIL_SERVER_FIELDS]
    )
    locked = locked_fields(settings)
    changes: dict[str, object] = {}
    for field in MAIL_SERVER_FIELDS:
        value = stored.get(_PREFIX + field)
        if field in locked or value is None:
            continue
        if field == "smtp_port":
            changes[field] = int(value)
        elif field == "smtp_password":
            changes[field] = _vault(settings).open(value).get("password") if value else None
        elif field in {"smtp_host", "smtp_user"}:
            changes[field] = value or None  # empty: not set
        else:
            changes[field] = value
    return replace(settings, **changes) if changes else settings  # type: ignore[arg-type]


def load_mail_server(*, session: Session, settings: Settings) -> MailServer:
    """The mail server in use, for the form."""
    used = with_mail_server(session=session, settings=settings)
    return MailServer(
        used.smtp_host or "",
        used.smtp_port,
        used.smtp_security,
        used.smtp_user or "",
        bool(used.smtp_password),
        used.mail_from,
        locked_fields(settings),
    )


def save_mail_server(
    *,
    session: Session,
    settings: Settings,
    host: str,
    port: int,
    security: str,
    user: str,
    password: str | None,
    mail_from: str,
) -> None:
    """Keep what was typed (not what is locked); password None keeps the stored one."""
    if not 1 <= port <= 65535:
        raise MailServerError(N_("A port is a number from 1 to 65535, not {value}."), value=port)
    if security not in SECURITY:
        raise MailServerError(N_("The security is none, starttls or ssl."))
    try:
        validate_email(mail_from.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise MailServerError(
            N_("{value!r} is not an email address to send from."), value=mail_from
        ) from None
    values = {
        "smtp_host": host.strip(),
        "smtp_port": str(port),
        "smtp_security": security,
        "smtp_user": user.strip(),
        "mail_from": mail_from.strip(),
    }
    if password is not None:
        values["smtp_password"] = _vault(settings).seal({"password": password}) if password else ""
    locked = locked_fields(settings)
    for field, value in values.items():
        if field in locked:
            continue
        setting = session.get(AppSetting, _PREFIX + field) or AppSetting(
            key=_PREFIX + field, value=""
        )
        setting.value = value
        session.add(setting)
