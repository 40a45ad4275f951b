"""The demo's ageing studies (issue 11): an ambient-air study on NC12.8 and NC8.9 powder
aliquots with pull points at 0, 1, 3 and 6 months, and a glovebox N2 study that stays
stable. The bulk (120 ppm) 133Cs fraction grows in air as in the paper's Figure 3(c).

The clock is anchored to the day of the first seeding (ageing started 100 days before),
so on that day NC12.8's 3-month point is done and flagged (+7 points > the +5 threshold)
and NC8.9's is overdue. Samples are found by code, so a second seed changes nothing.
With analyses requested, the study's deconvolutions run inline and the demo analyst
accepts them, so the trends are results of record at once."""
from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Callable

from django.utils import timezone

from analysis.synthetic import nmr, paper, topspin
from labtrack.ageing.models import Study, StudyTemplate
from labtrack.ageing.services import study_create, study_templates_ensure
from labtrack.analyses import services as run_services
from labtrack.analyses.models import AnalysisRun, RunStatus
from labtrack.analyses.pipeline import Upload, measurement_upload
from labtrack.analyses.review import run_review
from labtrack.measurements.models import Technique
from labtrack.samples.models import Sample, SampleForm

AGEING_DAYS_SO_FAR = 100
MONTH = 365.25 / 12
SCHEDULE = [{"label": "t0", "offset_days": 0, "tolerance_days": 2, "techniques": ["nmr"]},
            {"label": "1 month", "offset_days": round(MONTH, 2), "tolerance_days": 3, "techniques": ["nmr"]},
            {"label": "3 months", "offset_days": round(3 * MONTH, 2), "tolerance_days": 5, "techniques": ["nmr"]},
            {"label": "6 months", "offset_days": round(6 * MONTH, 2), "tolerance_days": 7, "techniques": ["nmr"]}]
QUANTITIES = ["cs133_bulk_fraction", "cs4pbbr6_fraction"]
# (sample suffix, batch code): {months: (bulk %, Cs4PbBr6 %)} measured so far
SERIES = {
    ("AIR", "NC12.8"): {0: (15.0, 0.0), 1: (17.0, 0.0), 3: (22.0, 0.0)},
    ("AIR", "NC8.9"): {0: (2.0, 0.0), 1: (3.5, 0.0)},   # the 3-month point is overdue
    ("N2", "NC12.8"): {0: (15.0, 0.0), 1: (15.0, 0.0), 3: (15.0, 0.0)},
}
STUDIES = {
    "AIR": ("Ambient air, NC12.8 and NC8.9 powders", "Ambient air, 6 months",
            dict(atmosphere="air", temperature_c=25.0, relative_humidity_percent=55.0, light="ambient")),
    "N2": ("Glovebox N2, NC12.8 powder", "Glovebox N2, 12 months",
           dict(atmosphere="n2", temperature_c=25.0, relative_humidity_percent=None, light="dark")),
}


def _sample(batch_samples: dict, code: str, suffix: str, start) -> Sample:
    powder = batch_samples[code]["powder"]
    air = suffix == "AIR"
    sample, _ = Sample.objects.get_or_create(code=f"{code}-P-{suffix}", defaults=dict(
        batch=powder.batch, form=SampleForm.POWDER, parent=powder, prepared_at=start, ageing_started_at=start,
        storage_location="Bench shelf, ambient" if air else "Glovebox G1", atmosphere="air" if air else "n2",
        light="ambient" if air else "dark", storage_temperature_c=25.0, mass_mg=10.0,
        notes=f"Aliquot for the {'ambient-air' if air else 'N2'} ageing study."))
    return sample


def _accept_inline(measurement, users) -> None:
    for run in AnalysisRun.objects.filter(measurement=measurement, routine="nmr.deconvolve", status=RunStatus.QUEUED):
        attempt = run_services.run_claim(run_id=run.pk, task_id="demo-seed")
        if attempt is not None and run_services.run_execute(run_id=run.pk, attempt=attempt) is not None:
            run_review(run=AnalysisRun.objects.get(pk=run.pk), reviewer=users["analyst"], accept=True)


def seed_ageing(*, project, users, instruments, batch_samples: dict, request_analyses: bool,
                log: Callable[[str], None]) -> int:
    """Create the two studies and their measurements so far; returns measurements made."""
    study_templates_ensure()
    existing = Sample.objects.filter(code="NC12.8-P-AIR").values_list("ageing_started_at", flat=True).first()
    start = existing or (timezone.now() - timedelta(days=AGEING_DAYS_SO_FAR)).replace(minute=0, second=0, microsecond=0)
    made = 0
    samples: dict[str, list[Sample]] = {"AIR": [], "N2": []}
    for (suffix, code), points in SERIES.items():
        sample = _sample(batch_samples, code, suffix, start)
        samples[suffix].append(sample)
        for months, (bulk, cs4) in points.items():
            label = f"133Cs one-pulse, {suffix} ageing, {months} month{'s' if months != 1 else ''}"
            if sample.measurements.filter(label=label).exists():
                continue
            lines = paper.aged_lines(code, bulk, cs4)
            seed = int(sum(map(ord, sample.code)) + 17 * months)
            with tempfile.TemporaryDirectory(prefix="labtrack-demo-") as tmp:
                folder = topspin.write_topspin_1d(Path(tmp) / "cs133", nmr.cs133_spectrum(code, seed=seed, lines=lines),
                                                  expno=10)
                path = topspin.zip_folder(folder, Path(tmp) / f"{sample.code}_{months}mo.zip")
                with open(path, "rb") as fh:
                    measurement = measurement_upload(
                        user=users["chemist"], sample=sample, technique=Technique.NMR,
                        uploads=[Upload(path.name, fh)], instrument=instruments.get(Technique.NMR),
                        measured_at=start + timedelta(days=months * MONTH, hours=3), label=label,
                        request_analyses=request_analyses)
            if request_analyses:
                _accept_inline(measurement, users)
            made += 1
    for suffix, (name, template_name, conditions) in STUDIES.items():
        if not Study.objects.filter(project=project, name=name).exists():
            study_create(user=users["chemist"], project=project, name=name, samples=samples[suffix],
                         template=StudyTemplate.objects.get(name=template_name), pull_points=SCHEDULE,
                         quantities=QUANTITIES, **conditions)
    log("  ageing studies: ok")
    return made
