"""Restart awareness: a transcode worker converges as soon as it is ready."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_ready
from django.conf import settings

logger = logging.getLogger(__name__)


@worker_ready.connect(dispatch_uid="transcode_worker_converges_on_start")
def _converge_on_start(sender: Any, **kwargs: Any) -> None:
    queues = set(sender.app.amqp.queues.consume_from or {})
    if settings.TRANSCODE_QUEUE not in queues:
        return  # some other worker; it owns no FFmpeg

    # Queued rather than run here, so it runs in the process that executes
    # tasks and owns the FFmpeg children, ahead of anything queued later.
    from .tasks import converge_host

    converge_host.apply_async(queue=settings.TRANSCODE_QUEUE, priority=0)
    logger.info("Transcode worker ready on %s; converging", settings.TRANSCODE_QUEUE)
