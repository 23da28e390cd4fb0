"""Query-string filters for the channel and preload-config lists."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema_field

from channels_app.models import Channel

# "true" or "false" exactly: anything else is a 400, where django-filter's own
# boolean filter would silently ignore a typo and return everything.
BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]


@extend_schema_field({"type": "string", "enum": ["true", "false"]})
class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    def __init__(self, help_text: str, **kwargs: Any) -> None:
        super().__init__(
            choices=BOOLEAN_CHOICES,
            coerce=lambda value: value == "true",
            help_text=help_text,
            **kwargs,
        )


def filter_preload_enabled(
    queryset: QuerySet[Channel], name: str, value: bool
) -> QuerySet[Channel]:
    # A channel never configured has no row and is off by default.
    if value:
        return queryset.filter(preload__enabled=True)
    return queryset.filter(Q(preload__enabled=False) | Q(preload__isnull=True))


class ChannelFilter(django_filters.FilterSet):
    enabled = StrictBooleanFilter("Only enabled (true) or disabled (false) ones.")
    preload_enabled = StrictBooleanFilter(
        "Only channels whose preload window is on (true) or off (false).",
        method=filter_preload_enabled,
    )
    name = django_filters.CharFilter(
        lookup_expr="icontains", help_text="Part of the name, any case."
    )

    class Meta:
        model = Channel
        fields = ["enabled", "preload_enabled", "name"]


class PreloadConfigFilter(django_filters.FilterSet):
    enabled = StrictBooleanFilter(
        "Only windows that are on (true) or off (false).",
        method=filter_preload_enabled,
    )

    class Meta:
        model = Channel
        fields = ["enabled"]
