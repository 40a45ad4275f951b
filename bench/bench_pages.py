"""Server-side page times (issue 7): batch list with 1,000 batches, batch page with 50
measurements. Target p95 < 150 ms each.

Runs in a throw-away SQLite database (Django's test-database utilities, in a temp folder
set before settings load), through Django's test client in-process: the figure is the
time to route, query and render, without network or browser.
"""
from __future__ import annotations

import gc
import os
import statistics
import time

from bench import benchmark, isolated_var_dir

isolated_var_dir("labtrack-bench-pages-")

TARGET_P95_S = 0.150
N_BATCHES = 1000
N_MEASUREMENTS = 50
REQUESTS = 100


def _populate():
    """1,000 batches (a sample, a SAXS measurement and a pending run each) and one batch
    with 50 measurements, 2 raw files and a 13-quantity run per measurement."""
    from django.contrib.auth import get_user_model

    from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
    from labtrack.measurements.models import Measurement, RawFile
    from labtrack.samples.models import Batch, Membership, Project, Sample

    User = get_user_model()
    chemist = User.objects.create_user("bench-chemist", password="x")
    analyst = User.objects.create_user("bench-analyst", password="x")
    project = Project.objects.create(name="bench")
    Membership.objects.create(project=project, user=chemist, role="chemist")
    Membership.objects.create(project=project, user=analyst, role="analyst")
    batches = Batch.objects.bulk_create(
        Batch(project=project, code=f"NC{i:04d}", notes=("aged in air" if i % 7 == 0 else "fresh"),
              opa_concentration_molar=0.01 * (i % 20), reaction_duration_s=10 + i % 50, status="complete")
        for i in range(N_BATCHES))
    samples = Sample.objects.bulk_create(Sample(batch=b, code=f"{b.code}-P", form="powder") for b in batches)
    ms = Measurement.objects.bulk_create(Measurement(sample=s, technique=("saxs", "tem", "nmr")[i % 3])
                                         for i, s in enumerate(samples))
    AnalysisRun.objects.bulk_create(
        AnalysisRun(project=project, batch=b, measurement=m, routine="saxs.size_distribution", requested_by=chemist,
                    status=RunStatus.SUCCEEDED, figure_svg="<svg xmlns='http://www.w3.org/2000/svg'/>")
        for b, m in zip(batches, ms))

    heavy = batches[0]
    hs = Sample.objects.bulk_create(Sample(batch=heavy, code=f"H-{k}", form="powder") for k in range(10))
    hm = Measurement.objects.bulk_create(Measurement(sample=hs[k % 10], technique=("saxs", "tem", "nmr", "xrd", "xps")[k % 5],
                                                     label=f"m{k}") for k in range(N_MEASUREMENTS))
    RawFile.objects.bulk_create(RawFile(measurement=m, sha256=f"{m.pk:060d}{j:04d}", original_name=f"file-{m.pk}-{j}.dat",
                                        size_bytes=1000, detected_format="saxs-text", data_kind="saxs-curve",
                                        uploaded_by=chemist) for m in hm for j in range(2))
    runs = AnalysisRun.objects.bulk_create(
        AnalysisRun(project=project, batch=heavy, measurement=m, routine="nmr.deconvolve", requested_by=chemist,
                    status=RunStatus.SUCCEEDED, figure_svg="<svg/>" * 20000, figure_png=b"\x89PNG" * 10000,
                    result={"quantities": {}})
        for m in hm)
    Quantity.objects.bulk_create(
        Quantity(run=r, name=name, value=1.0 + c, stderr=0.01, unit="ppm", component_label=f"c{c}" if c else "")
        for r in runs for c in range(5) for name in (("n_components",) if c == 0 else ("shift_ppm", "fwhm_hz", "integral_percent"))
    )
    return chemist, analyst, heavy, runs[0]


def _time(client, url: str) -> dict:
    for _ in range(3):  # warm-up: template loading, first-query costs
        first = client.get(url, secure=True)  # production settings redirect plain http
        assert first.status_code == 200, (url, first.status_code)
    times = []
    for _ in range(REQUESTS):
        t0 = time.perf_counter()
        response = client.get(url, secure=True)
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200
    times.sort()
    p95 = times[int(0.95 * len(times)) - 1]
    return {"url": url, "requests": len(times), "p50_ms": round(statistics.median(times) * 1e3, 2),
            "p95_ms": round(p95 * 1e3, 2), "max_ms": round(times[-1] * 1e3, 2),
            "meets_target": p95 < TARGET_P95_S}


@benchmark("web.pages", target_s=TARGET_P95_S, repeat=1)
def pages() -> dict:
    """p50/p95 of batch list (1,000 batches), batch page (50 measurements), queue, status JSON."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections
    from django.test import Client
    from django.test.utils import setup_databases, teardown_databases
    from django.urls import reverse

    settings.DEBUG = False  # no query log: time what production does
    old = setup_databases(verbosity=0, interactive=False)
    try:
        chemist, analyst, heavy, run = _populate()
        client = Client(HTTP_HOST="localhost")
        client.force_login(chemist)
        figures = {
            "batch_list": _time(client, reverse("batch_list")),
            "batch_list_filtered_sorted": _time(
                client, reverse("batch_list") + "?q=NC0&opa_min=0.05&technique=saxs&review=pending&sort=-opa&page=2"),
            "batch_detail_50_measurements": _time(client, reverse("batch_detail", args=[heavy.code])),
            "run_status_json": _time(client, reverse("run_status", args=[run.pk])),
        }
        client.force_login(analyst)
        figures["review_queue_50_of_1050"] = _time(client, reverse("review_queue"))
        # Python's full garbage collections walk every object the process imported
        # (numpy, scipy, matplotlib for uploads): ~70 ms every ~15 heavy requests. Freezing
        # the start-up heap (gc.freeze() in a gunicorn post_worker_init hook) removes that.
        client.force_login(chemist)
        gc.freeze()
        try:
            figures["batch_detail_50_measurements_gc_frozen"] = _time(client, reverse("batch_detail", args=[heavy.code]))
        finally:
            gc.unfreeze()
    finally:
        connections.close_all()
        teardown_databases(old, verbosity=0)
    return {
        "database": "SQLite (temp file)",
        "n_batches": N_BATCHES + 0, "n_measurements_on_batch": N_MEASUREMENTS,
        "target_p95_ms": TARGET_P95_S * 1e3,
        "pages": figures,
        "meets_target": all(f["meets_target"] for k, f in figures.items()
                            if k.startswith("batch_") and not k.endswith("gc_frozen")),
    }
