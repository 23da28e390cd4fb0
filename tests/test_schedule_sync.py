"""Beat rows for preload windows: exactly one start and stop per enabled window.

The expected rows are worked out here independently of the sync code, and
every path that writes a channel or a window is exercised.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
from zoneinfo import ZoneInfo

import pytest
import redis
import time_machine
from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask, PeriodicTasks
from django_celery_beat.schedulers import ModelEntry

from channels_app.models import Channel, PreloadConfig
from channels_app.schedule_sync import resync_all
from preload_site.celery import app
from tests.support import make_channel

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
START_TASK = "transcoding.tasks.preload_window_start"
STOP_TASK = "transcoding.tasks.preload_window_stop"
EVERY_DAY = 0b1111111
SCHOOL_DAYS = 0b0011111  # Monday to Friday
FRIDAY = 0b0010000
SUNDAY = 0b1000000


def cron_days(mask: int, shift: int = 0) -> str:
    """Cron's day_of_week (Sunday 0) for a Monday-first mask, moved `shift` days."""
    days = sorted({(day + 1 + shift) % 7 for day in range(7) if mask >> day & 1})
    return "*" if len(days) == 7 else ",".join(map(str, days))


def expected_rows(channel_id: str, start: str, end: str, mask: int) -> set[tuple]:
    crosses = end < start
    start_h, start_m = (int(part) for part in start.split(":"))
    end_h, end_m = (int(part) for part in end.split(":"))
    kwargs = {"channel_id": channel_id}
    return {
        (f"preload:{channel_id}:start", START_TASK, str(start_m), str(start_h),
         cron_days(mask), json.dumps(kwargs)),
        (f"preload:{channel_id}:stop", STOP_TASK, str(end_m), str(end_h),
         cron_days(mask, shift=int(crosses)), json.dumps(kwargs)),
    }  # fmt: skip


def rows(channel_id: str | None = None) -> set[tuple]:
    """The preload rows beat holds, checking the fields every row shares."""
    tasks = PeriodicTask.objects.select_related("crontab")
    tasks = tasks.filter(
        name__startswith=f"preload:{channel_id}:" if channel_id else "preload:"
    )
    found = set()
    for task in tasks:
        crontab = task.crontab
        assert task.queue == settings.TRANSCODE_QUEUE
        assert task.enabled and not task.one_off
        assert task.interval_id is task.solar_id is task.clocked_id is None
        assert str(crontab.timezone) == "Asia/Shanghai"
        assert (crontab.day_of_month, crontab.month_of_year) == ("*", "*")
        assert json.loads(task.kwargs) == {"channel_id": task.name.split(":")[1]}
        found.add(
            (task.name, task.task, crontab.minute, crontab.hour,
             crontab.day_of_week, task.kwargs)
        )  # fmt: skip
    return found


def task(name: str) -> PeriodicTask:
    return PeriodicTask.objects.select_related("crontab").get(name=name)


# --- the rows for many configs -------------------------------------------------

HAND_PICKED = [
    ("07:00", "17:30", EVERY_DAY),
    ("07:40", "17:20", EVERY_DAY),
    ("00:00", "23:59", EVERY_DAY),
    ("23:59", "00:00", EVERY_DAY),
    ("23:00", "01:00", EVERY_DAY),
    ("23:00", "01:00", FRIDAY),
    ("22:00", "06:00", SUNDAY),
    ("20:00", "02:00", SCHOOL_DAYS),
    ("08:05", "08:06", SCHOOL_DAYS),
    ("12:00", "11:59", 0b1100000),
    ("06:30", "18:45", 0b1010101),
]
GENERATED = [
    (f"{hour:02}:{minute:02}", f"{(hour + length) % 24:02}:{minute:02}", mask)
    for (hour, minute), length, mask in zip(
        itertools.product(range(0, 24, 5), (0, 17, 59)),
        itertools.cycle((1, 9, 13, 23)),
        itertools.cycle((EVERY_DAY, SCHOOL_DAYS, FRIDAY, SUNDAY, 0b0100001)),
        strict=False,
    )
]


