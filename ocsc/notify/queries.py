"""Reads: a person's in-app notifications, and the channels people chose."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from ocsc.accounts.access import scopes
from ocsc.accounts.models import User
from ocsc.compiled import Compiled
from ocsc.notify.models import Channel, Notification, Preferences, PushSubscription, Topic
from ocsc.notify.rules import CHOOSABLE_CHANNELS, CITIZEN_TOPICS, DEFAULT_CHANNELS, STAFF_TOPICS


def inbox(user: User) -> QuerySet[Notification]:
    """The user's in-app notifications, newest first, with their applications."""
    return (
        Notification.objects.filter(recipient=user, channel=Channel.IN_APP)
        .select_related("application__service")
        .order_by("-created_at", "-pk")
    )


def unread_count(user: User) -> int:
    return inbox(user).filter(read_at__isnull=True).count()


def _preferences(user_ids: list[int]) -> QuerySet[Preferences, tuple[int, Any]]:
    return Preferences.objects.filter(user_id__in=user_ids).values_list("user_id", "channels")


_PREFERENCES = Compiled(_preferences)  # (every dispatch asks)


def chosen_channels(users: Sequence[User]) -> dict[int, dict[str, tuple[str, ...]]]:
    """Each user's channels per topic: their choice, else the default (one query)."""
    stored = dict(_PREFERENCES.all(user_ids=sorted({user.pk for user in users})))
    result: dict[int, dict[str, tuple[str, ...]]] = {}
    for user in users:
        choice = stored.get(user.pk) or {}
        result[user.pk] = {
            topic: tuple(choice[topic]) if topic in choice else default
            for topic, default in DEFAULT_CHANNELS.items()
        }
    return result


def push_subscribers(users: Sequence[User]) -> set[int]:
    """Those of the users with at least one push subscription (one query)."""
    return set(
        PushSubscription.objects.filter(user__in={user.pk for user in users}).values_list(
            "user_id", flat=True
        )
    )


# The profile page's table of choices -----------------------------------------------------

TOPIC_LABELS: dict[str, Any] = {
    Topic.RECEIPT: _("Your tracking number when you apply"),
    Topic.DECISION: _("Decisions, and when your application waits for you"),
    Topic.PROGRESS: _("Other progress on your applications"),
    Topic.WORK: _("New work, assignments and reminders"),
    Topic.ESCALATION: _("Late work escalated to you"),
    Topic.DIGEST: _("Daily list of overdue work (heads)"),
}


def push_enabled() -> bool:
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


def topics_for(user: User) -> tuple[str, ...]:
    """What the user can choose channels for: a citizen's topics, and an official's too."""
    return CITIZEN_TOPICS + (STAFF_TOPICS if scopes(user) else ())


def channel_table(user: User) -> list[dict[str, Any]]:
    """Rows of the profile page's table: per topic, each choosable channel and whether it is
    on (the user's choice, else the default). Push only where push is configured."""
    columns = [c for c in CHOOSABLE_CHANNELS if c != Channel.PUSH or push_enabled()]
    chosen = chosen_channels([user])[user.pk]
    return [
        {
            "code": topic,
            "label": TOPIC_LABELS[topic],
            "channels": [{"code": c, "on": c in chosen[topic]} for c in columns],
        }
        for topic in topics_for(user)
    ]
