"""Tasks run by the transcode host's single-concurrency worker.

Each task is an "ensure" operation: repeating it, or receiving it late, leaves
the same state as running it once at the right time.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from celery import shared_task
from django.utils import timezone

from channels_app.models import Channel

from . import viewers
from .models import ProcessStatus, StreamProcess
from .status import process_state
from .supervisor import get_supervisor


def _state(channel_id: str) -> dict[str, Any]:
    record = StreamProcess.objects.filter(channel_id=channel_id).first()
    return process_state(channel_id, record)


@shared_task
def preload_window_start(channel_id: str) -> dict[str, Any]:
    """Fired by beat at a window's start minute."""
    get_supervisor().window_start(channel_id)
    return _state(channel_id)


@shared_task
def preload_window_stop(channel_id: str) -> dict[str, Any]:
    """Fired by beat at a window's end minute."""
    get_supervisor().window_stop(channel_id)
    return _state(channel_id)


@shared_task
def converge_channel(channel_id: str) -> dict[str, Any]:
    """After a config or channel change: start or stop to match the window now."""
    report = get_supervisor().converge([channel_id])
    return {"report": asdict(report), "state": _state(channel_id)}


@shared_task
def converge_host() -> dict[str, Any]:
    """Make every channel on this host match its window (start-up and reload)."""
    supervisor = get_supervisor()
    report = supervisor.converge()
    report.strays_killed = supervisor.kill_strays()
    return asdict(report)


@shared_task
def start_channel(channel_id: str) -> dict[str, Any]:
    """An operator's start: runs until stopped by hand or by the window's end."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return {"error": f"no channel with id {channel_id!r}"}
    if not channel.enabled:
        return {"error": f"channel {channel_id} is disabled; enable it first"}

    supervisor = get_supervisor()
    record = supervisor.record_for(channel_id)
    record.restart_count = 0
    if record.status == ProcessStatus.FAILED:
        record.status = ProcessStatus.STOPPED
    record.save()
    supervisor.ensure_running(
        channel, preload=True, manual=True, reason="started by hand"
    )
    return _state(channel_id)


@shared_task
def stop_channel(channel_id: str, reason: str = "stopped by hand") -> dict[str, Any]:
    get_supervisor().ensure_stopped(channel_id, reason=reason)
    return _state(channel_id)


@shared_task
def restart_channel(channel_id: str) -> dict[str, Any]:
    get_supervisor().ensure_stopped(channel_id, reason="restart requested")
    return start_channel(channel_id)


@shared_task
def check_health() -> dict[str, str]:
    """Every HEALTH_CHECK_INTERVAL_SECONDS: restart crashed or stalled preloads."""
    return get_supervisor().check_health()


@shared_task
def cleanup_idle_channels() -> list[str]:
    """Stop on-demand channels nobody has watched for VIEWER_IDLE_SECONDS."""
    supervisor = get_supervisor()
    now = timezone.now()
    stopped = []
    on_demand = StreamProcess.objects.filter(
        status=ProcessStatus.RUNNING, preload=False, manual=False
    )
    for record in on_demand:
        if viewers.live_viewer_count(record.channel_id, now) == 0:
            supervisor.ensure_stopped(record.channel_id, reason="no viewers left")
            stopped.append(record.channel_id)
    return stopped


@shared_task
def host_status() -> dict[str, Any]:
    """Every process this host knows, measured on the host itself."""
    records = StreamProcess.objects.all()
    supervisor = get_supervisor()
    return {
        "host": supervisor.config.host,
        "processes": [
            {
                **process_state(record.channel_id, record),
                "log_tail": supervisor.log_tail(record.channel_id),
            }
            for record in records
        ],
    }
