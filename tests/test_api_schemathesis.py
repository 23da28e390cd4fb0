"""Schema-driven fuzzing: requests generated from the served OpenAPI schema.

Bounded (a few examples per operation, a deadline per example) so it runs in
the ordinary suite. Valid and invalid requests alike: no answer may be a 500.
No transcode worker runs here, so the one 5xx allowed is the documented 503
"host_unavailable" of the operations that declare it (a channel action, or the
host status with source=host).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from channels_app.api import views
from channels_app.models import Channel, PreloadConfig
from preload_site.wsgi import application
from tests.api_helpers import SOURCE, token_client

pytest_plugins = ["tests.api_fixtures"]

# Fetched from the running app, as a client would; serving it needs no database.
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
OPERATIONS = {
    operation.label: operation
    for operation in (result.ok() for result in SCHEMA.get_all_operations())
}
EXAMPLES_PER_OPERATION = 15


@pytest.fixture
def admin_header(admin_user: User, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    # No transcode worker runs here: ask it only briefly before falling back.
    monkeypatch.setattr(views, "HOST_ANSWER_TIMEOUT_SECONDS", 0.2)
    channel = Channel.objects.create(id="room_1", name="Room 1", source_url=SOURCE)
    PreloadConfig.objects.create(channel=channel, enabled=True)
    client = token_client(admin_user)
    return {"Authorization": client._credentials["HTTP_AUTHORIZATION"]}


def generated_cases(label: str) -> st.SearchStrategy[Any]:
    operation = OPERATIONS[label]
    return st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )


def test_the_schema_lists_every_endpoint():
    assert len(OPERATIONS) >= 15, sorted(OPERATIONS)


# The WSGI app closes its database connection after each request, as in
# production, so every request commits: no test transaction can wrap them.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_generated_request_gets_a_server_error(label, admin_header):
    @given(case=generated_cases(label))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=dt.timedelta(seconds=3),
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case: Any) -> None:
        response = case.call(headers=admin_header)
        if is_documented_host_outage(label, response):
            return
        case.validate_response(
            response, checks=[schemathesis.checks.not_a_server_error]
        )

    check()


def is_documented_host_outage(label: str, response: Any) -> bool:
    declared = OPERATIONS[label].definition.raw.get("responses", {})
    return (
        response.status_code == 503
        and "503" in declared
        and response.json()["code"] == "host_unavailable"
    )
