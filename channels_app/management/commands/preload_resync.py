from typing import Any

from django.core.management.base import BaseCommand

from channels_app.schedule_sync import resync_all
from transcoding import dispatch


class Command(BaseCommand):
    help = (
        "Rebuild every channel's start and stop beat tasks from the preload "
        "windows, delete tasks of channels that no longer exist, and ask the "
        "transcode host to start or stop channels to match the windows now."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument(
            "--no-converge",
            action="store_true",
            help="Only resync the schedule; do not ask the host to converge.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = resync_all()
        for change in ("created", "updated", "deleted"):
            for name in getattr(report, change):
                self.stdout.write(f"{change:8} {name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(report.created)} created, {len(report.updated)} updated, "
                f"{len(report.deleted)} deleted, {len(report.unchanged)} unchanged."
            )
        )
        if not options["no_converge"]:
            sent = dispatch.send_quietly("converge_host")
            if sent is None:
                self.stderr.write(
                    "The broker is unreachable; the host did not converge."
                )
