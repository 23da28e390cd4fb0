"""Admin for channels and their preload windows."""

from django.contrib import admin

from .models import Channel, PreloadConfig


class PreloadConfigInline(admin.StackedInline):
    model = PreloadConfig
    can_delete = False
    fields = ("enabled", "start_time", "end_time", "weekdays")


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "enabled", "source_url")
    search_fields = ("id", "name")
    inlines = [PreloadConfigInline]

    def get_readonly_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        # The id names the HLS folder and URLs; it cannot change once created.
        return ("id",) if obj else ()


@admin.register(PreloadConfig)
class PreloadConfigAdmin(admin.ModelAdmin):
    list_display = ("channel", "enabled", "start_time", "end_time", "updated_at")
    list_filter = ("enabled",)
