"""Scale benchmark worker: `python -m bench.scale_pages N_BATCHES [--out FILE]`.

Seeds (once; kept between runs) a lab of N batches, migrates it to the current code's
schema, and times every cross-batch page and API list through Django's test client
in-process (server time: route, query, render, stream). Prints one JSON document.

Like the deployed gunicorn workers, the process freezes its startup objects out of the
garbage collector (gc.freeze) before timing; BENCH_SCALE_GC_FREEZE=0 measures without.

BENCH_SCALE_SKIP (keys to leave out) and BENCH_SCALE_ONLY (key prefixes to keep), both
comma-separated, narrow the pages timed.

Database: with DATABASE_URL (PostgreSQL) a sibling database `<name>_bench<N>` on the same
server (created when missing); without it a SQLite file under var/bench/. One process
per size, because Django reads its database settings once.
"""
from __future__ import annotations

import gc
import json
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIME_BUDGET_S = float(os.environ.get("BENCH_SCALE_BUDGET_S", "6"))  # per page: stop repeating after this
MAX_REQUESTS = int(os.environ.get("BENCH_SCALE_REQUESTS", "30"))
MIN_REQUESTS = 1


def _database_url(n: int) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        base, _, name = url.rpartition("/")
        name = name.split("?")[0]
        bench_name = f"{name}_bench{n}"
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [bench_name]).fetchone():
                conn.execute(f'CREATE DATABASE "{bench_name}"')
        return f"{base}/{bench_name}"
    folder = REPO / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / f'scale-{n}.sqlite3'}"


