"""Run named benchmarks and record median/min/max in bench/results/<name>.json."""
from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import secrets
import platform
import statistics
import sys
import time
from datetime import datetime, timezone

import bench
from bench import BENCHMARKS

RESULTS_DIR = os.path.join(os.path.dirname(__file__), "results")
# Django's settings refuse to start without a real key unless DEBUG is on; a benchmark runs
# the production settings (DEBUG off) and signs nothing that outlives it.
os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(50))


def _load_all() -> None:
    for mod in pkgutil.iter_modules(bench.__path__):
        if mod.name.startswith("bench_"):
            importlib.import_module(f"bench.{mod.name}")


def run_one(name: str) -> dict:
    b = BENCHMARKS[name]
    prepared = b.func()
    record: dict = {
        "name": name,
        "description": b.description,
        "target_s": b.target_s,
        "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
    }
    if callable(prepared):
        prepared()  # warm-up: imports, caches, JIT of nothing, but first-call costs
        times = []
        for _ in range(b.repeat):
            t0 = time.perf_counter()
            prepared()
            times.append(time.perf_counter() - t0)
        record.update(median_s=statistics.median(times), min_s=min(times), max_s=max(times),
                      repeat=b.repeat)
        if b.target_s is not None:
            record["meets_target"] = record["median_s"] < b.target_s
    else:
        record.update(prepared)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(os.path.join(RESULTS_DIR, f"{name}.json"), "w") as fh:
        json.dump(record, fh, indent=2, default=str)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="benchmark names (prefix match); none = all")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    _load_all()
    if args.list:
        for name, b in sorted(BENCHMARKS.items()):
            print(f"{name:40s} target {b.target_s} s  {b.description}")
        return 0
    names = sorted(BENCHMARKS) if not args.names else [
        n for n in sorted(BENCHMARKS) if any(n == a or n.startswith(a) for a in args.names)]
    if not names:
        print(f"no benchmark matches {args.names}", file=sys.stderr)
        return 2
    for name in names:
        rec = run_one(name)
        if "median_s" in rec:
            flag = "" if rec.get("meets_target") is None else ("  ok" if rec["meets_target"] else "  SLOWER THAN TARGET")
            print(f"{name:40s} median {rec['median_s']*1e3:9.2f} ms  min {rec['min_s']*1e3:9.2f}  "
                  f"max {rec['max_s']*1e3:9.2f}  target {rec['target_s']}{flag}")
        else:
            summary = {k: v for k, v in rec.items() if k not in ("machine", "description", "recorded_at")}
            print(f"{name:40s} {json.dumps(summary, default=str)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
