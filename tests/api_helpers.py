"""Fixtures and checks shared by the tests/test_api_*.py files.

The fixtures are in tests/api_fixtures.py.
"""

from __future__ import annotations

import json
from typing import Any

import redis
from django.conf import settings
from django.contrib.auth.models import User
from django_celery_beat.models import PeriodicTask
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from channels_app.models import Channel, PreloadConfig

SOURCE = "rtmp://camera.example/live/room"


def token_client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def snapshot() -> dict[str, Any]:
    """Everything a refused request must leave untouched."""
    return {
        "channels": list(Channel.objects.order_by("pk").values()),
        "configs": list(PreloadConfig.objects.order_by("pk").values()),
        "tasks": list(
            PeriodicTask.objects.order_by("name").values(
                "name",
                "enabled",
                "crontab__minute",
                "crontab__hour",
                "crontab__day_of_week",
                "date_changed",
            )
        ),
    }


def preload_tasks(channel_id: str) -> dict[str, tuple[str, str, str]]:
    """{"start"|"stop": (minute, hour, day_of_week)} of a channel's beat rows."""
    rows = PeriodicTask.objects.filter(name__startswith=f"preload:{channel_id}:")
    return {
        row.name.rsplit(":", 1)[1]: (
            row.crontab.minute,
            row.crontab.hour,
            row.crontab.day_of_week,
        )
        for row in rows.select_related("crontab")
    }


def assert_error(response: Any, status: int, field: str | None = None) -> dict:
    """The one error shape, with the expected status and, if given, field."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"status", "code", "message", "fields"}, body
    assert body["status"] == status
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    if field is not None:
        assert field in body["fields"], body
        assert all(isinstance(m, str) for m in body["fields"][field])
    return body


def queued_tasks() -> list[dict[str, Any]]:
    """Task messages waiting in this test run's transcode queue on the broker."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    messages = broker.lrange(settings.TRANSCODE_QUEUE, 0, -1)
    return [json.loads(message) for message in messages]


def queued_task_names() -> list[str]:
    return [message["headers"]["task"] for message in queued_tasks()]
