"""Alerts get `received_at`, when OneNet first received them; existing alerts were received when they were created
(their first ingest), or, lacking that, when they were first seen."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models.functions import Coalesce


def received_when_created(apps, schema_editor):
    Alert = apps.get_model("threat", "Alert")
    Alert.objects.filter(received_at__isnull=True).update(received_at=Coalesce("created_at", "first_seen"))


class Migration(migrations.Migration):

    dependencies = [
        ("threat", "0002_containment_moves_to_changes"),
    ]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="received_at",
            field=models.DateTimeField(null=True, verbose_name="Received"),
        ),
        migrations.RunPython(received_when_created, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="alert",
            name="received_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="Received"),
        ),
        migrations.AlterModelOptions(
            name="alert",
            options={"ordering": ["-received_at", "-severity_rank", "-last_seen", "-pk"], "verbose_name": "alert",
                     "verbose_name_plural": "alerts"},
        ),
    ]