def _setup(n: int) -> str:
    os.environ["DATABASE_URL"] = _database_url(n)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")
    os.environ.setdefault("SECRET_KEY", "bench-scale-secret-key-0123456789abcdefghij")
    os.environ.setdefault("LABTRACK_VAR_DIR", str(REPO / "var" / "bench"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return os.environ["DATABASE_URL"].split("://")[0]


def _consume(response) -> int:
    if getattr(response, "streaming", False):
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def _time_page(client, url: str) -> dict:
    from django.db import connection

    gc_pauses: list[float] = []
    gc_started = [0.0]

    def on_gc(phase, info):  # collector pauses inside the timed requests (Python's, not ours)
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            gc_pauses.append(time.perf_counter() - gc_started[0])

    t0 = time.perf_counter()
    response = client.get(url)
    size = _consume(response)
    first = time.perf_counter() - t0
    if response.status_code != 200:
        return {"url": url, "status": response.status_code, "error": "not 200"}
    gc.callbacks.append(on_gc)
    times = [first]
    cpu = []
    spent = first
    while len(times) < MAX_REQUESTS and spent < TIME_BUDGET_S:
        t0, c0 = time.perf_counter(), time.process_time()
        _consume(client.get(url))
        dt = time.perf_counter() - t0
        cpu.append(time.process_time() - c0)
        times.append(dt)
        spent += dt
    gc.callbacks.remove(on_gc)
    if len(times) > 2:
        times = times[1:]  # the first request warmed caches and templates
    times.sort()
    executed = []

    def timed(execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            executed.append(time.perf_counter() - t)

    with connection.execute_wrapper(timed):
        _consume(client.get(url))
    peak_mib = None
    if statistics.median(times) < 5.0:  # tracemalloc slows Python ~2x: only for pages that finish
        gc.collect()
        tracemalloc.start()
        _consume(client.get(url))
        peak_mib = round(tracemalloc.get_traced_memory()[1] / 2 ** 20, 2)
        tracemalloc.stop()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return {"url": url, "requests": len(times), "p50_ms": round(statistics.median(times) * 1e3, 1),
            "p95_ms": round(p95 * 1e3, 1), "max_ms": round(times[-1] * 1e3, 1),
            # This process's CPU per request (Python: ORM, templates, drawing), which the
            # other tenants of a shared machine inflate less than wall time.
            "python_cpu_p50_ms": round(statistics.median(cpu) * 1e3, 1) if cpu else None, "queries": len(executed),
            # Wall time inside the database driver for one request (server execution plus
            # transfer), and the garbage collector's pauses per timed request.
            "sql_ms": round(sum(executed) * 1e3, 1),
            "gc_pause_ms_per_request": round(sum(gc_pauses) * 1e3 / max(1, len(cpu)), 1),
            "gc_pause_max_ms": round(max(gc_pauses, default=0.0) * 1e3, 1),
            "bytes": size, "peak_python_mib": peak_mib}


def pages(n: int) -> dict:
    load_at_start = [round(v, 2) for v in os.getloadavg()]
    t_setup = time.perf_counter()
    vendor = _setup(n)
    from bench.scale_seed import ensure_seeded

    seed = ensure_seeded(n, log=lambda s: print(s, file=sys.stderr, flush=True))
    seed["setup_s"] = round(time.perf_counter() - t_setup, 1)

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from labtrack.ageing.models import Study
    from labtrack.samples.models import Project

    settings.DEBUG = False
    if os.environ.get("BENCH_SCALE_GC_FREEZE", "1") == "1":
        # As the deployed server does (deploy/gunicorn.conf.py, post_worker_init): the
        # objects of a loaded application are frozen out of the garbage collector's full
        # collections, which would otherwise rescan ~150,000 of them during requests.
        gc.collect()
        gc.freeze()
    project = Project.objects.get(name=f"scale-{n}")
    User = get_user_model()
    client = Client(HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO="https")
    client.force_login(User.objects.get(username="scale-chemist"))
    mid = f"B{n // 2}"
    bulk = "quantity=integral_percent|bulk|nmr.deconvolve&x=age_days&accepted=0"
    opa = "quantity=mean_diameter_nm||saxs.size_distribution&x=opa_concentration_molar&accepted=0"
    # The accepted fits' reduced chi² of every routine (NMR, SAXS, XRD: three series):
    # 20,000 points at 10,000 batches, the "figure for 20,000 points".
    chi2 = "quantity=reduced_chi2||&x=age_days&accepted=1"
    urls = {
        "batch_list": reverse("batch_list"),
        "batch_list_filtered": reverse("batch_list") + "?technique=nmr&review=pending&opa_min=0.05",
        "batch_list_sorted": reverse("batch_list") + "?sort=-opa",
        "batch_list_filtered_sorted": reverse("batch_list") + "?q=B1&opa_min=0.05&technique=nmr&review=pending&sort=-opa&page=2",
        "batch_list_sorted_by_measurements": reverse("batch_list") + "?sort=-measurements",
        # Natural order of codes (B2 before B10) read from the stored sort key's index.
        "batch_list_sorted_by_code": reverse("batch_list") + "?sort=code",
        "batch_list_sorted_by_code_desc_page_5": reverse("batch_list") + "?sort=-code&page=5",
        "batch_list_sorted_by_pending": reverse("batch_list") + "?sort=-pending",
        "batch_list_q": reverse("batch_list") + "?q=B1",
        "batch_list_q_sorted": reverse("batch_list") + "?q=B1&sort=-opa",
        "batch_list_q_sorted_by_measurements": reverse("batch_list") + "?q=B1&sort=-measurements",
        "batch_list_q3_sorted": reverse("batch_list") + "?q=B12&sort=code",
        "batch_page": reverse("batch_detail", args=[mid]),
        "trends_bulk_fraction_vs_age": reverse("trends") + "?" + bulk,
        "trends_figure_bulk_fraction_vs_age": reverse("trends_figure") + "?" + bulk,
        "trends_figure_png_bulk_fraction_vs_age": reverse("trends_figure_png") + "?" + bulk,
        # What the page's chart fetches (every point as compact JSON, drawn by uPlot).
        "trends_data_bulk_fraction_vs_age": reverse("trends_data") + "?" + bulk,
        "trends_diameter_vs_opa": reverse("trends") + "?" + opa,
        "trends_figure_diameter_vs_opa": reverse("trends_figure") + "?" + opa,
        "trends_data_diameter_vs_opa": reverse("trends_data") + "?" + opa,
        "trends_chi2_20k_points_vs_age": reverse("trends") + "?" + chi2,
        "trends_figure_chi2_20k_points_vs_age": reverse("trends_figure") + "?" + chi2,
        "trends_figure_png_chi2_20k_points_vs_age": reverse("trends_figure_png") + "?" + chi2,
        "trends_data_chi2_20k_points_vs_age": reverse("trends_data") + "?" + chi2,
        "trends_first_open": reverse("trends"),
        "batch_list_csv": reverse("batch_list_csv"),
        "batch_list_csv_sorted_by_measurements": reverse("batch_list_csv") + "?sort=-measurements",
        "results_csv_bulk_fraction": reverse("results_csv") + "?name=integral_percent&assignment=bulk&accepted=0",
        "api_quantities_diameter_accepted": "/api/v1/quantities/?name=mean_diameter_nm&accepted=1",
        "api_runs": "/api/v1/runs/",
        "api_batches": "/api/v1/batches/",
    }
    study = Study.objects.filter(project=project).first()
    if study:
        urls["study_page"] = reverse("study_detail", args=[study.pk])
    skip = set(filter(None, os.environ.get("BENCH_SCALE_SKIP", "").split(",")))
    # BENCH_SCALE_ONLY=batch_list,batch_page times only pages whose key starts with one of these.
    only = tuple(filter(None, os.environ.get("BENCH_SCALE_ONLY", "").split(",")))
    if only:
        skip |= {key for key in [*urls, "review_queue"] if not key.startswith(only)}
    figures = {}
    for key, url in urls.items():
        if key in skip:
            continue
        figures[key] = _time_page(client, url)
        print(f"  {key:40s} {figures[key].get('p50_ms')} / {figures[key].get('p95_ms')} ms  "
              f"q={figures[key].get('queries')}", file=sys.stderr, flush=True)
    client.force_login(User.objects.get(username="scale-analyst"))
    if "review_queue" not in skip:
        figures["review_queue"] = _time_page(client, reverse("review_queue"))
        figures["review_queue_newest_nmr"] = _time_page(client, reverse("review_queue") + "?technique=nmr&order=newest")
    return {"n_batches": n, "database": vendor, "seed": seed, "pages": figures,
            "gc_frozen_after_setup": os.environ.get("BENCH_SCALE_GC_FREEZE", "1") == "1",
            "load_average_1_5_15_at_start": load_at_start,
            "load_average_1_5_15_at_end": [round(v, 2) for v in os.getloadavg()], "cpus": os.cpu_count(),
            "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


if __name__ == "__main__":
    n_batches = int(sys.argv[1])
    out = pages(n_batches)
    text = json.dumps(out, indent=2)
    if "--out" in sys.argv:
        Path(sys.argv[sys.argv.index("--out") + 1]).write_text(text)
    print(text)
