from django.db import migrations
from django.utils import timezone


def mark_dispatched(apps, schema_editor):
    """Events written before notifications existed are not news: the sweep must not send
    them now. Mark them dispatched."""
    Event = apps.get_model("cases", "Event")
    Event.objects.filter(dispatched_at__isnull=True).update(dispatched_at=timezone.now())


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0001_initial"),
        ("notify", "0002_notifications"),
    ]

    operations = [migrations.RunPython(mark_dispatched, migrations.RunPython.noop)]
