from typing import Any

from django.core.management.base import BaseCommand

from channels_app.schedule_sync import reload_schedule, resync_all


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
        if options["no_converge"]:
            report, converge_queued = resync_all(), True
        else:
            report, converge_queued = reload_schedule()

        for change in ("created", "updated", "deleted"):
            for name in getattr(report, change):
                self.stdout.write(f"{change:8} {name}")
        self.stdout.write(self.style.SUCCESS(f"{report.summary()}."))
        if not converge_queued:
            self.stderr.write("The broker is unreachable; the host did not converge.")
