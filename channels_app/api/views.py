"""Endpoints of the administrators' API. Every one is for staff users only."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import OperationalError, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.models import CHANNEL_ID_PATTERN, Channel, PreloadConfig, preload_zone
from channels_app.schedule_sync import START_TASK, STOP_TASK, reload_schedule
from transcoding import dispatch
from transcoding.models import StreamProcess
from transcoding.status import channel_overview, process_state
from transcoding.tasks import host_status

from .errors import Conflict, ServiceUnavailable
from .filters import ChannelFilter, PreloadConfigFilter
from .serializers import (
    ChannelSerializer,
    ChannelStateSerializer,
    ChannelUpdateSerializer,
    HostStatusSerializer,
    PreloadConfigSerializer,
    ScheduleReloadSerializer,
    SystemStatusSerializer,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The channel id pattern without its anchors: an id the model would refuse
# never reaches the database, it is simply an unknown path (404).
CHANNEL_ID_REGEX = CHANNEL_ID_PATTERN.removeprefix("^").removesuffix(r"\Z")
# Long enough for a worker that is busy with one short task, short enough that
# a page polling the status does not hang when the host is down.
HOST_ANSWER_TIMEOUT_SECONDS = 2.0
DEADLOCK_RETRIES = 3
POSTGRES_DEADLOCK = "40P01"


class StrictJSONParser(JSONParser):
    """JSON only; a body nested too deeply is a 400, not a crash."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None):  # noqa: ANN201
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(
                "JSON parse error - nested too deeply."
            ) from exc


