from django.contrib import admin

from .models import StreamProcess


@admin.register(StreamProcess)
class StreamProcessAdmin(admin.ModelAdmin):
    list_display = (
        "channel_id",
        "status",
        "preload",
        "pid",
        "started_at",
        "restart_count",
    )
    readonly_fields = [field.name for field in StreamProcess._meta.fields]
