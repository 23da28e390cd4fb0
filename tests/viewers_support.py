"""Helpers shared by the viewer and HLS security tests."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client

from transcoding import viewers


def clear_viewer_keys() -> None:
    """Forget every viewer and session: channel ids repeat between tests."""
    client = viewers._client()
    for key in client.scan_iter("preload:viewer*"):
        client.delete(key)


def fake_playlist(channel_id: str, segments: int = 3) -> Path:
    """A fresh playlist and its segments, as FFmpeg would have written them."""
    folder = Path(settings.HLS_ROOT) / channel_id
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:1"]
    lines.append("#EXT-X-MEDIA-SEQUENCE:1000")
    for number in range(1000, 1000 + segments):
        (folder / f"seg_{number}.ts").write_bytes(b"G" + bytes(187))
        lines += ["#EXTINF:1.000000,", f"seg_{number}.ts"]
    playlist = folder / "index.m3u8"
    playlist.write_text("\n".join(lines) + "\n")
    return playlist


def viewer_client(django_user_model: Any, username: str) -> Client:
    user = django_user_model.objects.create_user(username=username, password="x")
    client = Client()
    client.force_login(user)
    return client


def watch(client: Client, channel_id: str) -> dict[str, Any]:
    response = client.post(f"/viewer/channels/{channel_id}/watch/")
    assert response.status_code == 201, response.content
    return response.json()


def keep_watching(client: Client, answer: dict[str, Any], seconds: float) -> None:
    """Send heartbeats every half second for this long, as a player would."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = client.post(answer["heartbeat_url"])
        assert response.status_code == 200, response.content
        time.sleep(0.5)
