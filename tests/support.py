"""Helpers for tests that drive real processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

# Debian's Chromium, headless, without the background traffic that this
# machine's closed network refuses; autoplay so a click can start playback.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


class ServiceProcess:
    """A Celery worker or beat started for a test, with its output in a file."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(
            f"{text!r} not seen in {timeout} s; output:\n{self.output()}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


def celery_command(*args: str, fake_offset_seconds: float | None = None) -> list[str]:
    command = [sys.executable, "-m", "celery", "-A", "preload_site", *args]
    if fake_offset_seconds is None:
        return command
    faketime = shutil.which("faketime")
    if faketime is None:
        pytest.fail("faketime is missing: apt-get install faketime")
    return [faketime, "-f", f"{fake_offset_seconds:+.3f}s", *command]


def wait_until(
    predicate: Callable[[], Any], timeout: float, interval: float = 0.1
) -> Any:
    """Poll until `predicate` returns something truthy; return it or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def make_channel(
    channel_id: str,
    *,
    source_url: str = "rtmp://camera.example/live/room",
    channel_enabled: bool = True,
    window: tuple[str, str] | None = None,
    enabled: bool = True,
    weekdays: int = 0b1111111,
) -> Any:
    """A channel, with a preload window ('HH:MM', 'HH:MM') when one is given."""
    import datetime as dt

    from channels_app.models import Channel, PreloadConfig

    channel = Channel.objects.create(
        id=channel_id,
        name=channel_id.replace("_", " ").title(),
        source_url=source_url,
        enabled=channel_enabled,
    )
    if window is not None:
        PreloadConfig.objects.create(
            channel=channel,
            enabled=enabled,
            start_time=dt.time.fromisoformat(window[0]),
            end_time=dt.time.fromisoformat(window[1]),
            weekdays=weekdays,
        )
    return channel
