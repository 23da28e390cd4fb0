"""Request and response bodies of the API.

Rule for request bodies: a key that is not a writable field of that request
is refused with 400, read-only ones (such as `created_at`) included, so a typo
never passes silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.settings import api_settings

from channels_app.models import Channel, PreloadConfig

from .fields import ClockTimeField, StrictBooleanField, WeekdaysField

UNKNOWN_FIELD_RULE = (
    "Request bodies are JSON objects holding only the writable fields of the "
    "request; any other key, read-only ones included, is refused with 400."
)


class StrictFieldsMixin:
    """Refuse keys that are not writable fields, alongside the other errors."""

    fields: dict[str, serializers.Field]

    def to_internal_value(self, data: Any) -> Any:
        unknown = self._unknown_keys(data)
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as exc:
            if not unknown:
                raise
            raise serializers.ValidationError(_merged(exc.detail, unknown)) from exc
        if unknown:
            raise serializers.ValidationError(unknown)
        return value

    def _unknown_keys(self, data: Any) -> dict[str, list[str]]:
        if not isinstance(data, Mapping):
            return {}
        writable = sorted(
            name for name, field in self.fields.items() if not field.read_only
        )
        message = "Unknown or read-only field; this request accepts only: " + (
            ", ".join(writable) + "."
        )
        return {str(key): [message] for key in data if key not in writable}


def _merged(detail: Any, unknown: dict[str, list[str]]) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {**detail, **unknown}
    return {api_settings.NON_FIELD_ERRORS_KEY: detail, **unknown}


class PreloadConfigSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """One channel's daily window; the defaults when it was never configured."""

    channel = serializers.CharField(source="channel_id", read_only=True)
    enabled = StrictBooleanField(
        help_text="When true, FFmpeg runs for this channel throughout the window."
    )
    start_time = ClockTimeField(help_text="Local time at which preloading starts.")
    end_time = ClockTimeField(
        help_text="Local time at which preloading stops; an end earlier than the "
        "start makes the window cross midnight."
    )
    weekdays = WeekdaysField(help_text="The days on which the window starts.")
    configured = serializers.SerializerMethodField(
        help_text="False while the channel still uses the defaults (nothing stored)."
    )
    updated_by = serializers.CharField(
        source="updated_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = PreloadConfig
        fields = [
            "channel",
            "enabled",
            "start_time",
            "end_time",
            "weekdays",
            "configured",
            "updated_at",
            "updated_by",
        ]
        read_only_fields = ["updated_at"]

    def get_configured(self, config: PreloadConfig) -> bool:
        return not config._state.adding

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A PATCH may send one end of the window: compare with the stored other.
        start = attrs.get("start_time", getattr(self.instance, "start_time", None))
        end = attrs.get("end_time", getattr(self.instance, "end_time", None))
        if start is not None and start == end:
            field = "end_time" if "end_time" in attrs else "start_time"
            raise serializers.ValidationError(
                {
                    field: f"end_time equals start_time ({start:%H:%M}); pick an "
                    "end that differs from the start (an earlier end makes the "
                    "window cross midnight)."
                }
            )
        return attrs


class ChannelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A camera channel. The id may be chosen at creation, never changed."""

    enabled = StrictBooleanField(
        required=False,
        help_text="A disabled channel is never preloaded nor started for viewers.",
    )
    preload = PreloadConfigSerializer(source="preload_config", read_only=True)

    class Meta:
        model = Channel
        fields = ["id", "name", "source_url", "enabled", "created_at", "preload"]
        read_only_fields = ["created_at"]


class ChannelUpdateSerializer(ChannelSerializer):
    class Meta(ChannelSerializer.Meta):
        read_only_fields = ["id", "created_at"]


# --- Response-only bodies (documentation and output shaping) ---------------


class ProcessStateSerializer(serializers.Serializer):
    """A channel's FFmpeg process as measured now."""

    channel_id = serializers.CharField()
    status = serializers.CharField(
        help_text="stopped, running, exited (recorded running but gone) or failed."
    )
    running = serializers.BooleanField()
    preload = serializers.BooleanField()
    manual = serializers.BooleanField()
    pid = serializers.IntegerField(allow_null=True)
    uptime_seconds = serializers.FloatField(allow_null=True)
    cpu_percent = serializers.FloatField(
        allow_null=True, help_text="Average over the process lifetime, % of a core."
    )
    memory_rss_bytes = serializers.IntegerField(allow_null=True)
    video_mode = serializers.CharField(allow_blank=True)
    restart_count = serializers.IntegerField()
    last_reason = serializers.CharField(allow_blank=True)
    last_error = serializers.CharField(allow_blank=True)


class HostProcessSerializer(ProcessStateSerializer):
    log_tail = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        help_text="The last lines of FFmpeg's log, secrets redacted.",
    )


class ChannelStateSerializer(serializers.Serializer):
    channel = ChannelSerializer()
    process = ProcessStateSerializer()
    queued = serializers.CharField(help_text="The task sent to the transcode host.")
    task_id = serializers.CharField()


class ChannelOverviewSerializer(serializers.Serializer):
    channel_id = serializers.CharField()
    name = serializers.CharField()
    enabled = serializers.BooleanField()
    preload_enabled = serializers.BooleanField()
    window = serializers.CharField(help_text='"HH:MM-HH:MM" in local time.')
    weekdays = serializers.ListField(child=serializers.CharField())
    window_open = serializers.BooleanField()
    next_start = serializers.DateTimeField(allow_null=True)
    next_stop = serializers.DateTimeField(allow_null=True)
    process = ProcessStateSerializer()


class SystemStatusSerializer(serializers.Serializer):
    time_zone = serializers.CharField()
    now = serializers.DateTimeField(help_text="Local time of the answer.")
    channels_total = serializers.IntegerField()
    channels_enabled = serializers.IntegerField()
    preload_enabled = serializers.IntegerField()
    window_open = serializers.IntegerField()
    running = serializers.IntegerField()
    channels = ChannelOverviewSerializer(
        many=True, help_text="Every enabled channel, ordered by name."
    )


class ScheduledTaskSerializer(serializers.Serializer):
    name = serializers.CharField()
    crontab = serializers.CharField(help_text="minute hour day month weekday")
    timezone = serializers.CharField()
    enabled = serializers.BooleanField()
    last_run_at = serializers.DateTimeField(allow_null=True)
    total_run_count = serializers.IntegerField()
    description = serializers.CharField(allow_blank=True)


class ChannelScheduleSerializer(serializers.Serializer):
    channel_id = serializers.CharField()
    start = ScheduledTaskSerializer(allow_null=True)
    stop = ScheduledTaskSerializer(allow_null=True)


class HostStatusSerializer(serializers.Serializer):
    host = serializers.CharField(help_text="The transcode host's queue.")
    source = serializers.ChoiceField(
        choices=["host", "local"],
        help_text="host: measured by the transcode worker; local: measured by "
        "this web process from the shared database and its own process table.",
    )
    host_error = serializers.CharField(
        allow_null=True, help_text="Why the host was not asked or did not answer."
    )
    schedules = ChannelScheduleSerializer(many=True)
    processes = HostProcessSerializer(many=True)


class ScheduleReloadSerializer(serializers.Serializer):
    created = serializers.ListField(child=serializers.CharField())
    updated = serializers.ListField(child=serializers.CharField())
    deleted = serializers.ListField(child=serializers.CharField())
    unchanged = serializers.ListField(child=serializers.CharField())
    converge_queued = serializers.BooleanField(
        help_text="False when the broker was down; the host converges on its own "
        "at its next health check."
    )
