from typing import Any

from django.core.management.base import CommandError

from ._control import HostControlCommand


class Command(HostControlCommand):
    help = (
        "Stop a channel's FFmpeg now, by hand, whatever started it. The next "
        "window start (or a viewer) starts it again."
    )
    task_name = "stop_channel"

    def check_outcome(self, channel_id: str, state: dict[str, Any]) -> None:
        if state.get("running"):
            raise CommandError(f"{channel_id} is still running (pid {state['pid']}).")
