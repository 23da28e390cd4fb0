"""Reading and changing preload windows through the API, and their beat rows."""

from __future__ import annotations

import datetime as dt

from channels_app.models import Channel, PreloadConfig
from tests.api_helpers import SOURCE, assert_error, preload_tasks, snapshot

pytest_plugins = ["tests.api_fixtures"]

URL = "/api/preload-configs/room_1/"


def test_a_channel_never_configured_shows_the_defaults(admin, channel):
    response = admin.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "channel": "room_1",
        "enabled": False,
        "start_time": "07:00",
        "end_time": "17:30",
        "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "configured": False,
        "updated_at": None,
        "updated_by": None,
    }
    assert not PreloadConfig.objects.exists()


def test_put_stores_the_window_and_writes_its_two_beat_rows(admin, channel):
    body = {
        "enabled": True,
        "start_time": "07:40",
        "end_time": "17:20",
        "weekdays": ["mon", "tue", "wed", "thu", "fri"],
    }

    response = admin.put(URL, body, format="json")

    assert response.status_code == 200, response.content
    assert response.json() | body == response.json()
    assert response.json()["configured"] is True
    assert response.json()["updated_by"] == "ada"
    config = PreloadConfig.objects.get(pk="room_1")
    assert (config.start_time, config.end_time) == (dt.time(7, 40), dt.time(17, 20))
    assert config.updated_by.username == "ada"
    assert preload_tasks("room_1") == {
        "start": ("40", "7", "1,2,3,4,5"),
        "stop": ("20", "17", "1,2,3,4,5"),
    }


def test_patch_changes_only_what_it_sends(admin, configured):
    response = admin.patch(URL, {"end_time": "01:00"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["start_time"] == "07:40"
    assert response.json()["weekdays"] == ["mon", "tue", "wed", "thu", "fri"]
    # Crossing midnight: the stop fires the morning after each start day.
    assert preload_tasks("room_1") == {
        "start": ("40", "7", "1,2,3,4,5"),
        "stop": ("0", "1", "2,3,4,5,6"),
    }


def test_turning_a_window_off_removes_its_beat_rows(admin, configured):
    response = admin.patch(URL, {"enabled": False}, format="json")

    assert response.status_code == 200
    assert preload_tasks("room_1") == {}


def test_an_empty_patch_is_a_harmless_no_op(admin, configured):
    before = snapshot()

    response = admin.patch(URL, {}, format="json")

    assert response.status_code == 200
    assert snapshot()["tasks"] == before["tasks"]


def test_patch_to_a_start_equal_to_the_stored_end_names_start_time(admin, configured):
    before = snapshot()

    response = admin.patch(URL, {"start_time": "17:20"}, format="json")

    body = assert_error(response, 400, "start_time")
    assert "end_time equals start_time" in body["fields"]["start_time"][0]
    assert snapshot() == before


def test_the_list_holds_every_channel_with_defaults_for_the_unconfigured(
    admin, configured
):
    Channel.objects.create(id="room_2", name="Room 2", source_url=SOURCE)

    response = admin.get("/api/preload-configs/")

    assert response.status_code == 200
    assert response.json()["count"] == 2
    rows = {row["channel"]: row for row in response.json()["results"]}
    assert rows["room_1"]["configured"] is True
    assert rows["room_2"]["configured"] is False


def test_the_list_filters_on_the_switch(admin, configured):
    Channel.objects.create(id="room_2", name="Room 2", source_url=SOURCE)

    on = admin.get("/api/preload-configs/?enabled=true").json()["results"]
    off = admin.get("/api/preload-configs/?enabled=false").json()["results"]

    assert [row["channel"] for row in on] == ["room_1"]
    assert [row["channel"] for row in off] == ["room_2"]


def test_disabling_the_channel_removes_the_schedule_but_keeps_the_window(
    admin, configured
):
    response = admin.patch("/api/channels/room_1/", {"enabled": False}, format="json")

    assert response.status_code == 200
    assert response.json()["preload"]["enabled"] is True
    assert preload_tasks("room_1") == {}
