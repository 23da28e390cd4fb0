"""The viewer API on real Redis: sessions, heartbeats, leaving and its errors.

The channel's playlist is written by hand here, so these tests need no worker;
the starting of channels on demand is in test_viewers_on_demand.py.
"""

from __future__ import annotations

import time

import pytest

from channels_app.models import Channel
from tests.viewers_support import (
    viewer_client,
    watch,
)
from transcoding import viewers
from transcoding.models import ProcessStatus, StreamProcess

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_viewers")]


def test_it_opens_a_session_with_a_first_heartbeat_and_a_token(room, django_user_model):
    client = viewer_client(django_user_model, "parent")

    answer = watch(client, room.pk)

    assert answer["channel_id"] == "room_1"
    assert answer["playlist_url"].startswith("/hls/")
    assert answer["playlist_url"].endswith("/room_1/index.m3u8")
    assert answer["heartbeat_seconds"] == 30
    assert viewers.live_viewer_count("room_1", _now()) == 1


def test_it_refuses_anonymous_viewers_with_json(room, client):
    response = client.post("/viewer/channels/room_1/watch/")

    assert response.status_code == 401
    assert "log in" in response.json()["error"]


@pytest.mark.parametrize("channel_id", ["nope", "..", "ROOM_1"])
def test_it_answers_404_for_an_unknown_channel(room, django_user_model, channel_id):
    client = viewer_client(django_user_model, "parent")

    response = client.post(f"/viewer/channels/{channel_id}/watch/")

    assert response.status_code == 404
    assert "no channel" in response.json()["error"]


def test_it_does_not_let_anyone_watch_a_disabled_channel(room, django_user_model):
    Channel.objects.filter(pk=room.pk).update(enabled=False)
    client = viewer_client(django_user_model, "parent")

    response = client.post("/viewer/channels/room_1/watch/")

    assert response.status_code == 404


def test_it_answers_405_in_json_for_a_wrong_method(room, django_user_model):
    client = viewer_client(django_user_model, "parent")

    response = client.get("/viewer/channels/room_1/watch/")

    assert response.status_code == 405
    assert response.json() == {"error": "use POST"}


def test_a_heartbeat_keeps_the_session_and_renews_the_token(room, django_user_model):
    client = viewer_client(django_user_model, "parent")
    answer = watch(client, room.pk)

    response = client.post(answer["heartbeat_url"])

    assert response.status_code == 200
    assert response.json()["session_id"] == answer["session_id"]
    assert viewers.is_live_viewer("room_1", answer["session_id"], _now())


@pytest.mark.parametrize(
    "url",
    [
        "/viewer/channels/room_1/sessions/unknown-session/heartbeat/",
        "/viewer/channels/nope/sessions/{session}/heartbeat/",
        "/viewer/channels/room_1/sessions/unknown-session/leave/",
    ],
)
def test_it_refuses_heartbeats_for_unknown_channels_and_sessions(
    room, django_user_model, url
):
    client = viewer_client(django_user_model, "parent")
    answer = watch(client, room.pk)

    response = client.post(url.format(session=answer["session_id"]))

    assert response.status_code == 404
    assert "start watching again" in response.json()["error"]


def test_leaving_ends_the_session_and_later_heartbeats_are_refused(
    room, django_user_model
):
    client = viewer_client(django_user_model, "parent")
    answer = watch(client, room.pk)

    assert client.post(answer["leave_url"]).status_code == 200

    assert client.post(answer["heartbeat_url"]).status_code == 404
    assert viewers.live_viewer_count("room_1", _now()) == 0


def test_a_session_without_heartbeats_expires(room, django_user_model, settings):
    settings.VIEWER_IDLE_SECONDS = 1
    client = viewer_client(django_user_model, "parent")
    answer = watch(client, room.pk)

    time.sleep(1.5)

    assert client.post(answer["heartbeat_url"]).status_code == 404
    assert viewers.live_viewer_count("room_1", _now()) == 0


def test_the_channel_list_shows_live_state(room, django_user_model):
    Channel.objects.create(id="room_2", name="Room 2", source_url="rtmp://h/live/2")
    Channel.objects.create(id="room_3", name="Room 3", source_url="rtmp://h/live/3")
    StreamProcess.objects.create(
        channel_id="room_1", host="h", status=ProcessStatus.RUNNING, preload=True
    )
    StreamProcess.objects.create(
        channel_id="room_2", host="h", status=ProcessStatus.RUNNING
    )
    client = viewer_client(django_user_model, "parent")

    channels = client.get("/viewer/channels/").json()["channels"]

    states = {channel["id"]: channel["state"] for channel in channels}
    assert states == {"room_1": "preloaded", "room_2": "live", "room_3": "off"}


@pytest.mark.django_db(transaction=True)
def test_a_start_that_no_worker_answers_is_a_clear_503(django_user_model, settings):
    settings.ON_DEMAND_START_TIMEOUT_SECONDS = 1
    Channel.objects.create(id="cold", name="Cold", source_url="rtmp://h/live/cold")
    client = viewer_client(django_user_model, "parent")

    response = client.post("/viewer/channels/cold/watch/")

    assert response.status_code == 503
    assert "no transcode worker" in response.json()["detail"]
    assert viewers.live_viewer_count("cold", _now()) == 0


def test_the_player_page_needs_a_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_a_viewer_who_is_not_staff_can_log_in(client, django_user_model):
    django_user_model.objects.create_user(username="parent", password="secret-1")

    response = client.post("/login/", {"username": "parent", "password": "secret-1"})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_player_page_loads_hls_js_and_the_player(room, django_user_model):
    client = viewer_client(django_user_model, "parent")

    page = client.get("/").content.decode()

    assert "vendor/hls.min.js" in page
    assert "player.js" in page
    assert '"heartbeatSeconds": 30' in page


def _now():  # noqa: ANN202
    from django.utils import timezone

    return timezone.now()
