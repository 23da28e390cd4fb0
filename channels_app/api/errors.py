"""One JSON shape for every error the API answers.

    {"status": 400, "code": "invalid", "message": "...", "fields": {"end_time": [...]}}

`fields` maps a field name (dotted for list items, e.g. "weekdays.2") to its
messages and is empty when the error concerns the request as a whole.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import DatabaseError, DataError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from transcoding.dispatch import HostUnavailable

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
SERVER_ERROR_MESSAGE = "The server failed; the error has been logged."


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state; reload and retry."


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "host_unavailable"
    default_detail = "The transcode host cannot be reached; retry in a moment."


def error_body(
    status_code: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    return {
        "status": status_code,
        "code": code,
        "message": message,
        "fields": fields or {},
    }


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception becomes the error shape."""
    api_exc = _as_api_exception(exc, context)
    headers = {}
    if getattr(api_exc, "auth_header", None):
        headers["WWW-Authenticate"] = api_exc.auth_header
    if getattr(api_exc, "wait", None):
        headers["Retry-After"] = str(int(api_exc.wait))

    set_rollback()
    body = _body_for(api_exc)
    return Response(body, status=api_exc.status_code, headers=headers)


def _as_api_exception(
    exc: Exception, context: dict[str, Any]
) -> exceptions.APIException:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError(f"The request was refused: {exc}")
    if isinstance(exc, HostUnavailable):
        return ServiceUnavailable(f"The transcode host cannot be reached: {exc}")

    # Validation runs before every write, so these mean a concurrent change
    # won a race (a duplicate id) or the database itself is unwell.
    if isinstance(exc, IntegrityError):
        return Conflict()
    if isinstance(exc, DataError):
        return exceptions.ParseError("A value is not acceptable to the database.")
    if isinstance(exc, DatabaseError):
        logger.exception("Database error in %s", _view_name(context))
        return ServiceUnavailable("The database is unavailable; retry in a moment.")

    # A bug: still answered in the error shape, and logged with its traceback.
    logger.exception("Unhandled error in %s", _view_name(context))
    return exceptions.APIException(SERVER_ERROR_MESSAGE, code="server_error")


def _view_name(context: dict[str, Any]) -> str:
    view = context.get("view")
    return type(view).__name__ if view is not None else "an API view"


def _body_for(exc: exceptions.APIException) -> dict[str, Any]:
    if not isinstance(exc, exceptions.ValidationError):
        code = getattr(exc.detail, "code", None) or exc.default_code
        return error_body(exc.status_code, str(code), str(exc.detail))

    fields: dict[str, list[str]] = {}
    general: list[str] = []
    for path, message in _flatten(exc.detail, ""):
        if path in ("", api_settings.NON_FIELD_ERRORS_KEY):
            general.append(message)
        else:
            fields.setdefault(path, []).append(message)

    if general:
        message = " ".join(general)
    else:
        message = "Invalid fields: " + ", ".join(sorted(fields)) + "."
    return error_body(exc.status_code, "invalid", message, fields)


def _flatten(detail: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """(dotted path, message) pairs from DRF's nested dicts and lists of errors."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if not prefix:
                name = str(key)
            elif key == api_settings.NON_FIELD_ERRORS_KEY:
                name = prefix
            else:
                name = f"{prefix}.{key}"
            yield from _flatten(value, name)
    elif isinstance(detail, list):
        for item in detail:
            yield from _flatten(item, prefix)
    else:
        yield prefix, str(detail)


@csrf_exempt
def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """The last /api/ route: an unknown path answers in the error shape.

    Being a route rather than only handler404, it answers JSON under DEBUG too,
    and it replaces CommonMiddleware's slash redirect, which would turn a POST
    into a GET (or, under DEBUG, into an error).
    """
    message = f"No API endpoint at {request.path}."
    if _is_endpoint(request.path + "/"):
        message += f" Did you mean {request.path}/ (with a trailing slash)?"
    body = error_body(status.HTTP_404_NOT_FOUND, "not_found", message)
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)


def _is_endpoint(path: str) -> bool:
    try:
        return resolve(path).func is not api_not_found
    except Resolver404:
        return False


def django_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's handler404: JSON under /api/, the usual page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def django_server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler500: JSON under /api/, the usual page elsewhere."""
    if not request.path.startswith(API_PREFIX):
        return defaults.server_error(request)
    code = status.HTTP_500_INTERNAL_SERVER_ERROR
    body = error_body(code, "server_error", SERVER_ERROR_MESSAGE)
    return JsonResponse(body, status=code)
