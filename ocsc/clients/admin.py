"""Clients and keys in the admin: a key is issued from its own page and shown that once;
keys are revoked from the list (an action), never edited into being valid again."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from ocsc.clients.actions import issue_key, revoke_key
from ocsc.clients.models import DEFAULT_RATE_PER_MINUTE, ApiClient, ApiKey, FiledRequest


class KeyInline(admin.TabularInline[ApiKey, ApiClient]):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "prefix",
        "rate_per_minute",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: ApiClient | None = None) -> bool:
        return False


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin[ApiClient]):
    list_display = ("name", "contact", "live_keys", "created_at", "new_key")
    search_fields = ("name", "contact")
    fields = ("name", "contact")
    inlines = (KeyInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiClient]:
        live = Count("keys", filter=Q(keys__revoked_at__isnull=True))
        return super().get_queryset(request).annotate(live_keys=live)

    @admin.display(description="live keys", ordering="live_keys")
    def live_keys(self, client: ApiClient) -> int:
        return int(getattr(client, "live_keys", 0))

    @admin.display(description="")
    def new_key(self, client: ApiClient) -> str:
        url = reverse("admin:clients_apikey_add") + f"?client={client.pk}"
        return format_html('<a href="{}">Issue a key</a>', url)


class NewKeyForm(forms.Form):
    client = forms.ModelChoiceField(queryset=ApiClient.objects.order_by("name"))
    rate_per_minute = forms.IntegerField(
        min_value=1,
        initial=DEFAULT_RATE_PER_MINUTE,
        help_text="Requests allowed in each clock minute; more get 429 Too Many Requests.",
    )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = (
        "prefix",
        "client",
        "rate_per_minute",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "client")
    list_select_related = ("client",)
    search_fields = ("prefix", "client__name")
    fields = ("client", "prefix", "rate_per_minute", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("client", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # revoke instead: the key's requests stay attributed

    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> TemplateResponse:
        """Issue a key and show it once, on this page's answer; it is stored only hashed."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = NewKeyForm(
            request.POST if request.method == "POST" else None,
            initial={"client": request.GET.get("client")},
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": "Issue an API key",
        }
        if request.method == "POST" and form.is_valid():
            key, raw = issue_key(
                form.cleaned_data["client"], rate_per_minute=form.cleaned_data["rate_per_minute"]
            )
            self.log_addition(request, key, [{"added": {}}])
            context.update(title="The new API key", key=key, raw=raw)
            return TemplateResponse(request, "admin/clients/apikey/created.html", context)
        return TemplateResponse(request, "admin/clients/apikey/add.html", context)

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            revoke_key(key)


@admin.register(FiledRequest)
class FiledRequestAdmin(admin.ModelAdmin[FiledRequest]):
    """Which client filed which application: read only."""

    list_display = ("application", "key", "created_at")
    list_select_related = ("application", "key__client")
    search_fields = ("application__tracking_no", "key__prefix", "key__client__name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: FiledRequest | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: FiledRequest | None = None) -> bool:
        return False
