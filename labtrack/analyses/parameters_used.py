"""The parameters a run was fitted with, as the run page shows them: the value given, or
for one left to the routine (None), the value the routine reports having chosen
(n_components picked by BIC, the fit window it used) rather than the word "default"."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models.fields.json import KeyTransform

from labtrack.analyses.models import AnalysisRun


@dataclass(frozen=True)
class ParameterUsed:
    name: str
    value: Any                # what the fit used (None: the routine reports nothing)
    chosen_by_routine: bool   # the run left it to the routine, which chose `value`
    default: Any = None


def _reported(name: str, fit: dict[str, Any], quantities: dict[str, Any]) -> Any:
    for key in (name, f"{name}_used"):
        if fit.get(key) is not None:
            return fit[key]
    for key in (name, f"{name}_used"):
        if key in quantities and quantities[key] is not None:
            return quantities[key]
    return None


def parameters_used(run: AnalysisRun, defaults: dict[str, Any] | None = None) -> list[ParameterUsed]:
    """Every stored parameter of `run` in order, with the value the fit used. Reads only
    the result's small `fit` block (never the whole result or the curves)."""
    fit = (AnalysisRun.objects.filter(pk=run.pk).annotate(fit_block=KeyTransform("fit", "result"))
           .values_list("fit_block", flat=True).first()) or {}
    if not isinstance(fit, dict):
        fit = {}
    quantities = {q.name: (q.value if q.value is not None else q.value_json)
                  for q in run.quantities.all() if not q.component_label}
    out = []
    for name, value in (run.parameters or {}).items():
        default = (defaults or {}).get(name)
        if value is None:
            out.append(ParameterUsed(name, _reported(name, fit, quantities), True, default))
        else:
            out.append(ParameterUsed(name, value, False, default))
    return out
