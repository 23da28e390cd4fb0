"""Viewer presence in Redis: one sorted set per channel, scored by last ping.

A viewer counts as live while its last heartbeat is younger than
VIEWER_IDLE_SECONDS. The sets expire on their own when nobody pings, so the
web side never has to clean them up.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import redis
from django.conf import settings


@cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)


def _key(channel_id: str) -> str:
    return f"preload:viewers:{channel_id}"


def record_heartbeat(channel_id: str, session_id: str, now: dt.datetime) -> None:
    key = _key(channel_id)
    pipe = _client().pipeline()
    pipe.zadd(key, {session_id: now.timestamp()})
    pipe.expire(key, settings.VIEWER_IDLE_SECONDS * 2)
    pipe.execute()


def remove_viewer(channel_id: str, session_id: str) -> bool:
    return bool(_client().zrem(_key(channel_id), session_id))


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
