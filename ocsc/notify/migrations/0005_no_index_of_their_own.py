"""Foreign keys without an index of their own, where an index begins with the same column:
the index is dropped, and nothing else (AlterField would drop and re-validate each
constraint on PostgreSQL, scanning the table, and rebuild the table on SQLite)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_no_index_of_their_own"),
        ("notify", "0004_alter_notification_uuid"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "notify_notification_recipient_id_07222ca5"',
                    reverse_sql='CREATE INDEX "notify_notification_recipient_id_07222ca5" ON "notify_notification" ("recipient_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "notify_notification_step_id_b08f9ef5"',
                    reverse_sql='CREATE INDEX "notify_notification_step_id_b08f9ef5" ON "notify_notification" ("step_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="recipient",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="notification",
                    name="step",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="cases.step",
                    ),
                ),
            ],
        ),
    ]
