"""How the web side and commands hand work to the transcode host.

Only the host's worker touches FFmpeg; everything else sends it a task on its
queue. A broker that is down must not turn an admin save into an error: the
host converges on its own at its next start and health check.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.exceptions import TimeoutError as ResultTimeout
from celery.result import AsyncResult
from django.conf import settings
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from preload_site.celery import app

logger = logging.getLogger(__name__)


class HostUnavailable(RuntimeError):
    """The broker or the transcode worker did not answer."""


def send(task: str, expires: float | None = None, **kwargs: Any) -> AsyncResult:
    try:
        return app.send_task(
            f"transcoding.tasks.{task}",
            kwargs=kwargs,
            queue=settings.TRANSCODE_QUEUE,
            expires=expires,
        )
    except (OperationalError, RedisError, RuntimeError) as exc:
        # RuntimeError: the Redis result backend gives up its retries with one.
        raise HostUnavailable(
            f"could not queue {task} on {settings.TRANSCODE_QUEUE}: the broker at "
            f"{settings.CELERY_BROKER_URL} is unreachable ({exc})"
        ) from exc


def send_quietly(task: str, **kwargs: Any) -> AsyncResult | None:
    try:
        return send(task, **kwargs)
    except HostUnavailable as exc:
        logger.warning("%s; the host will catch up at its next health check", exc)
        return None


def call(task: str, timeout: float, **kwargs: Any) -> Any:
    """Queue a task and wait for its answer, for commands and API actions."""
    # Nobody waits for the answer after the timeout, so a worker that comes
    # back later must not run a pile of stale requests.
    result = send(task, expires=timeout, **kwargs)
    try:
        return result.get(timeout=timeout, propagate=True)
    except (OperationalError, RedisError) as exc:
        raise HostUnavailable(
            f"lost the broker while waiting for {task}: {exc}"
        ) from exc
    except ResultTimeout as exc:
        raise HostUnavailable(
            f"no transcode worker on queue {settings.TRANSCODE_QUEUE!r} answered "
            f"within {timeout:g} s; is it running? Start it with: celery -A "
            f"preload_site worker -Q {settings.TRANSCODE_QUEUE} --pool solo"
        ) from exc


def request_converge(channel_id: str) -> None:
    send_quietly("converge_channel", channel_id=channel_id)


def request_stop(channel_id: str, reason: str) -> None:
    send_quietly("stop_channel", channel_id=channel_id, reason=reason)
