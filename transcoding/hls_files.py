"""Where a channel's HLS files live, and whether its playlist is playable yet.

Every name that comes from a URL is checked here against strict patterns before
any path is built from it, so no request can make the server open a file
outside HLS_ROOT.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import m3u8
from django.conf import settings

from channels_app.models import CHANNEL_ID_PATTERN

from .ffmpeg import PLAYLIST_NAME

_CHANNEL_ID = re.compile(CHANNEL_ID_PATTERN)
# Exactly what FFmpeg writes (ffmpeg.SEGMENT_PATTERN): never its .tmp files.
_FILE_NAME = re.compile(r"^(?:index\.m3u8|seg_[0-9]{1,20}\.ts)\Z")

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_TYPE = "video/mp2t"

# A playlist that FFmpeg has not rewritten for this many segment lengths is
# left over from a process that died or stalled, not a live stream.
STALE_AFTER_SEGMENTS = 4


class BadHlsPath(ValueError):
    """A channel id or file name that no HLS file can have."""


def is_channel_id(value: str) -> bool:
    return bool(_CHANNEL_ID.match(value))


def hls_file(channel_id: str, name: str) -> Path:
    """The file's path under HLS_ROOT, or BadHlsPath for anything unexpected."""
    if not is_channel_id(channel_id) or not _FILE_NAME.match(name):
        raise BadHlsPath(f"no HLS file {channel_id!r}/{name!r}")

    # Belt and braces: the patterns above already exclude separators and dots.
    root = Path(settings.HLS_ROOT).resolve()
    path = (root / channel_id / name).resolve()
    if not path.is_relative_to(root):
        raise BadHlsPath(f"{channel_id!r}/{name!r} leaves the HLS root")
    return path


def content_type(name: str) -> str:
    return PLAYLIST_TYPE if name == PLAYLIST_NAME else SEGMENT_TYPE


def count_segments(playlist: Path) -> int:
    """Segments the playlist lists now; 0 without a playlist."""
    try:
        return len(m3u8.loads(playlist.read_text()).segments)
    except (FileNotFoundError, ValueError):
        return 0


def playable_segments(channel_id: str) -> int:
    """Segments in a freshly written playlist; 0 if there is none or it is stale."""
    path = hls_file(channel_id, PLAYLIST_NAME)
    try:
        written = path.stat().st_mtime
    except FileNotFoundError:
        return 0

    stale_after = STALE_AFTER_SEGMENTS * settings.HLS_SEGMENT_SECONDS
    if time.time() - written > stale_after:
        return 0
    return count_segments(path)
