"""Short-lived signed tokens that let one viewer session fetch one channel's HLS.

A token is the viewer session id, signed with a timestamp and a salt that names
the channel: it opens that channel only, for HLS_TOKEN_SECONDS, and only while
the session is live (leaving or going idle ends it at once). It goes in the URL
path, /hls/<token>/<channel>/index.m3u8, so the segment URLs that players
resolve relative to the playlist carry it too.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from . import viewers

_SALT = "transcoding.hls_auth:"


def _signer(channel_id: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SALT + channel_id)


def make_token(channel_id: str, session_id: str) -> str:
    return _signer(channel_id).sign(session_id)


def token_is_valid(token: str, channel_id: str) -> bool:
    """Signed for this channel, young enough, and its session still live."""
    try:
        session_id = _signer(channel_id).unsign(
            token, max_age=settings.HLS_TOKEN_SECONDS
        )
    except signing.BadSignature:  # also raised for an expired token
        return False

    session = viewers.find_session(session_id)
    return session is not None and session.channel_id == channel_id


def playlist_url(channel_id: str, session_id: str) -> str:
    return reverse(
        "hls-file",
        kwargs={
            "token": make_token(channel_id, session_id),
            "channel_id": channel_id,
            "name": "index.m3u8",
        },
    )
