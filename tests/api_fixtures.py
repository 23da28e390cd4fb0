"""Fixtures of the tests/test_api_*.py files, loaded there through pytest_plugins."""

from __future__ import annotations

import datetime as dt

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from channels_app.models import Channel, PreloadConfig
from tests.api_helpers import SOURCE, token_client


@pytest.fixture
def admin_user(db: None) -> User:
    return User.objects.create_user("ada", password="pw-ada-123", is_staff=True)


@pytest.fixture
def plain_user(db: None) -> User:
    return User.objects.create_user("pat", password="pw-pat-123")


@pytest.fixture
def admin(admin_user: User) -> APIClient:
    """An administrator's client, authenticated by token."""
    return token_client(admin_user)


@pytest.fixture
def channel(db: None) -> Channel:
    return Channel.objects.create(id="room_1", name="Room 1", source_url=SOURCE)


@pytest.fixture
def configured(channel: Channel) -> PreloadConfig:
    """An enabled 07:40-17:20 window on weekdays, with its two beat rows."""
    return PreloadConfig.objects.create(
        channel=channel,
        enabled=True,
        start_time=dt.time(7, 40),
        end_time=dt.time(17, 20),
        weekdays=0b0011111,
    )


@pytest.fixture
def empty_queue() -> None:
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(settings.TRANSCODE_QUEUE)
