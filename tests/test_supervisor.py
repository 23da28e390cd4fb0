"""StreamSupervisor in this test process, with an injected clock.

Real FFmpeg pulls the real nginx-rtmp `live_source` wherever the behaviour
depends on FFmpeg. Where only our own process handling is under test (signals,
stalls, converge decisions) a tiny script stands in for the FFmpeg binary so
the tests stay fast.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import psutil
import pytest
from django.conf import settings
from django.core import mail

from channels_app.models import Channel
from tests.support import make_channel, wait_until
from transcoding.demo_source import TestPattern
from transcoding.ffmpeg import (
    HlsOptions,
    ProbeError,
    choose_video_mode,
    ffmpeg_command,
    probe_video_mode,
    redact,
)
from transcoding.models import ProcessStatus, StreamProcess, VideoMode
from transcoding.supervisor import StreamSupervisor, SupervisorSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = dt.date(2026, 6, 1)
SATURDAY = dt.date(2026, 6, 6)
SUNDAY = dt.date(2026, 6, 7)

# Stands in for FFmpeg: writes the playlist (the last argument) once, records
# the signals it gets, and with IGNORE_TERM set shrugs SIGTERM off.
FAKE_FFMPEG = """\
#!{python}
import os, pathlib, signal, sys, time
playlist = pathlib.Path(sys.argv[-1])
marks = playlist.parent.parent / (playlist.parent.name + ".signals")
def note(signum, frame):
    with marks.open("a") as f:
        f.write(f"{{signum}}\\n")
    if not os.environ.get("IGNORE_TERM"):
        sys.exit(0)
signal.signal(signal.SIGTERM, note)
playlist.write_text("#EXTM3U\\n")
while True:
    time.sleep(0.05)
