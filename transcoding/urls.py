"""Viewer-facing URLs: watch, heartbeat, leave, HLS files and the player page."""

urlpatterns: list = []
