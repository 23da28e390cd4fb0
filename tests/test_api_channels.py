"""Channels: CRUD, filters, and start/stop/restart queued on the real broker."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from django_celery_beat.models import PeriodicTask

from channels_app.models import Channel, PreloadConfig
from preload_site.celery import app
from tests.api_helpers import (
    SOURCE,
    assert_error,
    preload_tasks,
    queued_task_names,
    queued_tasks,
    snapshot,
)

pytest_plugins = ["tests.api_fixtures"]


def test_create_without_an_id_generates_one(admin, db):
    response = admin.post(
        "/api/channels/", {"name": "Hall", "source_url": SOURCE}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("stream_")
    assert body["enabled"] is True
    assert body["preload"]["configured"] is False
    assert Channel.objects.filter(pk=body["id"]).exists()


def test_create_with_a_chosen_id(admin, db):
    body = {"id": "hall-2", "name": "Hall", "source_url": SOURCE, "enabled": False}

    response = admin.post("/api/channels/", body, format="json")

    assert response.status_code == 201, response.content
    assert Channel.objects.get(pk="hall-2").enabled is False


def test_put_replaces_name_and_source_but_never_the_id(admin, channel):
    body = {"name": "Sunflower", "source_url": "rtsp://cam.example/1"}

    response = admin.put("/api/channels/room_1/", body, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["id"] == "room_1"
    channel.refresh_from_db()
    assert (channel.name, channel.source_url) == ("Sunflower", body["source_url"])


def test_delete_removes_the_window_and_its_beat_rows(
    admin, configured, empty_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.delete("/api/channels/room_1/")

    assert response.status_code == 204
    assert not PreloadConfig.objects.exists()
    assert preload_tasks("room_1") == {}
    assert "transcoding.tasks.stop_channel" in queued_task_names()


def test_the_list_filters_by_name_switch_and_window(admin, configured):
    Channel.objects.create(id="hall", name="Hall", source_url=SOURCE, enabled=False)

    def ids(query: str) -> list[str]:
        response = admin.get(f"/api/channels/?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("") == ["hall", "room_1"]
    assert ids("name=ROOM") == ["room_1"]
    assert ids("enabled=false") == ["hall"]
    assert ids("preload_enabled=true") == ["room_1"]
    assert ids("preload_enabled=false") == ["hall"]


@pytest.mark.parametrize(
    ("action", "task"),
    [
        ("start", "start_channel"),
        ("stop", "stop_channel"),
        ("restart", "restart_channel"),
    ],
)
def test_actions_queue_their_task_and_answer_202_with_the_state(
    admin, channel, empty_queue, action, task
):
    response = admin.post(f"/api/channels/room_1/{action}/")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["queued"] == task
    assert body["channel"]["id"] == "room_1"
    assert body["process"]["running"] is False
    [message] = queued_tasks()
    assert message["headers"]["task"] == f"transcoding.tasks.{task}"
    assert message["headers"]["id"] == body["task_id"]
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert kwargs["channel_id"] == "room_1"


def test_starting_a_disabled_channel_is_a_409_and_queues_nothing(
    admin, channel, empty_queue
):
    Channel.objects.filter(pk="room_1").update(enabled=False)

    body = assert_error(admin.post("/api/channels/room_1/start/"), 409)

    assert "enable it first" in body["message"]
    assert queued_task_names() == []


@pytest.fixture
def broker_down() -> Iterator[None]:
    """Point the Celery app at a port where no broker listens."""
    saved = app.conf.broker_url, app.conf.broker_connection_max_retries
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    app.conf.broker_connection_max_retries = 1
    _forget_connections()
    yield
    app.conf.broker_url, app.conf.broker_connection_max_retries = saved
    _forget_connections()


def _forget_connections() -> None:
    # Celery caches its connection and producer pools on first use.
    app._pool = None
    app.amqp._producer_pool = None


def test_an_unreachable_broker_is_a_503_not_a_500(admin, configured, broker_down):
    before = snapshot()

    body = assert_error(admin.post("/api/channels/room_1/start/"), 503)

    assert body["code"] == "host_unavailable"
    assert snapshot() == before


def test_reload_still_resyncs_when_the_broker_is_down(admin, configured, broker_down):
    PeriodicTask.objects.filter(name="preload:room_1:stop").delete()

    response = admin.post("/api/schedule/reload/")

    assert response.status_code == 200, response.content
    assert response.json()["created"] == ["preload:room_1:stop"]
    assert response.json()["converge_queued"] is False
