import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from channels_app.models import Channel
from transcoding.models import StreamProcess
from transcoding.status import channel_overview

COLUMNS = (
    ("CHANNEL", 18),
    ("WINDOW", 18),
    ("NEXT START", 17),
    ("NEXT STOP", 17),
    ("STATE", 16),
    ("PID", 8),
    ("UPTIME", 9),
    ("CPU%", 6),
    ("RSS MB", 7),
)


class Command(BaseCommand):
    help = (
        "Show every channel's preload window, its next start and stop in the "
        "preload time zone, and its FFmpeg process on this host: running or "
        "not, pid, uptime, CPU (average since start) and resident memory. Run "
        "it on the transcode host."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("channel_id", nargs="*", help="Only these channels.")
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        channels = Channel.objects.select_related("preload")
        if options["channel_id"]:
            wanted = set(options["channel_id"])
            channels = channels.filter(pk__in=wanted)
            missing = wanted - {channel.pk for channel in channels}
            if missing:
                raise CommandError(f"No channel with id {', '.join(sorted(missing))}.")

        now = timezone.now()
        records = StreamProcess.objects.in_bulk(field_name="channel_id")
        rows = [channel_overview(channel, now, records) for channel in channels]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2, default=str))
            return

        self.stdout.write(_format_row([title for title, _ in COLUMNS]))
        for row in rows:
            self.stdout.write(_format_row(_cells(row)))
        if not rows:
            self.stdout.write("No channels yet; add one in the admin.")


def _cells(row: dict[str, Any]) -> list[str]:
    process = row["process"]
    window = row["window"] if row["preload_enabled"] else f"off ({row['window']})"
    state = process["status"] + (" preload" if process["preload"] else "")
    if not row["enabled"]:
        state = "channel disabled"
    uptime = process["uptime_seconds"]
    rss = process["memory_rss_bytes"]
    return [
        row["channel_id"],
        window,
        _local(row["next_start"]),
        _local(row["next_stop"]),
        state,
        str(process["pid"] or "-"),
        _duration(uptime) if uptime is not None else "-",
        f"{process['cpu_percent']:.1f}" if process["cpu_percent"] is not None else "-",
        f"{rss / 1e6:.0f}" if rss is not None else "-",
    ]


def _local(iso: str | None) -> str:
    # "2026-12-04T07:40:00+08:00" -> "12-04 07:40 +08:00"
    return f"{iso[5:10]} {iso[11:16]} {iso[19:]}" if iso else "-"


def _duration(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _format_row(cells: list[str]) -> str:
    return "  ".join(
        cell.ljust(width) for cell, (_, width) in zip(cells, COLUMNS, strict=True)
    )
