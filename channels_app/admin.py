"""Admin for channels and their preload windows.

Saving here goes through the same model saves as every other path, so the
beat schedule follows each change at once.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone

from transcoding import dispatch
from transcoding.status import channel_overview

from .models import Channel, PreloadConfig
from .schedule_sync import reload_schedule
from .windows import WEEKDAY_NAMES, mask_to_weekdays, weekdays_to_mask

TIME_WIDGET = forms.TimeInput(format="%H:%M", attrs={"type": "time", "step": 60})


class PreloadConfigForm(forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(
        choices=[(day, name.capitalize()) for day, name in enumerate(WEEKDAY_NAMES)],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text="Days on which the window starts.",
        error_messages={"required": "Choose at least one weekday."},
    )

    class Meta:
        model = PreloadConfig
        fields = ("enabled", "start_time", "end_time", "weekdays")
        widgets = {"start_time": TIME_WIDGET, "end_time": TIME_WIDGET}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["weekdays"] = sorted(mask_to_weekdays(self.instance.weekdays))
        for name in ("start_time", "end_time"):
            self.fields[name].input_formats = ["%H:%M"]
            self.fields[name].error_messages["invalid"] = "Enter a time as HH:MM."

    def clean_weekdays(self) -> int:
        return weekdays_to_mask(self.cleaned_data["weekdays"])


class PreloadConfigInline(admin.StackedInline):
    model = PreloadConfig
    form = PreloadConfigForm
    can_delete = False
    verbose_name = "preload window"


def _queue_for_each(
    request: HttpRequest, channels: QuerySet[Channel], task: str, done: str
) -> None:
    try:
        for channel in channels:
            dispatch.send(task, channel_id=channel.pk)
    except dispatch.HostUnavailable as exc:
        messages.error(request, str(exc))
        return
    messages.success(request, f"{done} queued for {channels.count()} channel(s).")


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "enabled", "window", "next_start", "process_state")
    list_filter = ("enabled", "preload__enabled")
    search_fields = ("id", "name")
    inlines = [PreloadConfigInline]
    actions = ["start_preload_now", "stop_now", "enable_preload", "disable_preload"]
    change_list_template = "admin/channels_app/channel/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Channel]:
        return super().get_queryset(request).select_related("preload")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple:
        # The id names the HLS folder and URLs; it cannot change once created.
        return ("id",) if obj else ()

    def get_urls(self) -> list:
        reload_url = path(
            "reload-schedule/",
            self.admin_site.admin_view(self.reload_schedule),
            name="channels_app_channel_reload_schedule",
        )
        return [reload_url, *super().get_urls()]

    def _overview(self, channel: Channel) -> dict[str, Any]:
        # Two columns read it: measure each row's process once, not per column.
        if not hasattr(channel, "_overview"):
            channel._overview = channel_overview(channel, timezone.now())
        return channel._overview

    @admin.display(description="window")
    def window(self, channel: Channel) -> str:
        config = channel.preload_config()
        days = ", ".join(config.weekday_names) if config.weekdays != 127 else "daily"
        state = "on" if config.enabled else "off"
        return f"{state}: {config.start_time:%H:%M}-{config.end_time:%H:%M} ({days})"

    @admin.display(description="next start")
    def next_start(self, channel: Channel) -> str:
        when = self._overview(channel)["next_start"]
        return when[:16].replace("T", " ") if when else "-"

    @admin.display(description="FFmpeg")
    def process_state(self, channel: Channel) -> str:
        process = self._overview(channel)["process"]
        if not process["running"]:
            return process["status"]
        kind = "preload" if process["preload"] else "on demand"
        return f"running ({kind}), pid {process['pid']}"

    @admin.action(description="Start preloading the selected channels now")
    def start_preload_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        _queue_for_each(request, queryset, "start_channel", "Start")

    @admin.action(description="Stop the selected channels' FFmpeg now")
    def stop_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        _queue_for_each(request, queryset, "stop_channel", "Stop")

    @admin.action(description="Turn the preload window on")
    def enable_preload(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_preload(request, queryset, enabled=True)

    @admin.action(description="Turn the preload window off")
    def disable_preload(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_preload(request, queryset, enabled=False)

    def _set_preload(
        self, request: HttpRequest, queryset: QuerySet, enabled: bool
    ) -> None:
        for channel in queryset:
            config = channel.preload_config()
            config.enabled = enabled
            config.updated_by = request.user
            config.save()
        state = "on" if enabled else "off"
        messages.success(
            request, f"Preload turned {state} for {queryset.count()} channel(s)."
        )

    def reload_schedule(self, request: HttpRequest) -> HttpResponseRedirect:
        changelist = reverse("admin:channels_app_channel_changelist")
        if request.method != "POST":
            return HttpResponseRedirect(changelist)
        report, _ = reload_schedule()
        messages.success(request, f"Preload schedule reloaded: {report.summary()}.")
        return HttpResponseRedirect(changelist)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: Any, change: bool
    ) -> None:
        for inline_form in formset.forms:
            if (
                isinstance(inline_form.instance, PreloadConfig)
                and inline_form.has_changed()
            ):
                inline_form.instance.updated_by = request.user
        super().save_formset(request, form, formset, change)


@admin.register(PreloadConfig)
class PreloadConfigAdmin(admin.ModelAdmin):
    form = PreloadConfigForm
    list_display = (
        "channel",
        "enabled",
        "start_time",
        "end_time",
        "updated_at",
        "updated_by",
    )
    list_filter = ("enabled",)
    list_select_related = ("channel", "updated_by")

    def save_model(
        self, request: HttpRequest, obj: PreloadConfig, form: Any, change: bool
    ) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
