"""FFmpeg and ffprobe command lines, built as argument lists (never a shell).

These are plain functions so tests can check every argument without starting
anything.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .models import VideoMode

PLAYLIST_NAME = "index.m3u8"
SEGMENT_PATTERN = "seg_%d.ts"

# What each source scheme may open underneath. FFmpeg otherwise lets, say, an
# HTTP playlist point at file: URLs on the transcode host.
PROTOCOL_WHITELIST = {
    "rtmp": "rtmp,tcp",
    "rtmps": "rtmps,rtmp,tls,tcp",
    "rtsp": "rtsp,rtp,srtp,udp,tcp,tls",
    "srt": "srt,udp",
    "http": "http,https,tcp,tls,crypto",
    "https": "http,https,tcp,tls,crypto",
}

# One second of a live source finds its streams (FFmpeg's default waits five,
# delaying the first segment). Half a second was measured to miss the video
# of a 1 s-keyframe RTMP source now and then.
FAST_PROBE = ["-analyzeduration", "1000000", "-probesize", "1000000"]

# Browsers play these without re-encoding.
BROWSER_VIDEO_CODECS = {"h264"}
BROWSER_AUDIO_CODECS = {"aac"}

_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)


@dataclass(frozen=True)
class HlsOptions:
    segment_seconds: int = 1
    list_size: int = 6
    read_timeout_seconds: int = 10


def redact(text: str) -> str:
    """Hide user:password in URLs before text reaches a log or an API answer."""
    return _CREDENTIALS.sub(r"\g<scheme>***@", text)


def input_arguments(source_url: str, read_timeout_seconds: int) -> list[str]:
    scheme = urlsplit(source_url).scheme.lower()
    arguments = [
        "-protocol_whitelist",
        PROTOCOL_WHITELIST[scheme],
        # Microseconds. Without it a silent source keeps FFmpeg waiting forever.
        "-rw_timeout",
        str(read_timeout_seconds * 1_000_000),
    ]
    if scheme == "rtsp":
        arguments += ["-rtsp_transport", "tcp"]
    return [*arguments, *FAST_PROBE, "-i", source_url]


def codec_arguments(mode: str, segment_seconds: int) -> list[str]:
    maps = ["-map", "0:v:0?", "-map", "0:a:0?"]
    if mode == VideoMode.COPY:
        return [*maps, "-c", "copy"]

    # Re-encoding: a keyframe at every segment boundary, so every segment can
    # start playback on its own.
    return [
        *maps,
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "zerolatency",
        "-pix_fmt",
        "yuv420p",
        "-force_key_frames",
        f"expr:gte(t,n_forced*{segment_seconds})",
        "-sc_threshold",
        "0",
        "-c:a",
        "aac",
        "-b:a",
        "96k",
        "-ac",
        "2",
    ]


def hls_output_arguments(output_dir: Path, options: HlsOptions) -> list[str]:
    return [
        "-f",
        "hls",
        "-hls_time",
        str(options.segment_seconds),
        "-hls_list_size",
        str(options.list_size),
        # Old segments are deleted; the playlist and segments are renamed into
        # place so a reader never sees half a file. Numbering from the clock
        # keeps the media sequence moving forward across restarts, and the
        # discontinuity tag tells players the timeline starts afresh.
        "-hls_flags",
        "delete_segments+temp_file+independent_segments+program_date_time"
        "+discont_start+omit_endlist",
        "-hls_start_number_source",
        "epoch",
        "-hls_segment_filename",
        str(output_dir / SEGMENT_PATTERN),
        str(output_dir / PLAYLIST_NAME),
    ]


def ffmpeg_command(
    binary: str, source_url: str, output_dir: Path, mode: str, options: HlsOptions
) -> list[str]:
    return [
        binary,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "warning",
        *input_arguments(source_url, options.read_timeout_seconds),
        *codec_arguments(mode, options.segment_seconds),
        *hls_output_arguments(output_dir, options),
    ]


def ffprobe_command(
    binary: str, source_url: str, read_timeout_seconds: int
) -> list[str]:
    scheme = urlsplit(source_url).scheme.lower()
    return [
        binary,
        "-v",
        "error",
        "-protocol_whitelist",
        PROTOCOL_WHITELIST[scheme],
        "-rw_timeout",
        str(read_timeout_seconds * 1_000_000),
        *FAST_PROBE,
        "-show_entries",
        "stream=codec_type,codec_name",
        "-of",
        "json",
        source_url,
    ]


class ProbeError(RuntimeError):
    """The source could not be read; the message says why, credentials hidden."""


def choose_video_mode(streams: list[dict[str, str]]) -> str:
    """Copy when browsers can play the source as it is, else transcode."""
    video = [s.get("codec_name") for s in streams if s.get("codec_type") == "video"]
    audio = [s.get("codec_name") for s in streams if s.get("codec_type") == "audio"]
    if not video:
        raise ProbeError("the source has no video stream")

    video_ok = video[0] in BROWSER_VIDEO_CODECS
    audio_ok = not audio or audio[0] in BROWSER_AUDIO_CODECS
    return VideoMode.COPY if video_ok and audio_ok else VideoMode.TRANSCODE


def probe_video_mode(ffprobe_binary: str, source_url: str, timeout_seconds: int) -> str:
    """Read the source's codecs with ffprobe and pick copy or transcode."""
    if not shutil.which(ffprobe_binary):
        # Only the wheel's FFmpeg is installed: transcoding plays everywhere.
        return VideoMode.TRANSCODE

    command = ffprobe_command(ffprobe_binary, source_url, timeout_seconds)
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_seconds + 2,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ProbeError(
            f"no answer from the source within {timeout_seconds} s"
        ) from exc

    if result.returncode != 0:
        detail = redact(result.stderr.strip().splitlines()[-1] if result.stderr else "")
        raise ProbeError(f"ffprobe could not read the source: {detail or 'no detail'}")
    try:
        streams = json.loads(result.stdout).get("streams", [])
    except json.JSONDecodeError as exc:
        raise ProbeError("ffprobe printed something that is not JSON") from exc
    return choose_video_mode(streams)
