"""OpenAPI post-processing: the error shape and the strict-body rule, everywhere.

drf-spectacular documents what each view returns on success; the errors come
from one exception handler, so they are added here once for every operation.
"""

from __future__ import annotations

from typing import Any

from .serializers import UNKNOWN_FIELD_RULE

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "description": "The body of every error answer.",
    "required": ["status", "code", "message", "fields"],
    "properties": {
        "status": {"type": "integer", "example": 400},
        "code": {
            "type": "string",
            "example": "invalid",
            "description": "invalid, not_authenticated, permission_denied, "
            "not_found, method_not_allowed, parse_error, unsupported_media_type, "
            "conflict, host_unavailable...",
        },
        "message": {"type": "string", "description": "What to fix."},
        "fields": {
            "type": "object",
            "description": 'Messages per field; list items as "weekdays.2".',
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid request: see `fields` and `message`.",
    "401": "No or invalid credentials (send `Authorization: Token <key>`).",
    "403": "Authenticated, but not a staff user (or a missing CSRF token).",
    "404": "No such channel or path.",
    "415": "The body is not JSON.",
}


def add_errors_and_strict_bodies(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA

    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            _add_error_responses(path, operation)
            for name in _request_components(operation):
                _forbid_unknown_keys(schemas[name])
    return result


def _add_error_responses(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    has_body = "requestBody" in operation
    has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    needs_login = {} not in operation.get("security", [{}])

    wanted = {
        "400": has_body or has_query,
        "401": needs_login,
        "403": needs_login,
        "404": "{" in path,
        "415": has_body,
    }
    for code, applies in wanted.items():
        if applies:
            responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})

    for code, response in responses.items():
        if int(code) >= 400:
            response["content"] = {"application/json": {"schema": ERROR_REF}}


def _forbid_unknown_keys(schema: dict[str, Any]) -> None:
    schema["additionalProperties"] = False
    summary = schema.get("description", "")
    if UNKNOWN_FIELD_RULE not in summary:
        schema["description"] = f"{summary}\n\n{UNKNOWN_FIELD_RULE}".strip()


def _request_components(operation: dict[str, Any]) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    names = []
    for media in content.values():
        ref = media.get("schema", {}).get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            names.append(ref.rsplit("/", 1)[1])
    return names
