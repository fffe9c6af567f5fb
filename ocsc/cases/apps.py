from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save


class CasesConfig(AppConfig):
    name = "ocsc.cases"
    label = "cases"
    verbose_name = "Applications"

    def ready(self) -> None:
        from ocsc.catalog.models import Role

        post_save.connect(_chart_changed, sender=Role, weak=False, dispatch_uid="ocsc.cases")


def _chart_changed(
    sender: Any, *, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    """A role's place in the chart changed (the catalog, the admin): steps that had no level
    left to reach may have one now."""
    if created or (update_fields is not None and "reports_to" not in update_fields):
        return
    from ocsc.cases.actions import rearm_escalations

    rearm_escalations(kind_id=instance.kind_id)
