"""Viewer presence in Redis: one sorted set per channel, scored by last ping.

A viewer counts as live while its last heartbeat is younger than
VIEWER_IDLE_SECONDS. The sets expire on their own when nobody pings, so the
web side never has to clean them up.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings


@cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)


def _key(channel_id: str) -> str:
    return f"preload:viewers:{channel_id}"


def is_live_viewer(channel_id: str, session_id: str, now: dt.datetime) -> bool:
    score = _client().zscore(_key(channel_id), session_id)
    return score is not None and score > _idle_cutoff(now)


def live_viewer_count(channel_id: str, now: dt.datetime) -> int:
    """Viewers whose last heartbeat is recent enough; stale ones are dropped."""
    key = _key(channel_id)
    cutoff = _idle_cutoff(now)
    pipe = _client().pipeline()
    pipe.zremrangebyscore(key, "-inf", cutoff)
    pipe.zcard(key)
    _, count = pipe.execute()
    return int(count)


def _idle_cutoff(now: dt.datetime) -> float:
    return now.timestamp() - settings.VIEWER_IDLE_SECONDS


# --- viewer sessions --------------------------------------------------------
#
# A session belongs to one Django user and one channel. It lives as long as its
# heartbeats do (VIEWER_IDLE_SECONDS past the last one), so a viewer who went
# away without leaving needs no cleanup, and a late heartbeat is refused.


@dataclass(frozen=True)
class ViewerSession:
    session_id: str
    channel_id: str
    user_id: int


def _session_key(session_id: str) -> str:
    return f"preload:viewer-session:{session_id}"


def open_session(channel_id: str, user_id: int, now: dt.datetime) -> ViewerSession:
    session = ViewerSession(secrets.token_urlsafe(16), channel_id, user_id)
    touch_session(session, now)
    return session


def find_session(session_id: str) -> ViewerSession | None:
    """The session if it is still live; None once it left or went idle."""
    value = _client().get(_session_key(session_id))
    if value is None:
        return None
    user_id, channel_id = value.split(":", 1)
    return ViewerSession(session_id, channel_id, int(user_id))


def touch_session(session: ViewerSession, now: dt.datetime) -> None:
    """One round trip: the heartbeat and the session's new expiry together.

    The session is written again rather than only given a new expiry, so one
    that lapsed during a slow on-demand start comes back with its heartbeat.
    """
    key = _key(session.channel_id)
    pipe = _client().pipeline()
    pipe.zadd(key, {session.session_id: now.timestamp()})
    pipe.expire(key, settings.VIEWER_IDLE_SECONDS * 2)
    pipe.set(
        _session_key(session.session_id),
        f"{session.user_id}:{session.channel_id}",
        ex=settings.VIEWER_IDLE_SECONDS,
    )
    pipe.execute()


def close_session(session: ViewerSession) -> None:
    pipe = _client().pipeline()
    pipe.zrem(_key(session.channel_id), session.session_id)
    pipe.delete(_session_key(session.session_id))
    pipe.execute()
