"""Applications in the admin are read-only: they change only through actions."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ocsc.cases.models import Application, Event, Step


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StepInline(ReadOnly, admin.TabularInline[Step, Application]):
    model = Step
    fields = ("state", "owner_role", "assignee", "entered_at", "due_at", "left_at", "breached")
    readonly_fields = fields
    extra = 0


class EventInline(ReadOnly, admin.TabularInline[Event, Application]):
    model = Event
    fields = (
        "created_at",
        "kind",
        "actor",
        "actor_role",
        "action",
        "to_state",
        "visibility",
        "text",
    )
    readonly_fields = fields
    extra = 0


@admin.register(Application)
class ApplicationAdmin(ReadOnly, admin.ModelAdmin[Application]):
    list_display = ("tracking_no", "service", "organization", "state", "category", "submitted_at")
    list_filter = ("category", "channel", "organization")
    search_fields = ("tracking_no", "citizen__phone")
    list_select_related = ("service__organization", "organization")
    readonly_fields = (
        "tracking_no",
        "citizen",
        "service",
        "process",
        "organization",
        "jurisdiction",
        "state",
        "category",
        "outcome",
        "channel",
        "data",
        "location",
        "submitted_at",
        "closed_at",
        "due_at",
    )
    exclude = ("current_step", "paused_at", "updated_at")
    inlines = (StepInline, EventInline)
