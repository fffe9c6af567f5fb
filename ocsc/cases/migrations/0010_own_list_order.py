"""The citizen's own list (newest first, then by key) is read in the order of an index, not
sorted: the new index is built before the one it replaces is dropped."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_no_index_of_their_own"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="application",
            index=models.Index(fields=["citizen", "-submitted_at", "-id"], name="application_own"),
        ),
        migrations.RemoveIndex(
            model_name="application",
            name="cases_appli_citizen_ab08d7_idx",
        ),
    ]
