import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from channels_app.models import Channel, PreloadConfig

DEMO_CHANNEL_ID = "demo"


class Command(BaseCommand):
    help = (
        "Create the demo data: an administrator (admin / admin unless it exists) "
        "and the channel 'demo' pulling the demo test stream, with a 07:00-17:30 "
        "weekday preload window. Safe to run again."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--rtmp-port", type=int, default=19350)

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        if not user_model.objects.filter(username="admin").exists():
            user_model.objects.create_superuser("admin", "admin@example.com", "admin")
            self.stdout.write("Created administrator admin / admin")

        source = f"rtmp://127.0.0.1:{options['rtmp_port']}/live/demo"
        channel, _ = Channel.objects.update_or_create(
            pk=DEMO_CHANNEL_ID,
            defaults={"name": "Demo classroom", "source_url": source, "enabled": True},
        )
        PreloadConfig.objects.update_or_create(
            channel=channel,
            defaults={
                "enabled": True,
                "start_time": dt.time(7, 0),
                "end_time": dt.time(17, 30),
                "weekdays": 0b0011111,
            },
        )
        self.stdout.write(f"Demo channel {channel.pk} pulls {source}")
