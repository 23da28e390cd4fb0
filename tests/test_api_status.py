"""System status, transcode host status and the schedule reload."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django_celery_beat.models import PeriodicTask

from channels_app.models import Channel, PreloadConfig
from tests.api_helpers import SOURCE, preload_tasks, queued_task_names, token_client

pytest_plugins = ["tests.api_fixtures"]

# A Tuesday, 08:00 in Shanghai: the 07:40-17:20 weekday window is open.
TUESDAY_0800 = dt.datetime(2026, 3, 3, 0, 0, tzinfo=dt.UTC)


@time_machine.travel(TUESDAY_0800, tick=False)
def test_system_status_lists_enabled_channels_with_next_start_and_stop(
    admin, configured
):
    Channel.objects.create(id="off", name="Off", source_url=SOURCE, enabled=False)
    Channel.objects.create(id="idle", name="Idle", source_url=SOURCE)

    response = admin.get("/api/status/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["time_zone"] == "Asia/Shanghai"
    assert body["now"] == "2026-03-03T08:00:00+08:00"
    assert (body["channels_total"], body["channels_enabled"]) == (3, 2)
    assert (body["preload_enabled"], body["window_open"], body["running"]) == (1, 1, 0)
    rows = {row["channel_id"]: row for row in body["channels"]}
    assert set(rows) == {"room_1", "idle"}
    assert rows["room_1"]["window_open"] is True
    assert rows["room_1"]["next_start"] == "2026-03-04T07:40:00+08:00"
    assert rows["room_1"]["next_stop"] == "2026-03-03T17:20:00+08:00"
    assert rows["idle"]["next_start"] is None


def test_host_status_measured_locally_shows_the_beat_rows(admin, configured):
    response = admin.get("/api/status/host/?source=local")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["source"] == "local"
    assert body["processes"] == []
    [schedule] = body["schedules"]
    assert schedule["channel_id"] == "room_1"
    assert schedule["start"]["crontab"] == "40 7 * * 1,2,3,4,5"
    assert schedule["stop"]["crontab"] == "20 17 * * 1,2,3,4,5"
    assert schedule["start"]["timezone"] == "Asia/Shanghai"


def test_host_status_falls_back_to_local_when_no_worker_answers(admin, configured):
    response = admin.get("/api/status/host/")

    assert response.status_code == 200, response.content
    assert response.json()["source"] == "local"
    assert "no transcode worker" in response.json()["host_error"]


def test_host_status_insisting_on_the_host_is_a_503_without_one(admin, configured):
    response = admin.get("/api/status/host/?source=host")

    assert response.status_code == 503
    assert response.json()["code"] == "host_unavailable"


@pytest.mark.django_db(transaction=True)
def test_host_status_comes_from_a_running_transcode_worker(start_worker):
    staff = User.objects.create_user("ops", is_staff=True)
    Channel.objects.create(id="room_1", name="Room 1", source_url=SOURCE)
    start_worker()

    response = token_client(staff).get("/api/status/host/?source=host")

    assert response.status_code == 200, response.content
    assert response.json()["source"] == "host"
    assert response.json()["host_error"] is None


def test_reload_rebuilds_missing_rows_and_deletes_orphans(
    admin, configured, empty_queue
):
    PeriodicTask.objects.filter(name="preload:room_1:stop").delete()
    orphan = PeriodicTask.objects.get(name="preload:room_1:start")
    orphan.pk, orphan.name = None, "preload:gone:start"
    orphan.save()

    response = admin.post("/api/schedule/reload/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == ["preload:room_1:stop"]
    assert body["deleted"] == ["preload:gone:start"]
    assert body["unchanged"] == ["preload:room_1:start"]
    assert body["converge_queued"] is True
    assert set(preload_tasks("room_1")) == {"start", "stop"}
    assert queued_task_names() == ["transcoding.tasks.converge_host"]


def test_reload_with_nothing_to_do_changes_nothing(admin, configured):
    PreloadConfig.objects.filter(pk="room_1").update(enabled=False)

    body = admin.post("/api/schedule/reload/").json()

    assert (body["created"], body["updated"], body["deleted"]) == ([], [], [])
