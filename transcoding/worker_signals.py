"""Restart awareness: a transcode worker converges as soon as it is ready."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings

logger = logging.getLogger(__name__)


@worker_ready.connect(dispatch_uid="transcode_worker_converges_on_start")
def _converge_on_start(sender: Any, **kwargs: Any) -> None:
    if not _is_transcode_worker(sender):
        return  # some other worker; it owns no FFmpeg

    # Queued rather than run here, so it runs in the process that executes
    # tasks and owns the FFmpeg children, ahead of anything queued later.
    from .tasks import converge_host

    converge_host.apply_async(queue=settings.TRANSCODE_QUEUE, priority=0)
    logger.info("Transcode worker ready on %s; converging", settings.TRANSCODE_QUEUE)


@worker_shutdown.connect(dispatch_uid="transcode_worker_stops_ffmpeg_on_shutdown")
def _stop_ffmpeg_on_shutdown(sender: Any, **kwargs: Any) -> None:
    if not (settings.STOP_FFMPEG_ON_WORKER_SHUTDOWN and _is_transcode_worker(sender)):
        return
    from .models import ProcessStatus, StreamProcess
    from .supervisor import get_supervisor

    supervisor = get_supervisor()
    running = StreamProcess.objects.filter(
        host=settings.TRANSCODE_QUEUE, status=ProcessStatus.RUNNING
    )
    for record in running:
        supervisor.ensure_stopped(
            record.channel_id, reason="transcode worker shut down"
        )


def _is_transcode_worker(consumer: Any) -> bool:
    return settings.TRANSCODE_QUEUE in set(consumer.app.amqp.queues.consume_from or {})
