"""Drop folders' settings audited; each existing folder gets its present settings as the first record."""

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

SETTINGS = ("id", "name", "path", "project_id", "technique", "instrument_id", "naming_rule", "upload_as_id",
            "processed_path", "settle_s", "enabled", "created_at")


def first_records(apps, schema_editor):
    historical = apps.get_model("dropfolders", "HistoricalDropFolder")
    now = timezone.now()
    historical.objects.bulk_create(
        historical(**{f: getattr(folder, f) for f in SETTINGS}, history_date=now, history_type="+",
                   history_change_reason="settings as they were when their history began")
        for folder in apps.get_model("dropfolders", "DropFolder").objects.all())


class Migration(migrations.Migration):

    dependencies = [
        ('dropfolders', '0001_drop_folders_and_items'),
        ('measurements', '0003_blob_checks'),
        ('samples', '0004_natural_sort_keys'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalDropFolder',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('name', models.CharField(help_text='e.g. 400 MHz NMR export', max_length=200)),
                ('path', models.CharField(db_index=True, help_text='Absolute path of the folder the instrument writes to, as the server sees it (under one of LABTRACK_DROPFOLDER_ROOTS).', max_length=1024)),
                ('technique', models.CharField(choices=[('saxs', 'SAXS'), ('tem', 'TEM'), ('xrd', 'Powder XRD'), ('nmr', 'Solid-state NMR'), ('xps', 'XPS'), ('pl', 'Photoluminescence'), ('uvvis', 'UV-Vis')], max_length=8)),
                ('naming_rule', models.CharField(default='^(?P<sample>[A-Za-z]{1,12}\\d+(?:\\.\\d+)?(?:-[A-Za-z0-9]+)*)', help_text="A regular expression with a group named 'sample' that finds the sample code in a file name (for TopSpin, the data set folder's name).", max_length=500)),
                ('processed_path', models.CharField(default='processed', help_text='Where ingested files are moved: a subfolder name, or an absolute path.', max_length=1024)),
                ('settle_s', models.FloatField(default=30.0, help_text='A file counts as complete once its size and time stayed the same this long.')),
                ('enabled', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('instrument', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='measurements.instrument')),
                ('project', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='samples.project')),
                ('upload_as', models.ForeignKey(blank=True, db_constraint=False, help_text='Files found here are uploaded as this chemist of the project.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical drop folder',
                'verbose_name_plural': 'historical drop folders',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(first_records, migrations.RunPython.noop),
    ]
