"""Viewer-facing URLs: watch, heartbeat, leave, HLS files and the player page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import viewer_api

_SESSION = "viewer/channels/<str:channel_id>/sessions/<str:session_id>"

urlpatterns = [
    path("", viewer_api.player, name="player"),
    # Parents are not staff, so they cannot use the admin's login page.
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="viewer_login.html",
            redirect_authenticated_user=True,
            next_page="player",
        ),
        name="viewer-login",
    ),
    path("viewer/channels/", viewer_api.channel_list, name="viewer-channels"),
    path(
        "viewer/channels/<str:channel_id>/watch/",
        viewer_api.watch,
        name="viewer-watch",
    ),
    path(f"{_SESSION}/heartbeat/", viewer_api.heartbeat, name="viewer-heartbeat"),
    path(f"{_SESSION}/leave/", viewer_api.leave, name="viewer-leave"),
    # The token is a path segment so that segment URLs, which players resolve
    # relative to the playlist's URL, carry it as well.
    path(
        "hls/<str:token>/<str:channel_id>/<str:name>",
        viewer_api.hls_file,
        name="hls-file",
    ),
]
