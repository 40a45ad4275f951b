"""Worker memory on a big upload (issue 14, Done-when: a 100 MiB PL CSV analysed with the
worker's peak RSS growing < 1 GiB).

Each measurement runs in a fresh Python process (so nothing a previous step allocated or
the allocator kept counts): the process imports the analysis package, notes its resident
set (VmRSS), reads or analyses the file, and reports its peak resident set (VmHWM, the
kernel's high-water mark). Growth = peak - resident before. Memory figures do not depend
on the machine's load; the wall times do (2 shared cores).

`BENCH_MEMORY_BEFORE_ROOT=/path/to/another/checkout` measures that checkout's code on the
same file too, as "before".
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench import benchmark

MIB = 1024 * 1024
STEPS = ("read", "pl.peak", "engine.execute")
ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import gc, json, resource, sys, time

def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

from analysis import runner
from analysis.io import read
runner.get_routine("pl.peak")
gc.collect()
before = status("VmRSS")
t0 = time.perf_counter()
if sys.argv[1] == "read":
    data = read(sys.argv[2])
    points = len(data.wavelength_nm)
elif sys.argv[1] == "engine.execute":
    from labtrack import engine  # the worker's analysis step: read, fit, figures, curves
    outcome = engine.execute("pl.peak", [(sys.argv[2], "NC12.8-P_pl.csv")], {})
    points = outcome.result["fit"]["n_points"]
else:
    result = runner.run_files("pl.peak", [sys.argv[2]])
    points = None
wall = time.perf_counter() - t0
peak = status("VmHWM")
print(json.dumps({"rss_before_mib": before / 2**20, "peak_rss_mib": peak / 2**20,
                  "peak_growth_mib": (peak - before) / 2**20, "wall_s": wall, "points": points,
                  "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_pl_csv(path: Path, target_bytes: int) -> int:
    """A long but honest PL export (tests/analysis/io/test_bounded_inspection.py's file):
    monotonic wavelengths, a Gaussian band; returns the number of rows."""
    rows_per_block = 200_000
    written, rows, start = 0, 0, 400.0
    with open(path, "w") as out:
        out.write("Wavelength (nm),Intensity (counts)\n")
        while written < target_bytes:
            x = start + np.arange(rows_per_block) * 6e-5
            y = 1000.0 * np.exp(-0.5 * ((x - 515.0) / 8.0) ** 2) + 5.0
            block = "".join(f"{a:.5f},{b:.3f}\n" for a, b in zip(x, y))
            out.write(block)
            written += len(block)
            rows += rows_per_block
            start = float(x[-1]) + 6e-5
    return rows


def measure(root: Path, what: str, path: Path) -> dict:
    """One fresh process running `what` ("read", "pl.peak" = analysis.runner.run_files, or
    "engine.execute" = what the worker runs: read, fit, both figures, the curves packed)
    on `path` with `root`'s code."""
    out = subprocess.run([sys.executable, "-c", _CHILD, what, str(path)], cwd=root, check=True,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(root)})
    return json.loads(out.stdout.strip().splitlines()[-1])


@benchmark("memory.pl_csv_100mib", target_s=None, repeat=1)
def bench_pl_csv_100mib():
    """Peak RSS growth of reading and of analysing (pl.peak) a 100 MiB PL CSV, each in a
    fresh process; target: < 1 GiB growth for the analysis (issue 14)."""
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
        path = Path(folder) / "NC12.8-P_pl.csv"
        rows = write_pl_csv(path, 100 * MIB)
        record: dict = {"file_mib": path.stat().st_size / MIB, "rows": rows, "target_growth_mib": 1024}
        record["after"] = {what: measure(ROOT, what, path) for what in STEPS}
        record["meets_target"] = record["after"]["engine.execute"]["peak_growth_mib"] < 1024
        before_root = os.environ.get("BENCH_MEMORY_BEFORE_ROOT")
        if before_root:
            commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=before_root,
                                    capture_output=True, text=True).stdout.strip()
            record["before"] = {"root": before_root, "commit": commit,
                                **{what: measure(Path(before_root), what, path) for what in STEPS}}
        return record
