"""Server-side times of the review queue with 2,000 pending runs and of search (issue 12).
Target p95 < 100 ms each; the number of queries per request is recorded too (it must not
grow with the data or the query: one per kind for search, a fixed few for the queue).

`web.review_search` uses a throw-away SQLite database (as web.pages does);
`web.review_search_pg` the PostgreSQL server of DATABASE_URL (a temporary test database
is created on it), where search is full-text. Through Django's test client in-process.
"""
from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

from bench import benchmark, isolated_var_dir

isolated_var_dir("labtrack-bench-find-")

TARGET_P95_S = 0.100
N_BATCHES = 1000
N_PENDING_RUNS = 2000
REQUESTS = 60


def _populate():
    """1,000 batches with a powder and an aged aliquot each (storage places, notes), one
    measurement and raw file per sample and 2,000 pending runs (half 133Cs deconvolutions
    with 3 components x 3 quantities and a fit block, half SAXS with 3 quantities)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
    from labtrack.measurements.models import Measurement, RawFile
    from labtrack.samples.models import Batch, Membership, Project, Sample, SynthesisProtocol

    User = get_user_model()
    chemists = [User.objects.create_user(f"bench-chemist{i}", password="x") for i in range(3)]
    analyst = User.objects.create_user("bench-analyst", password="x")
    project = Project.objects.create(name="bench")
    for u in chemists:
        Membership.objects.create(project=project, user=u, role="chemist")
    Membership.objects.create(project=project, user=analyst, role="analyst")
    for i in range(20):
        SynthesisProtocol.objects.create(name=f"Protocol {i} hot injection", version="1",
                                         description="Cs-oleate injected at 180 °C, DDAB quench")
    now = timezone.now()
    places = ("Desiccator D1", "Fridge F2, shelf 1", "Glovebox G1", "Bench shelf, ambient")
    batches = Batch.objects.bulk_create(
        Batch(project=project, code=f"NC{i:04d}", notes=("washed twice, aged in air" if i % 7 == 0 else "fresh"),
              status="complete", synthesised_at=now - timedelta(days=i % 300)) for i in range(N_BATCHES))
    samples = Sample.objects.bulk_create(
        [Sample(batch=b, code=f"{b.code}-P", form="powder", storage_location=places[i % 4]) for i, b in enumerate(batches)]
        + [Sample(batch=b, code=f"{b.code}-P-AGED", form="powder", storage_location=places[3],
                  ageing_started_at=now - timedelta(days=183), notes="Aliquot aged under ambient conditions.")
           for b in batches])
    ms = Measurement.objects.bulk_create(
        Measurement(sample=s, technique="nmr" if i % 2 else "saxs", label="133Cs one-pulse" if i % 2 else "")
        for i, s in enumerate(samples))
    RawFile.objects.bulk_create(
        RawFile(measurement=m, sha256=f"{m.pk:064d}", original_name=f"{m.sample.code}_{m.technique}.zip",
                size_bytes=1000, detected_format="bruker-topspin", data_kind="nmr-1d", uploaded_by=chemists[0])
        for m in ms)
    runs = AnalysisRun.objects.bulk_create(
        AnalysisRun(project=project, batch=m.sample.batch, measurement=m,
                    routine="nmr.deconvolve" if m.technique == "nmr" else "saxs.size_distribution",
                    requested_by=chemists[k % 3], status=RunStatus.SUCCEEDED,
                    queued_at=now - timedelta(hours=k), finished_at=now - timedelta(hours=k) + timedelta(minutes=1),
                    figure_png=b"\x89PNG" * 2000, figure_svg="<svg/>" * 2000,
                    result={"fit": {"reduced_chi2": 1.03, "r_squared": 0.998, "n_points": 2048},
                            "quantities": {}, "curves_note": "x" * 20000})
        for k, m in enumerate(ms[:N_PENDING_RUNS]))
    quantities = []
    for r in runs:
        if r.routine == "nmr.deconvolve":
            quantities.append(Quantity(run=r, name="n_components", value=3))
            for c, (site, shift) in enumerate((("core", 116.0), ("middle", 108.0), ("surface", 95.0)), start=1):
                for name, value in (("shift_ppm", shift), ("fwhm_hz", 900.0), ("integral_percent", 33.3)):
                    quantities.append(Quantity(run=r, component_label=f"c{c}", assignment=site, name=name,
                                               value=value, stderr=0.1, unit="ppm"))
        else:
            for name in ("mean_diameter_nm", "sd_diameter_nm", "volume_weighted_mean_diameter_nm"):
                quantities.append(Quantity(run=r, name=name, value=8.3, stderr=0.05, unit="nm"))
    Quantity.objects.bulk_create(quantities, batch_size=2000)
    return analyst


def _time(client, url: str) -> dict:
    from django.db import connection

    executed: list[str] = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    for _ in range(3):
        first = client.get(url, secure=True)
        assert first.status_code == 200, (url, first.status_code, first.get("Location"))
    with connection.execute_wrapper(count):
        client.get(url, secure=True)
    times = []
    for _ in range(REQUESTS):
        t0 = time.perf_counter()
        response = client.get(url, secure=True)
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200
    times.sort()
    p95 = times[int(0.95 * len(times)) - 1]
    return {"url": url[:120], "requests": len(times), "queries": len(executed),
            "p50_ms": round(statistics.median(times) * 1e3, 2), "p95_ms": round(p95 * 1e3, 2),
            "max_ms": round(times[-1] * 1e3, 2), "meets_target": p95 < TARGET_P95_S}


def _run(expect_vendor: str | None) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import setup_databases, teardown_databases
    from django.urls import reverse

    if expect_vendor and connection.vendor != expect_vendor:
        raise SystemExit(f"this benchmark needs DATABASE_URL pointing at {expect_vendor}")
    settings.DEBUG = False
    old = setup_databases(verbosity=0, interactive=False)
    try:
        analyst = _populate()
        client = Client(HTTP_HOST="localhost")
        client.force_login(analyst)
        queue = reverse("review_queue")
        search = reverse("search")
        long_query = ("aged NC0500-P desiccator " * 400)[:10_000]
        figures = {
            "queue_page1_of_2000": _time(client, queue),
            "queue_nmr_newest": _time(client, queue + "?technique=nmr&order=newest"),
            "queue_requester_age_filtered": _time(client, queue + "?requester=bench-chemist1&age=over_week"),
            "queue_last_page": _time(client, queue + "?page=100"),
            "search_aged": _time(client, search + "?q=aged"),
            "search_sample_code": _time(client, search + "?q=NC0500-P"),
            "search_storage_place": _time(client, search + "?q=desiccator+d1"),
            "search_10000_characters": _time(client, search + "?q=" + long_query.replace(" ", "+")),
        }
    finally:
        vendor = connection.vendor
        connections.close_all()
        teardown_databases(old, verbosity=0)
    return {"database": vendor, "n_pending_runs": N_PENDING_RUNS, "n_batches": N_BATCHES,
            "n_samples": 2 * N_BATCHES, "target_p95_ms": TARGET_P95_S * 1e3, "pages": figures,
            "meets_target": all(f["meets_target"] for f in figures.values())}


@benchmark("web.review_search", target_s=TARGET_P95_S, repeat=1)
def review_search() -> dict:
    """p50/p95 and queries of the review queue (2,000 pending runs) and search (SQLite)."""
    os.environ.pop("DATABASE_URL", None)
    return _run("sqlite")


@benchmark("web.review_search_pg", target_s=TARGET_P95_S, repeat=1)
def review_search_pg() -> dict:
    """The same on PostgreSQL (DATABASE_URL), where search is full-text."""
    return _run("postgresql")
