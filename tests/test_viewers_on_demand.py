"""On-demand starts and idle cleanup with a real worker, real beat and real FFmpeg.

Idle and cleanup times are shortened through the environment of the worker and
beat (and the same settings here), so a viewer goes idle after 3 s and cleanup
runs every second.
"""

from __future__ import annotations

import datetime as dt
import time

import psutil
import pytest

from channels_app.models import Channel, PreloadConfig, preload_zone
from tests.support import wait_until
from tests.viewers_support import (
    clear_viewer_keys,
    keep_watching,
    viewer_client,
    watch,
)
from transcoding.models import ProcessStatus, StreamProcess

IDLE_SECONDS = 3
SHORT_TIMES = {
    "VIEWER_IDLE_SECONDS": str(IDLE_SECONDS),
    "IDLE_CLEANUP_INTERVAL_SECONDS": "1",
    "FFMPEG_PROBE_TIMEOUT_SECONDS": "3",
}
# Long enough for a viewer to go idle and cleanup to notice, with room to spare.
CLEANUP_WAIT = IDLE_SECONDS + 6

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _short_times(settings) -> None:  # noqa: ANN001
    settings.VIEWER_IDLE_SECONDS = IDLE_SECONDS
    clear_viewer_keys()


@pytest.fixture
def host(start_worker, start_beat):  # noqa: ANN001, ANN201
    """Start the transcode worker and beat once the test's channels exist."""

    def start() -> None:
        start_worker(**SHORT_TIMES)
        start_beat(**SHORT_TIMES)

    return start


def running_record(channel_id: str) -> StreamProcess | None:
    return StreamProcess.objects.filter(
        channel_id=channel_id, status=ProcessStatus.RUNNING
    ).first()


def is_stopped(channel_id: str) -> bool:
    return running_record(channel_id) is None


def open_window_now(channel: Channel) -> PreloadConfig:
    now = dt.datetime.now(preload_zone()).replace(second=0, microsecond=0)
    return PreloadConfig.objects.create(
        channel=channel,
        enabled=True,
        start_time=(now - dt.timedelta(hours=1)).time(),
        end_time=(now + dt.timedelta(hours=1)).time(),
    )


def test_an_on_demand_channel_plays_for_a_viewer_and_stops_when_they_go_idle(
    live_source, host, django_user_model
):
    Channel.objects.create(id="room_1", name="Room 1", source_url=live_source)
    host()
    viewer = viewer_client(django_user_model, "parent")

    started = time.monotonic()
    answer = watch(viewer, "room_1")
    waited = time.monotonic() - started

    record = running_record("room_1")
    assert record is not None and not record.preload
    assert waited < 8, f"cold start took {waited:.1f} s"
    playlist = viewer.get(answer["playlist_url"])
    assert playlist.status_code == 200
    assert b"#EXTINF" in b"".join(playlist.streaming_content)

    # No heartbeats from now on: cleanup stops FFmpeg once the viewer is idle.
    wait_until(lambda: is_stopped("room_1"), timeout=CLEANUP_WAIT)
    assert not psutil.pid_exists(record.pid)
    assert StreamProcess.objects.get(pk="room_1").last_reason == "no viewers left"


def test_a_preloaded_channel_is_never_cleaned_up(live_source, host, django_user_model):
    channel = Channel.objects.create(id="room_1", name="R", source_url=live_source)
    open_window_now(channel)
    host()
    record = wait_until(lambda: running_record("room_1"), timeout=15)
    assert record.preload

    time.sleep(CLEANUP_WAIT)  # nobody watches, cleanup runs every second

    assert running_record("room_1").pid == record.pid
    viewer = viewer_client(django_user_model, "parent")
    wait_until(lambda: viewer.get("/hls/-/room_1/index.m3u8").status_code == 200, 10)
    started = time.monotonic()
    watch(viewer, "room_1")
    assert time.monotonic() - started < 0.5, "a preloaded channel answers at once"


def test_one_of_two_viewers_leaving_keeps_the_channel_for_the_other(
    live_source, host, django_user_model
):
    Channel.objects.create(id="room_1", name="Room 1", source_url=live_source)
    host()
    alice = viewer_client(django_user_model, "alice")
    bob = viewer_client(django_user_model, "bob")
    alice_answer = watch(alice, "room_1")
    bob_answer = watch(bob, "room_1")
    pid = running_record("room_1").pid

    assert alice.post(alice_answer["leave_url"]).status_code == 200
    keep_watching(bob, bob_answer, CLEANUP_WAIT)

    assert running_record("room_1").pid == pid
    wait_until(lambda: is_stopped("room_1"), timeout=CLEANUP_WAIT)


def test_a_window_ending_while_a_viewer_watches_hands_the_channel_to_them(
    live_source, host, django_user_model
):
    channel = Channel.objects.create(id="room_1", name="R", source_url=live_source)
    config = open_window_now(channel)
    host()
    pid = wait_until(lambda: running_record("room_1"), timeout=15).pid
    viewer = viewer_client(django_user_model, "parent")
    answer = watch(viewer, "room_1")

    # Close the window: the save makes the host converge, as the stop at the
    # window's end minute would.
    now = dt.datetime.now(preload_zone())
    config.start_time = (now + dt.timedelta(hours=2)).time().replace(second=0)
    config.end_time = (now + dt.timedelta(hours=3)).time().replace(second=0)
    config.save()

    handed = wait_until(
        lambda: StreamProcess.objects.filter(pk="room_1", preload=False).first(), 10
    )
    assert "viewers watch" in handed.last_reason
    keep_watching(viewer, answer, CLEANUP_WAIT)
    assert running_record("room_1").pid == pid

    wait_until(lambda: is_stopped("room_1"), timeout=CLEANUP_WAIT)


def test_a_source_that_cannot_be_read_is_a_clear_error(host, django_user_model):
    Channel.objects.create(
        id="broken", name="Broken", source_url="rtmp://127.0.0.1:9/live/none"
    )
    host()
    viewer = viewer_client(django_user_model, "parent")

    response = viewer.post("/viewer/channels/broken/watch/")

    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "channel broken is not available now"
    assert "source not readable" in body["detail"]
