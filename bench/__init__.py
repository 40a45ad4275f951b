"""Benchmark harness: `python -m bench NAME [NAME ...]` (or `python -m bench --list`).

A benchmark is a function registered with `@benchmark("name", target_s=...)` in a
`bench/bench_*.py` module. It may return a setup-free callable to time (then the harness
times only that), or do its own timing and return a dict of figures to record. Results go
to `bench/results/<name>.json` with median/min/max. Timing never decides a test's fate.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Benchmark:
    name: str
    func: Callable[[], Any]
    target_s: float | None
    repeat: int
    description: str


BENCHMARKS: dict[str, Benchmark] = {}


def benchmark(name: str, *, target_s: float | None = None, repeat: int = 7):
    """Register `func() -> callable | dict`. A returned callable is timed `repeat` times."""

    def wrap(func: Callable[[], Any]) -> Callable[[], Any]:
        doc = (func.__doc__ or "").strip().split("\n")[0]
        BENCHMARKS[name] = Benchmark(name, func, target_s, repeat, doc)
        return func

    return wrap


def isolated_var_dir(prefix: str) -> str:
    """A fresh temporary folder for the database, media and broker files a benchmark
    writes, set in the environment before Django reads its settings (an earlier
    module's choice stands: settings are read once per process)."""
    import os
    import tempfile

    var = tempfile.mkdtemp(prefix=prefix)
    os.environ.setdefault("LABTRACK_VAR_DIR", var)
    os.environ.setdefault("MEDIA_ROOT", os.path.join(var, "media"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")
    return var
