"""Channels and their daily preload windows."""

from __future__ import annotations

import datetime as dt
import secrets
import string
import zoneinfo
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import Q

from .windows import (
    ALL_WEEKDAYS_MASK,
    WEEKDAY_NAMES,
    PreloadWindow,
    mask_to_weekdays,
)

CHANNEL_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}\Z"
CHANNEL_ID_HELP = (
    "Lower-case letters, digits, '_' and '-', starting with a letter or digit, "
    "at most 64 characters. It names the channel's URLs and HLS folder and "
    "cannot change later."
)
SOURCE_SCHEMES = ("rtmp", "rtmps", "rtsp", "srt", "http", "https")

DEFAULT_START = dt.time(7, 0)
DEFAULT_END = dt.time(17, 30)


def new_channel_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "stream_" + "".join(secrets.choice(alphabet) for _ in range(8))


validate_channel_id = RegexValidator(
    CHANNEL_ID_PATTERN, message="Enter a valid channel id. " + CHANNEL_ID_HELP
)


def validate_source_url(value: str) -> None:
    """Accept only network stream URLs, never anything FFmpeg reads from disk."""
    allowed = ", ".join(SOURCE_SCHEMES)
    if not value or value != value.strip() or any(ch.isspace() for ch in value):
        raise ValidationError("The source URL must not contain spaces.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError("The source URL must not contain control characters.")

    parts = urlsplit(value)
    if parts.scheme.lower() not in SOURCE_SCHEMES:
        raise ValidationError(
            f"Use a stream URL whose scheme is one of {allowed}, "
            "for example rtmp://camera.example/live/room1."
        )
    if not parts.hostname:
        raise ValidationError(
            "The source URL needs a host, for example rtmp://camera.example/live/room1."
        )


def _resync_after_bulk_write(channel_ids: list[str]) -> None:
    """What the save signals do, for writes that send none (update, bulk_create)."""
    from transcoding import dispatch

    from .schedule_sync import sync_channel_schedules

    sync_channel_schedules(channel_ids)
    for channel_id in set(channel_ids):
        transaction.on_commit(
            lambda channel_id=channel_id: dispatch.request_converge(channel_id)
        )


class ChannelQuerySet(models.QuerySet["Channel"]):
    def update(self, **kwargs: object) -> int:
        """Bulk updates (enabling, disabling) resync schedules like saves do."""
        with transaction.atomic():
            channel_ids = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs)
            _resync_after_bulk_write(channel_ids)
        return count


class Channel(models.Model):
    id = models.CharField(
        "channel id",
        primary_key=True,
        max_length=64,
        default=new_channel_id,
        validators=[validate_channel_id],
        help_text=CHANNEL_ID_HELP,
    )
    name = models.CharField(
        max_length=200, help_text="Shown to viewers, e.g. 'Sunflower class'."
    )
    source_url = models.CharField(
        "source URL",
        max_length=1024,
        validators=[validate_source_url],
        help_text="The camera's live stream: " + ", ".join(SOURCE_SCHEMES) + ".",
    )
    enabled = models.BooleanField(
        default=True,
        help_text="A disabled channel is never preloaded nor started for viewers.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(id__regex=CHANNEL_ID_PATTERN.replace(r"\Z", "$")),
                name="channel_id_is_url_safe",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The post_save schedule sync runs inside this transaction, so the row
        # and its beat schedule are written together or not at all.
        with transaction.atomic():
            super().save(*args, **kwargs)

    def preload_config(self) -> PreloadConfig:
        """The stored config, or the unsaved default for a channel never set up."""
        try:
            return self.preload
        except PreloadConfig.DoesNotExist:
            return PreloadConfig(channel=self)


class PreloadConfigQuerySet(models.QuerySet["PreloadConfig"]):
    def update(self, **kwargs: object) -> int:
        """Bulk updates resync the schedules they touch, like single saves do."""
        with transaction.atomic():
            channel_ids = list(self.values_list("channel_id", flat=True))
            count = super().update(**kwargs)
            _resync_after_bulk_write(channel_ids)
        return count

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        # bulk_update needs no override: it goes through update().
        with transaction.atomic():
            created = super().bulk_create(objs, *args, **kwargs)
            _resync_after_bulk_write([config.channel_id for config in created])
        return created


class PreloadConfig(models.Model):
    channel = models.OneToOneField(
        Channel, on_delete=models.CASCADE, primary_key=True, related_name="preload"
    )
    enabled = models.BooleanField(
        "preload enabled",
        default=False,
        help_text="When on, FFmpeg runs for this channel throughout the window.",
    )
    start_time = models.TimeField(
        default=DEFAULT_START,
        help_text="Local wall-clock time (HH:MM) at which preloading starts.",
    )
    end_time = models.TimeField(
        default=DEFAULT_END,
        help_text=(
            "Local wall-clock time (HH:MM) at which preloading stops. An end "
            "earlier than the start means the window crosses midnight."
        ),
    )
    weekdays = models.PositiveSmallIntegerField(
        default=ALL_WEEKDAYS_MASK,
        help_text=(
            "The days on which the window starts (a window crossing midnight "
            "ends the next morning)."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = PreloadConfigQuerySet.as_manager()

    class Meta:
        verbose_name = "preload window"
        constraints = [
            models.CheckConstraint(
                condition=~Q(start_time=models.F("end_time")),
                name="preload_start_differs_from_end",
                violation_error_message=(
                    "The start and end times are equal; a window needs an end "
                    "that differs from its start."
                ),
            ),
            models.CheckConstraint(
                condition=Q(weekdays__gte=1, weekdays__lte=ALL_WEEKDAYS_MASK),
                name="preload_has_weekdays",
                violation_error_message="Choose at least one weekday.",
            ),
        ]

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return (
            f"{self.channel_id}: {self.start_time:%H:%M}-{self.end_time:%H:%M} {state}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The post_save schedule sync runs inside this transaction, so the row
        # and its beat schedule are written together or not at all.
        with transaction.atomic():
            super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        for field in ("start_time", "end_time"):
            value = getattr(self, field)
            if value is not None and (value.second or value.microsecond):
                errors[field] = "Use whole minutes (HH:MM)."
        if self.start_time is not None and self.start_time == self.end_time:
            errors["end_time"] = (
                "The end equals the start. Pick a different end; an end before "
                "the start makes the window cross midnight."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def weekday_set(self) -> frozenset[int]:
        return mask_to_weekdays(self.weekdays)

    @property
    def weekday_names(self) -> list[str]:
        return [WEEKDAY_NAMES[day] for day in sorted(self.weekday_set)]

    @property
    def window(self) -> PreloadWindow:
        return PreloadWindow(self.start_time, self.end_time, self.weekday_set)

    @property
    def schedules_preload(self) -> bool:
        """Whether beat should hold start and stop tasks for this channel."""
        return bool(self.enabled and self.channel.enabled)


def preload_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.PRELOAD_TIME_ZONE)
