from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ocsc.notify.actions import retry_notifications
from ocsc.notify.models import (
    DeliveryAttempt,
    InboundSms,
    Notification,
    Preferences,
    PushSubscription,
    SmsMessage,
)


class ReadOnly[M: Any](admin.ModelAdmin[M]):
    """Rows that change only through notify's actions: shown, never edited here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnly[SmsMessage]):
    """The SMS outbox of one-off texts: what was sent to whom, and what the gateway said."""

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
        "claimed_at",
        "sent_at",
    )


class DeliveryAttemptInline(admin.TabularInline[DeliveryAttempt, Notification]):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("number", "started_at", "finished_at", "ok", "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnly[Notification]):
    """Every notification with its attempts; those that gave up can be retried."""

    list_display = (
        "created_at",
        "recipient",
        "channel",
        "reason",
        "application",
        "status",
        "attempts",
        "error",
    )
    list_filter = ("status", "channel", "reason", "topic")
    list_select_related = ("recipient", "application")
    search_fields = ("recipient__phone", "recipient__name", "application__tracking_no", "key")
    date_hierarchy = "created_at"
    actions = ["retry"]
    inlines = [DeliveryAttemptInline]
    readonly_fields = (
        "uuid",
        "recipient",
        "channel",
        "key",
        "reason",
        "topic",
        "application",
        "event",
        "step",
        "address",
        "title",
        "body",
        "link",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "read_at",
        "error",
        "reference",
        "data",
        "created_at",
    )

    @admin.action(description="Retry the selected notifications that gave up")
    def retry(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = retry_notifications(queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            f"{count} notification(s) queued again."
            if count
            else "Nothing to retry: only notifications that gave up are retried.",
            messages.SUCCESS if count else messages.WARNING,
        )


@admin.register(Preferences)
class PreferencesAdmin(ReadOnly[Preferences]):
    list_display = ("user", "channels", "updated_at")
    list_select_related = ("user",)
    search_fields = ("user__phone", "user__name")
    readonly_fields = ("user", "channels", "updated_at")


@admin.register(PushSubscription)
class PushSubscriptionAdmin(ReadOnly[PushSubscription]):
    list_display = ("user", "user_agent", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__phone", "user__name")
    readonly_fields = ("user", "endpoint", "user_agent", "created_at")
    exclude = ("p256dh", "auth")


@admin.register(InboundSms)
class InboundSmsAdmin(ReadOnly[InboundSms]):
    list_display = ("received_at", "phone", "text")
    search_fields = ("phone",)
    readonly_fields = ("phone", "text", "received_at", "reply")