@pytest.mark.parametrize(("start", "end", "mask"), HAND_PICKED + GENERATED)
def test_it_writes_one_start_and_one_stop_row_per_enabled_window(start, end, mask):
    make_channel("room_1", window=(start, end), weekdays=mask)

    assert rows() == expected_rows("room_1", start, end, mask)


def test_it_stops_a_friday_night_window_on_saturday_only():
    make_channel("room_1", window=("23:00", "01:00"), weekdays=FRIDAY)
    assert task("preload:room_1:start").crontab.day_of_week == "5"
    assert task("preload:room_1:stop").crontab.day_of_week == "6"


@pytest.mark.parametrize(
    ("channel_enabled", "window_enabled"),
    [(True, False), (False, True), (False, False)],
)
def test_it_writes_no_rows_unless_channel_and_window_are_on(
    channel_enabled, window_enabled
):
    make_channel(
        "room_1",
        channel_enabled=channel_enabled,
        window=("07:00", "17:30"),
        enabled=window_enabled,
    )
    assert rows() == set()


def test_it_writes_no_rows_for_a_channel_never_configured():
    make_channel("room_1")
    assert rows() == set()


def test_it_keeps_each_channels_rows_to_itself_among_many():
    configs = {
        f"room_{n}": (start, end, mask)
        for n, (start, end, mask) in enumerate(HAND_PICKED)
    }
    for channel_id, (start, end, mask) in configs.items():
        make_channel(channel_id, window=(start, end), weekdays=mask)
    make_channel("room_off", window=("07:00", "17:30"), enabled=False)

    expected = set().union(
        *(expected_rows(cid, *config) for cid, config in configs.items())
    )
    assert rows() == expected
    assert PeriodicTask.objects.filter(name__startswith="preload:").count() == 2 * len(
        configs
    )


# --- every write path ----------------------------------------------------------


def test_it_follows_orm_saves():
    make_channel("room_1", window=("07:00", "17:30"))
    config = PreloadConfig.objects.get(pk="room_1")

    config.start_time = dt.time(8, 15)
    config.weekdays = SCHOOL_DAYS
    config.save()
    assert rows() == expected_rows("room_1", "08:15", "17:30", SCHOOL_DAYS)

    config.enabled = False
    config.save()
    assert rows() == set()

    config.enabled = True
    config.save()
    assert rows() == expected_rows("room_1", "08:15", "17:30", SCHOOL_DAYS)


def test_it_follows_bulk_updates_of_windows():
    make_channel("room_1", window=("07:00", "17:30"))
    make_channel("room_2", window=("07:00", "17:30"))
    make_channel("room_3", window=("09:00", "10:00"))

    PreloadConfig.objects.filter(pk__in=["room_1", "room_2"]).update(
        start_time=dt.time(23, 0), end_time=dt.time(1, 0)
    )
    assert rows() == (
        expected_rows("room_1", "23:00", "01:00", EVERY_DAY)
        | expected_rows("room_2", "23:00", "01:00", EVERY_DAY)
        | expected_rows("room_3", "09:00", "10:00", EVERY_DAY)
    )

    PreloadConfig.objects.filter(pk="room_1").update(enabled=False)
    assert rows("room_1") == set()
    assert len(rows()) == 4


def test_it_follows_deletes_of_windows_and_channels():
    for n in range(4):
        make_channel(f"room_{n}", window=("07:00", "17:30"))

    PreloadConfig.objects.get(pk="room_0").delete()
    PreloadConfig.objects.filter(pk="room_1").delete()
    Channel.objects.get(pk="room_2").delete()  # cascades to its window

    assert {name for name, *_ in rows()} == {
        "preload:room_3:start",
        "preload:room_3:stop",
    }
    Channel.objects.filter(pk="room_3").delete()
    assert rows() == set()


def test_it_follows_a_channel_being_disabled_and_enabled():
    channel = make_channel("room_1", window=("07:00", "17:30"))

    channel.enabled = False
    channel.save()
    assert rows() == set()

    channel.enabled = True
    channel.save()
    assert rows() == expected_rows("room_1", "07:00", "17:30", EVERY_DAY)


