"""Click to `playing` in headless Chromium, for a preloaded and a cold channel.

Everything is real: nginx-rtmp publishing a 1 s-keyframe test pattern, the
transcode worker running FFmpeg, gunicorn serving the player page and the HLS
files, Debian's Chromium driven by Playwright playing them with hls.js.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/viewers_bench \\
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python benchmarks/bench_player.py

The database is created and migrated if it does not exist. The time runs from
the click on the channel to the video element's `playing` event, both taken
inside the page. A cold run starts from a stopped channel whose source has
been probed before, as on any day after the first.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "preload_site.settings")

TARGETS = {"preloaded": 0.3, "cold": 3.0}
CHANNELS = {"preloaded": "bench_preloaded", "cold": "bench_cold"}
USER, PASSWORD = "bench-viewer", "bench-password-1"

# Installed inside the page before each click: the click and `playing` times
# on the page's own clock, and how long the watch request took.
MEASURE_JS = """
() => {
  const video = document.getElementById("video");
  window.__bench = new Promise((resolve) => {
    let clicked = null;
    document.addEventListener("click", () => { clicked = performance.now(); },
                              { capture: true, once: true });
    video.addEventListener("playing", () => {
      const watch = performance.getEntriesByType("resource")
        .filter((e) => e.name.includes("/watch/")).pop();
      resolve({ total: performance.now() - clicked,
                watch: watch ? watch.responseEnd - watch.startTime : null });
    }, { once: true });
  });
}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def bench_environment(workdir: Path) -> dict[str, str]:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (see the docstring).")
    os.environ.update(
        HLS_ROOT=str(workdir / "hls"),
        FFMPEG_LOG_DIR=str(workdir / "log"),
        TRANSCODE_QUEUE=f"bench-{uuid.uuid4().hex[:8]}",
        DEBUG="true",
        PYTHONUNBUFFERED="1",
    )
    return dict(os.environ)


def prepare_data(sources: dict[str, str]) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from channels_app.models import Channel

    call_command("migrate", verbosity=0)
    for kind, channel_id in CHANNELS.items():
        Channel.objects.update_or_create(
            pk=channel_id,
            defaults={"name": f"Bench {kind}", "source_url": sources[kind]},
        )
    user, _ = get_user_model().objects.get_or_create(username=USER)
    user.set_password(PASSWORD)
    user.save()


def start_services(env: dict[str, str], workdir: Path, port: int) -> list:
    from tests.support import ServiceProcess

    worker = ServiceProcess(
        [sys.executable, "-m", "celery", "-A", "preload_site", "worker",
         "-Q", env["TRANSCODE_QUEUE"], "--pool", "solo", "--concurrency", "1",
         "--without-gossip", "--without-mingle", "-n", "bench@%h",
         "--loglevel", "INFO"],
        env, workdir / "worker.log",
    )  # fmt: skip
    web = ServiceProcess(
        [sys.executable, "-m", "gunicorn", "preload_site.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"],
        env, workdir / "gunicorn.log",
    )  # fmt: skip
    worker.wait_for_output("ready.", timeout=30)
    wait_listening(port)
    return [worker, web]


def preload(channel_id: str) -> None:
    from transcoding import dispatch, hls_files

    dispatch.call("start_channel", timeout=30, channel_id=channel_id)
    deadline = time.monotonic() + 20
    while hls_files.playable_segments(channel_id) < 3:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{channel_id} wrote no playlist")
        time.sleep(0.2)


def stop(channel_id: str) -> None:
    from transcoding import dispatch

    dispatch.call("stop_channel", timeout=30, channel_id=channel_id)


def log_in(page, base: str) -> None:  # noqa: ANN001
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def measure_once(page, base: str, channel_id: str) -> dict[str, float]:  # noqa: ANN001
    # A fresh page each run: pagehide leaves the previous run's session.
    page.goto(f"{base}/")
    button = page.locator(f'button[data-channel="{channel_id}"]')
    button.wait_for()
    page.evaluate(MEASURE_JS)
    button.click()
    result = page.evaluate("() => window.__bench")
    return {key: (value or 0) / 1000 for key, value in result.items()}


def run(kind: str, runs: int, page, base: str) -> list[dict[str, float]]:  # noqa: ANN001
    channel_id = CHANNELS[kind]
    results = []
    for number in range(runs):
        if kind == "cold":
            page.goto("about:blank")  # leave before the stop
            stop(channel_id)
        result = measure_once(page, base, channel_id)
        print(
            f"  {kind} run {number + 1}: {result['total']:.3f} s "
            f"(watch answer {result['watch']:.3f} s)"
        )
        results.append(result)
    return results


def report(kind: str, results: list[dict[str, float]]) -> None:
    totals = [result["total"] for result in results]
    watch = [result["watch"] for result in results]
    median = statistics.median(totals)
    verdict = "meets" if median <= TARGETS[kind] else "MISSES"
    print(
        f"{kind:>9}: median {median:.3f} s, max {max(totals):.3f} s over "
        f"{len(totals)} runs (watch answer median {statistics.median(watch):.3f} s)"
        f"; target median <= {TARGETS[kind]} s: {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-player-"))
    env = bench_environment(workdir)
    ensure_database(env["DATABASE_URL"])

    import django

    django.setup()
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    from tests.support import CHROMIUM, CHROMIUM_ARGS
    from transcoding.demo_source import LoopbackRtmpServer, TestPattern

    rtmp = LoopbackRtmpServer(workdir / "rtmp")
    rtmp.start()
    sources = {kind: rtmp.url(f"bench-{kind}") for kind in CHANNELS}
    patterns = [TestPattern(settings.FFMPEG_BINARY, url) for url in sources.values()]
    services = []
    try:
        for pattern in patterns:
            pattern.start()
        time.sleep(1.5)  # the publishers connect
        prepare_data(sources)
        port = free_port()
        services = start_services(env, workdir, port)
        base = f"http://127.0.0.1:{port}"
        preload(CHANNELS["preloaded"])

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            page = browser.new_page()
            log_in(page, base)
            results = {kind: run(kind, args.runs, page, base) for kind in CHANNELS}
            browser.close()

        print()
        for kind, kind_results in results.items():
            report(kind, kind_results)
    finally:
        for channel_id in CHANNELS.values():
            if services:
                stop(channel_id)
        for service in reversed(services):
            service.stop()
        for pattern in patterns:
            pattern.stop()
        rtmp.stop()


if __name__ == "__main__":
    main()
