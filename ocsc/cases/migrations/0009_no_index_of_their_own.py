"""Foreign keys without an index of their own, where an index begins with the same column:
the index is dropped, and nothing else (AlterField would drop and re-validate each
constraint on PostgreSQL, scanning the table, and rebuild the table on SQLite)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_alter_attachment_uuid"),
        ("catalog", "0002_process_spec_as_text"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "cases_application_citizen_id_98110ed0"',
                    reverse_sql='CREATE INDEX "cases_application_citizen_id_98110ed0" ON "cases_application" ("citizen_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "cases_application_organization_id_7bca607a"',
                    reverse_sql='CREATE INDEX "cases_application_organization_id_7bca607a" ON "cases_application" ("organization_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "cases_event_application_id_13957a4b"',
                    reverse_sql='CREATE INDEX "cases_event_application_id_13957a4b" ON "cases_event" ("application_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="application",
                    name="citizen",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="applications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="application",
                    name="organization",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="applications",
                        to="catalog.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="application",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="cases.application",
                    ),
                ),
            ],
        ),
    ]
