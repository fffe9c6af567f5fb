from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest

from ocsc.accounts.actions import revoke_token
from ocsc.accounts.identity import normalize_cnic, normalize_phone
from ocsc.accounts.models import ApiToken, Posting, User


class PhoneCleaning:
    cleaned_data: dict[str, Any]

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])

    def clean_cnic(self) -> str:
        cnic: str = self.cleaned_data.get("cnic", "")
        return normalize_cnic(cnic) if cnic else ""


class UserCreationForm(PhoneCleaning, BaseUserCreationForm[User]):
    class Meta:
        model = User
        fields = ("phone", "name")


class UserEditForm(PhoneCleaning, UserChangeForm[User]):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ("name", "phone")
    list_display = ("phone", "name", "cnic", "language", "is_staff", "is_monitor", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_monitor", "is_active", "language")
    search_fields = ("phone", "name", "cnic", "email")
    fieldsets = (
        (None, {"fields": ("phone", "password")}),
        ("Person", {"fields": ("name", "cnic", "email", "language")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "is_monitor", "groups")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("phone", "name", "password1", "password2")}),
    )


@admin.register(Posting)
class PostingAdmin(admin.ModelAdmin[Posting]):
    list_display = ("user", "organization", "role", "jurisdiction", "starts_on", "ends_on")
    list_filter = ("organization", "role__kind")
    search_fields = ("user__phone", "user__name", "organization__code", "role__code")
    list_select_related = ("user", "organization", "role__kind", "jurisdiction")
    autocomplete_fields = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Tokens are issued by sign-in; here they are only seen and revoked."""

    list_display = (
        "prefix",
        "name",
        "user",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_select_related = ("user",)
    search_fields = ("user__phone", "prefix", "name")
    readonly_fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at")
    fields = (*readonly_fields, "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            revoke_token(token)
