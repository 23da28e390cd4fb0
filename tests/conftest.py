"""Shared fixtures: real PostgreSQL, Redis, nginx-rtmp, FFmpeg, Celery worker and beat.

The database and Redis come from DATABASE_URL and REDIS_URL, which the test
command (scripts/test) sets. Worker and beat run as real subprocesses against
pytest-django's test database, so tests that use them need committed data:
mark them with `@pytest.mark.django_db(transaction=True)`.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from channels_app.models import Channel
from tests.support import ServiceProcess, celery_command
from tests.viewers_support import clear_viewer_keys, fake_playlist
from transcoding.demo_source import LoopbackRtmpServer, TestPattern

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _require_real_services() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.exit(
            "Tests need PostgreSQL: run them with scripts/test, or set "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/test",
            returncode=2,
        )
    redis.Redis.from_url(settings.REDIS_URL).ping()


@pytest.fixture(autouse=True)
def _isolated_paths(tmp_path: Path, settings) -> None:  # noqa: ANN001
    """Each test gets its own HLS and log folders."""
    settings.HLS_ROOT = tmp_path / "hls"
    settings.FFMPEG_LOG_DIR = tmp_path / "log"
    from transcoding import supervisor

    supervisor._supervisor = None


@pytest.fixture(scope="session")
def transcode_queue() -> str:
    """A queue of this test run's own, so no stale message reaches a worker."""
    return f"test-transcode-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def _use_test_queue(settings, transcode_queue: str) -> None:  # noqa: ANN001
    settings.TRANSCODE_QUEUE = transcode_queue


@pytest.fixture(scope="session")
def rtmp_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LoopbackRtmpServer]:
    server = LoopbackRtmpServer(tmp_path_factory.mktemp("nginx-rtmp"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_source(rtmp_server: LoopbackRtmpServer) -> Iterator[str]:
    """An H.264/AAC test pattern with 1 s keyframes, published for the session."""
    url = rtmp_server.url(f"pattern-{uuid.uuid4().hex[:6]}")
    pattern = TestPattern(settings.FFMPEG_BINARY, url)
    pattern.start()
    time.sleep(1.5)  # nginx has the stream once the publisher connected
    yield url
    pattern.stop()


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a worker or beat: the *test* database and our settings."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DATABASE_URL=(
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{connection.settings_dict['NAME']}"
        ),
        TRANSCODE_QUEUE=settings.TRANSCODE_QUEUE,
        HLS_ROOT=str(settings.HLS_ROOT),
        FFMPEG_LOG_DIR=str(settings.FFMPEG_LOG_DIR),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


StartWorker = Callable[..., ServiceProcess]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[StartWorker]:
    """Start the transcode worker (solo pool, concurrency 1) on the test queue.

    `fake_offset_seconds` runs it under faketime, shifted like beat.
    """
    started: list[ServiceProcess] = []

    def start(fake_offset_seconds: float | None = None, **env: str) -> ServiceProcess:
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(
            settings.TRANSCODE_QUEUE
        )
        command = celery_command(
            "worker",
            "-Q",
            settings.TRANSCODE_QUEUE,
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"transcode-{uuid.uuid4().hex[:6]}@%h",
            "--loglevel",
            "INFO",
            fake_offset_seconds=fake_offset_seconds,
        )
        worker = ServiceProcess(
            command, subprocess_env(env), tmp_path / f"worker-{len(started)}.log"
        )
        started.append(worker)
        worker.wait_for_output("ready.", timeout=30)
        return worker

    yield start
    for worker in started:
        worker.stop()
        print(f"--- worker log ---\n{worker.output()[-6000:]}")


@pytest.fixture
def start_beat(tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Start beat with the database scheduler, optionally on a shifted clock."""
    started: list[ServiceProcess] = []

    def start(fake_offset_seconds: float | None = None, **env: str) -> ServiceProcess:
        command = celery_command(
            "beat",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--max-interval",
            "1",
            "--loglevel",
            "INFO",
            "--pidfile",
            "",
            "-s",
            str(tmp_path / "beat-schedule"),
            fake_offset_seconds=fake_offset_seconds,
        )
        beat = ServiceProcess(command, subprocess_env(env), tmp_path / "beat.log")
        started.append(beat)
        beat.wait_for_output("beat: Starting", timeout=30)
        return beat

    yield start
    for beat in started:
        beat.stop()
        print(f"--- beat log ---\n{beat.output()[-6000:]}")


@pytest.fixture
def clean_viewers() -> None:
    """No viewer or session left from an earlier test: channel ids repeat."""
    clear_viewer_keys()


@pytest.fixture
def room() -> Channel:
    """An enabled channel whose playlist FFmpeg seems to have just written."""
    channel = Channel.objects.create(
        id="room_1", name="Room 1", source_url="rtmp://127.0.0.1/live/room1"
    )
    fake_playlist(channel.pk)
    return channel
