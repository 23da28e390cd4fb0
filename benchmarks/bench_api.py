"""Latency of the REST API with 1,000 channels in PostgreSQL (a script, not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/api_bench \\
    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python benchmarks/bench_api.py

It migrates the database it is given, adds channels named bench_NNNN (removed
again at the end), and measures in-process through Django's full stack (the
test client: middleware, token authentication, DRF, PostgreSQL, the broker):

- a config PATCH, from request to response; the response is sent after the
  config and its beat rows committed, which the script checks on every sample;
- the same change saved with the ORM directly, as the baseline;
- the system status and host status (measured locally) with 10 and with 1,000
  channels.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "preload_site.settings")
# Converge requests queued by each save go to a queue of the benchmark's own.
os.environ.setdefault("TRANSCODE_QUEUE", "bench-transcode")
django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django_celery_beat.models import PeriodicTask  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from channels_app.models import Channel, PreloadConfig  # noqa: E402
from channels_app.schedule_sync import resync_all, start_task_name  # noqa: E402

PREFIX = "bench_"
TOTAL_CHANNELS = 1000
SMALL_CHANNELS = 10
UPDATE_SAMPLES = 200
STATUS_SAMPLES = 20


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(label: str, samples: list[float]) -> None:
    p50 = statistics.median(samples) * 1000
    p95 = percentile(samples, 0.95) * 1000
    print(f"{label:<46} n={len(samples):<4} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms")


def timed(
    action: Callable[[int], None],
    count: int,
    verify: Callable[[int], None] | None = None,
) -> list[float]:
    """Time each call of `action`; `verify` runs after each, off the clock."""
    samples = []
    for index in range(count):
        started = time.perf_counter()
        action(index)
        samples.append(time.perf_counter() - started)
        if verify is not None:
            verify(index)
    return samples


def remove_bench_channels() -> None:
    Channel.objects.filter(pk__startswith=PREFIX).delete()
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(settings.TRANSCODE_QUEUE)


def add_channels(first: int, last: int) -> None:
    """Rows in bulk (no signals), then one resync writes their beat rows."""
    channels = [
        Channel(id=f"{PREFIX}{n:04d}", name=f"Bench {n:04d}", source_url="rtmp://c/x")
        for n in range(first, last)
    ]
    Channel.objects.bulk_create(channels)
    PreloadConfig.objects.bulk_create(
        PreloadConfig(channel=channel, enabled=True) for channel in channels
    )
    resync_all()


def admin_client() -> Client:
    user, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True}
    )
    token, _ = Token.objects.get_or_create(user=user)
    return Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token.key}")


def clock_for(index: int) -> tuple[int, int]:
    """A start time that differs from the previous sample's, never 17:30."""
    return 5 + index % 2, index % 60


def api_channel(index: int) -> str:
    return f"{PREFIX}{index * 7 % TOTAL_CHANNELS:04d}"


def bench_api_update(client: Client) -> list[float]:
    def update(index: int) -> None:
        hour, minute = clock_for(index)
        response = client.patch(
            f"/api/preload-configs/{api_channel(index)}/",
            {"start_time": f"{hour:02d}:{minute:02d}"},
            content_type="application/json",
        )
        if response.status_code != 200:
            raise SystemExit(f"PATCH answered {response.status_code}")

    def rows_committed(index: int) -> None:
        # Read on the script's connection after the answer: the rows are
        # there only if the request's transaction had committed.
        task = PeriodicTask.objects.select_related("crontab").get(
            name=start_task_name(api_channel(index))
        )
        hour, minute = clock_for(index)
        if (task.crontab.hour, task.crontab.minute) != (str(hour), str(minute)):
            raise SystemExit(f"{api_channel(index)}: beat row not yet committed")

    return timed(update, UPDATE_SAMPLES, verify=rows_committed)


def bench_orm_update() -> list[float]:
    def update(index: int) -> None:
        channel_id = f"{PREFIX}{index * 11 % TOTAL_CHANNELS:04d}"
        config = PreloadConfig.objects.select_related("channel").get(pk=channel_id)
        hour, minute = clock_for(index + 1)
        config.start_time = config.start_time.replace(hour=hour, minute=minute)
        config.save()

    return timed(update, UPDATE_SAMPLES)


def bench_get(client: Client, path: str) -> list[float]:
    def get(index: int) -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")

    get(-1)  # warm-up: the first request pays for imports and caches
    return timed(get, STATUS_SAMPLES)


def main() -> None:
    call_command("migrate", verbosity=0)
    remove_bench_channels()
    if Channel.objects.exists():
        print("Note: the database holds other channels too; status covers them.")
    client = admin_client()

    try:
        add_channels(0, SMALL_CHANNELS)
        report("GET /api/status/, 10 channels", bench_get(client, "/api/status/"))
        host = "/api/status/host/?source=local"
        report("GET /api/status/host/ (local), 10 channels", bench_get(client, host))

        started = time.perf_counter()
        add_channels(SMALL_CHANNELS, TOTAL_CHANNELS)
        elapsed = time.perf_counter() - started
        print(
            f"create 990 more channels with windows, then resync_all: {elapsed:.1f} s"
        )

        report("GET /api/status/, 1000 channels", bench_get(client, "/api/status/"))
        report("GET /api/status/host/ (local), 1000 channels", bench_get(client, host))
        report("PATCH config via API (to rows committed)", bench_api_update(client))
        report("same change via ORM save() (baseline)", bench_orm_update())
    finally:
        remove_bench_channels()


if __name__ == "__main__":
    main()
