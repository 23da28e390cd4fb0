"""Simultaneous updates of one window, from real threads on real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connections

from channels_app.models import Channel, PreloadConfig
from channels_app.schedule_sync import desired_tasks
from tests.api_helpers import SOURCE, preload_tasks, token_client

pytest_plugins = ["tests.api_fixtures"]

URL = "/api/preload-configs/room_1/"
THREADS = 12


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, released at the same instant."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        try:
            barrier.wait()
            return call()
        finally:
            # Each thread opened its own connection; leave none behind.
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def rows_match_the_stored_window() -> None:
    config = PreloadConfig.objects.select_related("channel").get(pk="room_1")
    wanted = {
        task.name.rsplit(":", 1)[1]: (task.minute, task.hour, task.day_of_week)
        for task in desired_tasks(config)
    }
    assert preload_tasks("room_1") == wanted


def patcher(staff: User, body: dict[str, Any]) -> Callable[[], int]:
    def patch() -> int:
        return token_client(staff).patch(URL, body, format="json").status_code

    return patch


@pytest.fixture
def staff(transactional_db: None) -> User:
    Channel.objects.create(id="room_1", name="Room 1", source_url=SOURCE)
    return User.objects.create_user("ops", is_staff=True)


def test_many_updates_of_one_window_leave_the_rows_of_the_last_one(staff):
    PreloadConfig.objects.create(channel_id="room_1", enabled=True)
    bodies = [{"start_time": f"06:{minute:02d}"} for minute in range(THREADS)]

    statuses = run_together([patcher(staff, body) for body in bodies])

    assert statuses == [200] * THREADS
    rows_match_the_stored_window()
    assert len(preload_tasks("room_1")) == 2


def test_patches_of_different_fields_at_once_lose_none_of_them(staff):
    PreloadConfig.objects.create(channel_id="room_1")
    for round_ in range(4):
        bodies = [
            {"enabled": round_ % 2 == 0},
            {"start_time": f"05:{round_:02d}"},
            {"end_time": f"22:{round_:02d}"},
            {"weekdays": ["mon", "sun"][: 1 + round_ % 2]},
        ]

        statuses = run_together([patcher(staff, body) for body in bodies])

        assert statuses == [200] * 4
        config = PreloadConfig.objects.get(pk="room_1")
        assert config.enabled is (round_ % 2 == 0)
        assert f"{config.start_time:%H:%M}" == f"05:{round_:02d}"
        assert f"{config.end_time:%H:%M}" == f"22:{round_:02d}"
        assert config.weekday_names == ["mon", "sun"][: 1 + round_ % 2]
        rows_match_the_stored_window()


def test_first_writes_of_a_never_configured_window_at_once(staff):
    bodies = [
        {
            "enabled": True,
            "start_time": f"07:{minute:02d}",
            "end_time": "18:00",
            "weekdays": ["mon"],
        }
        for minute in range(THREADS)
    ]

    def put(body: dict[str, Any]) -> Callable[[], int]:
        return lambda: token_client(staff).put(URL, body, format="json").status_code

    statuses = run_together([put(body) for body in bodies])

    assert statuses == [200] * THREADS
    assert PreloadConfig.objects.count() == 1
    rows_match_the_stored_window()
