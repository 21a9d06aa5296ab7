"""What an administrator saves in Settings rather than in the environment: the mail server
(Settings > Mail) and the portal's time zone, laid over the `Settings` of core.config.

A value from the environment or secrets.toml always wins and is shown as locked; a password
entered in the portal is sealed with the vault key (core.vault), never kept in plain.
"""

from dataclasses import dataclass, replace
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Engine
from sqlmodel import Session

from core.config import Settings
from core.emails import check_email
from core.issues import Refusal
from core.keys import vault_keys
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
MAIL_PASSWORD = "mail password"
_PREFIX = "mail."
PASSWORD_SETTING = _PREFIX + "smtp_password"


class MailServerError(Refusal):
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
    return Vault(vault_keys(settings), purpose=MAIL_PASSWORD)


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
            changes[field] = value  # opened below, for the server it was typed for only
        elif field in {"smtp_host", "smtp_user"}:
            changes[field] = value or None  # empty: not set
        else:
            changes[field] = value
    used = replace(settings, **changes) if changes else settings  # type: ignore[arg-type]
    sealed = changes.get("smtp_password")
    if isinstance(sealed, str):
        used = replace(used, smtp_password=_password_for(used, sealed))
    return used


def _server_of(settings: Settings) -> dict[str, object]:
    return {
        "host": settings.smtp_host or "",
        "port": settings.smtp_port,
        "user": settings.smtp_user or "",
    }


def _password_for(settings: Settings, sealed: str) -> str | None:
    """The stored password, only for the host, port and login it was typed for."""
    if not sealed:
        return None
    opened: dict[str, object] = dict(_vault(settings).open(sealed))
    bound = {k: opened[k] for k in ("host", "port", "user") if k in opened}
    if bound and bound != _server_of(settings):
        return None
    password = opened.get("password")
    return password if isinstance(password, str) else None


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
        raise MailServerError.of("invalid-mail-server", "port", value=port)
    if security not in SECURITY:
        raise MailServerError.of("invalid-mail-server", "security")
    if check_email(mail_from)[1] is not None:
        raise MailServerError.of("invalid-mail-server", "sender", value=mail_from)
    values = {
        "smtp_host": host.strip(),
        "smtp_port": str(port),
        "smtp_security": security,
        "smtp_user": user.strip(),
        "mail_from": mail_from.strip(),
    }
    locked = locked_fields(settings)
    before = with_mail_server(session=session, settings=settings)
    after = replace(
        before,
        **{
            f: (int(v) if f == "smtp_port" else v or None)
            for f, v in values.items()
            if f not in locked and f != "mail_from"
        },  # type: ignore[arg-type]
    )
    if password is None and before.smtp_password and _server_of(after) != _server_of(before):
        # A kept password goes only to the server it was typed for, never to a new one.
        raise MailServerError.of("invalid-mail-server", "password-needed")
    if password is not None:
        sealed = {"password": password, **_server_of(after)} if password else None
        values["smtp_password"] = _vault(settings).seal(sealed) if sealed else ""  # type: ignore[arg-type]
    for field, value in values.items():
        if field in locked:
            continue
        setting = queries.find_setting(session=session, key=_PREFIX + field) or AppSetting(
            key=_PREFIX + field, value=""
        )
        setting.value = value
        session.add(setting)


TIME_ZONE_KEY = "time_zone"
TIME_ZONE_ENV = "INSTROOM_TIME_ZONE"


class TimeZoneError(Refusal):
    """The time zone cannot be saved as chosen."""


@cache
def time_zones() -> list[str]:
    """Every time zone of the IANA database by its name (Europe/Amsterdam), sorted."""
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


def time_zone_locked(settings: Settings) -> bool:
    """Whether the environment or secrets.toml sets the time zone."""
    return TIME_ZONE_ENV in settings.from_outside


def with_time_zone(*, session: Session, settings: Settings) -> Settings:
    """The settings with the time zone chosen in Settings, where nothing outside set it."""
    stored = queries.find_setting(session=session, key=TIME_ZONE_KEY)
    if stored is None or time_zone_locked(settings) or stored.value == settings.time_zone:
        return settings
    return replace(settings, time_zone=stored.value)


def save_time_zone(*, session: Session, settings: Settings, name: str) -> None:
    """Keep the portal's time zone; every time is shown in it from the next page on."""
    if time_zone_locked(settings):
        raise TimeZoneError.of("invalid-time-zone", "set-on-server", setting=TIME_ZONE_ENV)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeZoneError.of("invalid-time-zone", "unknown", name=name) from None
    stored = queries.find_setting(session=session, key=TIME_ZONE_KEY) or AppSetting(
        key=TIME_ZONE_KEY, value=""
    )
    stored.value = name
    session.add(stored)


def effective_settings(engine: Engine, settings: Settings) -> Settings:
    """The settings in use: the environment's, with what Settings keeps where it is silent."""
    with Session(engine) as session:
        return with_time_zone(
            session=session, settings=with_mail_server(session=session, settings=settings)
        )
