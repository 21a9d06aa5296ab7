"""What an administrator keeps in Settings rather than in the environment: the mail server
(core.mail_server) and the portal's time zone. A value from the environment or secrets.toml
always wins and is shown as locked."""

from dataclasses import replace
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Engine
from sqlmodel import Session

from core.issues import Refusal
from core.mail_server import with_mail_server
from core.settings import Settings
from db import queries
from db.models import AppSetting

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
