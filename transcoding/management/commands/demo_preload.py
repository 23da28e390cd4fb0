import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from transcoding import dispatch
from transcoding.supervisor import get_supervisor

from .demo_setup import DEMO_CHANNEL_ID


class Command(BaseCommand):
    help = (
        "Start the demo channel's preload by hand once the transcode worker "
        "answers, then report every 30 s how its HLS output grows. Runs until "
        "stopped."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument(
            "--wait", type=float, default=60, help="Seconds to wait for the worker."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        state = self._start(options["wait"])
        self.stdout.write(
            f"Demo preload running: FFmpeg pid {state['pid']} ({state['video_mode']})"
        )
        supervisor = get_supervisor()
        playlist = supervisor.playlist_path(DEMO_CHANNEL_ID)
        try:
            while True:
                segments = supervisor.segment_count(DEMO_CHANNEL_ID)
                self.stdout.write(f"{playlist}: {segments} segments listed")
                time.sleep(30)
        except KeyboardInterrupt:
            pass

    def _start(self, wait: float) -> dict[str, Any]:
        deadline = time.monotonic() + wait
        while True:
            try:
                state = dispatch.call(
                    "start_channel", timeout=10, channel_id=DEMO_CHANNEL_ID
                )
            except dispatch.HostUnavailable as exc:
                if time.monotonic() > deadline:
                    raise CommandError(str(exc)) from exc
                time.sleep(1)
                continue
            if state.get("running"):
                return state
            raise CommandError(f"The demo channel did not start: {state}")
