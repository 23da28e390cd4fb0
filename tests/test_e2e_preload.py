"""End to end: beat fires a window's start and stop; a real worker runs real FFmpeg.

Beat and the worker run under faketime, shifted so that their clock reaches
07:40:00 Asia/Shanghai a few seconds after they start, wherever and whenever
the test runs. Nothing here calls a task directly: beat does.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from zoneinfo import ZoneInfo

import psutil
import pytest
from django.conf import settings

from channels_app.models import Channel, PreloadConfig
from tests.support import wait_until
from transcoding.models import ProcessStatus, StreamProcess

SHANGHAI = ZoneInfo("Asia/Shanghai")
LEAD_SECONDS = 12


def next_local(clock: dt.time, zone: ZoneInfo) -> dt.datetime:
    now = dt.datetime.now(zone)
    candidate = dt.datetime.combine(now.date(), clock, tzinfo=zone)
    if candidate <= now + dt.timedelta(seconds=LEAD_SECONDS + 5):
        candidate += dt.timedelta(days=1)
    return candidate


def ffprobe_segments(playlist: str) -> dict:
    result = subprocess.run(
        [settings.FFPROBE_BINARY, "-v", "error", "-show_entries",
         "stream=codec_type,codec_name", "-of", "json", playlist],
        capture_output=True, text=True, timeout=20, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def descendants_are_not_zombies(pid: int) -> bool:
    worker = psutil.Process(pid)
    return all(
        child.status() != psutil.STATUS_ZOMBIE
        for child in worker.children(recursive=True)
    )


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_beat_starts_and_stops_real_ffmpeg_at_the_window_edges(
    live_source, start_worker, start_beat
):
    start_at = next_local(dt.time(7, 40), SHANGHAI)
    channel = Channel.objects.create(id="room_1", name="Room 1", source_url=live_source)
    PreloadConfig.objects.create(
        channel=channel,
        enabled=True,
        start_time=dt.time(7, 40),
        end_time=dt.time(7, 41),
    )

    offset = (start_at - dt.timedelta(seconds=LEAD_SECONDS)).timestamp() - time.time()
    worker = start_worker(fake_offset_seconds=offset)
    beat = start_beat(fake_offset_seconds=offset)

    # Before 07:40 nothing runs.
    time.sleep(2)
    assert not StreamProcess.objects.filter(status=ProcessStatus.RUNNING).exists()

    # Beat fires the start at 07:40:00; FFmpeg writes a playlist of 3+ segments.
    record = wait_until(
        lambda: StreamProcess.objects.filter(
            channel_id="room_1", status=ProcessStatus.RUNNING
        ).first(),
        timeout=LEAD_SECONDS + 10,
    )
    assert "preload:room_1:start" in beat.output()
    started_local = record.started_at.astimezone(SHANGHAI)
    assert (started_local.hour, started_local.minute) == (7, 40)
    assert started_local.second < 2, "preload must run within 2 s of its minute"

    playlist = settings.HLS_ROOT / "room_1" / "index.m3u8"
    wait_until(lambda: playlist.exists() and playlist.read_text().count(".ts") >= 3, 20)
    codecs = {
        s["codec_type"]: s["codec_name"]
        for s in ffprobe_segments(str(playlist))["streams"]
    }
    assert codecs == {"video": "h264", "audio": "aac"}
    ffmpeg_pid = record.pid
    assert psutil.Process(ffmpeg_pid).name().startswith("ffmpeg")

    # Beat fires the stop at 07:41:00; the process is gone, reaped, not a zombie.
    wait_until(
        lambda: (
            StreamProcess.objects.get(channel_id="room_1").status
            == ProcessStatus.STOPPED
        ),
        timeout=75,
    )
    assert "preload:room_1:stop" in beat.output()
    assert not psutil.pid_exists(ffmpeg_pid)
    assert descendants_are_not_zombies(worker.process.pid)
