"""REST API for the administrators' frontend (mounted under /api/)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from .errors import api_not_found
from .views import (
    ChannelViewSet,
    HostStatusView,
    PreloadConfigViewSet,
    ScheduleReloadView,
    SystemStatusView,
)

router = DefaultRouter()
router.include_format_suffixes = False
router.register("channels", ChannelViewSet, basename="channel")
router.register("preload-configs", PreloadConfigViewSet, basename="preload-config")

urlpatterns = [
    path("status/", SystemStatusView.as_view(), name="api-status"),
    path("status/host/", HostStatusView.as_view(), name="api-host-status"),
    path("schedule/reload/", ScheduleReloadView.as_view(), name="api-schedule-reload"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"
    ),
    path("auth/", include("rest_framework.urls")),
    path("", include(router.urls)),
    # Last: any other /api/ path answers 404 in the API's error shape.
    re_path(r"^(?P<path>.*)$", api_not_found),
]
