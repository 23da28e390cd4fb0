"""Bad channels and windows are refused with a message that says what to fix,
and nothing is written: no row, no beat schedule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django_celery_beat.models import PeriodicTask

from channels_app.admin import PreloadConfigForm
from channels_app.models import Channel, PreloadConfig
from tests.support import make_channel

pytestmark = pytest.mark.django_db

GOOD_SOURCE = "rtmp://camera.example/live/room1"


def messages_of(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict


def assert_nothing_written() -> None:
    assert not PeriodicTask.objects.filter(name__startswith="preload:").exists()


# --- channel ids ------------------------------------------------------------------

BAD_IDS = {
    "uppercase": "Room1",
    "space": "room 1",
    "dot-dot": "..",
    "dots": "room..1",
    "slash": "live/room1",
    "leading dash": "-room1",
    "too long": "a" * 65,
    "empty": "",
    "non-ascii": "räume",
}


@pytest.mark.parametrize("bad_id", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_it_refuses_unsafe_channel_ids_in_forms(bad_id):
    channel = Channel(id=bad_id, name="Room", source_url=GOOD_SOURCE)

    with pytest.raises(ValidationError) as caught:
        channel.full_clean()

    explained = ("Lower-case letters, digits", "at most 64", "cannot be blank")
    errors = messages_of(caught.value)["id"]
    assert any(hint in message for hint in explained for message in errors), errors


@pytest.mark.parametrize("bad_id", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_it_refuses_unsafe_channel_ids_in_the_database(bad_id):
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        make_channel(bad_id, window=("07:00", "17:30"))

    assert not Channel.objects.exists()
    assert_nothing_written()


@pytest.mark.parametrize("good_id", ["stream_ensxma2g", "a", "0-room_1", "z" * 64])
def test_it_accepts_safe_channel_ids(good_id):
    Channel(id=good_id, name="Room", source_url=GOOD_SOURCE).full_clean()


def test_it_generates_a_safe_id_when_none_is_given():
    channel = Channel(name="Room", source_url=GOOD_SOURCE)
    channel.full_clean()
    assert channel.id.startswith("stream_") and len(channel.id) == 15


# --- source URLs --------------------------------------------------------------------

BAD_SOURCES = {
    "file scheme": ("file:///etc/passwd", "scheme is one of"),
    "bare path": ("/etc/passwd", "scheme is one of"),
    "relative path": ("camera.flv", "scheme is one of"),
    "concat": ("concat:/etc/passwd|/etc/shadow", "scheme is one of"),
    "data": ("data:text/plain;base64,aGVsbG8=", "scheme is one of"),
    "subfile": ("subfile,,start,0,end,0,,:/etc/passwd", "scheme is one of"),
    "pipe": ("pipe:0", "scheme is one of"),
    "option injection": ("-filter_complex", "scheme is one of"),
    "option before url": ("-rtmp://camera.example/live", "scheme is one of"),
    "rtmp without host": ("rtmp:///live/room1", "needs a host"),
    "rtmp host missing": ("rtmp:live/room1", "needs a host"),
    "inner space": ("rtmp://camera.example/live/room 1", "must not contain spaces"),
    "trailing newline": ("rtmp://camera.example/live\n", "must not contain spaces"),
    "tab": ("rtmp://camera.example/\tlive", "must not contain spaces"),
    "bell": ("rtmp://camera.example/live\x07", "control characters"),
    "nul": ("rtmp://camera.example/live\x00x", "control characters"),
    "empty": ("", "This field cannot be blank"),
}


@pytest.mark.parametrize(
    ("source", "message"), BAD_SOURCES.values(), ids=BAD_SOURCES.keys()
)
def test_it_refuses_sources_ffmpeg_would_read_from_disk_or_misparse(source, message):
    channel = Channel(id="room_1", name="Room", source_url=source)

    with pytest.raises(ValidationError) as caught:
        channel.full_clean()

    errors = messages_of(caught.value)["source_url"]
    assert any(message in text for text in errors), errors
    assert not Channel.objects.exists()


@pytest.mark.parametrize(
    "source",
    [
        "rtmp://camera.example/live/room1",
        "RTMP://10.0.0.5:1935/live/room1",
        "rtmps://user:secret@camera.example/live/room1",
        "rtsp://10.0.0.7:554/stream1",
        "srt://10.0.0.8:9000?mode=caller",
        "http://camera.example/live.flv",
        "https://camera.example/live/index.m3u8",
    ],
)
def test_it_accepts_network_stream_sources(source):
    Channel(id="room_1", name="Room", source_url=source).full_clean()


# --- windows --------------------------------------------------------------------


def window(start: dt.time, end: dt.time, weekdays: int = 127) -> PreloadConfig:
    channel = make_channel("room_1")
    return PreloadConfig(
        channel=channel, enabled=True, start_time=start, end_time=end, weekdays=weekdays
    )


def test_it_refuses_an_end_equal_to_the_start_in_clean():
    config = window(dt.time(7, 0), dt.time(7, 0))

    with pytest.raises(ValidationError) as caught:
        config.full_clean()

    errors = messages_of(caught.value)
    assert "The end equals the start" in errors["end_time"][0]
    assert "cross midnight" in errors["end_time"][0]


def test_it_refuses_an_end_equal_to_the_start_in_the_database():
    config = window(dt.time(7, 0), dt.time(7, 0))

    with pytest.raises(IntegrityError, match="preload_start_differs_from_end"):
        with transaction.atomic():
            config.save()

    assert not PreloadConfig.objects.exists()
    assert_nothing_written()


@pytest.mark.parametrize("mask", [0, 128, 255, 32767])
def test_it_refuses_weekday_masks_outside_one_week_in_the_database(mask):
    config = window(dt.time(7, 0), dt.time(17, 30), weekdays=mask)

    with pytest.raises(IntegrityError, match="preload_has_weekdays"):
        with transaction.atomic():
            config.save()

    assert not PreloadConfig.objects.exists()
    assert_nothing_written()


@pytest.mark.parametrize("mask", [0, 128])
def test_it_refuses_weekday_masks_outside_one_week_in_clean(mask):
    config = window(dt.time(7, 0), dt.time(17, 30), weekdays=mask)

    with pytest.raises(ValidationError, match="Choose at least one weekday"):
        config.full_clean()


@pytest.mark.parametrize(
    ("field", "start", "end"),
    [
        ("start_time", dt.time(7, 0, 30), dt.time(17, 30)),
        ("end_time", dt.time(7, 0), dt.time(17, 30, 1)),
        ("start_time", dt.time(7, 0, 0, 1), dt.time(17, 30)),
    ],
)
def test_it_refuses_seconds_in_times(field, start, end):
    config = window(start, end)

    with pytest.raises(ValidationError) as caught:
        config.full_clean()

    assert messages_of(caught.value)[field] == ["Use whole minutes (HH:MM)."]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"start_time": "07:00:30"}, "start_time", "Enter a time as HH:MM."),
        ({"start_time": "7am"}, "start_time", "Enter a time as HH:MM."),
        ({"end_time": "25:00"}, "end_time", "Enter a time as HH:MM."),
        ({"end_time": "07:00"}, "end_time", "The end equals the start"),
        ({"weekdays": []}, "weekdays", "Choose at least one weekday."),
        ({"weekdays": ["7"]}, "weekdays", "Select a valid choice"),
    ],
)
def test_it_explains_bad_admin_form_input_and_saves_nothing(data, field, message):
    channel = make_channel("room_1")
    form_data = {
        "enabled": "on",
        "start_time": "07:00",
        "end_time": "17:30",
        "weekdays": ["0", "1", "2", "3", "4"],
        **data,
    }
    form = PreloadConfigForm(data=form_data, instance=PreloadConfig(channel=channel))

    assert not form.is_valid()
    assert any(message in text for text in form.errors[field]), form.errors
    assert not PreloadConfig.objects.exists()
    assert_nothing_written()


def test_it_saves_a_good_admin_form_with_its_schedule():
    channel = make_channel("room_1")
    form = PreloadConfigForm(
        data={
            "enabled": "on",
            "start_time": "23:00",
            "end_time": "01:00",
            "weekdays": ["4"],
        },
        instance=PreloadConfig(channel=channel),
    )

    assert form.is_valid(), form.errors
    config = form.save()

    assert config.weekdays == 0b0010000
    assert PeriodicTask.objects.filter(name__startswith="preload:room_1:").count() == 2
