"""Resync a channel's beat rows whenever its channel or config row changes.

The handlers run inside the writing transaction, so a config and its schedule
rows commit together or not at all. Saves, deletes (cascades and queryset
deletes included) and PreloadConfig bulk updates all arrive here.
"""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from transcoding import dispatch

from .models import Channel, PreloadConfig
from .schedule_sync import sync_channel_schedule


@receiver(post_save, sender=PreloadConfig, dispatch_uid="preload_config_saved")
@receiver(post_delete, sender=PreloadConfig, dispatch_uid="preload_config_deleted")
def _config_changed(sender: type, instance: PreloadConfig, **kwargs: Any) -> None:
    sync_channel_schedule(instance.channel_id)
    channel_id = instance.channel_id
    transaction.on_commit(lambda: dispatch.request_converge(channel_id))


@receiver(post_save, sender=Channel, dispatch_uid="channel_saved")
def _channel_saved(sender: type, instance: Channel, **kwargs: Any) -> None:
    sync_channel_schedule(instance.pk)
    channel_id = instance.pk
    transaction.on_commit(lambda: dispatch.request_converge(channel_id))


@receiver(post_delete, sender=Channel, dispatch_uid="channel_deleted")
def _channel_deleted(sender: type, instance: Channel, **kwargs: Any) -> None:
    sync_channel_schedule(instance.pk)
    channel_id = instance.pk
    transaction.on_commit(lambda: dispatch.request_stop(channel_id, reason="deleted"))