class ApiMixin:
    """JSON bodies only, and a body without a Content-Type is refused.

    DRF would otherwise treat such a body as empty, so a PATCH with a
    forgotten header would answer 200 and change nothing.
    """

    parser_classes = [StrictJSONParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if _has_body(request) and not request.content_type:
            raise exceptions.UnsupportedMediaType(
                "", detail="Send the body as JSON with Content-Type: application/json."
            )


def _has_body(request: Request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return length > 0 or "HTTP_TRANSFER_ENCODING" in request.META


def refuse_body(request: Request) -> None:
    """For actions that take no body: anything sent is a mistake worth naming."""
    if request.data:
        raise exceptions.ValidationError("This endpoint takes no request body.")


def retry_on_deadlock(work: Callable[[], T]) -> T:
    """Run a transaction again when PostgreSQL chose it as a deadlock's victim.

    Only a window being created by two requests at once can deadlock (each
    waits for a row the other locked); the retry finds the row and queues.
    """
    for attempt in range(1, DEADLOCK_RETRIES + 1):
        try:
            return work()
        except OperationalError as exc:
            sqlstate = getattr(exc.__cause__, "sqlstate", None)
            if sqlstate != POSTGRES_DEADLOCK or attempt == DEADLOCK_RETRIES:
                raise
            logger.info("Deadlock on a preload config write; retry %d", attempt)
    raise AssertionError("unreachable")


class Pagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


# --- Preload configs ---------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Every channel's preload window"),
    retrieve=extend_schema(summary="One channel's preload window"),
    update=extend_schema(summary="Replace one channel's preload window"),
    partial_update=extend_schema(summary="Change part of one channel's window"),
)
class PreloadConfigViewSet(
    ApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Preload windows, one per channel; a channel never configured shows the
    defaults (off, 07:00-17:30, every day) with `configured: false`. Saving a
    window rewrites the channel's beat schedule in the same transaction."""

    queryset = Channel.objects.select_related("preload", "preload__updated_by")
    serializer_class = PreloadConfigSerializer
    filterset_class = PreloadConfigFilter
    pagination_class = Pagination
    lookup_url_kwarg = "channel_id"
    lookup_value_regex = CHANNEL_ID_REGEX

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        channels = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        configs = [channel.preload_config() for channel in channels]
        return self.get_paginated_response(self.get_serializer(configs, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        config = self.get_object().preload_config()
        return Response(self.get_serializer(config).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        config = retry_on_deadlock(lambda: self._save_config(request, partial))
        return Response(self.get_serializer(config).data)

    def _save_config(self, request: Request, partial: bool) -> PreloadConfig:
        """Validate against the newest row and save it, all under its locks."""
        channel_id = self.kwargs[self.lookup_url_kwarg]
        with transaction.atomic():
            # Lock order: the config row, then the channel row, the same order
            # as an admin save (UPDATE, then the schedule sync's channel lock).
            # A PATCH thus merges into the latest committed window.
            stored = (
                PreloadConfig.objects.select_for_update()
                .filter(channel_id=channel_id)
                .first()
            )
            channel = get_object_or_404(
                Channel.objects.select_for_update(), pk=channel_id
            )
            self.check_object_permissions(request, channel)
            if stored is None:
                # Re-read: another request may have created it while we waited.
                stored = PreloadConfig.objects.filter(channel=channel).first()
            config = stored or PreloadConfig(channel=channel)

            serializer = self.get_serializer(config, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            return serializer.save(updated_by=request.user)


# --- Channels ----------------------------------------------------------------


CHANNEL_ACTION_RESPONSES = {
    202: ChannelStateSerializer,
    409: OpenApiResponse(description="The channel is disabled."),
    503: OpenApiResponse(description="The broker or transcode host is down."),
}


@extend_schema_view(
    list=extend_schema(summary="List channels"),
    create=extend_schema(summary="Create a channel"),
    retrieve=extend_schema(summary="Read a channel"),
    update=extend_schema(summary="Replace a channel's name, source and switch"),
    partial_update=extend_schema(summary="Change part of a channel"),
    destroy=extend_schema(summary="Delete a channel and its schedule"),
)
class ChannelViewSet(ApiMixin, viewsets.ModelViewSet):
    """Camera channels. Start, stop and restart queue the work on the transcode
    host and answer 202 with the channel's state as it is now."""

    queryset = Channel.objects.select_related("preload", "preload__updated_by")
    filterset_class = ChannelFilter
    pagination_class = Pagination
    lookup_value_regex = CHANNEL_ID_REGEX

    def get_serializer_class(self) -> type[ChannelSerializer]:
        if self.action in ("update", "partial_update"):
            return ChannelUpdateSerializer
        return ChannelSerializer

    def get_queryset(self) -> Any:
        if self.action in ("update", "partial_update", "destroy"):
            # Writers lock the channel row, like the schedule sync does.
            return Channel.objects.select_for_update()
        return super().get_queryset()

    @transaction.atomic
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @transaction.atomic
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().update(request, *args, **kwargs)

    @transaction.atomic
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().destroy(request, *args, **kwargs)

    @extend_schema(summary="Start preloading now", request=None)
    @extend_schema(responses=CHANNEL_ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str) -> Response:
        return self._queue(request, "start_channel")

    @extend_schema(summary="Stop the channel's FFmpeg", request=None)
    @extend_schema(responses=CHANNEL_ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str) -> Response:
        who = request.user.get_username()
        return self._queue(request, "stop_channel", reason=f"stopped by {who} (API)")

    @extend_schema(summary="Restart the channel's FFmpeg", request=None)
    @extend_schema(responses=CHANNEL_ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def restart(self, request: Request, pk: str) -> Response:
        return self._queue(request, "restart_channel")

    def _queue(self, request: Request, task: str, **task_kwargs: Any) -> Response:
        refuse_body(request)
        channel = self.get_object()
        if task != "stop_channel" and not channel.enabled:
            raise Conflict(
                f"Channel {channel.pk} is disabled; enable it first "
                '(PATCH {"enabled": true}).'
            )

        result = dispatch.send(task, channel_id=channel.pk, **task_kwargs)
        record = StreamProcess.objects.filter(channel_id=channel.pk).first()
        state = {
            "channel": channel,
            "process": process_state(channel.pk, record),
            "queued": task,
            "task_id": result.id,
        }
        body = ChannelStateSerializer(state, context=self.get_serializer_context())
        return Response(body.data, status=status.HTTP_202_ACCEPTED)


# --- Status and schedule -------------------------------------------------------


class SystemStatusView(ApiMixin, APIView):
    @extend_schema(summary="Enabled channels, their windows and what runs now")
    @extend_schema(responses=SystemStatusSerializer)
    def get(self, request: Request) -> Response:
        """Every enabled channel with its window, whether the window is open,
        the next start and stop in local time, and its FFmpeg process as seen
        from this web process."""
        now = timezone.now()
        channels = Channel.objects.filter(enabled=True).select_related("preload")
        records = StreamProcess.objects.in_bulk(field_name="channel_id")
        overviews = [channel_overview(channel, now, records) for channel in channels]

        body = {
            "time_zone": preload_zone().key,
            "now": now.astimezone(preload_zone()),
            "channels_total": Channel.objects.count(),
            "channels_enabled": len(overviews),
            "preload_enabled": sum(item["preload_enabled"] for item in overviews),
            "window_open": sum(item["window_open"] for item in overviews),
            "running": sum(item["process"]["running"] for item in overviews),
            "channels": overviews,
        }
        return Response(SystemStatusSerializer(body).data)


HOST_SOURCE_PARAMETER = OpenApiParameter(
    "source",
    enum=["auto", "host", "local"],
    default="auto",
    description=(
        "auto: ask the transcode worker, and measure locally if it does not "
        f"answer within {HOST_ANSWER_TIMEOUT_SECONDS:g} s; host: ask the worker "
        "or answer 503; local: measure from this web process only."
    ),
)


class HostStatusView(ApiMixin, APIView):
    @extend_schema(
        summary="Scheduled tasks and running FFmpeg processes of the host",
        parameters=[HOST_SOURCE_PARAMETER],
        responses={200: HostStatusSerializer, 503: OpenApiResponse()},
    )
    def get(self, request: Request) -> Response:
        """The start and stop PeriodicTasks of every channel, and each FFmpeg
        process with pid, uptime, CPU, memory, restarts and its log's tail."""
        source = request.query_params.get("source", "auto")
        if source not in ("auto", "host", "local"):
            raise exceptions.ValidationError(
                {"source": [f"{source!r} is not one of auto, host, local."]}
            )

        measured_by, host_error, answer = _ask_host(source)
        body = {
            "host": answer.get("host", ""),
            "source": measured_by,
            "host_error": host_error,
            "schedules": _scheduled_tasks(),
            "processes": answer.get("processes", []),
        }
        return Response(HostStatusSerializer(body).data)


def _ask_host(source: str) -> tuple[str, str | None, dict[str, Any]]:
    if source == "local":
        return "local", "not asked (source=local)", host_status()

    try:
        answer = dispatch.call("host_status", timeout=HOST_ANSWER_TIMEOUT_SECONDS)
    # Broker down, result backend down, no worker, or the task failed there:
    # each is told in host_error, and the status is measured here instead.
    except Exception as exc:
        logger.warning("Transcode host did not answer host_status: %s", exc)
        if source == "host":
            message = f"The transcode host did not answer: {exc}"
            raise ServiceUnavailable(message) from exc
        return "local", str(exc) or type(exc).__name__, host_status()
    return "host", None, answer


def _scheduled_tasks() -> list[dict[str, Any]]:
    kinds = {START_TASK: "start", STOP_TASK: "stop"}
    tasks = PeriodicTask.objects.filter(task__in=kinds).select_related("crontab")
    by_channel: dict[str, dict[str, Any]] = {}
    for task in tasks.order_by("name"):
        channel_id = _channel_id_of(task)
        entry = by_channel.setdefault(
            channel_id, {"channel_id": channel_id, "start": None, "stop": None}
        )
        entry[kinds[task.task]] = _describe_task(task)
    return [by_channel[key] for key in sorted(by_channel)]


def _channel_id_of(task: PeriodicTask) -> str:
    try:
        return str(json.loads(task.kwargs or "{}").get("channel_id", ""))
    except (ValueError, AttributeError):
        return ""


def _describe_task(task: PeriodicTask) -> dict[str, Any]:
    crontab = task.crontab
    schedule = ""
    if crontab is not None:
        schedule = " ".join(
            [crontab.minute, crontab.hour, crontab.day_of_month]
            + [crontab.month_of_year, crontab.day_of_week]
        )
    return {
        "name": task.name,
        "crontab": schedule,
        "timezone": str(crontab.timezone) if crontab else "",
        "enabled": task.enabled,
        "last_run_at": task.last_run_at,
        "total_run_count": task.total_run_count,
        "description": task.description,
    }


class ScheduleReloadView(ApiMixin, APIView):
    @extend_schema(
        summary="Rebuild every preload task and make the hosts converge",
        request=None,
        responses=ScheduleReloadSerializer,
    )
    def post(self, request: Request) -> Response:
        """Resync every channel's start and stop tasks with its window, delete
        tasks whose channel is gone, and queue a converge on the host."""
        refuse_body(request)
        report, queued = reload_schedule()
        body = {**report.as_dict(), "converge_queued": queued}
        return Response(ScheduleReloadSerializer(body).data)
