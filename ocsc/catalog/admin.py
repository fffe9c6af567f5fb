"""Admin for reference data. Process versions are immutable: shown read-only, validated."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ocsc.catalog.models import (
    Calendar,
    Jurisdiction,
    Organization,
    OrganizationKind,
    ProcessVersion,
    Role,
    Service,
    label,
)
from ocsc.catalog.process import process_of, process_problems
from ocsc.workflow import mermaid


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin[Calendar]):
    list_display = ("code", "workweek", "country_holidays", "timezone")


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin[Jurisdiction]):
    list_display = ("code", "display_name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    readonly_fields = ("path",)
    list_select_related = ("parent",)

    @admin.display(description="name")
    def display_name(self, obj: Jurisdiction) -> str:
        return label(obj.name)


class RoleInline(admin.TabularInline[Role, OrganizationKind]):
    model = Role
    fk_name = "kind"
    extra = 0
    fields = ("code", "name", "reports_to", "head")


@admin.register(OrganizationKind)
class OrganizationKindAdmin(admin.ModelAdmin[OrganizationKind]):
    list_display = ("code", "display_name")
    inlines = (RoleInline,)

    @admin.display(description="name")
    def display_name(self, obj: OrganizationKind) -> str:
        return label(obj.name)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin[Role]):
    list_display = ("code", "display_name", "kind", "reports_to", "head")
    list_filter = ("kind", "head")
    list_select_related = ("kind", "reports_to__kind")

    @admin.display(description="name")
    def display_name(self, obj: Role) -> str:
        return label(obj.name)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ("code", "display_name", "kind", "prefix", "calendar")
    list_filter = ("kind",)
    search_fields = ("code", "name", "prefix")
    filter_horizontal = ("serves",)
    list_select_related = ("kind", "calendar")

    @admin.display(description="name")
    def display_name(self, obj: Organization) -> str:
        return label(obj.name)


class ProcessVersionInline(admin.TabularInline[ProcessVersion, Service]):
    model = ProcessVersion
    extra = 0
    fields = ("number", "digest", "created_at")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin[Service]):
    list_display = ("code", "display_name", "organization", "category", "fee_amount", "active")
    list_filter = ("category", "active", "organization__kind", "organization")
    search_fields = ("code", "name")
    list_select_related = ("organization",)
    readonly_fields = ("current_process",)
    inlines = (ProcessVersionInline,)

    @admin.display(description="name")
    def display_name(self, obj: Service) -> str:
        return label(obj.name)


@admin.register(ProcessVersion)
class ProcessVersionAdmin(admin.ModelAdmin[ProcessVersion]):
    """Read-only: a version never changes; a new catalog load publishes a new one."""

    list_display = ("__str__", "service", "number", "created_at")
    list_filter = ("service__organization",)
    list_select_related = ("service__organization",)
    fields = ("service", "number", "created_at", "digest", "validation", "steps", "diagram")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="validation")
    def validation(self, obj: ProcessVersion) -> SafeString:
        problems = process_problems(obj)
        if not problems:
            return format_html("<strong>{}</strong>", "Valid.")
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{} {}</li>", ((p.level, str(p)) for p in problems)),
        )

    @admin.display(description="steps")
    def steps(self, obj: ProcessVersion) -> SafeString:
        process = process_of(obj)
        rows = (
            (
                code,
                label(step.name) if step.name else "",
                step.owner or (step.outcome or ""),
                str(step.sla or ""),
                label(step.duty) if step.duty else "",
                ", ".join(f"{name} → {action.to}" for name, action in step.actions.items()),
            )
            for code, step in process.steps.items()
        )
        return format_html(
            "<p>Timeline: {} · starts at {}</p><table><tr><th>step</th><th>name</th>"
            "<th>owner / outcome</th><th>timeline</th><th>duty</th><th>actions</th></tr>{}</table>",
            str(process.sla or "—"),
            process.start,
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                rows,
            ),
        )

    @admin.display(description="diagram (Mermaid)")
    def diagram(self, obj: ProcessVersion) -> SafeString:
        return format_html("<pre>{}</pre>", mermaid(process_of(obj)))
