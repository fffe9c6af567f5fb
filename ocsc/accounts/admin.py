from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm

from ocsc.accounts.identity import normalize_cnic, normalize_phone
from ocsc.accounts.models import User


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
    list_display = ("phone", "name", "cnic", "language", "is_staff", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "language")
    search_fields = ("phone", "name", "cnic", "email")
    fieldsets = (
        (None, {"fields": ("phone", "password")}),
        ("Person", {"fields": ("name", "cnic", "email", "language")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("phone", "name", "password1", "password2")}),
    )
