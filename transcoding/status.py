"""Read-only views of what runs on this host, for commands, tasks and the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import psutil
from django.utils import timezone

from channels_app.models import Channel, preload_zone

from .models import StreamProcess


def process_state(channel_id: str, record: StreamProcess | None) -> dict[str, Any]:
    """One channel's process, measured now. CPU is averaged over its lifetime."""
    from .supervisor import get_supervisor

    state: dict[str, Any] = {
        "channel_id": channel_id,
        "status": record.status if record else "stopped",
        "running": False,
        "preload": bool(record and record.preload),
        "manual": bool(record and record.manual),
        "pid": None,
        "uptime_seconds": None,
        "cpu_percent": None,
        "memory_rss_bytes": None,
        "video_mode": record.video_mode if record else "",
        "restart_count": record.restart_count if record else 0,
        "last_reason": record.last_reason if record else "",
        "last_error": record.last_error if record else "",
    }
    process = get_supervisor().live_process(record) if record else None
    if process is None:
        if state["status"] == "running":
            # Recorded as running but gone: the health check restarts it.
            state["status"] = "exited"
        return state

    try:
        with process.oneshot():
            uptime = max(0.001, timezone.now().timestamp() - process.create_time())
            cpu = process.cpu_times()
            state.update(
                running=True,
                pid=process.pid,
                uptime_seconds=round(uptime, 1),
                cpu_percent=round(100 * (cpu.user + cpu.system) / uptime, 2),
                memory_rss_bytes=process.memory_info().rss,
            )
    except psutil.Error:
        state["status"] = "stopped"
    return state


def channel_overview(
    channel: Channel,
    now: dt.datetime,
    records: Mapping[str, StreamProcess] | None = None,
) -> dict[str, Any]:
    """Window, next start and stop in local time, and the process state.

    A caller listing many channels passes their StreamProcess rows, read in
    one query, instead of one query per channel.
    """
    config = channel.preload_config()
    zone = preload_zone()
    scheduled = config.schedules_preload
    window = config.window
    if records is None:
        record = StreamProcess.objects.filter(channel_id=channel.pk).first()
    else:
        record = records.get(channel.pk)
    return {
        "channel_id": channel.pk,
        "name": channel.name,
        "enabled": channel.enabled,
        "preload_enabled": config.enabled,
        "window": f"{config.start_time:%H:%M}-{config.end_time:%H:%M}",
        "weekdays": config.weekday_names,
        "window_open": scheduled and window.is_open(now, zone),
        "next_start": window.next_start(now, zone).isoformat() if scheduled else None,
        "next_stop": window.next_stop(now, zone).isoformat() if scheduled else None,
        "process": process_state(channel.pk, record),
    }
