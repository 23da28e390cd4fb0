from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "Channels and preload windows"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the schedule sync)
