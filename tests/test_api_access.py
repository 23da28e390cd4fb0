"""Who may call what: anonymous 401, non-staff 403, staff allowed, on every endpoint."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.api_helpers import SOURCE, assert_error, snapshot, token_client

pytest_plugins = ["tests.api_fixtures"]

WINDOW = {
    "enabled": True,
    "start_time": "08:00",
    "end_time": "16:00",
    "weekdays": ["mon", "tue"],
}
NEW_CHANNEL = {"id": "room_9", "name": "Room 9", "source_url": SOURCE}

# (method, path, JSON body, status for an administrator)
ENDPOINTS = [
    ("get", "/api/", None, 200),
    ("get", "/api/channels/", None, 200),
    ("post", "/api/channels/", NEW_CHANNEL, 201),
    ("get", "/api/channels/room_1/", None, 200),
    ("put", "/api/channels/room_1/", {"name": "R", "source_url": SOURCE}, 200),
    ("patch", "/api/channels/room_1/", {"name": "Renamed"}, 200),
    ("delete", "/api/channels/room_1/", None, 204),
    ("post", "/api/channels/room_1/start/", None, 202),
    ("post", "/api/channels/room_1/stop/", None, 202),
    ("post", "/api/channels/room_1/restart/", None, 202),
    ("get", "/api/preload-configs/", None, 200),
    ("get", "/api/preload-configs/room_1/", None, 200),
    ("put", "/api/preload-configs/room_1/", WINDOW, 200),
    ("patch", "/api/preload-configs/room_1/", {"start_time": "06:00"}, 200),
    ("get", "/api/status/", None, 200),
    ("get", "/api/status/host/?source=local", None, 200),
    ("post", "/api/schedule/reload/", None, 200),
]


def call(client: APIClient, method: str, path: str, body: dict | None):  # noqa: ANN201
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format="json")


@pytest.mark.parametrize(("method", "path", "body", "ok"), ENDPOINTS)
def test_anonymous_callers_get_401_with_a_token_challenge(
    configured, method, path, body, ok
):
    before = snapshot()

    response = call(APIClient(), method, path, body)

    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "body", "ok"), ENDPOINTS)
def test_signed_in_non_staff_users_get_403(
    configured, plain_user, method, path, body, ok
):
    before = snapshot()

    response = call(token_client(plain_user), method, path, body)

    body = assert_error(response, 403)
    assert body["code"] == "permission_denied"
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "body", "ok"), ENDPOINTS)
def test_administrators_are_served(
    configured, admin, empty_queue, method, path, body, ok
):
    response = call(admin, method, path, body)

    assert response.status_code == ok, response.content


def test_an_invalid_token_is_a_401(configured):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    body = assert_error(client.get("/api/preload-configs/room_1/"), 401)

    assert body["code"] == "authentication_failed"


def test_an_inactive_administrator_is_refused(configured, admin_user):
    client = token_client(admin_user)
    User.objects.filter(pk=admin_user.pk).update(is_active=False)

    assert_error(client.get("/api/status/"), 401)


def test_session_login_serves_the_browsable_api(configured, admin_user):
    client = APIClient()
    assert client.login(username="ada", password="pw-ada-123")

    response = client.get("/api/preload-configs/room_1/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert b"07:40" in response.content
    assert b"<html" in response.content


def test_a_session_write_without_csrf_token_is_refused(configured, admin_user):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="ada", password="pw-ada-123")
    before = snapshot()

    response = client.patch(
        "/api/preload-configs/room_1/", {"enabled": False}, format="json"
    )

    body = assert_error(response, 403)
    assert "CSRF" in body["message"]
    assert snapshot() == before


def test_the_schema_and_its_page_are_public(db):
    schema = APIClient().get("/api/schema/?format=json")
    docs = APIClient().get("/api/docs/")

    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/preload-configs/{channel_id}/" in paths
    assert "/api/status/host/" in paths
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_unknown_api_paths_answer_json_404_even_for_anonymous(db):
    body = assert_error(APIClient().post("/api/nothing-here/"), 404)

    assert "/api/nothing-here/" in body["message"]


def test_a_missing_trailing_slash_is_named(db):
    body = assert_error(APIClient().get("/api/status"), 404)

    assert "/api/status/" in body["message"]
