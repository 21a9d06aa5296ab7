"""Link schedules in the portal's time zone, across both daylight-saving changes."""

from datetime import UTC, datetime

import pytest

from core.schedule import ScheduleError, cron, daily_at, every_hours, next_runs, parse_schedule

AMSTERDAM = "Europe/Amsterdam"


def local(runs: list[datetime]) -> list[str]:
    from zoneinfo import ZoneInfo

    return [r.astimezone(ZoneInfo(AMSTERDAM)).strftime("%m-%d %H:%M%z") for r in runs]


def test_daily_runs_once_a_day_when_the_clocks_go_back() -> None:
    # 25 October 2026: 02:00-03:00 happens twice in Amsterdam.
    runs = next_runs(
        daily_at("02:30"),
        after=datetime(2026, 10, 23, 12, tzinfo=UTC),
        time_zone=AMSTERDAM,
        count=4,
    )
    assert local(runs) == [
        "10-24 02:30+0200",
        "10-25 02:30+0200",
        "10-26 02:30+0100",
        "10-27 02:30+0100",
    ]


def test_a_time_the_spring_change_skips_runs_an_hour_later() -> None:
    # 28 March 2027: 02:00-03:00 does not exist in Amsterdam.
    runs = next_runs(
        daily_at("02:30"), after=datetime(2027, 3, 26, 12, tzinfo=UTC), time_zone=AMSTERDAM, count=3
    )
    assert local(runs) == ["03-27 02:30+0100", "03-28 03:30+0200", "03-29 02:30+0200"]


def test_inside_the_repeated_hour_the_run_that_passed_is_not_run_again() -> None:
    # 00:45 UTC is 02:45 the second time round (+01:00); 02:30 ran at 00:30 UTC already.
    runs = next_runs(
        daily_at("02:30"),
        after=datetime(2026, 10, 25, 1, 45, tzinfo=UTC),
        time_zone=AMSTERDAM,
        count=1,
    )
    assert local(runs) == ["10-26 02:30+0100"]


def test_every_six_hours_keeps_to_the_local_clock() -> None:
    runs = next_runs(
        every_hours(6), after=datetime(2026, 10, 24, 20, tzinfo=UTC), time_zone=AMSTERDAM, count=4
    )
    assert local(runs) == [
        "10-25 00:00+0200",
        "10-25 06:00+0100",
        "10-25 12:00+0100",
        "10-25 18:00+0100",
    ]
    # Real time between 00:00 and 06:00 that night is seven hours.
    assert (runs[1] - runs[0]).total_seconds() == 7 * 3600


def test_cron_on_working_days() -> None:
    # 2026-12-04 is a Friday: the next runs are Friday, Monday, Tuesday.
    runs = next_runs(
        cron("0 2 * * 1-5"), after=datetime(2026, 12, 3, 12, tzinfo=UTC), time_zone=AMSTERDAM
    )
    assert local(runs) == ["12-04 02:00+0100", "12-07 02:00+0100", "12-08 02:00+0100"]


def test_runs_are_after_the_moment_given() -> None:
    moment = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # exactly 02:00 in Amsterdam
    assert local(next_runs(daily_at("02:00"), after=moment, time_zone=AMSTERDAM, count=1)) == [
        "12-05 02:00+0100"
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("every 0h", "from 1 to 24 hours"),
        ("every 25h", "from 1 to 24 hours"),
        ("daily 24:00", "not a time of day"),
        ("cron 61 * * * *", "not a cron expression"),
        ("cron @reboot", "not a cron expression"),
        ("weekly", "not a schedule"),
    ],
)
def test_a_schedule_that_cannot_be_read_says_how_to_write_one(text: str, words: str) -> None:
    with pytest.raises(ScheduleError, match=words) as caught:
        parse_schedule(text)
    assert caught.value.code == "invalid-schedule"


def test_schedules_read_in_words() -> None:
    assert every_hours(6).describe() == "every 6 hours (from midnight)"
    assert daily_at("2:05").text == "daily 02:05"
    assert daily_at("2:05").describe() == "daily at 02:05"
    assert cron("0 2 * * 1-5").describe() == "cron: 0 2 * * 1-5"
    assert every_hours(6).describe("nl") == "elke 6 uur (vanaf middernacht)"
    assert daily_at("2:05").describe("nl") == "dagelijks om 02:05"
