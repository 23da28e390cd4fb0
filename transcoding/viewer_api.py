"""What viewers call: the player page, watch/heartbeat/leave, and the HLS files.

Any logged-in user may watch an enabled channel. The JSON endpoints answer
errors as JSON with a status that says what went wrong, never a 500 or a login
redirect. Heartbeats and HLS requests with a token touch Redis only, so they
stay cheap with thousands of viewers.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from channels_app.models import Channel

from . import dispatch, hls_auth, hls_files, viewers
from .models import ProcessStatus, StreamProcess
from .tasks import OnDemandStartError

logger = logging.getLogger(__name__)

# The transcode host has ON_DEMAND_START_TIMEOUT_SECONDS to answer; this is
# the extra time allowed for the task to be queued and its answer to return.
DISPATCH_MARGIN_SECONDS = 5

View = Callable[..., HttpResponse]


class ApiError(Exception):
    def __init__(self, status: int, message: str, detail: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail

    def response(self) -> JsonResponse:
        body = {"error": self.message}
        if self.detail:
            body["detail"] = self.detail
        return JsonResponse(body, status=self.status)


def viewer_endpoint(*methods: str) -> Callable[[View], View]:
    """Allow only these methods and logged-in users; turn ApiError into JSON."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise ApiError(405, f"use {' or '.join(methods)}")
                if not request.user.is_authenticated:
                    raise ApiError(401, "log in to watch channels")
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return exc.response()

        return wrapper

    return decorate


# --- player page and channel list -------------------------------------------


@login_required(login_url="viewer-login")
def player(request: HttpRequest) -> HttpResponse:
    config = {
        "channelsUrl": reverse("viewer-channels"),
        "heartbeatSeconds": settings.VIEWER_HEARTBEAT_SECONDS,
    }
    return render(request, "player.html", {"player_config": config})


@viewer_endpoint("GET")
def channel_list(request: HttpRequest) -> JsonResponse:
    """Enabled channels with their live state: preloaded, live or off."""
    running = {
        record.channel_id: record
        for record in StreamProcess.objects.filter(status=ProcessStatus.RUNNING)
    }
    channels = []
    for channel in Channel.objects.filter(enabled=True).only("id", "name"):
        record = running.get(channel.pk)
        channels.append(
            {
                "id": channel.pk,
                "name": channel.name,
                "state": _live_state(record),
                "watch_url": reverse("viewer-watch", args=[channel.pk]),
            }
        )
    return JsonResponse({"channels": channels})


def _live_state(record: StreamProcess | None) -> str:
    if record is None:
        return "off"
    return "preloaded" if record.preload or record.manual else "live"


# --- watch, heartbeat, leave --------------------------------------------------


@viewer_endpoint("POST")
def watch(request: HttpRequest, channel_id: str) -> JsonResponse:
    """Open a viewer session; start the channel on demand if it is not playable.

    The first heartbeat is recorded before the start, so idle cleanup cannot
    stop the channel while its first viewer waits for it.
    """
    if not Channel.objects.filter(pk=channel_id, enabled=True).exists():
        raise ApiError(404, f"no channel {channel_id!r} to watch")
    session = viewers.open_session(channel_id, request.user.pk, timezone.now())

    if hls_files.playable_segments(channel_id) < 1:
        try:
            dispatch.call(
                "watch_channel",
                timeout=settings.ON_DEMAND_START_TIMEOUT_SECONDS
                + DISPATCH_MARGIN_SECONDS,
                channel_id=channel_id,
            )
        except (OnDemandStartError, dispatch.HostUnavailable) as exc:
            viewers.close_session(session)
            logger.warning("Watching %s failed: %s", channel_id, exc)
            raise ApiError(
                503, f"channel {channel_id} is not available now", str(exc)
            ) from exc
        # The start took seconds: count them as watched, so the viewer is not
        # idle before their player had a chance to send a heartbeat.
        viewers.touch_session(session, timezone.now())

    return JsonResponse(_session_answer(session), status=201)


@viewer_endpoint("POST")
def heartbeat(request: HttpRequest, channel_id: str, session_id: str) -> JsonResponse:
    """Keep the session live; the answer carries a fresh playlist token."""
    session = _own_session(request, channel_id, session_id)
    viewers.touch_session(session, timezone.now())
    return JsonResponse(_session_answer(session))


@viewer_endpoint("POST")
def leave(request: HttpRequest, channel_id: str, session_id: str) -> JsonResponse:
    """End the session now; idle cleanup stops the channel if it was the last."""
    session = _own_session(request, channel_id, session_id)
    viewers.close_session(session)
    return JsonResponse({"left": True, "session_id": session_id})


def _own_session(
    request: HttpRequest, channel_id: str, session_id: str
) -> viewers.ViewerSession:
    session = viewers.find_session(session_id)
    if session is None or session.channel_id != channel_id:
        raise ApiError(
            404,
            f"no live viewer session {session_id!r} on channel {channel_id!r}; "
            "it ended or went idle: start watching again",
        )
    if session.user_id != request.user.pk:
        raise ApiError(403, "this viewer session belongs to someone else")
    return session


def _session_answer(session: viewers.ViewerSession) -> dict[str, Any]:
    args = [session.channel_id, session.session_id]
    return {
        "channel_id": session.channel_id,
        "session_id": session.session_id,
        "playlist_url": hls_auth.playlist_url(session.channel_id, session.session_id),
        "heartbeat_url": reverse("viewer-heartbeat", args=args),
        "leave_url": reverse("viewer-leave", args=args),
        "heartbeat_seconds": settings.VIEWER_HEARTBEAT_SECONDS,
        "token_seconds": settings.HLS_TOKEN_SECONDS,
    }


# --- HLS files ----------------------------------------------------------------


def hls_file(
    request: HttpRequest, token: str, channel_id: str, name: str
) -> HttpResponse:
    """A playlist or segment, for a valid token or a logged-in user.

    Names are checked before anything else, so a path trick is refused without
    touching the disk.
    """
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"error": "use GET"}, status=405)
    try:
        path = hls_files.hls_file(channel_id, name)
    except hls_files.BadHlsPath:
        return JsonResponse({"error": "no such HLS file"}, status=404)
    if not _may_fetch(request, token, channel_id):
        return JsonResponse(
            {"error": "not allowed: log in, or start watching for a fresh token"},
            status=403,
        )

    if settings.HLS_X_ACCEL_PREFIX:
        response = HttpResponse(content_type=hls_files.content_type(name))
        response["X-Accel-Redirect"] = (
            f"{settings.HLS_X_ACCEL_PREFIX}{channel_id}/{name}"
        )
    else:
        try:
            response = FileResponse(
                path.open("rb"), content_type=hls_files.content_type(name)
            )
        except FileNotFoundError:
            return JsonResponse({"error": "not being streamed now"}, status=404)
    _set_caching(response, name)
    return response


def _may_fetch(request: HttpRequest, token: str, channel_id: str) -> bool:
    # The token first: it needs Redis only, while the login check reads the
    # session and user rows.
    if hls_auth.token_is_valid(token, channel_id):
        return True
    return (
        request.user.is_authenticated
        and Channel.objects.filter(pk=channel_id, enabled=True).exists()
    )


def _set_caching(response: HttpResponse, name: str) -> None:
    if hls_files.content_type(name) == hls_files.PLAYLIST_TYPE:
        # Rewritten every segment: a cached copy would freeze the player.
        response["Cache-Control"] = "no-cache, no-store"
    else:
        # Never rewritten, but only for this viewer: no shared caches.
        response["Cache-Control"] = "private, max-age=60"
