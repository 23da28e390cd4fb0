"""Daily preload windows: wall-clock start and end times in one time zone.

This module is pure: it never reads the clock, so every function takes the
instant it reasons about. A window whose end is earlier than its start crosses
midnight; its weekdays are the days on which it *starts*.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# Python's numbering: Monday is 0, Sunday is 6.
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_WEEKDAYS = frozenset(range(7))
ALL_WEEKDAYS_MASK = 0b1111111


def weekdays_to_mask(days: Iterable[int]) -> int:
    mask = 0
    for day in days:
        if not 0 <= day <= 6:
            raise ValueError(f"weekday {day} is not between 0 (Monday) and 6 (Sunday)")
        mask |= 1 << day
    return mask


def mask_to_weekdays(mask: int) -> frozenset[int]:
    return frozenset(day for day in range(7) if mask & (1 << day))


def crontab_day_of_week(days: Iterable[int]) -> str:
    """Cron's day_of_week field (Sunday is 0) for Python weekdays (Monday is 0)."""
    cron_days = sorted((day + 1) % 7 for day in set(days))
    if len(cron_days) == 7:
        return "*"
    return ",".join(str(day) for day in cron_days)


@dataclass(frozen=True)
class PreloadWindow:
    start: dt.time
    end: dt.time
    weekdays: frozenset[int] = ALL_WEEKDAYS

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("a window's start and end must differ")
        if not self.weekdays:
            raise ValueError("a window needs at least one weekday")

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start

    @property
    def stop_weekdays(self) -> frozenset[int]:
        """The days on which the window ends: the next day when it crosses midnight."""
        if self.crosses_midnight:
            return frozenset((day + 1) % 7 for day in self.weekdays)
        return self.weekdays

    def is_open(self, instant: dt.datetime, zone: ZoneInfo) -> bool:
        """Whether the window is open at an aware instant, read in `zone`."""
        local = _to_local(instant, zone)
        clock = local.time().replace(tzinfo=None)
        weekday = local.weekday()

        if not self.crosses_midnight:
            return weekday in self.weekdays and self.start <= clock < self.end

        # Before midnight the window belongs to today; after it, to yesterday.
        opened_today = weekday in self.weekdays and clock >= self.start
        opened_yesterday = (weekday - 1) % 7 in self.weekdays and clock < self.end
        return opened_today or opened_yesterday

    def next_start(self, after: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        """The first start strictly after `after`, as an aware local datetime."""
        return _next_occurrence(self.start, self.weekdays, after, zone)

    def next_stop(self, after: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        """The first end strictly after `after`, as an aware local datetime."""
        return _next_occurrence(self.end, self.stop_weekdays, after, zone)


def _to_local(instant: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    if instant.tzinfo is None:
        raise ValueError("window arithmetic needs an aware datetime")
    return instant.astimezone(zone)


def _next_occurrence(
    clock: dt.time, weekdays: frozenset[int], after: dt.datetime, zone: ZoneInfo
) -> dt.datetime:
    local_after = _to_local(after, zone)

    # Eight days always include the same weekday of next week.
    for days_ahead in range(8):
        day = local_after.date() + dt.timedelta(days=days_ahead)
        if day.weekday() not in weekdays:
            continue

        # A wall time skipped by a DST change still happens once: normalising
        # through UTC moves it forward by the gap's length (02:30 becomes 03:30
        # on a one-hour spring-forward night), the instant beat's crontab fires.
        candidate = dt.datetime.combine(day, clock, tzinfo=zone)
        candidate = candidate.astimezone(dt.UTC).astimezone(zone)
        if candidate > local_after:
            return candidate
    raise AssertionError("a non-empty weekday set always recurs within eight days")
