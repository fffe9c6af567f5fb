from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ocsc.notify.models import SmsMessage


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin[SmsMessage]):
    """The SMS outbox, read-only: what was sent to whom, and what the gateway said."""

    list_display = ("phone", "status", "attempts", "gateway", "created_at", "sent_at")
    list_filter = ("status", "gateway")
    search_fields = ("phone",)
    readonly_fields = (
        "phone",
        "text",
        "status",
        "gateway",
        "gateway_reference",
        "error",
        "attempts",
        "created_at",
        "sent_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
