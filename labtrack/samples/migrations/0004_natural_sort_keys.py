"""Batch and sample codes in natural order (NC6.4 before NC10.4), filled for existing rows."""

import labtrack.core.naturalsort
from django.conf import settings
from django.db import migrations, models

from labtrack.core.naturalsort import natural_sort_text


def fill_sort_keys(apps, schema_editor):
    for name in ("Batch", "Sample"):
        model = apps.get_model("samples", name)
        rows = []
        for row in model.objects.only("pk", "code").iterator(chunk_size=2000):
            row.code_sort_key = natural_sort_text(row.code)
            rows.append(row)
            if len(rows) == 2000:
                model.objects.bulk_update(rows, ["code_sort_key"])
                rows = []
        model.objects.bulk_update(rows, ["code_sort_key"])


class Migration(migrations.Migration):

    dependencies = [
        ('samples', '0003_batch_measurement_count'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='batch',
            options={'ordering': ['-synthesised_at', 'code_sort_key', 'code'], 'verbose_name_plural': 'batches'},
        ),
        migrations.AlterModelOptions(
            name='sample',
            options={'ordering': ['batch', 'prepared_at', 'code_sort_key']},
        ),
        migrations.AddField(
            model_name='batch',
            name='code_sort_key',
            field=labtrack.core.naturalsort.NaturalSortKeyField(source='code'),
        ),
        migrations.AddField(
            model_name='sample',
            name='code_sort_key',
            field=labtrack.core.naturalsort.NaturalSortKeyField(source='code'),
        ),
        migrations.RunPython(fill_sort_keys, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='batch',
            index=models.Index(fields=['code_sort_key', 'code'], name='batch_code_natural_order'),
        ),
    ]
