from django.apps import AppConfig


class TranscodingConfig(AppConfig):
    name = "transcoding"
    verbose_name = "Transcode hosts"

    def ready(self) -> None:
        from . import worker_signals  # noqa: F401  (converge when a worker starts)
