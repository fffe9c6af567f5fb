"""Copy the application's organization (and service) onto its steps and events, so that the
dashboards filter them by an index instead of a join through every application.

The columns are added without a foreign-key constraint, filled by one UPDATE per table, then
constrained: a constraint present during the UPDATE would queue one deferred check per row
(millions at bench scale) instead of one validation scan. The indexes that use them come in
the next migration, built once this one has committed: built here, they would also hold an
entry for every row version the UPDATE left dead."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def backfill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    application = quote(apps.get_model("cases", "Application")._meta.db_table)
    step = quote(apps.get_model("cases", "Step")._meta.db_table)
    event = quote(apps.get_model("cases", "Event")._meta.db_table)
    if connection.vendor == "postgresql":
        statements = [
            f"UPDATE {step} AS s SET organization_id = a.organization_id, "
            f"service_id = a.service_id FROM {application} AS a WHERE a.id = s.application_id",
            f"UPDATE {event} AS e SET organization_id = a.organization_id "
            f"FROM {application} AS a WHERE a.id = e.application_id",
        ]
    else:  # portable: correlated subqueries (SQLite, and any other database)
        statements = [
            f"UPDATE {step} SET "
            f"organization_id = (SELECT a.organization_id FROM {application} a "
            f"WHERE a.id = {step}.application_id), "
            f"service_id = (SELECT a.service_id FROM {application} a "
            f"WHERE a.id = {step}.application_id)",
            f"UPDATE {event} SET organization_id = (SELECT a.organization_id "
            f"FROM {application} a WHERE a.id = {event}.application_id)",
        ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def copied(to: str, *, constrained: bool) -> models.ForeignKey:
    return models.ForeignKey(
        db_constraint=constrained,
        db_index=False,
        null=not constrained,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to=to,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_dashboard_indexes"),
        ("catalog", "0002_process_spec_as_text"),
    ]

    operations = [
        migrations.AddField(
            model_name="step",
            name="organization",
            field=copied("catalog.organization", constrained=False),
        ),
        migrations.AddField(
            model_name="step", name="service", field=copied("catalog.service", constrained=False)
        ),
        migrations.AddField(
            model_name="event",
            name="organization",
            field=copied("catalog.organization", constrained=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="step",
            name="organization",
            field=copied("catalog.organization", constrained=True),
        ),
        migrations.AlterField(
            model_name="step", name="service", field=copied("catalog.service", constrained=True)
        ),
        migrations.AlterField(
            model_name="event",
            name="organization",
            field=copied("catalog.organization", constrained=True),
        ),
    ]
