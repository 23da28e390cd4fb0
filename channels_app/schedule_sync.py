"""Keep django-celery-beat's rows in step with the preload windows.

Every write path (admin, API, ORM saves and deletes, bulk updates, the resync
command) ends here, so for each channel whose window is on there is exactly one
start and one stop PeriodicTask, each on a crontab in the preload zone, and
none for a channel whose window is off, whose channel is disabled or gone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask, PeriodicTasks

from transcoding import dispatch

from .models import Channel, PreloadConfig
from .windows import WEEKDAY_NAMES, crontab_day_of_week

logger = logging.getLogger(__name__)

TASK_NAME_PREFIX = "preload:"
START_TASK = "transcoding.tasks.preload_window_start"
STOP_TASK = "transcoding.tasks.preload_window_stop"


def start_task_name(channel_id: str) -> str:
    return f"{TASK_NAME_PREFIX}{channel_id}:start"


def stop_task_name(channel_id: str) -> str:
    return f"{TASK_NAME_PREFIX}{channel_id}:stop"


@dataclass
class SyncReport:
    """What a sync changed, by PeriodicTask name."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def merge(self, other: SyncReport) -> None:
        self.created += other.created
        self.updated += other.updated
        self.deleted += other.deleted
        self.unchanged += other.unchanged

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.deleted)} deleted, {len(self.unchanged)} unchanged"
        )

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "created": sorted(self.created),
            "updated": sorted(self.updated),
            "deleted": sorted(self.deleted),
            "unchanged": sorted(self.unchanged),
        }


@dataclass(frozen=True)
class DesiredTask:
    name: str
    task: str
    minute: str
    hour: str
    day_of_week: str
    description: str


def desired_tasks(config: PreloadConfig) -> list[DesiredTask]:
    """The start and stop rows a config needs; none when it schedules nothing."""
    if not config.schedules_preload:
        return []

    window = config.window
    channel = config.channel
    zone = settings.PRELOAD_TIME_ZONE
    start_days = _describe_days(window.weekdays)
    stop_days = _describe_days(window.stop_weekdays)
    return [
        DesiredTask(
            name=start_task_name(channel.pk),
            task=START_TASK,
            minute=str(window.start.minute),
            hour=str(window.start.hour),
            day_of_week=crontab_day_of_week(window.weekdays),
            description=(
                f"Start preloading {channel.name} at {window.start:%H:%M} "
                f"{zone} on {start_days}."
            ),
        ),
        DesiredTask(
            name=stop_task_name(channel.pk),
            task=STOP_TASK,
            minute=str(window.end.minute),
            hour=str(window.end.hour),
            day_of_week=crontab_day_of_week(window.stop_weekdays),
            description=(
                f"Stop preloading {channel.name} at {window.end:%H:%M} "
                f"{zone} on {stop_days}."
            ),
        ),
    ]


def sync_channel_schedule(channel_id: str) -> SyncReport:
    """Make the channel's PeriodicTasks match its config, in one transaction."""
    with transaction.atomic():
        # The row lock orders concurrent syncs of one channel: the last
        # transaction to commit also wrote the rows that stay.
        channel = Channel.objects.select_for_update().filter(pk=channel_id).first()
        wanted = desired_tasks(channel.preload_config()) if channel else []
        report = _apply(channel_id, wanted)
        if report.changed:
            PeriodicTasks.update_changed()
    return report


def sync_channel_schedules(channel_ids: Iterable[str]) -> SyncReport:
    report = SyncReport()
    for channel_id in sorted(set(channel_ids)):
        report.merge(sync_channel_schedule(channel_id))
    return report


def resync_all() -> SyncReport:
    """Rebuild every preload task, removing those whose channel is gone."""
    with transaction.atomic():
        channel_ids = set(Channel.objects.values_list("pk", flat=True))
        report = sync_channel_schedules(channel_ids)

        orphans = PeriodicTask.objects.filter(name__startswith=TASK_NAME_PREFIX)
        for task in orphans:
            if _channel_id_of(task.name) not in channel_ids:
                _delete_task(task)
                report.deleted.append(task.name)
        if report.deleted:
            PeriodicTasks.update_changed()
    logger.info("Preload schedules resynced: %s", report.summary())
    return report


def reload_schedule() -> tuple[SyncReport, bool]:
    """The "reload the preload scheduler" operation of the admin, API and command.

    Resyncs every task, then asks the transcode host to converge; the flag says
    whether that request could be queued (False when the broker is down).
    """
    report = resync_all()
    return report, dispatch.send_quietly("converge_host") is not None


def _apply(channel_id: str, wanted: list[DesiredTask]) -> SyncReport:
    report = SyncReport()
    existing = {
        task.name: task
        for task in PeriodicTask.objects.select_related("crontab").filter(
            name__in=[start_task_name(channel_id), stop_task_name(channel_id)]
        )
    }

    for desired in wanted:
        task = existing.pop(desired.name, None)
        if task is None:
            _create_task(channel_id, desired)
            report.created.append(desired.name)
        elif _update_task(task, channel_id, desired):
            report.updated.append(desired.name)
        else:
            report.unchanged.append(desired.name)

    for task in existing.values():
        _delete_task(task)
        report.deleted.append(task.name)
    return report


def _crontab_for(desired: DesiredTask) -> CrontabSchedule:
    """A crontab row with these values; rows are never edited, only pointed to.

    Because no code changes or deletes a crontab row, two channels that share
    one can never move each other's schedule, and a concurrent sync can never
    delete a row another transaction is about to point at.
    """
    values = {
        "minute": desired.minute,
        "hour": desired.hour,
        "day_of_week": desired.day_of_week,
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": settings.PRELOAD_TIME_ZONE,
    }
    crontab = CrontabSchedule.objects.filter(**values).order_by("pk").first()
    return crontab or CrontabSchedule.objects.create(**values)


def _task_fields(channel_id: str, desired: DesiredTask) -> dict[str, object]:
    return {
        "task": desired.task,
        "kwargs": json.dumps({"channel_id": channel_id}),
        "queue": settings.TRANSCODE_QUEUE,
        "description": desired.description,
        "enabled": True,
        "one_off": False,
    }


def _create_task(channel_id: str, desired: DesiredTask) -> None:
    PeriodicTask.objects.create(
        name=desired.name,
        crontab=_crontab_for(desired),
        **_task_fields(channel_id, desired),
    )


def _update_task(task: PeriodicTask, channel_id: str, desired: DesiredTask) -> bool:
    crontab = _crontab_for(desired)
    fields = _task_fields(channel_id, desired)
    schedule_moved = task.crontab_id != crontab.pk
    differs = schedule_moved or any(
        getattr(task, name) != value for name, value in fields.items()
    )
    if not differs:
        return False

    for name, value in fields.items():
        setattr(task, name, value)
    task.crontab = crontab
    task.interval = task.solar = task.clocked = None
    if schedule_moved:
        # Beat computes the next run from last_run_at. Left at yesterday's
        # firing, an edited time that already passed today would look overdue
        # and fire at once, outside the window. Cleared, beat counts from the
        # moment of this change instead.
        task.last_run_at = None
    task.save()
    return True


def _delete_task(task: PeriodicTask) -> None:
    task.delete()


def _channel_id_of(task_name: str) -> str:
    return task_name.removeprefix(TASK_NAME_PREFIX).rsplit(":", 1)[0]


def _describe_days(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "every day"
    return ", ".join(WEEKDAY_NAMES[day].capitalize() for day in sorted(days))
