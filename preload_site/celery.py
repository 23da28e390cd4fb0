"""The Celery app shared by the web side, beat and the transcode workers."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "preload_site.settings")

app = Celery("preload_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _configure_routes_and_periodic_checks(sender: Celery, **kwargs: object) -> None:
    """Send every transcoding task to the transcode queue and add host checks.

    The checks are static beat entries; the database scheduler copies them into
    PeriodicTask rows so Flower and the admin show them beside the windows.
    """
    from django.conf import settings

    queue = settings.TRANSCODE_QUEUE
    sender.conf.task_routes = {"transcoding.tasks.*": {"queue": queue}}
    sender.conf.beat_schedule = {
        "transcode-health-check": {
            "task": "transcoding.tasks.check_health",
            "schedule": float(settings.HEALTH_CHECK_INTERVAL_SECONDS),
            "options": {"queue": queue, "expires": 60},
        },
        "transcode-idle-cleanup": {
            "task": "transcoding.tasks.cleanup_idle_channels",
            "schedule": float(settings.IDLE_CLEANUP_INTERVAL_SECONDS),
            "options": {"queue": queue, "expires": 30},
        },
    }
