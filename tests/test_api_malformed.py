"""Malformed requests: each is refused in the error shape and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api_helpers import SOURCE, assert_error, queued_task_names, snapshot

pytest_plugins = ["tests.api_fixtures"]

CONFIG = "/api/preload-configs/room_1/"
FULL = {
    "enabled": True,
    "start_time": "08:00",
    "end_time": "16:00",
    "weekdays": ["mon"],
}
JSON = "application/json"


class Raw(bytes):
    """A body sent as these exact bytes rather than encoded as JSON."""


def full(**changes: Any) -> dict[str, Any]:
    return {**FULL, **changes}


# (id, method, path, body, content type, status, field named in the error)
CASES = [
    # Times
    (
        "time-one-digit-hour",
        "patch",
        CONFIG,
        {"start_time": "7:00"},
        JSON,
        400,
        "start_time",
    ),
    (
        "time-with-seconds",
        "patch",
        CONFIG,
        {"start_time": "07:00:00"},
        JSON,
        400,
        "start_time",
    ),
    ("time-24h", "patch", CONFIG, {"end_time": "24:00"}, JSON, 400, "end_time"),
    ("time-minute-60", "patch", CONFIG, {"end_time": "23:60"}, JSON, 400, "end_time"),
    ("time-as-number", "patch", CONFIG, {"start_time": 700}, JSON, 400, "start_time"),
    ("time-null", "patch", CONFIG, {"start_time": None}, JSON, 400, "start_time"),
    (
        "time-as-list",
        "patch",
        CONFIG,
        {"start_time": ["07:00"]},
        JSON,
        400,
        "start_time",
    ),
    (
        "time-other-digits",
        "patch",
        CONFIG,
        {"start_time": "٠٧:٠٠"},
        JSON,
        400,
        "start_time",
    ),
    (
        "time-trailing-newline",
        "patch",
        CONFIG,
        {"start_time": "07:00\n"},
        JSON,
        400,
        "start_time",
    ),
    ("start-equals-end", "put", CONFIG, full(end_time="08:00"), JSON, 400, "end_time"),
    # Booleans
    ("enabled-string", "patch", CONFIG, {"enabled": "true"}, JSON, 400, "enabled"),
    ("enabled-number", "patch", CONFIG, {"enabled": 1}, JSON, 400, "enabled"),
    ("enabled-null", "patch", CONFIG, {"enabled": None}, JSON, 400, "enabled"),
    # Weekdays
    ("weekdays-empty", "patch", CONFIG, {"weekdays": []}, JSON, 400, "weekdays"),
    (
        "weekdays-long-name",
        "patch",
        CONFIG,
        {"weekdays": ["monday"]},
        JSON,
        400,
        "weekdays",
    ),
    (
        "weekdays-repeated",
        "patch",
        CONFIG,
        {"weekdays": ["mon", "mon"]},
        JSON,
        400,
        "weekdays",
    ),
    ("weekdays-string", "patch", CONFIG, {"weekdays": "mon"}, JSON, 400, "weekdays"),
    ("weekdays-numbers", "patch", CONFIG, {"weekdays": [1]}, JSON, 400, "weekdays"),
    # Shape of the body
    ("unknown-field", "patch", CONFIG, {"enable": True}, JSON, 400, "enable"),
    ("read-only-field", "patch", CONFIG, {"configured": True}, JSON, 400, "configured"),
    ("unknown-beside-valid", "put", CONFIG, full(colour="red"), JSON, 400, "colour"),
    ("put-missing-fields", "put", CONFIG, {"enabled": True}, JSON, 400, "start_time"),
    ("body-is-a-list", "patch", CONFIG, [FULL], JSON, 400, None),
    ("body-is-a-string", "put", CONFIG, "08:00", JSON, 400, None),
    ("body-is-null", "put", CONFIG, Raw(b"null"), JSON, 400, None),
    ("broken-json", "patch", CONFIG, Raw(b'{"enabled": tru'), JSON, 400, None),
    ("nan-in-json", "patch", CONFIG, Raw(b'{"enabled": NaN}'), JSON, 400, None),
    ("json-nested-too-deep", "patch", CONFIG, Raw(b"[" * 100_000), JSON, 400, None),
    ("not-utf8", "patch", CONFIG, Raw(b'{"start_time": "\xff"}'), JSON, 400, None),
    # Content types
    (
        "text-plain",
        "patch",
        CONFIG,
        Raw(b'{"enabled": false}'),
        "text/plain",
        415,
        None,
    ),
    (
        "form-encoded",
        "patch",
        CONFIG,
        Raw(b"enabled=false"),
        "application/x-www-form-urlencoded",
        415,
        None,
    ),
    ("no-content-type", "patch", CONFIG, Raw(b'{"enabled": false}'), "", 415, None),
    # Paths and methods
    ("unknown-channel", "patch", "/api/preload-configs/nope/", FULL, JSON, 404, None),
    ("id-upper-case", "put", "/api/preload-configs/Room_1/", FULL, JSON, 404, None),
    (
        "id-too-long",
        "get",
        "/api/preload-configs/" + "a" * 65 + "/",
        None,
        JSON,
        404,
        None,
    ),
    ("id-nul-byte", "patch", "/api/preload-configs/%00/", FULL, JSON, 404, None),
    ("id-dot-dot", "get", "/api/channels/../status/", None, JSON, 404, None),
    ("delete-a-config", "delete", CONFIG, None, JSON, 405, None),
    ("post-to-config-list", "post", "/api/preload-configs/", FULL, JSON, 405, None),
    # Channels
    (
        "channel-id-with-space",
        "post",
        "/api/channels/",
        {"id": "room 2", "name": "R", "source_url": SOURCE},
        JSON,
        400,
        "id",
    ),
    (
        "channel-duplicate-id",
        "post",
        "/api/channels/",
        {"id": "room_1", "name": "R", "source_url": SOURCE},
        JSON,
        400,
        "id",
    ),
    (
        "channel-file-url",
        "post",
        "/api/channels/",
        {"name": "R", "source_url": "file:///etc/passwd"},
        JSON,
        400,
        "source_url",
    ),
    (
        "channel-url-with-space",
        "post",
        "/api/channels/",
        {"name": "R", "source_url": SOURCE + " x"},
        JSON,
        400,
        "source_url",
    ),
    (
        "channel-url-no-host",
        "post",
        "/api/channels/",
        {"name": "R", "source_url": "rtmp:///live"},
        JSON,
        400,
        "source_url",
    ),
    (
        "channel-empty-name",
        "post",
        "/api/channels/",
        {"name": "", "source_url": SOURCE},
        JSON,
        400,
        "name",
    ),
    (
        "channel-name-too-long",
        "post",
        "/api/channels/",
        {"name": "n" * 201, "source_url": SOURCE},
        JSON,
        400,
        "name",
    ),
    (
        "channel-name-nul",
        "post",
        "/api/channels/",
        {"name": "a\x00b", "source_url": SOURCE},
        JSON,
        400,
        "name",
    ),
    (
        "channel-rename-id",
        "patch",
        "/api/channels/room_1/",
        {"id": "room_2"},
        JSON,
        400,
        "id",
    ),
    (
        "channel-enabled-string",
        "patch",
        "/api/channels/room_1/",
        {"enabled": "false"},
        JSON,
        400,
        "enabled",
    ),
    (
        "channel-nested-preload",
        "patch",
        "/api/channels/room_1/",
        {"preload": FULL},
        JSON,
        400,
        "preload",
    ),
    (
        "action-with-body",
        "post",
        "/api/channels/room_1/start/",
        {"now": True},
        JSON,
        400,
        None,
    ),
    (
        "action-unknown-channel",
        "post",
        "/api/channels/nope/stop/",
        None,
        JSON,
        404,
        None,
    ),
    ("action-get", "get", "/api/channels/room_1/start/", None, JSON, 405, None),
    (
        "reload-with-body",
        "post",
        "/api/schedule/reload/",
        {"all": True},
        JSON,
        400,
        None,
    ),
    # Query strings
    (
        "filter-not-boolean",
        "get",
        "/api/channels/?enabled=maybe",
        None,
        JSON,
        400,
        "enabled",
    ),
    ("page-out-of-range", "get", "/api/channels/?page=99", None, JSON, 404, None),
    ("page-not-a-number", "get", "/api/preload-configs/?page=x", None, JSON, 404, None),
    (
        "host-source-unknown",
        "get",
        "/api/status/host/?source=elsewhere",
        None,
        JSON,
        400,
        "source",
    ),
]


def send(client: Any, method: str, path: str, body: Any, content_type: str) -> Any:
    if body is None:
        return client.generic(method.upper(), path)
    data = body if isinstance(body, Raw) else json.dumps(body).encode()
    return client.generic(method.upper(), path, data=data, content_type=content_type)


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status", "field"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_malformed_request_is_refused_and_changes_nothing(
    admin, configured, empty_queue, method, path, body, content_type, status, field
):
    before = snapshot()

    response = send(admin, method, path, body, content_type)

    assert_error(response, status, field)
    assert snapshot() == before
    assert queued_task_names() == []


def test_several_errors_are_reported_together(admin, configured):
    body = {"enabled": "yes", "start_time": "7", "extra": 1}

    response = admin.patch(CONFIG, body, format="json")

    errors = assert_error(response, 400)["fields"]
    assert set(errors) == {"enabled", "start_time", "extra"}


def test_list_item_errors_name_their_position(admin, configured):
    response = admin.patch(CONFIG, {"weekdays": ["mon", "funday"]}, format="json")

    body = assert_error(response, 400, "weekdays")
    assert "funday" in body["fields"]["weekdays"][0]
