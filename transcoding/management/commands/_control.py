"""Shared plumbing for the commands that ask the transcode worker to act."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from channels_app.models import Channel
from transcoding import dispatch


class HostControlCommand(BaseCommand):
    """Queue one task for a channel on the transcode worker and print its answer."""

    task_name = ""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "channel_id", help="The channel's id, e.g. stream_ensxma2g."
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=30.0,
            help="Seconds to wait for the transcode worker's answer (default 30).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        channel_id = options["channel_id"]
        if not Channel.objects.filter(pk=channel_id).exists():
            raise CommandError(
                f"No channel with id {channel_id!r}; preload_status lists them."
            )
        if options["timeout"] <= 0:
            raise CommandError("--timeout must be a positive number of seconds.")

        try:
            state = dispatch.call(
                self.task_name, timeout=options["timeout"], channel_id=channel_id
            )
        except dispatch.HostUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self._report(channel_id, state)

    def _report(self, channel_id: str, state: dict[str, Any]) -> None:
        if state.get("error"):
            raise CommandError(state["error"])
        if state.get("running"):
            self.stdout.write(
                f"{channel_id}: running, FFmpeg pid {state['pid']}, "
                f"{state['video_mode']} mode."
            )
        else:
            detail = state.get("last_error") or state.get("last_reason") or ""
            self.stdout.write(f"{channel_id}: not running. {detail}".rstrip())
        self.check_outcome(channel_id, state)

    def check_outcome(self, channel_id: str, state: dict[str, Any]) -> None:
        """Raise CommandError when the worker's answer is not what was asked."""
