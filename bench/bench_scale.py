"""Scale benchmarks (issue 16).

- `scale.pages_1k`, `scale.pages_10k`: every cross-batch page and API list on a lab of
  1,000 / 10,000 batches (bench/scale_seed.py shapes it; seeded once, kept between runs)
  through Django's test client: p50/p95 server time, this process's CPU per request,
  query counts, peak Python memory. PostgreSQL when DATABASE_URL is set, else SQLite.
  Each size runs in its own process (bench/scale_pages.py), since Django reads its
  database settings once.
- `scale.cli`: whole-process wall time of `python -m analysis list` and of
  `python -m analysis run nmr.deconvolve` on a synthetic 133Cs TopSpin spectrum.

Figures depend on the machine's load (2 CPUs shared with other work here): the results
record the load average.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import benchmark

REPO = Path(__file__).resolve().parent.parent


def _pages(n: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = out.name
    subprocess.run([sys.executable, "-m", "bench.scale_pages", str(n), "--out", path], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    record = json.loads(Path(path).read_text())
    os.unlink(path)
    targets = {"batch_list": 100, "batch_list_filtered": 100, "batch_list_sorted": 100,
               "batch_list_filtered_sorted": 100, "batch_list_sorted_by_measurements": 100,
               "batch_list_sorted_by_code": 100, "batch_list_sorted_by_code_desc_page_5": 100, "batch_page": 100,
               "review_queue": 150, "review_queue_newest_nmr": 150, "api_batches": 100,
               "trends_bulk_fraction_vs_age": 200, "trends_diameter_vs_opa": 200,
               "trends_figure_bulk_fraction_vs_age": 500, "trends_figure_diameter_vs_opa": 500,
               "api_quantities_diameter_accepted": 100, "api_runs": 100}
    record["targets_p95_ms"] = targets
    record["meets_targets"] = {k: record["pages"][k].get("p95_ms", 1e9) < v for k, v in targets.items()
                               if k in record["pages"]}
    return record


@benchmark("scale.pages_1k", repeat=1)
def pages_1k() -> dict:
    """Cross-batch pages and API lists on 1,000 batches (p50/p95, queries, peak memory)."""
    return _pages(1000)


@benchmark("scale.pages_10k", repeat=1)
def pages_10k() -> dict:
    """Cross-batch pages and API lists on 10,000 batches (p50/p95, queries, peak memory)."""
    return _pages(10000)


def _wall(cmd: list[str], repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "max_s": round(max(times), 3), "repeat": repeat}


@benchmark("scale.cli", repeat=1)
def cli() -> dict:
    """Whole-process time of `python -m analysis list` and `run nmr.deconvolve` (133Cs)."""
    from analysis.synthetic import nmr, topspin

    with tempfile.TemporaryDirectory() as tmp:
        folder = topspin.write_topspin_1d(Path(tmp) / "expno10", nmr.cs133_spectrum("NC8.3", seed=1))
        spectrum = str(topspin.zip_folder(folder, Path(tmp) / "NC8.3_cs133.zip"))
        python = [sys.executable, "-m", "analysis"]
        _wall(python + ["list"], 1)  # warm the page cache and bytecode
        listing = _wall(python + ["list"], 15)
        run = _wall(python + ["run", "nmr.deconvolve", spectrum], 9)
        bare = _wall([sys.executable, "-c", "pass"], 9)
    return {"list": listing, "run_nmr_deconvolve": run, "python_startup": bare,
            "targets_s": {"list": 0.3, "run_nmr_deconvolve": 1.0},
            "meets_target": listing["median_s"] < 0.3 and run["median_s"] < 1.0,
            "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()], "cpus": os.cpu_count()}
