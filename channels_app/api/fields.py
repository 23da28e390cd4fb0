"""Strict serializer fields: JSON types as documented, nothing coerced."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from channels_app.windows import WEEKDAY_NAMES, mask_to_weekdays, weekdays_to_mask

# [0-9] rather than \d: \d also matches other scripts' digits, such as "٠٧".
CLOCK_PATTERN = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


class StrictBooleanField(serializers.BooleanField):
    """Only JSON true or false; DRF's own field also takes "true", 1, "yes"..."""

    default_error_messages = {
        "invalid": "Must be a JSON boolean, true or false (not {input!r}).",
    }

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


@extend_schema_field(
    {
        "type": "string",
        "pattern": f"^{CLOCK_PATTERN.pattern}$",
        "example": "07:40",
        "description": "Local wall-clock time, HH:MM from 00:00 to 23:59.",
    }
)
class ClockTimeField(serializers.Field):
    """A wall-clock minute written exactly as "HH:MM", 00:00 to 23:59."""

    default_error_messages = {
        "invalid": 'Use a string "HH:MM" from 00:00 to 23:59, such as "07:40" '
        "(not {input!r}).",
    }

    def to_internal_value(self, data: Any) -> dt.time:
        if not isinstance(data, str) or not CLOCK_PATTERN.fullmatch(data):
            self.fail("invalid", input=data)
        hour, minute = data.split(":")
        return dt.time(int(hour), int(minute))

    def to_representation(self, value: dt.time) -> str:
        return f"{value:%H:%M}"


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": list(WEEKDAY_NAMES)},
        "minItems": 1,
        "maxItems": 7,
        "uniqueItems": True,
        "example": ["mon", "tue", "wed", "thu", "fri"],
        "description": "The days on which the window starts.",
    }
)
class WeekdaysField(serializers.Field):
    """Day names in, the model's bitmask out; at least one, none twice."""

    default_error_messages = {
        "not_a_list": 'Use a list of day names, such as ["mon", "fri"].',
        "empty": "Choose at least one day.",
        "unknown": "{day!r} is not a day; use {names}.",
        "repeated": "{day!r} is listed twice.",
    }

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, list):
            self.fail("not_a_list")
        if not data:
            self.fail("empty")

        days: list[int] = []
        for name in data:
            if not isinstance(name, str) or name not in WEEKDAY_NAMES:
                self.fail("unknown", day=name, names=", ".join(WEEKDAY_NAMES))
            day = WEEKDAY_NAMES.index(name)
            if day in days:
                self.fail("repeated", day=name)
            days.append(day)
        return weekdays_to_mask(days)

    def to_representation(self, value: int) -> list[str]:
        return [WEEKDAY_NAMES[day] for day in sorted(mask_to_weekdays(value))]
