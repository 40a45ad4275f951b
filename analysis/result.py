"""The result of a routine: quantities with uncertainties, components, fit statistics.

Shape follows ANALYSIS_CONTRACT.md; `Result.to_json()` is what the CLI prints and what
the web app stores, so the key names here are part of the public contract.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.errors import InputError  # noqa: F401  (re-exported: its historic home)


@dataclass
class Q:
    """A value with its one-sigma uncertainty (or None) and unit."""

    value: Any
    stderr: float | None = None
    unit: str = ""

    def to_json(self) -> dict:
        return {"value": _plain(self.value), "stderr": _plain(self.stderr), "unit": self.unit}


@dataclass
class Component:
    """One fitted component (an NMR line, an XRD reflection, an XPS region...)."""

    label: str
    quantities: dict[str, Q]
    assignment: str = ""

    def to_json(self) -> dict:
        return {
            "label": self.label,
            "assignment": self.assignment,
            "quantities": {k: q.to_json() for k, q in self.quantities.items()},
        }


@dataclass
class Result:
    """Everything a routine returns. No file I/O happens in routines; the runner adds
    `routine`, `version`, `inputs` and `parameters` before serialising."""

    quantities: dict[str, Q] = field(default_factory=dict)
    components: list[Component] = field(default_factory=list)
    fit: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Arrays for plotting and storage: name -> dict of equal-length 1-D arrays, e.g.
    # {"spectrum": {"ppm": ..., "data": ..., "fit": ..., "c1": ...}}.
    curves: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    # Anything else a figure needs that is not a curve (e.g. an overlay image).
    extras: dict[str, Any] = field(default_factory=dict)
    routine: str = ""
    version: str = ""
    inputs: list[dict] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_json(self, *, with_curves: bool = False) -> dict:
        out = {
            "routine": self.routine,
            "version": self.version,
            "inputs": self.inputs,
            "parameters": {k: _plain(v) for k, v in self.parameters.items()},
            "quantities": {k: q.to_json() for k, q in self.quantities.items()},
            "components": [c.to_json() for c in self.components],
            "fit": {k: _plain(v) for k, v in self.fit.items()},
            "warnings": list(self.warnings),
        }
        if with_curves:
            out["curves"] = {
                name: {k: _plain(np.asarray(v)) for k, v in cols.items()}
                for name, cols in self.curves.items()
            }
        return out


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays to JSON-safe Python; NaN and inf become None."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# Public name for callers outside this module (the web app stores JSON-safe metadata).
plain = _plain
