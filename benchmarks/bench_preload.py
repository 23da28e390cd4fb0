"""Benchmark: one preloaded channel, from the start firing to the first playlist,
and what the running FFmpeg costs, in copy mode and in transcode mode.

Runs a real transcode worker (Celery, solo pool) against a real RTMP source on
loopback (nginx-rtmp fed by an FFmpeg test pattern with 1 s keyframes). The
start is sent to the worker's queue exactly as beat sends it. Prints the
figures beside the original plan's and our targets.

    .venv/bin/python benchmarks/bench_preload.py [--runs 5] [--sample-seconds 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKDIR = Path(tempfile.mkdtemp(prefix="bench-preload-"))
os.environ.update(
    DJANGO_SETTINGS_MODULE="preload_site.settings",
    DATABASE_URL=f"sqlite:///{WORKDIR / 'bench.sqlite3'}",
    REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"),
    TRANSCODE_QUEUE=f"bench-{os.getpid()}",
    HLS_ROOT=str(WORKDIR / "hls"),
    FFMPEG_LOG_DIR=str(WORKDIR / "log"),
    LOG_LEVEL="WARNING",
)
sys.path.insert(0, str(REPO))

import django  # noqa: E402

django.setup()

import psutil  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from channels_app.models import Channel  # noqa: E402
from transcoding import dispatch  # noqa: E402
from transcoding.demo_source import LoopbackRtmpServer, TestPattern  # noqa: E402
from transcoding.models import StreamProcess  # noqa: E402
from transcoding.supervisor import get_supervisor  # noqa: E402


def start_worker() -> subprocess.Popen[bytes]:
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "preload_site", "worker", "-Q",
         settings.TRANSCODE_QUEUE, "--pool", "solo", "--concurrency", "1",
         "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=(WORKDIR / "worker.log").open("wb"),
    )  # fmt: skip
    dispatch.call("host_status", timeout=60)  # answers once the worker is ready
    return worker


def time_start(channel_id: str) -> tuple[float, float]:
    """Seconds from sending the start to FFmpeg running, and to the first playlist."""
    supervisor = get_supervisor()
    dispatch.call("stop_channel", timeout=30, channel_id=channel_id)

    sent = time.monotonic()
    dispatch.send("start_channel", channel_id=channel_id)
    running = first_playlist = None
    while first_playlist is None:
        if running is None and _is_running(channel_id):
            running = time.monotonic() - sent
        if supervisor.segment_count(channel_id) >= 1:
            first_playlist = time.monotonic() - sent
        time.sleep(0.02)
        if time.monotonic() - sent > 30:
            raise RuntimeError(f"{channel_id}: no playlist in 30 s")
    return running or first_playlist, first_playlist


def _is_running(channel_id: str) -> bool:
    record = StreamProcess.objects.filter(channel_id=channel_id).first()
    return record is not None and record.is_running


def measure_cost(channel_id: str, seconds: float) -> tuple[float, float, str]:
    """Steady-state CPU (% of one core) and resident memory (MB) of FFmpeg."""
    record = StreamProcess.objects.get(channel_id=channel_id)
    process = psutil.Process(record.pid)
    time.sleep(3)  # past start-up
    before = process.cpu_times()
    started = time.monotonic()
    peak_rss = 0
    while time.monotonic() - started < seconds:
        peak_rss = max(peak_rss, process.memory_info().rss)
        time.sleep(0.5)
    after = process.cpu_times()
    used = (after.user + after.system) - (before.user + before.system)
    cpu = 100 * used / (time.monotonic() - started)
    return cpu, peak_rss / 1e6, record.video_mode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample-seconds", type=float, default=30)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    server = LoopbackRtmpServer(WORKDIR / "nginx")
    server.start()
    sources = {
        # H.264 + AAC: browsers play it as it is, so FFmpeg copies.
        "copy": TestPattern(settings.FFMPEG_BINARY, server.url("h264"), "libx264"),
        # Sorenson H.263 + MP3: browsers cannot play it, so FFmpeg transcodes.
        "transcode": TestPattern(settings.FFMPEG_BINARY, server.url("flv1"), "flv"),
    }
    for pattern in sources.values():
        pattern.start()
    time.sleep(2)
    for mode, pattern in sources.items():
        Channel.objects.create(id=f"bench_{mode}", name=mode, source_url=pattern.url)

    worker = start_worker()
    try:
        report(args)
    finally:
        dispatch.call("stop_channel", timeout=30, channel_id="bench_copy")
        dispatch.call("stop_channel", timeout=30, channel_id="bench_transcode")
        worker.terminate()
        worker.wait(timeout=30)
        for pattern in sources.values():
            pattern.stop()
        server.stop()


def report(args: argparse.Namespace) -> None:
    print(
        f"FFmpeg: {settings.FFMPEG_BINARY}; source 720p25, 1 s keyframes, on loopback"
    )
    print(f"\nStart sent -> FFmpeg running / first playlist ({args.runs} runs)")
    for channel_id in ("bench_copy", "bench_transcode"):
        runs = [time_start(channel_id) for _ in range(args.runs)]
        first, cached = runs[0], runs[1:] or runs
        running = statistics.median(run[0] for run in cached)
        playlist = statistics.median(run[1] for run in cached)
        print(
            f"  {channel_id:16} first start (probes the source): running "
            f"{first[0]:.2f} s, playlist {first[1]:.2f} s; later starts, median: "
            f"running {running:.2f} s, playlist {playlist:.2f} s"
        )
    print("  target: running within 2 s of the start minute (original plan: 30 s)")
    print("  a preloaded channel's playlist already exists when a viewer clicks;")
    print("  without preloading the first viewer waits for the playlist time above.")

    print(f"\nSteady-state cost of one channel ({args.sample_seconds:.0f} s sample)")
    for channel_id in ("bench_copy", "bench_transcode"):
        cpu, rss, mode = measure_cost(channel_id, args.sample_seconds)
        print(
            f"  {mode:10} CPU {cpu:5.2f} % of one core, resident memory {rss:5.1f} MB"
        )
    print("  target in copy mode: under 1 % and under 64 MB")
    print("  original plan: 10-15 % CPU and 150-200 MB per channel")


if __name__ == "__main__":
    main()
