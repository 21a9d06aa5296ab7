"""When a link runs: every N hours, daily at a time, or a cron expression, in local time."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from core.i18n import N_, gettext, render
from core.issues import Refusal

_EVERY = re.compile(r"^every\s+(\d+)\s*h$")
_DAILY = re.compile(r"^daily\s+(\d{1,2}):(\d{2})$")
# Cron's own shorthands name no wall time, and some (@reboot) no time at all.
_CRON_FIELDS = 5


class ScheduleError(Refusal):
    """A schedule cannot be understood; the message says how to write one."""


@dataclass(frozen=True)
class Schedule:
    """A link's schedule as stored ("every 6h", "daily 02:00", "cron 0 2 * * 1-5")."""

    text: str
    cron: str

    def describe(self, language: str = "en") -> str:
        """The schedule in words."""
        if match := _EVERY.match(self.text):
            hours = int(match.group(1))
            if hours == 1:
                return gettext(N_("every hour"), language)
            return render(N_("every {hours} hours (from midnight)"), language, {"hours": hours})
        if match := _DAILY.match(self.text):
            at = f"{int(match.group(1)):02d}:{match.group(2)}"
            return render(N_("daily at {time}"), language, {"time": at})
        return render(N_("cron: {cron}"), language, {"cron": self.cron})


def every_hours(hours: int) -> Schedule:
    """Every N hours of the day, counted from local midnight (1 to 24)."""
    return parse_schedule(f"every {hours}h")


def daily_at(clock_time: str) -> Schedule:
    """Once a day at HH:MM local time."""
    return parse_schedule(f"daily {clock_time.strip()}")


def cron(expression: str) -> Schedule:
    """A five-field cron expression (minute hour day month weekday), in local time."""
    return parse_schedule(f"cron {expression.strip()}")


def parse_schedule(text: str) -> Schedule:
    """The schedule a link stores, checked."""
    text = " ".join(text.split())
    if match := _EVERY.match(text):
        hours = int(match.group(1))
        if not 1 <= hours <= 24:
            raise ScheduleError.of("invalid-schedule", "hours", value=hours)
        return Schedule(text, "0 0 * * *" if hours == 24 else f"0 */{hours} * * *")
    if match := _DAILY.match(text):
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            raise ScheduleError.of("invalid-schedule", "time", value=text.removeprefix("daily "))
        return Schedule(f"daily {hour:02d}:{minute:02d}", f"{minute} {hour} * * *")
    if text.startswith("cron "):
        expression = text.removeprefix("cron ")
        if len(expression.split()) != _CRON_FIELDS or not croniter.is_valid(expression):
            raise ScheduleError.of("invalid-schedule", "cron", value=expression)
        return Schedule(text, expression)
    raise ScheduleError.of("invalid-schedule", value=text)


def next_runs(
    schedule: Schedule, *, after: datetime, time_zone: str, count: int = 3
) -> list[datetime]:
    """The next `count` run times (UTC) strictly after `after`.

    The expression is read in local wall time and each wall time runs once: on the night
    the clocks go back, 02:30 happens twice but runs at its first occurrence only; on the
    night they go forward, a time that does not exist runs an hour later (03:30 for 02:30).
    """
    zone = ZoneInfo(time_zone)
    # Start an hour early in wall time so a time in the repeated hour is not passed over.
    local = (after.astimezone(zone) - timedelta(hours=1)).replace(tzinfo=None)
    wall_times = croniter(schedule.cron, local)
    runs: list[datetime] = []
    while len(runs) < count:
        wall: datetime = wall_times.get_next(datetime)
        when = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        if when > after and (not runs or when > runs[-1]):
            runs.append(when)
    return runs
