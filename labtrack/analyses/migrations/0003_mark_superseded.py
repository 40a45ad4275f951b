from django.db import migrations


def mark_superseded(apps, schema_editor):
    """Before the record constraints: a run whose re-fit was accepted is no longer
    current; where old data has two accepted current runs of one measurement and routine
    (the bug this migration closes), the most recently reviewed one stays of record."""
    Run = apps.get_model("analyses", "AnalysisRun")
    for child in Run.objects.filter(review_state="accepted", supersedes__isnull=False).order_by("reviewed_at", "id"):
        node_id = child.supersedes_id
        seen = set()
        while node_id and node_id not in seen:
            seen.add(node_id)
            Run.objects.filter(pk=node_id).update(is_current=False)
            node_id = Run.objects.filter(pk=node_id).values_list("supersedes_id", flat=True).first()
    kept = set()
    accepted = (Run.objects.filter(review_state="accepted", is_current=True, measurement__isnull=False)
                .order_by("-reviewed_at", "-id").values_list("pk", "measurement_id", "routine"))
    for pk, measurement_id, routine in accepted:
        if (measurement_id, routine) in kept:
            Run.objects.filter(pk=pk).update(is_current=False)
        kept.add((measurement_id, routine))


class Migration(migrations.Migration):
    dependencies = [("analyses", "0002_results_of_record")]
    operations = [migrations.RunPython(mark_superseded, migrations.RunPython.noop)]
