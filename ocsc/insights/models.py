from django.conf import settings
from django.db import models
from django.utils import timezone


class Watch(models.Model):
    """An application an official follows: their watchlist and board."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    application = models.ForeignKey(
        "cases.Application", on_delete=models.CASCADE, related_name="watches"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "application"], name="watch_once")]

    def __str__(self) -> str:
        return f"{self.user_id} watches {self.application_id}"
