"""Tasks run by the transcode host's single-concurrency worker.

Each task is an "ensure" operation: repeating it, or receiving it late, leaves
the same state as running it once at the right time.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from channels_app.models import Channel

from . import hls_files, viewers
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
    supervisor.forget_failures(channel_id)
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
    # Only this host's processes: a pid recorded by another host means nothing
    # here, and stopping its row would delete that host's HLS folder.
    on_demand = StreamProcess.objects.filter(
        host=supervisor.config.host,
        status=ProcessStatus.RUNNING,
        preload=False,
        manual=False,
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


class OnDemandStartError(RuntimeError):
    """A channel started for a viewer did not become playable; says why."""


# How often the worker looks for the first segments: a tenth of a segment, so
# the answer leaves at most that long after FFmpeg renamed the playlist.
READY_POLL_SECONDS = 0.1


@shared_task
def watch_channel(channel_id: str) -> dict[str, Any]:
    """A viewer wants the channel: run it on demand until it has a segment.

    Answers once the playlist lists a playable segment, or raises
    OnDemandStartError after ON_DEMAND_START_TIMEOUT_SECONDS (probing
    included) with the end of FFmpeg's log.
    """
    deadline = time.monotonic() + settings.ON_DEMAND_START_TIMEOUT_SECONDS
    channel = Channel.objects.filter(pk=channel_id, enabled=True).first()
    if channel is None:
        raise OnDemandStartError(f"no enabled channel with id {channel_id!r}")

    # A preload that crashed comes back as a preload (ensure_running keeps a
    # crashed process's flags), so idle cleanup cannot stop it in its window.
    supervisor = get_supervisor()
    record = supervisor.ensure_running(
        channel, preload=False, reason="a viewer started watching"
    )
    if record.status != ProcessStatus.RUNNING:
        raise OnDemandStartError(_start_failure(channel_id, record.last_error))

    while hls_files.playable_segments(channel_id) < 1:
        record.refresh_from_db()
        if supervisor.live_process(record) is None:
            raise OnDemandStartError(_start_failure(channel_id, "FFmpeg exited"))
        if time.monotonic() > deadline:
            problem = (
                "no segment within "
                f"{settings.ON_DEMAND_START_TIMEOUT_SECONDS} s of the start"
            )
            raise OnDemandStartError(_start_failure(channel_id, problem))
        time.sleep(READY_POLL_SECONDS)
    return _state(channel_id)


def _start_failure(channel_id: str, problem: str) -> str:
    tail = "\n".join(get_supervisor().log_tail(channel_id, lines=8))
    return f"channel {channel_id} could not start: {problem}. FFmpeg log:\n{tail}"