def test_it_follows_bulk_updates_of_channels():
    make_channel("room_1", window=("07:00", "17:30"))
    make_channel("room_2", window=("07:00", "17:30"))

    Channel.objects.filter(pk="room_1").update(enabled=False)
    assert rows("room_1") == set()
    assert rows("room_2") == expected_rows("room_2", "07:00", "17:30", EVERY_DAY)

    Channel.objects.filter(pk="room_1").update(enabled=True)
    assert rows("room_1") == expected_rows("room_1", "07:00", "17:30", EVERY_DAY)


def test_it_follows_bulk_created_windows():
    channel = make_channel("room_1")
    PreloadConfig.objects.bulk_create(
        [PreloadConfig(channel=channel, enabled=True, start_time=dt.time(6, 0))]
    )
    assert rows() == expected_rows("room_1", "06:00", "17:30", EVERY_DAY)


def test_it_writes_nothing_when_the_window_is_refused():
    make_channel("room_1", window=("07:00", "17:30"))
    before = rows()

    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        PreloadConfig.objects.filter(pk="room_1").update(end_time=dt.time(7, 0))
    assert rows() == before
    assert PreloadConfig.objects.get(pk="room_1").end_time == dt.time(17, 30)


def test_it_resyncs_everything_and_reports_what_changed():
    make_channel("room_1", window=("07:00", "17:30"))
    make_channel("room_2", window=("23:00", "01:00"))
    make_channel("room_3", window=("09:00", "10:00"))
    # Drift that bypassed the sync: a lost row, a moved row, orphans.
    PeriodicTask.objects.filter(name="preload:room_1:stop").delete()
    moved = CrontabSchedule.objects.create(minute="0", hour="3", timezone="UTC")
    PeriodicTask.objects.filter(name="preload:room_2:start").update(crontab=moved)
    for name in ("preload:gone:start", "preload:gone:stop"):
        PeriodicTask.objects.create(name=name, task=START_TASK, crontab=moved)
    PeriodicTask.objects.create(name="unrelated", task="x.y", crontab=moved)

    report = resync_all()

    assert report.as_dict() == {
        "created": ["preload:room_1:stop"],
        "updated": ["preload:room_2:start"],
        "deleted": ["preload:gone:start", "preload:gone:stop"],
        "unchanged": [
            "preload:room_1:start",
            "preload:room_2:stop",
            "preload:room_3:start",
            "preload:room_3:stop",
        ],
    }
    assert rows() == (
        expected_rows("room_1", "07:00", "17:30", EVERY_DAY)
        | expected_rows("room_2", "23:00", "01:00", EVERY_DAY)
        | expected_rows("room_3", "09:00", "10:00", EVERY_DAY)
    )
    assert PeriodicTask.objects.filter(name="unrelated").exists()
    assert not resync_all().changed


# --- editing without side effects ----------------------------------------------


def test_it_never_moves_another_channels_schedule():
    make_channel("room_1", window=("07:00", "17:30"))
    make_channel("room_2", window=("07:00", "17:30"))
    shared = task("preload:room_2:start").crontab_id
    assert task("preload:room_1:start").crontab_id == shared
    PeriodicTask.objects.filter(name="preload:room_2:start").update(
        last_run_at=dt.datetime(2026, 6, 1, 7, 0, tzinfo=SHANGHAI)
    )

    PreloadConfig.objects.filter(pk="room_1").update(start_time=dt.time(8, 0))
    config = PreloadConfig.objects.get(pk="room_1")
    config.end_time = dt.time(18, 0)
    config.save()

    assert rows("room_2") == expected_rows("room_2", "07:00", "17:30", EVERY_DAY)
    other = task("preload:room_2:start")
    assert other.crontab_id == shared
    assert other.last_run_at == dt.datetime(2026, 6, 1, 7, 0, tzinfo=SHANGHAI)
    assert (other.crontab.hour, other.crontab.minute) == ("7", "0")
    assert rows("room_1") == expected_rows("room_1", "08:00", "18:00", EVERY_DAY)


