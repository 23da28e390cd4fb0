import signal
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from transcoding.demo_source import LoopbackRtmpServer, TestPattern


class Command(BaseCommand):
    help = (
        "Run a live test stream for the demo: nginx's RTMP module on "
        "127.0.0.1:PORT fed by an FFmpeg test pattern (720p25, 1 s keyframes, "
        "H.264 + AAC) at rtmp://127.0.0.1:PORT/live/demo. Runs until stopped."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--port", type=int, default=19350, help="RTMP port.")
        parser.add_argument("--key", default="demo", help="Stream key (default demo).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1024 <= options["port"] <= 65535:
            raise CommandError("--port must be between 1024 and 65535.")
        server = LoopbackRtmpServer(
            Path(settings.BASE_DIR) / "var" / "demo-rtmp", port=options["port"]
        )
        try:
            server.start()
        except (RuntimeError, OSError) as exc:
            raise CommandError(f"The RTMP server did not start: {exc}") from exc

        url = server.url(options["key"])
        pattern = TestPattern(settings.FFMPEG_BINARY, url)
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        self.stdout.write(f"Publishing a test pattern to {url}", ending="\n")
        try:
            self._publish_until_stopped(pattern, stopping)
        except KeyboardInterrupt:
            pass
        finally:
            pattern.stop()
            server.stop()

    def _publish_until_stopped(self, pattern: TestPattern, stopping: list) -> None:
        while not stopping:
            if pattern.process is None or pattern.process.poll() is not None:
                # The publisher died (or never ran): start it again.
                pattern.start()
            time.sleep(1)
