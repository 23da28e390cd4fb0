"""End to end: a transcode worker that starts converges at once.

The real worker runs under faketime at 00:30 Asia/Shanghai. A 23:00-01:00
window opened "yesterday" must start FFmpeg as soon as the worker is ready,
without beat; a preload left running outside its window must be stopped.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import threading
import time
from zoneinfo import ZoneInfo

import psutil
import pytest
from django.conf import settings

from tests.support import make_channel, wait_until
from transcoding.models import ProcessStatus, StreamProcess

SHANGHAI = ZoneInfo("Asia/Shanghai")


def next_shanghai(clock: dt.time) -> dt.datetime:
    now = dt.datetime.now(SHANGHAI)
    candidate = dt.datetime.combine(now.date(), clock, tzinfo=SHANGHAI)
    return candidate if candidate > now else candidate + dt.timedelta(days=1)


def leftover_ffmpeg(source_url: str, channel_id: str) -> subprocess.Popen[bytes]:
    """An FFmpeg a previous worker started and lost track of, reaped when it ends."""
    output = settings.HLS_ROOT / channel_id
    output.mkdir(parents=True)
    process = subprocess.Popen(
        [settings.FFMPEG_BINARY, "-nostdin", "-loglevel", "error",
         "-i", source_url, "-c", "copy", "-f", "hls", str(output / "index.m3u8")],
        stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    threading.Thread(target=process.wait, daemon=True).start()
    return process


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_starting_worker_starts_open_windows_and_stops_closed_ones(
    live_source, start_worker
):
    make_channel("night_room", source_url=live_source, window=("23:00", "01:00"))
    make_channel("day_room", source_url=live_source, window=("07:00", "17:30"))
    leftover = leftover_ffmpeg(live_source, "day_room")
    StreamProcess.objects.create(
        channel_id="day_room",
        host=settings.TRANSCODE_QUEUE,
        status=ProcessStatus.RUNNING,
        preload=True,
        pid=leftover.pid,
        pid_created=psutil.Process(leftover.pid).create_time(),
        source_url=live_source,
    )

    fake_now = next_shanghai(dt.time(0, 30))
    began = time.monotonic()
    start_worker(fake_offset_seconds=fake_now.timestamp() - time.time())

    # Started at once at 00:30, by the worker itself: no beat runs here.
    night = wait_until(
        lambda: StreamProcess.objects.filter(
            channel_id="night_room", status=ProcessStatus.RUNNING
        ).first(),
        timeout=15,
    )
    assert night.preload and not night.manual
    started = night.started_at.astimezone(SHANGHAI)
    assert (started.hour, started.minute) == (0, 30)
    assert psutil.Process(night.pid).name().startswith("ffmpeg")
    playlist = settings.HLS_ROOT / "night_room" / "index.m3u8"
    wait_until(lambda: playlist.exists(), timeout=10)

    # The preload outside its window is stopped, its process gone.
    wait_until(
        lambda: (
            StreamProcess.objects.get(channel_id="day_room").status
            == ProcessStatus.STOPPED
        ),
        timeout=15,
    )
    wait_until(lambda: leftover.poll() is not None, timeout=5)
    assert not (settings.HLS_ROOT / "day_room").exists()
    assert time.monotonic() - began < 30
