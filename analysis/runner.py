"""Read files and run a routine on them: the one path shared by the CLI and the web app."""
from __future__ import annotations

import hashlib
import io
import os
from typing import Any, Callable

from analysis import io as readers
from analysis.data import InstrumentData
from analysis.registry import get_routine
from analysis.result import InputError, Result


def sha256_of(path: str) -> str:
    """SHA-256 of a file, or of a folder's files (names and contents, sorted)."""
    h = hashlib.sha256()
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                h.update(os.path.relpath(full, path).encode())
                with open(full, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
        return h.hexdigest()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run_files(name: str, paths: list[str], params: dict[str, Any] | None = None,
              *, data: list[InstrumentData] | None = None,
              on_stage: Callable[[str], None] | None = None) -> Result:
    """Run routine `name` on `paths` with `params` (strings or typed values).

    Returns a Result with routine, version, inputs (path, sha256, format) and every
    effective parameter filled in. Raises InputError for anything the user can fix.
    `data` lets a caller pass objects it has already read (same order as `paths`);
    `on_stage("reading" | "fitting")` reports progress.
    """
    routine = get_routine(name)
    lo, hi = routine.n_inputs
    if len(paths) < lo or (hi is not None and len(paths) > hi):
        want = f"{lo}" if lo == hi else f"{lo} to {hi if hi is not None else 'any number of'}"
        raise InputError(f"{name} takes {want} input file(s); got {len(paths)}")
    effective = routine.coerce_params(params or {})
    reader_opts = {k: effective[k] for k in routine.reader_options}
    routine_opts = {k: v for k, v in effective.items() if k not in routine.reader_options}

    if on_stage:
        on_stage("reading")
    inputs = data if data is not None else [readers.read(p, **reader_opts) for p in paths]
    for path, obj in zip(paths, inputs):
        if obj.kind not in routine.accepts:
            raise InputError(
                f"{name} needs {' or '.join(routine.accepts)} input, but this file is "
                f"{obj.kind} ({obj.format})", path)

    if on_stage:
        on_stage("fitting")
    result = routine.func(*inputs, **routine_opts)
    result.routine = routine.name
    result.version = routine.version
    result.parameters = effective
    result.inputs = [
        {"path": p, "sha256": sha256_of(p), "format": obj.format} for p, obj in zip(paths, inputs)
    ]
    return result


def render_figure(result: Result, fmt: str = "svg") -> bytes:
    """The routine's figure as SVG or PNG bytes (matplotlib Agg backend)."""
    return render_figures(result, (fmt,))[fmt]


def render_figures(result: Result, formats: tuple[str, ...] = ("svg", "png")) -> dict[str, bytes]:
    """The routine's figure drawn once and saved in each format: {fmt: bytes}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    routine = get_routine(result.routine)
    if routine.plot is None:
        raise InputError(f"{result.routine} has no figure")
    fig = routine.plot(result)
    out = {}
    try:
        for fmt in formats:
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=110 if fmt == "png" else None, bbox_inches="tight")
            out[fmt] = buf.getvalue()
    finally:
        plt.close(fig)
    return out
