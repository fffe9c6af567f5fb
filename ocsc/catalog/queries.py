"""Reads of the catalog."""

from django.db.models import Prefetch, QuerySet

from ocsc.catalog.models import Organization, Service


def organizations_with_services() -> QuerySet[Organization]:
    """Organizations with their active services, in two queries whatever their number."""
    services = Service.objects.filter(active=True).select_related("current_process")
    return (
        Organization.objects.select_related("kind")
        .prefetch_related(Prefetch("services", queryset=services.order_by("code")))
        .order_by("kind__code", "code")
    )
