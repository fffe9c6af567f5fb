from typing import Any
from uuid import uuid4

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CatalogConfig(AppConfig):
    name = "ocsc.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from ocsc.catalog.models import Role

        for signal in (post_save, post_delete):
            signal.connect(_roles_changed, sender=Role, weak=False, dispatch_uid="ocsc.catalog")


def _roles_changed(sender: Any, **kwargs: Any) -> None:
    """A role was added, changed or deleted (the catalog loader, the admin): every kind's
    roles key is drawn anew, in the same transaction, so that no process keeps roles read
    before it (cases.access.roles_here). A role may have moved from one kind to another, and
    roles change seldom: all kinds, in one statement."""
    from ocsc.catalog.models import OrganizationKind

    OrganizationKind.objects.update(roles_key=uuid4())