"""


class Clock:
    """An injected clock that stays where the test puts it."""

    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def shanghai(clock: str, day: dt.date = MONDAY) -> dt.datetime:
    naive = dt.datetime.combine(day, dt.time.fromisoformat(clock))
    return naive.replace(tzinfo=SHANGHAI)


@pytest.fixture
def fake_ffmpeg(tmp_path: Path) -> str:
    path = tmp_path / "fake-ffmpeg"
    path.write_text(FAKE_FFMPEG.format(python=sys.executable))
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def make_supervisor(tmp_path: Path):
    """Build supervisors with short timeouts; stop whatever they started."""
    built: list[StreamSupervisor] = []

    def build(clock: Clock | None = None, **overrides: object) -> StreamSupervisor:
        config = SupervisorSettings(
            host=settings.TRANSCODE_QUEUE,
            ffmpeg_binary=settings.FFMPEG_BINARY,
            ffprobe_binary=settings.FFPROBE_BINARY,
            hls_root=tmp_path / "hls",
            log_dir=tmp_path / "log",
            hls=HlsOptions(segment_seconds=1, list_size=4, read_timeout_seconds=2),
            stop_timeout_seconds=2,
            probe_timeout_seconds=5,
            stall_after_seconds=5,
            max_restarts=2,
        )
        for name, value in overrides.items():
            setattr(config, name, value)
        supervisor = StreamSupervisor(config, clock or Clock(shanghai("09:00")))
        built.append(supervisor)
        return supervisor

    yield build
    for supervisor in built:
        for child in list(supervisor._children.values()):
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


@pytest.fixture
def fake_supervisor(make_supervisor, fake_ffmpeg):
    """A supervisor whose 'FFmpeg' is the fake script, with no probing."""
    return make_supervisor(ffmpeg_binary=fake_ffmpeg, ffprobe_binary="no-ffprobe-here")


def running_record(channel_id: str) -> StreamProcess:
    return StreamProcess.objects.get(channel_id=channel_id)


def zombie_children() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if child.status() == psutil.STATUS_ZOMBIE
    ]


def gone(pid: int) -> bool:
    """Exited and reaped: not even a zombie is left."""
    return not psutil.pid_exists(pid)


def playlist_has_segments(supervisor: StreamSupervisor, channel_id: str) -> bool:
    return supervisor.segment_count(channel_id) >= 1


pytestmark = pytest.mark.django_db(transaction=True)


# --- real FFmpeg: start, stop, reap ---------------------------------------------


def test_it_runs_one_ffmpeg_however_often_it_is_ensured(make_supervisor, live_source):
    supervisor = make_supervisor()
    channel = make_channel("room_1", source_url=live_source)

    first = supervisor.ensure_running(channel, preload=True, reason="test")
    second = supervisor.ensure_running(channel, preload=False, reason="again")

    assert first.pid == second.pid
    assert first.video_mode == VideoMode.COPY
    ffmpegs = [
        child
        for child in psutil.Process().children(recursive=True)
        if str(supervisor.hls_dir("room_1")) in " ".join(child.cmdline())
    ]
    assert [child.pid for child in ffmpegs] == [first.pid]
    assert running_record("room_1").preload  # a later on-demand start keeps it
    wait_until(lambda: playlist_has_segments(supervisor, "room_1"), timeout=10)


def test_it_stops_ffmpeg_reaps_it_and_removes_the_hls_folder(
    make_supervisor, live_source
):
    supervisor = make_supervisor()
    channel = make_channel("room_1", source_url=live_source)
    pid = supervisor.ensure_running(channel, preload=True, reason="test").pid
    wait_until(lambda: supervisor.playlist_path("room_1").exists(), timeout=10)

    record = supervisor.ensure_stopped("room_1", reason="test over")

    assert gone(pid)
    assert zombie_children() == []
    assert not supervisor.hls_dir("room_1").exists()
    assert (record.status, record.pid, record.preload) == (
        ProcessStatus.STOPPED,
        None,
        False,
    )
    # Stopping again is harmless, and so is stopping what never ran.
    assert supervisor.ensure_stopped("room_1", reason="again").status == "stopped"
    assert supervisor.ensure_stopped("never_ran", reason="again") is None


def test_it_lets_ffmpeg_end_when_its_source_goes_silent(make_supervisor, rtmp_server):
    supervisor = make_supervisor()
    url = rtmp_server.url(f"silent-{uuid.uuid4().hex[:6]}")
    publisher = TestPattern(settings.FFMPEG_BINARY, url)
    publisher.start()
    try:
        time.sleep(1.5)
        channel = make_channel("room_1", source_url=url)
        pid = supervisor.ensure_running(channel, preload=True, reason="test").pid
        wait_until(lambda: playlist_has_segments(supervisor, "room_1"), timeout=10)
    finally:
        publisher.stop()

    # Read timeout 2 s: FFmpeg gives up by itself instead of hanging.
    wait_until(lambda: gone(pid), timeout=8)
    assert supervisor.check_health() == {"room_1": "restarted: FFmpeg exited"}


def test_it_restarts_a_killed_preload_then_gives_up_and_alerts(
    make_supervisor, live_source, settings
):
    settings.ADMINS = [("Admin", "admin@example.com")]
    supervisor = make_supervisor(max_restarts=2)  # clock: 09:00, window open
    channel = make_channel("room_1", source_url=live_source, window=("07:00", "17:30"))
    pid = supervisor.ensure_running(channel, preload=True, reason="test").pid
    assert supervisor.check_health() == {}  # healthy: nothing to do

    for attempt in (1, 2):
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda pid=pid: gone(pid), timeout=5)

        assert supervisor.check_health() == {"room_1": "restarted: FFmpeg exited"}

        record = running_record("room_1")
        assert record.restart_count == attempt
        assert record.status == ProcessStatus.RUNNING
        assert record.pid != pid and psutil.pid_exists(record.pid)
        pid = record.pid
        assert mail.outbox == []

    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: gone(pid), timeout=5)
    assert supervisor.check_health() == {"room_1": "failed: FFmpeg exited"}

    record = running_record("room_1")
    assert (record.status, record.pid) == (ProcessStatus.FAILED, None)
    assert "gave up after 2 restarts" in record.last_error
    assert [message.subject for message in mail.outbox] == [
        "[Django] Preload of channel room_1 failed"
    ]
    assert "manage.py preload_start room_1" in mail.outbox[0].body
    assert mail.outbox[0].to == ["admin@example.com"]
    # Once failed it stays down: no more restarts, no more alerts.
    assert supervisor.check_health() == {}
    converged = supervisor.converge()
    assert (converged.started, converged.kept) == ([], ["room_1"])
    assert zombie_children() == []


def test_it_reads_the_source_codecs_with_ffprobe(live_source):
    mode = probe_video_mode(settings.FFPROBE_BINARY, live_source, timeout_seconds=5)
    assert mode == VideoMode.COPY


def test_it_explains_an_unreadable_source_without_credentials(rtmp_server):
    url = "rtmp://user:secret@127.0.0.1:" + f"{rtmp_server.port}/live/nobody-here"
    with pytest.raises(ProbeError) as caught:
        probe_video_mode(settings.FFPROBE_BINARY, url, timeout_seconds=2)
    assert "secret" not in str(caught.value)


# --- our own process handling, with a stand-in binary ------------------------------


def test_it_never_signals_a_reused_pid(fake_supervisor):
    make_channel("room_1")
    bystander = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        created = psutil.Process(bystander.pid).create_time()
        StreamProcess.objects.create(
            channel_id="room_1",
            host=settings.TRANSCODE_QUEUE,
            status=ProcessStatus.RUNNING,
            preload=True,
            pid=bystander.pid,
            pid_created=created - 100,  # our FFmpeg was another process
        )

        assert fake_supervisor.live_process(running_record("room_1")) is None
        fake_supervisor.ensure_stopped("room_1", reason="test")
        assert fake_supervisor.kill_strays() == []

        assert bystander.poll() is None
        assert psutil.Process(bystander.pid).status() != psutil.STATUS_ZOMBIE
    finally:
        bystander.kill()
        bystander.wait()


def test_it_kills_ffmpeg_that_ignores_sigterm_after_the_bounded_wait(
    fake_supervisor, monkeypatch
):
    monkeypatch.setenv("IGNORE_TERM", "1")
    channel = make_channel("room_1")
    pid = fake_supervisor.ensure_running(channel, preload=True, reason="test").pid
    wait_until(lambda: fake_supervisor.playlist_path("room_1").exists(), timeout=5)

    began = time.monotonic()
    fake_supervisor.ensure_stopped("room_1", reason="test")
    took = time.monotonic() - began

    marks = fake_supervisor.config.hls_root / "room_1.signals"
    assert marks.read_text().split() == [str(int(signal.SIGTERM))]
    assert 2 <= took < 3.5  # stop_timeout_seconds, then SIGKILL at once
    assert gone(pid)
    assert zombie_children() == []


def test_it_stops_a_cooperative_process_without_waiting(fake_supervisor):
    channel = make_channel("room_1")
    pid = fake_supervisor.ensure_running(channel, preload=True, reason="test").pid
    wait_until(lambda: fake_supervisor.playlist_path("room_1").exists(), timeout=5)

    began = time.monotonic()
    fake_supervisor.ensure_stopped("room_1", reason="test")

    assert time.monotonic() - began < 1
    assert gone(pid)


def test_it_restarts_a_preload_whose_playlist_stalled(fake_supervisor):
    channel = make_channel("room_1")
    record = fake_supervisor.ensure_running(channel, preload=True, reason="test")
    wait_until(lambda: fake_supervisor.playlist_path("room_1").exists(), timeout=5)
    written = fake_supervisor.playlist_path("room_1").stat().st_mtime

    # Young process, or a playlist written within STALL_AFTER_SECONDS: healthy.
    fake_supervisor.clock = Clock(dt.datetime.fromtimestamp(written + 4, dt.UTC))
    assert fake_supervisor.check_health() == {}
    rewritten = int(written) + 20  # whole seconds: no rounding at the edge
    os.utime(fake_supervisor.playlist_path("room_1"), (rewritten, rewritten))
    fake_supervisor.clock = Clock(dt.datetime.fromtimestamp(rewritten + 4.9, dt.UTC))
    assert fake_supervisor.check_health() == {}

    # Not rewritten for more than 5 s while the process lives: stalled.
    fake_supervisor.clock = Clock(dt.datetime.fromtimestamp(rewritten + 6.5, dt.UTC))
    outcome = fake_supervisor.check_health()

    assert outcome == {"room_1": "restarted: playlist not updated for 6 s"}
    assert gone(record.pid)
    assert running_record("room_1").pid != record.pid


def test_it_stops_a_crashed_on_demand_process_instead_of_restarting(
    fake_supervisor,
):
    channel = make_channel("room_1")
    pid = fake_supervisor.ensure_running(channel, preload=False, reason="viewer").pid
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: gone(pid), timeout=5)

    assert fake_supervisor.check_health() == {"room_1": "stopped: FFmpeg exited"}
    assert running_record("room_1").status == ProcessStatus.STOPPED


# --- converge at chosen moments ----------------------------------------------------


@pytest.mark.parametrize(
    ("window", "weekdays", "now", "should_run"),
    [
        (("07:00", "17:30"), 127, shanghai("06:59:59"), False),
        (("07:00", "17:30"), 127, shanghai("07:00"), True),
        (("07:00", "17:30"), 127, shanghai("17:29:59"), True),
        (("07:00", "17:30"), 127, shanghai("17:30"), False),
        (("23:00", "01:00"), 127, shanghai("23:01"), True),
        (("23:00", "01:00"), 127, shanghai("00:30"), True),  # opened yesterday
        (("23:00", "01:00"), 127, shanghai("01:01"), False),
        (("23:00", "01:00"), 0b0010000, shanghai("00:30", SATURDAY), True),
        (("23:00", "01:00"), 0b0010000, shanghai("00:30", SUNDAY), False),
        (("07:00", "17:30"), 0b0011111, shanghai("09:00", SATURDAY), False),
    ],
)  # fmt: skip
def test_it_converges_to_the_window_at_any_moment(
    fake_supervisor, window, weekdays, now, should_run
):
    make_channel("room_1", window=window, weekdays=weekdays)
    fake_supervisor.clock = Clock(now)

    report = fake_supervisor.converge()

    assert report.started == (["room_1"] if should_run else [])
    record = StreamProcess.objects.filter(channel_id="room_1").first()
    running = record is not None and fake_supervisor.live_process(record) is not None
    assert running is should_run
    # Converging again changes nothing.
    again = fake_supervisor.converge()
    assert again.started == [] and again.stopped == []
    assert again.kept == (["room_1"] if should_run else [])


def test_it_stops_preloads_whose_window_closed_but_keeps_manual_starts(
    fake_supervisor,
):
    preloaded = make_channel("room_1", window=("07:00", "17:30"))
    manual = make_channel("room_2", window=("07:00", "17:30"))
    fake_supervisor.ensure_running(preloaded, preload=True, reason="window")
    fake_supervisor.ensure_running(manual, preload=True, manual=True, reason="hand")

    fake_supervisor.clock = Clock(shanghai("17:30"))
    report = fake_supervisor.converge()

    assert (report.stopped, report.kept) == (["room_1"], ["room_2"])
    assert running_record("room_1").status == ProcessStatus.STOPPED
    assert fake_supervisor.live_process(running_record("room_2")) is not None


@pytest.mark.parametrize("how", ["window off", "channel disabled"])
def test_it_stops_a_preload_when_its_window_or_channel_is_turned_off(
    fake_supervisor, how
):
    channel = make_channel("room_1", window=("07:00", "17:30"))
    pid = fake_supervisor.ensure_running(channel, preload=True, reason="window").pid
    if how == "window off":
        channel.preload.enabled = False
        channel.preload.save()
    else:
        Channel.objects.filter(pk="room_1").update(enabled=False)

    report = fake_supervisor.converge(["room_1"])

    assert report.stopped == ["room_1"]
    assert gone(pid)


def test_it_stops_the_process_of_a_deleted_channel(fake_supervisor):
    channel = make_channel("room_1", window=("07:00", "17:30"))
    pid = fake_supervisor.ensure_running(channel, preload=True, reason="window").pid
    channel.delete()

    report = fake_supervisor.converge()

    assert report.stopped == ["room_1"]
    assert gone(pid)
    assert zombie_children() == []


def test_it_converges_other_channels_when_one_source_is_unusable(fake_supervisor):
    # Written past validation (a raw ORM create): FFmpeg must never read it.
    make_channel("room_bad", source_url="file:///etc/passwd", window=("07:00", "17:30"))
    make_channel("room_good", window=("07:00", "17:30"))

    report = fake_supervisor.converge()

    assert (report.started, report.failed) == (["room_good"], ["room_bad"])
    bad = running_record("room_bad")
    assert (bad.status, bad.pid) == (ProcessStatus.STOPPED, None)
    assert "scheme" in bad.last_error


def test_it_kills_untracked_ffmpeg_writing_under_the_hls_root(
    make_supervisor, live_source
):
    supervisor = make_supervisor()
    tracked = make_channel("room_1", source_url=live_source)
    tracked_pid = supervisor.ensure_running(tracked, preload=True, reason="t").pid
    stray_dir = supervisor.config.hls_root / "stray"
    stray_dir.mkdir(parents=True)
    stray = subprocess.Popen(
        [settings.FFMPEG_BINARY, "-nostdin", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=5",
         "-f", "hls", str(stray_dir / "index.m3u8")],
        stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    elsewhere = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", str(stray_dir / "x")]
    )
    try:
        wait_until(lambda: psutil.Process(stray.pid).name() == "ffmpeg", timeout=5)

        assert supervisor.kill_strays() == [stray.pid]

        assert gone(stray.pid)
        assert psutil.pid_exists(tracked_pid)
        assert elsewhere.poll() is None  # not FFmpeg: left alone
    finally:
        elsewhere.kill()
        elsewhere.wait()
        if stray.poll() is None:
            stray.kill()
        stray.wait()


# --- FFmpeg arguments, built without starting anything ------------------------------

OPTIONS = HlsOptions(segment_seconds=2, list_size=6, read_timeout_seconds=10)


def build(source: str, mode: str = VideoMode.COPY) -> list[str]:
    return ffmpeg_command("ffmpeg", source, Path("/hls/room_1"), mode, OPTIONS)


def value_after(command: list[str], option: str) -> str:
    return command[command.index(option) + 1]


@pytest.mark.parametrize(
    ("source", "whitelist"),
    [
        ("rtmp://cam/live/a", "rtmp,tcp"),
        ("rtmps://cam/live/a", "rtmps,rtmp,tls,tcp"),
        ("rtsp://cam/a", "rtsp,rtp,srtp,udp,tcp,tls"),
        ("srt://cam:9000", "srt,udp"),
        ("https://cam/a.m3u8", "http,https,tcp,tls,crypto"),
    ],
)
def test_it_builds_input_options_before_the_only_input(source, whitelist):
    command = build(source)

    assert command[0] == "ffmpeg" and "-nostdin" in command
    assert command.count("-i") == 1 and value_after(command, "-i") == source
    before_input = command[: command.index("-i")]
    assert value_after(before_input, "-protocol_whitelist") == whitelist
    assert value_after(before_input, "-rw_timeout") == "10000000"
    assert "file" not in whitelist.split(",")
    rtsp_tcp = "-rtsp_transport" in before_input
    assert rtsp_tcp is source.startswith("rtsp:")


def test_it_copies_browser_ready_sources():
    command = build("rtmp://cam/live/a", VideoMode.COPY)
    assert value_after(command, "-c") == "copy"
    assert "libx264" not in command and "-force_key_frames" not in command


def test_it_transcodes_with_a_keyframe_at_every_segment_boundary():
    command = build("rtmp://cam/live/a", VideoMode.TRANSCODE)
    assert value_after(command, "-c:v") == "libx264"
    assert value_after(command, "-force_key_frames") == "expr:gte(t,n_forced*2)"
    assert value_after(command, "-sc_threshold") == "0"
    assert value_after(command, "-c:a") == "aac"


def test_it_writes_short_self_cleaning_hls_segments_into_the_channel_folder():
    command = build("rtmp://cam/live/a")
    assert value_after(command, "-f") == "hls"
    assert value_after(command, "-hls_time") == "2"
    assert value_after(command, "-hls_list_size") == "6"
    flags = value_after(command, "-hls_flags").split("+")
    assert {"delete_segments", "temp_file", "omit_endlist"} <= set(flags)
    assert value_after(command, "-hls_segment_filename") == "/hls/room_1/seg_%d.ts"
    assert command[-1] == "/hls/room_1/index.m3u8"


def test_it_hides_credentials_in_logged_commands():
    text = " ".join(build("rtmp://user:s3cret@cam/live/a"))
    assert "s3cret" not in redact(text)
    assert "rtmp://***@cam/live/a" in redact(text)


@pytest.mark.parametrize(
    ("streams", "mode"),
    [
        ([("video", "h264"), ("audio", "aac")], VideoMode.COPY),
        ([("video", "h264")], VideoMode.COPY),
        ([("video", "hevc"), ("audio", "aac")], VideoMode.TRANSCODE),
        ([("video", "h264"), ("audio", "mp3")], VideoMode.TRANSCODE),
        ([("video", "mpeg4"), ("audio", "mp3")], VideoMode.TRANSCODE),
        ([("audio", "aac"), ("video", "h264")], VideoMode.COPY),
    ],
)
def test_it_copies_only_what_browsers_play(streams, mode):
    probed = [{"codec_type": kind, "codec_name": name} for kind, name in streams]
    assert choose_video_mode(probed) == mode


def test_it_refuses_a_source_without_video():
    with pytest.raises(ProbeError, match="no video stream"):
        choose_video_mode([{"codec_type": "audio", "codec_name": "aac"}])
