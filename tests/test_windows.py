"""PreloadWindow: membership and next edges at boundaries, midnight, weekdays, DST.

Windows are wall-clock times in the preload zone; what the servers' own zone is
must never matter, only the instant.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from django_celery_beat.tzcrontab import TzAwareCrontab

from channels_app.windows import (
    ALL_WEEKDAYS,
    PreloadWindow,
    crontab_day_of_week,
    mask_to_weekdays,
    weekdays_to_mask,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
UTC = dt.UTC

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
# 2026-06-01 is a Monday; the 5th a Friday, the 6th a Saturday.
MONDAY = dt.date(2026, 6, 1)

DAY_WINDOW = PreloadWindow(dt.time(7, 0), dt.time(17, 30))
NIGHT_WINDOW = PreloadWindow(dt.time(23, 0), dt.time(1, 0))


def local(day: dt.date, clock: str, zone: ZoneInfo = SHANGHAI, fold: int = 0):
    """An aware datetime at a wall-clock 'HH:MM[:SS]' on `day` in `zone`."""
    naive = dt.datetime.combine(day, dt.time.fromisoformat(clock))
    return naive.replace(tzinfo=zone, fold=fold)


def on(weekday: int) -> dt.date:
    """The date of that weekday in the week of MONDAY."""
    return MONDAY + dt.timedelta(days=weekday)


# --- membership at the edges ----------------------------------------------


@pytest.mark.parametrize(
    ("clock", "is_open"),
    [
        ("00:00:00", False),
        ("06:59:59", False),
        ("06:59:59.999999", False),
        ("07:00:00", True),
        ("07:00:01", True),
        ("12:00:00", True),
        ("17:29:59", True),
        ("17:29:59.999999", True),
        ("17:30:00", False),
        ("23:59:59", False),
    ],
)
def test_it_opens_at_the_start_second_and_closes_at_the_end_second(clock, is_open):
    assert DAY_WINDOW.is_open(local(MONDAY, clock), SHANGHAI) is is_open


@pytest.mark.parametrize(
    ("day", "clock", "is_open"),
    [
        (MON, "22:59:59", False),
        (MON, "23:00:00", True),
        (MON, "23:01:00", True),
        (MON, "23:59:59", True),
        (TUE, "00:00:00", True),
        (TUE, "00:30:00", True),
        (TUE, "00:59:59", True),
        (TUE, "01:00:00", False),
        (TUE, "01:01:00", False),
        (TUE, "12:00:00", False),
    ],
)
def test_it_stays_open_across_midnight(day, clock, is_open):
    assert NIGHT_WINDOW.crosses_midnight
    assert NIGHT_WINDOW.is_open(local(on(day), clock), SHANGHAI) is is_open


@pytest.mark.parametrize(
    ("day", "clock", "is_open"),
    [
        (THU, "23:30", False),
        (FRI, "00:30", False),  # Thursday's night is not configured
        (FRI, "22:59", False),
        (FRI, "23:00", True),
        (SAT, "00:30", True),  # Friday's night, still open
        (SAT, "01:00", False),
        (SAT, "23:30", False),
        (SUN, "00:30", False),  # would be Saturday's night
    ],
)
def test_it_gives_a_crossing_window_the_weekday_it_starts_on(day, clock, is_open):
    friday_night = PreloadWindow(dt.time(23, 0), dt.time(1, 0), frozenset({FRI}))
    assert friday_night.is_open(local(on(day), clock), SHANGHAI) is is_open


@pytest.mark.parametrize("weekday", range(7))
def test_it_opens_only_on_masked_weekdays(weekday):
    school_days = PreloadWindow(dt.time(7, 0), dt.time(17, 30), mask_to_weekdays(31))
    expected = weekday in {MON, TUE, WED, THU, FRI}
    assert school_days.is_open(local(on(weekday), "09:00"), SHANGHAI) is expected


# --- next start and stop ------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "next_start", "next_stop"),
    [
        ("06:59:59", (0, "07:00"), (0, "17:30")),
        ("07:00:00", (1, "07:00"), (0, "17:30")),  # strictly after
        ("17:29:59", (1, "07:00"), (0, "17:30")),
        ("17:30:00", (1, "07:00"), (1, "17:30")),
    ],
)
def test_it_finds_the_next_edges_strictly_after_now(now, next_start, next_stop):
    instant = local(MONDAY, now)

    start = DAY_WINDOW.next_start(instant, SHANGHAI)
    stop = DAY_WINDOW.next_stop(instant, SHANGHAI)

    assert start == local(MONDAY + dt.timedelta(days=next_start[0]), next_start[1])
    assert stop == local(MONDAY + dt.timedelta(days=next_stop[0]), next_stop[1])
    assert start.tzinfo is SHANGHAI and stop.tzinfo is SHANGHAI


def test_it_skips_unmasked_days_to_find_the_next_start():
    school_days = PreloadWindow(dt.time(7, 0), dt.time(17, 30), mask_to_weekdays(31))
    friday_evening = local(on(FRI), "18:00")

    assert school_days.next_start(friday_evening, SHANGHAI) == local(
        on(MON) + dt.timedelta(days=7), "07:00"
    )
    assert school_days.next_stop(friday_evening, SHANGHAI) == local(
        on(MON) + dt.timedelta(days=7), "17:30"
    )


def test_it_stops_a_crossing_window_on_the_morning_after_its_day():
    friday_night = PreloadWindow(dt.time(23, 0), dt.time(1, 0), frozenset({FRI}))

    assert friday_night.stop_weekdays == {SAT}
    assert friday_night.next_stop(local(on(FRI), "23:30"), SHANGHAI) == local(
        on(SAT), "01:00"
    )
    # After Saturday's stop the next one is a week later, never Sunday.
    assert friday_night.next_stop(local(on(SAT), "01:00"), SHANGHAI) == local(
        on(SAT) + dt.timedelta(days=7), "01:00"
    )
    assert friday_night.next_start(local(on(SAT), "00:30"), SHANGHAI) == local(
        on(FRI) + dt.timedelta(days=7), "23:00"
    )


def test_it_wraps_sunday_nights_stop_to_monday():
    sunday_night = PreloadWindow(dt.time(22, 0), dt.time(6, 0), frozenset({SUN}))
    assert sunday_night.stop_weekdays == {MON}
    assert sunday_night.is_open(local(on(MON), "05:59"), SHANGHAI)
    assert not sunday_night.is_open(local(on(TUE), "05:59"), SHANGHAI)


# --- weekday masks and cron fields -------------------------------------------


@pytest.mark.parametrize(
    ("days", "mask", "cron"),
    [
        (ALL_WEEKDAYS, 0b1111111, "*"),
        ({MON}, 0b0000001, "1"),
        ({SUN}, 0b1000000, "0"),
        ({MON, TUE, WED, THU, FRI}, 0b0011111, "1,2,3,4,5"),
        ({SAT, SUN}, 0b1100000, "0,6"),
        ({FRI, SAT}, 0b0110000, "5,6"),
        ({SUN, MON}, 0b1000001, "0,1"),
    ],
)
def test_it_converts_weekdays_to_masks_and_cron_fields(days, mask, cron):
    assert weekdays_to_mask(days) == mask
    assert mask_to_weekdays(mask) == frozenset(days)
    assert crontab_day_of_week(days) == cron


@pytest.mark.parametrize("bad_day", [-1, 7])
def test_it_refuses_weekdays_outside_monday_to_sunday(bad_day):
    with pytest.raises(ValueError, match="between 0 \\(Monday\\) and 6"):
        weekdays_to_mask([MON, bad_day])


def test_it_refuses_a_window_without_length_or_weekdays():
    with pytest.raises(ValueError, match="start and end must differ"):
        PreloadWindow(dt.time(7, 0), dt.time(7, 0))
    with pytest.raises(ValueError, match="at least one weekday"):
        PreloadWindow(dt.time(7, 0), dt.time(8, 0), frozenset())


@pytest.mark.parametrize("method", ["is_open", "next_start", "next_stop"])
def test_it_refuses_naive_datetimes(method):
    naive = dt.datetime(2026, 6, 1, 9, 0)
    with pytest.raises(ValueError, match="aware"):
        getattr(DAY_WINDOW, method)(naive, SHANGHAI)


# --- the servers' own zone does not matter -------------------------------------

# Monday 06:59:59 and 07:00:00 in Shanghai, seen by servers in three zones.
EDGE_CASES = [
    (dt.datetime(2026, 5, 31, 22, 59, 59, tzinfo=UTC), False),
    (dt.datetime(2026, 5, 31, 23, 0, 0, tzinfo=UTC), True),
    (dt.datetime(2026, 5, 31, 15, 59, 59, tzinfo=LOS_ANGELES), False),
    (dt.datetime(2026, 5, 31, 16, 0, 0, tzinfo=LOS_ANGELES), True),
    (dt.datetime(2026, 6, 1, 6, 59, 59, tzinfo=SHANGHAI), False),
    (dt.datetime(2026, 6, 1, 7, 0, 0, tzinfo=SHANGHAI), True),
]


@pytest.mark.parametrize(("frozen_at", "is_open"), EDGE_CASES)
def test_it_reads_the_frozen_clock_the_same_in_every_server_zone(frozen_at, is_open):
    # time-machine also sets the process zone to the destination's zone.
    with time_machine.travel(frozen_at, tick=False):
        now = timezone.now()
        assert DAY_WINDOW.is_open(now, SHANGHAI) is is_open
        assert DAY_WINDOW.next_stop(now, SHANGHAI) == local(MONDAY, "17:30")


@pytest.fixture
def server_zone(monkeypatch):
    """Switch this process's own zone (TZ and tzset), restoring it afterwards."""

    def switch(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield switch
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Tokyo"])
def test_it_ignores_the_server_zone_set_through_tz(server_zone, zone):
    server_zone(zone)
    instant = dt.datetime(2026, 5, 31, 23, 30, tzinfo=UTC)  # Mon 07:30 Shanghai

    # A timestamp, not a datetime: time-machine then leaves the zone alone.
    with time_machine.travel(instant.timestamp(), tick=False):
        server_local_now = dt.datetime.now().astimezone()
        # The server really reads its clock in that zone...
        assert server_local_now == instant
        expected_offset = instant.astimezone(ZoneInfo(zone)).utcoffset()
        assert server_local_now.utcoffset() == expected_offset
        # ...and the window still reads it in Shanghai.

        assert DAY_WINDOW.is_open(server_local_now, SHANGHAI)
        assert not NIGHT_WINDOW.is_open(server_local_now, SHANGHAI)
        assert DAY_WINDOW.next_start(server_local_now, SHANGHAI) == local(
            on(TUE), "07:00"
        )
    assert os.environ["TZ"] == zone


# --- a preload zone with daylight saving time -----------------------------------

SPRING_FORWARD = dt.date(2026, 3, 29)  # Berlin: 02:00 CET -> 03:00 CEST
FALL_BACK = dt.date(2026, 10, 25)  # Berlin: 03:00 CEST -> 02:00 CET
EARLY_WINDOW = PreloadWindow(dt.time(2, 30), dt.time(4, 0))


def test_it_moves_a_start_skipped_by_spring_forward_to_when_beat_fires_it():
    day_before = local(SPRING_FORWARD - dt.timedelta(days=1), "12:00", BERLIN)

    start = EARLY_WINDOW.next_start(day_before, BERLIN)

    # 02:30 does not exist that night; like beat's crontab, it happens at 03:30.
    assert start == local(SPRING_FORWARD, "03:30", BERLIN)
    assert start.utcoffset() == dt.timedelta(hours=2)
    last_run = local(SPRING_FORWARD - dt.timedelta(days=1), "02:30", BERLIN)
    crontab = TzAwareCrontab(minute="30", hour="2", tz=BERLIN)
    with time_machine.travel(start - dt.timedelta(seconds=1), tick=False):
        assert not crontab.is_due(last_run).is_due
    with time_machine.travel(start, tick=False):
        assert crontab.is_due(last_run).is_due

    # The wall clock has passed 02:30 from the jump on.
    assert not EARLY_WINDOW.is_open(local(SPRING_FORWARD, "01:59:59", BERLIN), BERLIN)
    assert EARLY_WINDOW.is_open(local(SPRING_FORWARD, "03:00", BERLIN), BERLIN)
    assert not EARLY_WINDOW.is_open(local(SPRING_FORWARD, "04:00", BERLIN), BERLIN)


def test_it_starts_once_when_fall_back_repeats_the_start_time():
    first = local(FALL_BACK, "02:30", BERLIN, fold=0)
    second = local(FALL_BACK, "02:30", BERLIN, fold=1)
    assert second.astimezone(UTC) - first.astimezone(UTC) == dt.timedelta(hours=1)

    day_before = local(FALL_BACK - dt.timedelta(days=1), "12:00", BERLIN)
    assert EARLY_WINDOW.next_start(day_before, BERLIN).astimezone(UTC) == (
        first.astimezone(UTC)
    )
    # Once it started, the repeated 02:30 is not a second start.
    assert EARLY_WINDOW.next_start(first, BERLIN) == local(
        FALL_BACK + dt.timedelta(days=1), "02:30", BERLIN
    )
    assert EARLY_WINDOW.is_open(first, BERLIN)
    assert EARLY_WINDOW.is_open(second, BERLIN)
    assert EARLY_WINDOW.next_stop(first, BERLIN) == local(FALL_BACK, "04:00", BERLIN)
    assert EARLY_WINDOW.next_stop(first, BERLIN).utcoffset() == dt.timedelta(hours=1)
