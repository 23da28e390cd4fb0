"""The player page in Debian's Chromium: a click plays, and playback survives
FFmpeg being killed under it.

Real worker, real FFmpeg, hls.js from static/vendor/ (scripts/lib.sh copies it
there from npm).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from django.conf import settings

from channels_app.models import Channel
from tests.support import CHROMIUM, CHROMIUM_ARGS, wait_until
from tests.viewers_support import clear_viewer_keys, viewer_client
from transcoding.models import ProcessStatus, StreamProcess

playwright_api = pytest.importorskip("playwright.sync_api")


pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server, django_user_model, monkeypatch) -> Iterator:  # noqa: ANN001
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # the test makes meanwhile are still plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    clear_viewer_keys()
    if not (settings.BASE_DIR / "static" / "vendor" / "hls.min.js").exists():
        pytest.fail("hls.js is missing: run scripts/lib.sh's install_player_assets")
    login = viewer_client(django_user_model, "parent").cookies["sessionid"].value
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        context = browser.new_context()
        context.add_cookies(
            [{"name": "sessionid", "value": login, "url": live_server.url}]
        )
        yield context.new_page()
        browser.close()


def video_time(page) -> float:  # noqa: ANN001
    return page.evaluate("() => document.getElementById('video').currentTime")


def test_a_click_plays_the_channel_and_playback_recovers_after_ffmpeg_dies(
    live_source, start_worker, live_server, page
):
    Channel.objects.create(id="room_1", name="Sunflower class", source_url=live_source)
    start_worker()
    page.goto(f"{live_server.url}/")
    button = page.locator('button[data-channel="room_1"]')
    button.wait_for()
    page.evaluate(
        """() => { window.__playing = new Promise((resolve) =>
             document.getElementById('video').addEventListener(
               'playing', resolve, { once: true })); }"""
    )

    button.click()
    page.evaluate("() => window.__playing.then(() => true)")

    assert "Watching Sunflower class" in page.text_content("#status")
    record = StreamProcess.objects.get(pk="room_1", status=ProcessStatus.RUNNING)

    # FFmpeg dies: the picture freezes, the player asks again, the worker
    # starts a new FFmpeg, and the video moves on from the new playlist.
    os.kill(record.pid, signal.SIGKILL)
    wait_until(
        lambda: (
            StreamProcess.objects.filter(pk="room_1")
            .exclude(pid=record.pid)
            .exclude(pid=None)
            .exists()
        ),
        timeout=30,
    )
    resumed_at = video_time(page)
    wait_until(lambda: video_time(page) > resumed_at + 2, timeout=20)
