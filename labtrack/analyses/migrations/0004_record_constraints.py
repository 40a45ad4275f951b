from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("analyses", "0003_mark_superseded")]
    operations = [
        migrations.AddIndex(
            model_name='analysisrun',
            index=models.Index(fields=['-queued_at', '-id'], name='run_default_order'),
        ),
        migrations.AddConstraint(
            model_name='analysisrun',
            constraint=models.UniqueConstraint(condition=models.Q(('is_current', True), ('review_state', 'accepted')), fields=('measurement', 'routine'), name='one_record_per_measurement_routine'),
        ),
        migrations.AddConstraint(
            model_name='analysisrun',
            constraint=models.UniqueConstraint(condition=models.Q(('inputs_key', ''), _negated=True), fields=('routine', 'inputs_key'), name='derived_run_inputs_unique'),
        ),
        migrations.AddConstraint(
            model_name='analysisrun',
            constraint=models.CheckConstraint(condition=models.Q(('review_state', 'pending'), ('status', 'succeeded'), _connector='OR'), name='reviewed_runs_succeeded'),
        ),
        migrations.AddConstraint(
            model_name='analysisrun',
            constraint=models.CheckConstraint(condition=models.Q(('review_state', 'pending'), ('reviewer__isnull', False), _connector='OR'), name='reviewed_runs_have_reviewer'),
        ),
        migrations.AddConstraint(
            model_name='analysisrun',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('review_state', 'rejected'), _negated=True), models.Q(('review_reason', ''), _negated=True), _connector='OR'), name='rejections_have_reason'),
        ),
    ]
