"""FFmpeg supervision on one transcode host.

Only the host's single-concurrency Celery worker calls into this module, so
there is never more than one caller at a time. Every operation is safe to
repeat: "ensure running" and "ensure stopped", decided from the StreamProcess
row and the live process table, never from what the caller believes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import mail_admins
from django.utils import timezone

from channels_app.models import Channel, preload_zone, validate_source_url

from . import dispatch, hls_files, viewers
from .ffmpeg import (
    PLAYLIST_NAME,
    HlsOptions,
    ProbeError,
    ffmpeg_command,
    probe_video_mode,
    redact,
)
from .models import ProcessStatus, StreamProcess

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

# Beat fires on the minute, but the worker's clock may trail beat's a little:
# a start or stop is honoured if the window opens or closes within this margin.
SCHEDULE_TOLERANCE = dt.timedelta(seconds=120)
LOG_ROTATE_BYTES = 1_000_000
LOG_TAIL_LINES = 20


@dataclass
class SupervisorSettings:
    host: str
    ffmpeg_binary: str
    ffprobe_binary: str
    hls_root: Path
    log_dir: Path
    hls: HlsOptions
    stop_timeout_seconds: int
    probe_timeout_seconds: int
    stall_after_seconds: int
    max_restarts: int

    @classmethod
    def from_django(cls) -> SupervisorSettings:
        return cls(
            host=settings.TRANSCODE_QUEUE,
            ffmpeg_binary=settings.FFMPEG_BINARY,
            ffprobe_binary=settings.FFPROBE_BINARY,
            hls_root=Path(settings.HLS_ROOT),
            log_dir=Path(settings.FFMPEG_LOG_DIR),
            hls=HlsOptions(
                segment_seconds=settings.HLS_SEGMENT_SECONDS,
                list_size=settings.HLS_LIST_SIZE,
                read_timeout_seconds=settings.FFMPEG_READ_TIMEOUT_SECONDS,
            ),
            stop_timeout_seconds=settings.FFMPEG_STOP_TIMEOUT_SECONDS,
            probe_timeout_seconds=settings.FFMPEG_PROBE_TIMEOUT_SECONDS,
            stall_after_seconds=settings.STALL_AFTER_SECONDS,
            max_restarts=settings.MAX_RESTARTS,
        )


@dataclass
class ConvergeReport:
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    handed_to_viewers: list[str] = field(default_factory=list)
    strays_killed: list[int] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class StreamSupervisor:
    def __init__(self, config: SupervisorSettings, clock: Clock = timezone.now):
        self.config = config
        self.clock = clock
        # FFmpeg processes this Python process spawned, so it can reap them.
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        # Pids being stopped on purpose: their exit is no crash.
        self._expected_exits: set[int] = set()

    # --- paths ----------------------------------------------------------

    def hls_dir(self, channel_id: str) -> Path:
        return self.config.hls_root / channel_id

    def playlist_path(self, channel_id: str) -> Path:
        return self.hls_dir(channel_id) / PLAYLIST_NAME

    def log_path(self, channel_id: str) -> Path:
        return self.config.log_dir / f"{channel_id}.log"

    # --- process identity ------------------------------------------------

    def live_process(self, record: StreamProcess) -> psutil.Process | None:
        """The recorded FFmpeg if it still runs: same pid *and* creation time."""
        if not record.pid or record.pid_created is None:
            return None
        try:
            process = psutil.Process(record.pid)
            same = abs(process.create_time() - record.pid_created) < 0.01
            if same and process.status() != psutil.STATUS_ZOMBIE:
                return process
        except psutil.Error:
            pass
        return None

    def record_for(self, channel_id: str) -> StreamProcess:
        record, _ = StreamProcess.objects.get_or_create(
            channel_id=channel_id, defaults={"host": self.config.host}
        )
        return record

    # --- start -----------------------------------------------------------

    def ensure_running(
        self, channel: Channel, *, preload: bool, manual: bool = False, reason: str
    ) -> StreamProcess:
        """Start FFmpeg for the channel unless the recorded one still runs.

        A running process keeps running and only gains the preload flag, so a
        duplicate or late start never leaves two processes for one channel. A
        process recorded as running but gone crashed: it comes back with the
        flags it had, so a viewer's start never turns a preload into an
        on-demand process that idle cleanup would stop inside its window.
        """
        record = self.record_for(channel.pk)
        process = self.live_process(record)
        if process is None and record.status == ProcessStatus.RUNNING:
            preload = preload or record.preload
            manual = manual or record.manual

        if process is not None and record.source_url == channel.source_url:
            record.preload = record.preload or preload
            record.manual = record.manual or manual
            record.status = ProcessStatus.RUNNING
            record.last_reason = reason
            record.save()
            logger.info(
                "%s already running (pid %s): %s", channel.pk, record.pid, reason
            )
            return record

        if process is not None:
            logger.info("%s source URL changed; restarting FFmpeg", channel.pk)
            self._terminate(channel.pk, process)

        return self._spawn(
            channel, record, preload=preload, manual=manual, reason=reason
        )

    def _spawn(
        self,
        channel: Channel,
        record: StreamProcess,
        *,
        preload: bool,
        manual: bool,
        reason: str,
    ) -> StreamProcess:
        record.preload = preload
        record.manual = manual
        record.last_reason = reason
        record.source_url = channel.source_url

        # A row written past validation (a raw ORM write) must still never
        # hand FFmpeg a local file or an unknown protocol.
        try:
            validate_source_url(channel.source_url)
        except ValidationError as exc:
            refused = " ".join(exc.messages)
            return self._record_start_failure(record, f"source URL refused: {refused}")

        try:
            record.video_mode = self._video_mode(channel, record)
        except ProbeError as exc:
            return self._record_start_failure(record, f"source not readable: {exc}")

        output_dir = self._fresh_output_dir(channel.pk)
        command = ffmpeg_command(
            self.config.ffmpeg_binary,
            channel.source_url,
            output_dir,
            record.video_mode,
            self.config.hls,
        )
        try:
            child = self._popen(channel.pk, command)
        except OSError as exc:
            return self._record_start_failure(record, f"FFmpeg did not start: {exc}")

        record.pid = child.pid
        record.pid_created = psutil.Process(child.pid).create_time()
        record.status = ProcessStatus.RUNNING
        record.started_at = self.clock()
        record.stopped_at = None
        record.last_error = ""
        record.host = self.config.host
        record.save()
        logger.info(
            "Started FFmpeg for %s (pid %s, %s mode): %s",
            channel.pk,
            child.pid,
            record.video_mode,
            reason,
        )
        return record

    def _video_mode(self, channel: Channel, record: StreamProcess) -> str:
        """Copy or transcode, probed once per source URL and then remembered."""
        if record.probed_source_url == channel.source_url and record.probed_video_mode:
            return record.probed_video_mode
        mode = probe_video_mode(
            self.config.ffprobe_binary,
            channel.source_url,
            self.config.probe_timeout_seconds,
        )
        record.probed_source_url = channel.source_url
        record.probed_video_mode = mode
        return mode

    def _record_start_failure(
        self, record: StreamProcess, message: str
    ) -> StreamProcess:
        logger.warning("Could not start %s: %s", record.channel_id, message)
        record.status = ProcessStatus.STOPPED
        record.pid = record.pid_created = None
        record.last_error = redact(message)
        record.stopped_at = self.clock()
        record.save()
        return record

    def _fresh_output_dir(self, channel_id: str) -> Path:
        # An old playlist would look like fresh output to anyone waiting for
        # the first segments.
        output_dir = self.hls_dir(channel_id)
        shutil.rmtree(output_dir, ignore_errors=True)
        output_dir.mkdir(parents=True, exist_ok=True)
        return output_dir

    def _popen(self, channel_id: str, command: list[str]) -> subprocess.Popen[bytes]:
        log_file = self._open_log(channel_id, command)
        with log_file:
            child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                # Into a file, never a pipe: nobody reads a pipe while FFmpeg
                # runs, and a full pipe would freeze it.
                stderr=log_file,
                # Its own session: signals to the worker's group (Ctrl-C, a
                # restart) do not reach FFmpeg, and stopping it reaches all of
                # its group.
                start_new_session=True,
                close_fds=True,
            )
        self._children[channel_id] = child
        # Reap the child the moment it exits, so it never lingers as a zombie.
        threading.Thread(
            target=self._reap,
            args=(channel_id, child),
            name=f"reap-{channel_id}",
            daemon=True,  # FFmpeg may outlive the worker; never block its exit
        ).start()
        return child

    def _reap(self, channel_id: str, child: subprocess.Popen[bytes]) -> None:
        """Wait for FFmpeg to exit; an exit nobody asked for is checked at once.

        Runs in its own thread, so it touches no database connection: it only
        logs and queues the health check on this host's worker.
        """
        code = child.wait()
        with contextlib.suppress(OSError), self.log_path(channel_id).open("a") as log:
            log.write(f"--- {self.clock().isoformat(timespec='seconds')} ")
            log.write(f"FFmpeg pid {child.pid} exited with code {code}\n")
        if child.pid in self._expected_exits:
            self._expected_exits.discard(child.pid)
            return
        logger.warning(
            "FFmpeg for %s (pid %s) exited by itself with code %s; checking it now",
            channel_id,
            child.pid,
            code,
        )
        dispatch.send_quietly("check_health", expires=60)

    def _open_log(self, channel_id: str, command: list[str]):  # noqa: ANN202
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        path = self.log_path(channel_id)
        if path.exists() and path.stat().st_size > LOG_ROTATE_BYTES:
            path.replace(path.with_suffix(".log.1"))
        log_file = path.open("ab")
        started = self.clock().isoformat(timespec="seconds")
        header = f"--- {started} {redact(' '.join(command))}\n"
        log_file.write(header.encode())
        log_file.flush()
        return log_file

    # --- stop ------------------------------------------------------------

    def ensure_stopped(self, channel_id: str, *, reason: str) -> StreamProcess | None:
        """Stop the channel's FFmpeg if it runs; forget its preload flags."""
        record = StreamProcess.objects.filter(channel_id=channel_id).first()
        if record is None:
            return None

        process = self.live_process(record)
        if process is not None:
            self._terminate(channel_id, process)
            logger.info(
                "Stopped FFmpeg for %s (pid %s): %s", channel_id, record.pid, reason
            )

        record.status = ProcessStatus.STOPPED
        record.preload = record.manual = False
        record.pid = record.pid_created = None
        record.stopped_at = self.clock()
        record.last_reason = reason
        record.save()
        shutil.rmtree(self.hls_dir(channel_id), ignore_errors=True)
        return record

    def _terminate(self, channel_id: str, process: psutil.Process) -> None:
        """SIGTERM to FFmpeg's group, a bounded wait, then SIGKILL; always reaped."""
        child = self._children.get(channel_id)
        if child is not None and child.pid == process.pid:
            self._expected_exits.add(process.pid)
        self._signal_group(process, signal.SIGTERM)
        if not self._wait_gone(channel_id, process, self.config.stop_timeout_seconds):
            logger.warning(
                "FFmpeg for %s (pid %s) ignored SIGTERM for %s s; killing it",
                channel_id,
                process.pid,
                self.config.stop_timeout_seconds,
            )
            self._signal_group(process, signal.SIGKILL)
            self._wait_gone(channel_id, process, self.config.stop_timeout_seconds)
        self._children.pop(channel_id, None)

    @staticmethod
    def _signal_group(process: psutil.Process, signum: signal.Signals) -> None:
        # FFmpeg leads its own session, so its group id is its pid; the
        # identity check in live_process() happened just before.
        try:
            if os.getpgid(process.pid) == process.pid:
                os.killpg(process.pid, signum)
            else:
                process.send_signal(signum)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass

    def _wait_gone(
        self, channel_id: str, process: psutil.Process, timeout: int
    ) -> bool:
        child = self._children.get(channel_id)
        if child is not None and child.pid == process.pid:
            # Our own child: Popen.wait reaps it (its lock makes this safe
            # beside the reaper thread).
            try:
                child.wait(timeout=timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        _, alive = psutil.wait_procs([process], timeout=timeout)
        return not alive

    # --- converge ----------------------------------------------------------

    def converge(self, channel_ids: list[str] | None = None) -> ConvergeReport:
        """Make what runs match the windows now.

        Open windows get a running preload; a preload whose window is closed
        stops, or is handed to its viewers when some still watch. Manual
        starts are left alone; processes whose channel is gone are stopped.
        """
        report = ConvergeReport()
        now = self.clock()
        channels = Channel.objects.select_related("preload")
        records = StreamProcess.objects.all()
        if channel_ids is not None:
            channels = channels.filter(pk__in=channel_ids)
            records = records.filter(channel_id__in=channel_ids)
        known = {channel.pk: channel for channel in channels}

        for channel in known.values():
            self._converge_channel(channel, now, report)
        for record in records.exclude(channel_id__in=list(known)):
            if record.status == ProcessStatus.RUNNING:
                self.ensure_stopped(
                    record.channel_id, reason="channel no longer exists"
                )
                report.stopped.append(record.channel_id)
        return report

    def _converge_channel(
        self, channel: Channel, now: dt.datetime, report: ConvergeReport
    ) -> None:
        config = channel.preload_config()
        should_preload = config.schedules_preload and config.window.is_open(
            now, preload_zone()
        )
        record = StreamProcess.objects.filter(channel_id=channel.pk).first()
        running = record is not None and self.live_process(record) is not None

        if (
            should_preload
            and record is not None
            and record.status == ProcessStatus.FAILED
        ):
            report.kept.append(channel.pk)  # gave up; an operator restarts it
        elif should_preload:
            result = self.ensure_running(
                channel, preload=True, reason="preload window is open"
            )
            if result.status != ProcessStatus.RUNNING:
                report.failed.append(channel.pk)  # why is in record.last_error
            else:
                (report.kept if running else report.started).append(channel.pk)
        elif record is None or not running:
            if record is not None and record.status == ProcessStatus.RUNNING:
                self.ensure_stopped(channel.pk, reason="process had exited")
        elif not channel.enabled:
            self.ensure_stopped(channel.pk, reason="channel disabled")
            report.stopped.append(channel.pk)
        elif record.manual:
            report.kept.append(channel.pk)
        elif record.preload:
            self._end_preload(record, now, report)

    def _end_preload(
        self, record: StreamProcess, now: dt.datetime, report: ConvergeReport
    ) -> None:
        """Stop a preload whose window closed, unless viewers are watching it."""
        if viewers.live_viewer_count(record.channel_id, now) > 0:
            record.preload = False
            record.last_reason = "window closed while viewers watch; now on demand"
            record.save()
            report.handed_to_viewers.append(record.channel_id)
            logger.info("%s: %s", record.channel_id, record.last_reason)
        else:
            self.ensure_stopped(record.channel_id, reason="preload window closed")
            report.stopped.append(record.channel_id)

    # --- window edges fired by beat ---------------------------------------------

    def window_start(self, channel_id: str) -> StreamProcess | None:
        channel = (
            Channel.objects.select_related("preload").filter(pk=channel_id).first()
        )
        if channel is None:
            logger.warning("Preload start for unknown channel %s ignored", channel_id)
            return None
        config = channel.preload_config()
        now = self.clock()
        opening = config.window.is_open(now, preload_zone()) or config.window.is_open(
            now + SCHEDULE_TOLERANCE, preload_zone()
        )
        if not (config.schedules_preload and opening):
            logger.warning(
                "Preload start for %s ignored: its window is not open at %s",
                channel_id,
                now.astimezone(preload_zone()).isoformat(timespec="seconds"),
            )
            return None

        self.forget_failures(channel_id)
        return self.ensure_running(
            channel, preload=True, reason="preload window opened"
        )

    def forget_failures(self, channel_id: str) -> None:
        """A new window or an operator's start gets a fresh restart budget."""
        record = self.record_for(channel_id)
        record.restart_count = 0
        if record.status == ProcessStatus.FAILED:
            record.status = ProcessStatus.STOPPED
        record.save()

    def window_stop(self, channel_id: str) -> StreamProcess | None:
        record = StreamProcess.objects.filter(channel_id=channel_id).first()
        if record is None:
            return None
        channel = (
            Channel.objects.select_related("preload").filter(pk=channel_id).first()
        )
        if channel is not None and self._window_stays_open(channel):
            logger.warning(
                "Preload stop for %s ignored: its window is open", channel_id
            )
            return record

        record.manual = False
        record.save()
        if record.preload and self.live_process(record) is not None:
            self._end_preload(record, self.clock(), ConvergeReport())
        else:
            record.preload = False
            record.save()
        record.refresh_from_db()
        return record

    def _window_stays_open(self, channel: Channel) -> bool:
        """Open now and still open after the tolerance: a stray or late stop."""
        config = channel.preload_config()
        if not config.schedules_preload:
            return False
        now = self.clock()
        window = config.window
        return window.is_open(now, preload_zone()) and window.is_open(
            now + SCHEDULE_TOLERANCE, preload_zone()
        )

    # --- health ----------------------------------------------------------

    def check_health(self) -> dict[str, str]:
        """Restart crashed or stalled preloads, giving up after MAX_RESTARTS.

        Returns what happened per channel, for the task result and Flower.
        """
        outcome: dict[str, str] = {}
        running = StreamProcess.objects.filter(
            host=self.config.host, status=ProcessStatus.RUNNING
        )
        for record in running:
            problem = self._health_problem(record)
            if problem is not None:
                outcome[record.channel_id] = self._handle_unhealthy(record, problem)
        return outcome

    def _health_problem(self, record: StreamProcess) -> str | None:
        process = self.live_process(record)
        if process is None:
            return "FFmpeg exited"

        # A playlist not rewritten for a while means the source went quiet
        # but FFmpeg has not noticed yet.
        now = self.clock().timestamp()
        if now - (record.pid_created or now) < self.config.stall_after_seconds:
            return None
        try:
            written = self.playlist_path(record.channel_id).stat().st_mtime
        except FileNotFoundError:
            written = record.pid_created or now
        if now - written > self.config.stall_after_seconds:
            return f"playlist not updated for {int(now - written)} s"
        return None

    def _handle_unhealthy(self, record: StreamProcess, problem: str) -> str:
        channel = Channel.objects.filter(pk=record.channel_id).first()
        if channel is None or not record.preload:
            self.ensure_stopped(record.channel_id, reason=problem)
            return f"stopped: {problem}"

        if record.restart_count >= self.config.max_restarts:
            return self._give_up(record, problem)

        record.restart_count += 1
        record.save()
        logger.warning(
            "Restarting %s (%s), attempt %d of %d",
            record.channel_id,
            problem,
            record.restart_count,
            self.config.max_restarts,
        )
        process = self.live_process(record)
        if process is not None:
            self._terminate(record.channel_id, process)
        self._spawn(
            channel,
            record,
            preload=True,
            manual=record.manual,
            reason=f"restart: {problem}",
        )
        return f"restarted: {problem}"

    def _give_up(self, record: StreamProcess, problem: str) -> str:
        process = self.live_process(record)
        if process is not None:
            self._terminate(record.channel_id, process)
        tail = "\n".join(self.log_tail(record.channel_id))
        record.status = ProcessStatus.FAILED
        record.pid = record.pid_created = None
        record.stopped_at = self.clock()
        record.last_error = redact(
            f"{problem}; gave up after {record.restart_count} restarts"
        )
        record.save()

        subject = f"Preload of channel {record.channel_id} failed"
        message = (
            f"{record.last_error}.\n\nFix the source, then start the preload "
            f"again (manage.py preload_start {record.channel_id}).\n\n"
            f"Last FFmpeg log lines:\n{tail}"
        )
        logger.error("%s: %s", subject, record.last_error)
        mail_admins(subject, message, fail_silently=True)
        return f"failed: {problem}"

    def kill_strays(self) -> list[int]:
        """Stop FFmpeg processes writing under the HLS root that no row records.

        They are left from a crash that lost track of them; without this they
        would run, and hold CPU, forever.
        """
        recorded = {
            record.pid
            for record in StreamProcess.objects.exclude(pid=None)
            if self.live_process(record) is not None
        }
        root = str(self.config.hls_root) + os.sep
        killed = []
        for process in psutil.process_iter(["pid", "name", "cmdline"]):
            cmdline = process.info["cmdline"] or []
            writes_here = any(arg.startswith(root) for arg in cmdline)
            if "ffmpeg" in (process.info["name"] or "") and writes_here:
                if process.pid not in recorded:
                    logger.warning("Stopping untracked FFmpeg pid %s", process.pid)
                    self._terminate("", process)
                    killed.append(process.pid)
        return killed

    # --- status helpers --------------------------------------------------

    def log_tail(self, channel_id: str, lines: int = LOG_TAIL_LINES) -> list[str]:
        path = self.log_path(channel_id)
        if not path.exists():
            return []
        with path.open("rb") as log_file:
            log_file.seek(max(0, path.stat().st_size - 16_384))
            text = log_file.read().decode(errors="replace")
        return [redact(line) for line in text.splitlines()[-lines:]]

    def segment_count(self, channel_id: str) -> int:
        """Segments listed in the channel's playlist now; 0 without a playlist."""
        return hls_files.count_segments(self.playlist_path(channel_id))


_supervisor: StreamSupervisor | None = None


def get_supervisor() -> StreamSupervisor:
    """The process-wide supervisor (the worker keeps its children here)."""
    global _supervisor
    if _supervisor is None:
        _supervisor = StreamSupervisor(SupervisorSettings.from_django())
    return _supervisor
