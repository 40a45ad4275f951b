"""Compact curve arrays for runs analysed before `AnalysisRun.curve_arrays` existed: the
stored JSON curves packed once into the .npz the compare view reads."""
from __future__ import annotations

from labtrack import engine
from labtrack.analyses.models import AnalysisRun, RunStatus


def runs_pack_curves(*, batch_size: int = 50) -> int:
    """Pack the JSON curves of every succeeded run that has none packed yet, `batch_size`
    runs in memory at a time; returns how many were packed. Safe to run again."""
    packed = 0
    while True:
        ids = list(AnalysisRun.objects.filter(status=RunStatus.SUCCEEDED, curve_arrays__isnull=True)
                   .exclude(curves__isnull=True).values_list("pk", flat=True)[:batch_size])
        if not ids:
            return packed
        for pk, curves in AnalysisRun.objects.filter(pk__in=ids).values_list("pk", "curves"):
            blob = engine.pack_curves(engine.curves_from_json(curves or {}))
            # A re-analysis may have stored arrays meanwhile: never overwrite those.
            packed += AnalysisRun.objects.filter(pk=pk, curve_arrays__isnull=True).update(curve_arrays=blob)
