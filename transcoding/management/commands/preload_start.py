from typing import Any

from django.core.management.base import CommandError

from ._control import HostControlCommand


class Command(HostControlCommand):
    help = (
        "Start a channel's preload now, by hand. The transcode worker starts "
        "FFmpeg (or keeps the one running) and keeps it up until preload_stop "
        "or the end of the channel's window."
    )
    task_name = "start_channel"

    def check_outcome(self, channel_id: str, state: dict[str, Any]) -> None:
        if not state.get("running"):
            raise CommandError(
                f"{channel_id} did not start; its FFmpeg log is in FFMPEG_LOG_DIR."
            )
