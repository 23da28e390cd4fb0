"""Who may fetch HLS files, and that no URL reaches a file outside HLS_ROOT."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.conf import settings

from channels_app.models import Channel
from tests.viewers_support import (
    fake_playlist,
    viewer_client,
    watch,
)
from transcoding import hls_auth, hls_files, viewer_api, viewers

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_viewers")]

FILES = ["index.m3u8", "seg_1000.ts"]


@pytest.fixture
def secret_beside_root() -> Path:
    """A file next to HLS_ROOT that no HLS URL may ever return."""
    secret = Path(settings.HLS_ROOT).parent / "secret.ts"
    secret.write_text("do not serve")
    return secret


def file_url(playlist_url: str, name: str) -> str:
    return playlist_url.replace("index.m3u8", name)


# --- tokens ------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_a_token_from_watch_opens_playlist_and_segments(
    room, django_user_model, client, name
):
    answer = watch(viewer_client(django_user_model, "parent"), room.pk)

    response = client.get(file_url(answer["playlist_url"], name))  # anonymous

    assert response.status_code == 200
    assert response["Content-Type"] == hls_files.content_type(name)
    assert b"".join(response.streaming_content)


def test_playlists_are_never_cached_and_segments_only_privately(
    room, django_user_model, client
):
    answer = watch(viewer_client(django_user_model, "parent"), room.pk)

    playlist = client.get(answer["playlist_url"])
    segment = client.get(file_url(answer["playlist_url"], "seg_1000.ts"))

    assert playlist["Content-Type"] == "application/vnd.apple.mpegurl"
    assert "no-cache" in playlist["Cache-Control"]
    assert segment["Content-Type"] == "video/mp2t"
    assert segment["Cache-Control"].startswith("private")


@pytest.mark.parametrize("name", FILES)
def test_anonymous_requests_without_a_token_are_refused(room, client, name):
    response = client.get(f"/hls/no-token/room_1/{name}")

    assert response.status_code == 403


@pytest.mark.parametrize("name", FILES)
def test_an_expired_token_is_refused(room, django_user_model, client, name):
    viewer = viewer_client(django_user_model, "parent")
    answer = watch(viewer, room.pk)
    too_old = dt.timedelta(seconds=settings.HLS_TOKEN_SECONDS + 1)
    with time_machine.travel(dt.datetime.now(dt.UTC) - too_old, tick=False):
        old_token = hls_auth.make_token("room_1", answer["session_id"])

    response = client.get(f"/hls/{old_token}/room_1/{name}")

    assert response.status_code == 403


@pytest.mark.parametrize("name", FILES)
def test_a_token_for_another_channel_is_refused(room, django_user_model, client, name):
    Channel.objects.create(id="room_2", name="Room 2", source_url="rtmp://h/live/2")
    fake_playlist("room_2")
    answer = watch(viewer_client(django_user_model, "parent"), room.pk)
    token = answer["playlist_url"].split("/")[2]

    response = client.get(f"/hls/{token}/room_2/{name}")

    assert response.status_code == 403


def test_a_token_dies_with_its_session(room, django_user_model, client):
    viewer = viewer_client(django_user_model, "parent")
    answer = watch(viewer, room.pk)
    viewer.post(answer["leave_url"])

    response = client.get(answer["playlist_url"])

    assert response.status_code == 403


def test_a_tampered_token_is_refused(room, django_user_model, client):
    answer = watch(viewer_client(django_user_model, "parent"), room.pk)
    token = answer["playlist_url"].split("/")[2]
    forged = "other-session" + token[token.index(":") :]

    response = client.get(f"/hls/{forged}/room_1/index.m3u8")

    assert response.status_code == 403


@pytest.mark.parametrize("name", FILES)
def test_a_logged_in_user_needs_no_token(room, django_user_model, name):
    viewer = viewer_client(django_user_model, "parent")

    response = viewer.get(f"/hls/-/room_1/{name}")

    assert response.status_code == 200


def test_a_logged_in_user_cannot_fetch_a_disabled_channel(room, django_user_model):
    Channel.objects.filter(pk=room.pk).update(enabled=False)
    viewer = viewer_client(django_user_model, "parent")

    assert viewer.get("/hls/-/room_1/index.m3u8").status_code == 403


# --- path tricks -----------------------------------------------------------------

TRICKS = [
    "/hls/-/../secret.ts",
    "/hls/-/%2e%2e/secret.ts",
    "/hls/-/%2E%2E/secret.ts",
    "/hls/-/room_1/..%2f..%2fsecret.ts",
    "/hls/-/room_1%2f..%2f../secret.ts",
    "/hls/-/..%5csecret.ts/index.m3u8",
    "/hls/-/room_1/..%5c..%5csecret.ts",
    "/hls/-/room_1%5c..%5c../secret.ts",
    "/hls/-/room_1/.%2e/.%2e/secret.ts",
    "/hls/-/%2froot/secret.ts",
    "/hls/-/room_1/seg_1000.ts%00.m3u8",
    "/hls/-/room_1/index.m3u8.tmp",
    "/hls/-/room_1/seg_-1.ts",
    "/hls/-/Room_1/index.m3u8",
    "/hls/-/.room_1/index.m3u8",
    "/hls/-/room_1/./index.m3u8",
]


@pytest.mark.parametrize("url", TRICKS)
def test_path_tricks_never_reach_the_disk(
    room, django_user_model, secret_beside_root, monkeypatch, url
):
    opened: list[str] = []
    monkeypatch.setattr(
        viewer_api, "FileResponse", lambda *args, **kw: opened.append(url)
    )
    viewer = viewer_client(django_user_model, "parent")

    response = viewer.get(url)

    assert response.status_code == 404
    assert opened == []
    assert b"do not serve" not in response.content


@pytest.mark.parametrize(
    ("channel_id", "name"),
    [
        ("..", "index.m3u8"),
        ("room_1/..", "index.m3u8"),
        ("room_1\\..", "index.m3u8"),
        ("room_1", "../../secret.ts"),
        ("room_1", "..\\secret.ts"),
        ("room_1", "/etc/passwd"),
        ("room_1\n", "index.m3u8"),
        ("room_1", "index.m3u8\n"),
        ("", "index.m3u8"),
    ],
)
def test_the_path_check_refuses_anything_but_plain_names(channel_id, name):
    with pytest.raises(hls_files.BadHlsPath):
        hls_files.hls_file(channel_id, name)


def test_a_good_name_resolves_inside_the_hls_root():
    path = hls_files.hls_file("room_1", "seg_123.ts")

    assert path == Path(settings.HLS_ROOT).resolve() / "room_1" / "seg_123.ts"


# --- sessions belong to their viewer ----------------------------------------------


def test_one_viewer_cannot_end_or_keep_alive_another_viewers_session(
    room, django_user_model
):
    alice = viewer_client(django_user_model, "alice")
    mallory = viewer_client(django_user_model, "mallory")
    answer = watch(alice, room.pk)

    leave = mallory.post(answer["leave_url"])
    heartbeat = mallory.post(answer["heartbeat_url"])

    assert leave.status_code == 403
    assert heartbeat.status_code == 403
    assert "someone else" in leave.json()["error"]
    assert viewers.find_session(answer["session_id"]) is not None
    assert alice.post(answer["leave_url"]).status_code == 200


def test_session_endpoints_need_a_csrf_token(room, django_user_model):
    alice = viewer_client(django_user_model, "alice")
    answer = watch(alice, room.pk)
    alice.handler.enforce_csrf_checks = True

    assert alice.post(answer["leave_url"]).status_code == 403
    assert viewers.find_session(answer["session_id"]) is not None


# --- production: nginx sends the file ------------------------------------------------


def test_with_x_accel_django_only_authorises(room, django_user_model, settings):
    settings.HLS_X_ACCEL_PREFIX = "/_hls/"
    viewer = viewer_client(django_user_model, "parent")
    answer = watch(viewer, room.pk)

    response = viewer.get(file_url(answer["playlist_url"], "seg_1000.ts"))

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/_hls/room_1/seg_1000.ts"
    assert response["Content-Type"] == "video/mp2t"
    assert response.content == b""
