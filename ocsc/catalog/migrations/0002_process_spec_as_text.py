import json

from django.db import migrations, models


def copy_specs(apps, schema_editor):
    ProcessVersion = apps.get_model("catalog", "ProcessVersion")
    for version in ProcessVersion.objects.all():
        version.spec_json = json.dumps(version.spec, ensure_ascii=False)
        version.save(update_fields=["spec_json"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="processversion",
            name="spec_json",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.RunPython(copy_specs, migrations.RunPython.noop),
        migrations.RemoveField(model_name="processversion", name="spec"),
    ]