def beat_entry_is_due(name: str) -> bool:
    return ModelEntry(task(name), app=app).is_due().is_due


@pytest.mark.parametrize("path", ["save", "bulk update"])
def test_it_does_not_make_beat_fire_an_edited_start_at_once(path):
    # Beat fired the 07:00 start this morning.
    fired_at = dt.datetime(2026, 6, 1, 7, 0, 0, tzinfo=SHANGHAI)
    with time_machine.travel(fired_at, tick=False):
        make_channel("room_1", window=("07:00", "17:30"))
        PeriodicTask.objects.filter(name="preload:room_1:start").update(
            last_run_at=fired_at
        )

    # At 09:00 the administrator moves the start to 08:00, already past.
    with time_machine.travel(fired_at + dt.timedelta(hours=2), tick=False):
        if path == "save":
            config = PreloadConfig.objects.get(pk="room_1")
            config.start_time = dt.time(8, 0)
            config.save()
        else:
            PreloadConfig.objects.filter(pk="room_1").update(start_time=dt.time(8, 0))
    assert task("preload:room_1:start").last_run_at is None

    for moment, due in [
        (dt.datetime(2026, 6, 1, 9, 0, 1), False),
        (dt.datetime(2026, 6, 1, 23, 59, 59), False),
        (dt.datetime(2026, 6, 2, 7, 59, 59), False),
        (dt.datetime(2026, 6, 2, 8, 0, 0), True),
    ]:
        with time_machine.travel(moment.replace(tzinfo=SHANGHAI), tick=False):
            assert beat_entry_is_due("preload:room_1:start") is due, moment


def test_it_keeps_last_run_when_only_the_other_edge_moves():
    fired_at = dt.datetime(2026, 6, 1, 7, 0, 0, tzinfo=SHANGHAI)
    make_channel("room_1", window=("07:00", "17:30"))
    PeriodicTask.objects.filter(name="preload:room_1:start").update(
        last_run_at=fired_at
    )

    PreloadConfig.objects.filter(pk="room_1").update(end_time=dt.time(18, 0))

    assert task("preload:room_1:start").last_run_at == fired_at


def test_it_bumps_beats_change_marker_only_on_change():
    with time_machine.travel(dt.datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)):
        make_channel("room_1", window=("07:00", "17:30"))
    first = PeriodicTasks.last_change()
    assert first is not None

    with time_machine.travel(dt.datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)):
        PreloadConfig.objects.get(pk="room_1").save()  # nothing differs
        assert PeriodicTasks.last_change() == first

        PreloadConfig.objects.filter(pk="room_1").update(start_time=dt.time(7, 5))
        assert PeriodicTasks.last_change() > first

    with time_machine.travel(dt.datetime(2026, 6, 1, 11, 0, tzinfo=SHANGHAI)):
        before_delete = PeriodicTasks.last_change()
        Channel.objects.filter(pk="room_1").delete()
        assert PeriodicTasks.last_change() > before_delete


def queued_tasks() -> list[tuple[str, dict]]:
    """Task names and kwargs waiting on the transcode queue in the real broker."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    found = []
    for raw in broker.lrange(settings.TRANSCODE_QUEUE, 0, -1):
        message = json.loads(raw)
        _, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], kwargs))
    return found


@pytest.mark.parametrize(
    "bulk_write",
    [
        lambda: PreloadConfig.objects.filter(pk="room_1").update(enabled=True),
        lambda: Channel.objects.filter(pk="room_1").update(enabled=True),
    ],
    ids=["window update", "channel update"],
)
def test_it_asks_the_host_to_converge_after_bulk_writes(
    bulk_write, django_capture_on_commit_callbacks
):
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(settings.TRANSCODE_QUEUE)
    make_channel("room_1", window=("07:00", "17:30"), enabled=False)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(settings.TRANSCODE_QUEUE)

    with django_capture_on_commit_callbacks(execute=True):
        bulk_write()

    assert queued_tasks() == [
        ("transcoding.tasks.converge_channel", {"channel_id": "room_1"})
    ]
