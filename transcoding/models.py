"""One row per channel on a transcode host: what FFmpeg process serves it and why."""

from __future__ import annotations

from django.db import models


class ProcessStatus(models.TextChoices):
    STOPPED = "stopped", "stopped"
    RUNNING = "running", "running"
    FAILED = "failed", "failed (gave up restarting)"


class VideoMode(models.TextChoices):
    COPY = "copy", "copy (source is H.264/AAC)"
    TRANSCODE = "transcode", "transcode to H.264/AAC"


class StreamProcess(models.Model):
    """The FFmpeg process that turns one channel's source into HLS.

    The process is identified by pid *and* creation time: a pid alone may have
    been reused by an unrelated process after FFmpeg died, and must never be
    signalled on its own.
    """

    # Not a foreign key: the row must outlive a deleted channel until its
    # FFmpeg has been stopped.
    channel_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=200, help_text="Transcode queue of the host.")
    status = models.CharField(
        max_length=16, choices=ProcessStatus.choices, default=ProcessStatus.STOPPED
    )
    preload = models.BooleanField(
        default=False,
        help_text="Kept running by a preload window (or a manual start) rather "
        "than by viewers; idle cleanup never stops it.",
    )
    manual = models.BooleanField(
        default=False, help_text="Started by an operator outside the schedule."
    )
    pid = models.PositiveIntegerField(null=True, blank=True)
    pid_created = models.FloatField(
        null=True, blank=True, help_text="Process creation time (epoch seconds)."
    )
    source_url = models.CharField(max_length=1024, blank=True)
    video_mode = models.CharField(max_length=16, choices=VideoMode.choices, blank=True)
    probed_source_url = models.CharField(max_length=1024, blank=True)
    probed_video_mode = models.CharField(
        max_length=16, choices=VideoMode.choices, blank=True
    )
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    restart_count = models.PositiveSmallIntegerField(default=0)
    last_reason = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "FFmpeg process"
        verbose_name_plural = "FFmpeg processes"
        ordering = ["channel_id"]

    def __str__(self) -> str:
        return f"{self.channel_id}: {self.status} (pid {self.pid or '-'})"

    @property
    def is_running(self) -> bool:
        return self.status == ProcessStatus.RUNNING
