"""Routine registry: name -> callable, version, parameters, accepted input kinds.

A routine is a plain function decorated with `@routine(...)`. Its positional parameters
are the inputs (typed objects from `analysis.data`); its keyword-only parameters, with
defaults, are the user-settable parameters. `python -m analysis list` and the web app's
re-fit form are both generated from this.

Lookups are lazy: names, versions, parameters and the application metadata come from
the declared table in `analysis.routine_table` (plain literals, no numerics imported;
`tests/analysis/test_routine_table.py` checks it against the real modules, and
`python -m analysis.routine_table` rewrites it). A routine's module is imported only
when its function or figure is needed, so `python -m analysis list` and a run of one
routine do not pay for every other routine's imports (pybaselines, scipy.signal,
matplotlib).
"""
from __future__ import annotations

import copy
import importlib
import inspect
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from analysis.errors import InputError
from analysis.parameter_help import parameter_help
from analysis.quantity_labels import QuantityLabel, label_for

if TYPE_CHECKING:  # numpy-free at run time: `python -m analysis list` never imports numerics
    from analysis.result import Result

# Modules that define routines (the declared table says which holds which).
ROUTINE_MODULES = (
    "analysis.nmr.deconvolve",
    "analysis.nmr.t1",
    "analysis.nmr.layer_model",
    "analysis.nmr.quantify",
    "analysis.nmr.hetcor",
    "analysis.saxs",
    "analysis.tem",
    "analysis.pl",
    "analysis.xrd.scherrer",
    "analysis.xrd.profile",
    "analysis.xps.ratios",
)


class _Parameters:
    """Parameter checking shared by a registered routine and its declared twin."""

    name: str
    renamed: dict[str, tuple[str, int | None]]

    def parameters(self) -> dict[str, dict[str, Any]]:  # pragma: no cover - overridden
        raise NotImplementedError

    def quantity_label(self, name: str) -> QuantityLabel:
        """How the quantity `name` of this routine reads (analysis/quantity_labels.py)."""
        return label_for(self.name, name)

    def coerce_params(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Check names and convert CLI strings to the declared types; unknown names are an
        error. Returns every effective parameter, defaults included."""
        known = self.parameters()
        raw = self._translate_renamed(raw)
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise InputError(
                f"unknown parameter(s) for {self.name}: {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        effective = {name: spec["default"] for name, spec in known.items()}
        for name, value in raw.items():
            effective[name] = _coerce(name, value, known[name]["type"])
        return effective

    def _translate_renamed(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Old names to new: wavelength_min_nm=480 becomes wavelength_range_nm=[480, None]."""
        if not self.renamed or not set(raw) & set(self.renamed):
            return raw
        out = {k: v for k, v in raw.items() if k not in self.renamed}
        for old, (new, index) in self.renamed.items():
            if old not in raw:
                continue
            value = _coerce(old, raw[old], "float" if index is not None else "json")
            if index is None:
                out.setdefault(new, value)
            elif value is not None:
                current = _coerce(new, out.get(new), "json")
                ends = list(current) if isinstance(current, (list, tuple)) and len(current) == 2 else [None, None]
                if ends[index] is None:  # a value given under the new name wins
                    ends[index] = value
                out[new] = ends
        return out


@dataclass
class Routine(_Parameters):
    name: str
    version: str
    accepts: tuple[str, ...]
    func: Callable[..., Result]
    plot: Callable[[Result], Any] | None = None
    # Parameters forwarded to the reader rather than the routine (e.g. "q_unit").
    reader_options: tuple[str, ...] = ()
    description: str = ""
    # Number of file inputs: (min, max); max None = any.
    n_inputs: tuple[int, int | None] = (1, 1)
    defaults: dict[str, Any] = field(default_factory=dict)
    # Type names of reader options ("float", "int", "bool", "str"); "str" when not given.
    reader_option_types: dict[str, str] = field(default_factory=dict)
    # What an application needs to know about the routine, declared once here:
    technique: str = ""                      # "nmr", "saxs", ... (from `accepts` if not given)
    title: str = ""                          # human name of its headline, e.g. "SAXS diameter"
    default_for: tuple[str, ...] = ()        # data kinds this routine analyses by default
    # Headline quantities: top-level names (a trailing "*" is a prefix, a leading "*" a
    # suffix) and per-component names; `headline_order` sorts routines on a summary.
    headline: tuple[str, ...] = ()
    headline_components: tuple[str, ...] = ()
    headline_order: int = 100
    calibration: tuple[str, ...] = ()        # parameters an instrument's calibration may fill
    derived: bool = False                    # inputs are other runs' results, not files
    # Old parameter names still accepted (stored runs, scripts): old -> (new, index), the
    # index placing the old single value into the new [low, high] range (None: a rename).
    renamed: dict[str, tuple[str, int | None]] = field(default_factory=dict)

    def parameters(self) -> dict[str, dict[str, Any]]:
        """Every parameter with its default and type name (reader options included)."""
        out: dict[str, dict[str, Any]] = {}
        for p in inspect.signature(self.func).parameters.values():
            if p.kind is inspect.Parameter.KEYWORD_ONLY:
                out[p.name] = {"default": p.default, "type": _type_name(p.annotation)}
        for name in self.reader_options:
            out.setdefault(name, {"default": self.defaults.get(name),
                                  "type": self.reader_option_types.get(name, "str")})
        for name, spec in out.items():
            spec["help"] = parameter_help(self.name, name)
        return out


_ROUTINES: dict[str, Routine] = {}
_loaded = False


def routine(
    name: str,
    *,
    version: str,
    accepts: tuple[str, ...],
    plot: Callable[[Result], Any] | None = None,
    reader_options: tuple[str, ...] = (),
    n_inputs: tuple[int, int | None] = (1, 1),
    defaults: dict[str, Any] | None = None,
    reader_option_types: dict[str, str] | None = None,
    technique: str = "",
    title: str = "",
    default_for: tuple[str, ...] = (),
    headline: tuple[str, ...] = (),
    headline_components: tuple[str, ...] = (),
    headline_order: int = 100,
    calibration: tuple[str, ...] = (),
    derived: bool = False,
    renamed: dict[str, tuple[str, int | None]] | None = None,
) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Register a routine. `plot(result) -> matplotlib Figure` draws its figure; the
    remaining keywords are the routine's description for applications (see Routine)."""

    def wrap(func: Callable[..., Result]) -> Callable[..., Result]:
        from analysis.data import technique_of_kind

        doc = (inspect.getdoc(func) or "").split("\n\n")[0].replace("\n", " ")
        _ROUTINES[name] = Routine(
            name=name, version=version, accepts=accepts, func=func, plot=plot,
            reader_options=reader_options, description=doc, n_inputs=n_inputs,
            defaults=defaults or {}, reader_option_types=reader_option_types or {},
            technique=technique or next((t for t in map(technique_of_kind, accepts) if t), ""),
            title=title or name, default_for=default_for, headline=headline,
            headline_components=headline_components, headline_order=headline_order,
            calibration=calibration, derived=derived, renamed=renamed or {},
        )
        return func

    return wrap


def set_plot(name: str, plot: Callable[[Result], Any]) -> None:
    """Attach a figure function after registration (plots often live below the routine)."""
    _ROUTINES[name].plot = plot


def load_all() -> dict[str, Routine]:
    """Import every routine module and return the registered routines (what the table
    test compares the declared table with)."""
    global _loaded
    if not _loaded:
        for module in ROUTINE_MODULES:
            importlib.import_module(module)
        _loaded = True
    return dict(sorted(_ROUTINES.items()))


class DeclaredRoutine(_Parameters):
    """A routine as the declared table describes it: every attribute of `Routine`, with
    `func` and `plot` imported from its module on first use."""

    def __init__(self, name: str, spec: dict[str, Any]):
        self.name = name
        self.module = spec["module"]
        self.version = spec["version"]
        self.accepts = tuple(spec["accepts"])
        self.description = spec["description"]
        self.n_inputs = tuple(spec["n_inputs"])
        self.reader_options = tuple(spec["reader_options"])
        self.defaults = dict(spec["defaults"])
        self.reader_option_types = dict(spec["reader_option_types"])
        self.technique = spec["technique"]
        self.title = spec["title"]
        self.default_for = tuple(spec["default_for"])
        self.headline = tuple(spec["headline"])
        self.headline_components = tuple(spec["headline_components"])
        self.headline_order = spec["headline_order"]
        self.calibration = tuple(spec["calibration"])
        self.derived = spec["derived"]
        self.renamed = {k: tuple(v) for k, v in spec["renamed"].items()}
        self._parameters = spec["parameters"]

    def parameters(self) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(self._parameters)

    def registered(self) -> Routine:
        """The real routine (imports its module, and only it)."""
        if self.name not in _ROUTINES:
            importlib.import_module(self.module)
        if self.name not in _ROUTINES:
            raise RuntimeError(f"{self.module} did not register {self.name}: run `python -m analysis.routine_table`")
        return _ROUTINES[self.name]

    @property
    def func(self) -> Callable[..., Result]:
        return self.registered().func

    @property
    def plot(self) -> Callable[[Result], Any] | None:
        return self.registered().plot


_DECLARED: dict[str, DeclaredRoutine] = {}


def _declared() -> dict[str, DeclaredRoutine]:
    if not _DECLARED:
        from analysis.routine_table import DECLARED

        _DECLARED.update({name: DeclaredRoutine(name, spec) for name, spec in sorted(DECLARED.items())})
    return _DECLARED


def all_routines() -> dict[str, DeclaredRoutine]:
    return dict(_declared())


def default_routine_for(kind: str) -> str | None:
    """The routine that analyses data of `kind` when a file is uploaded."""
    return next((r.name for r in all_routines().values() if kind in r.default_for), None)


def get_routine(name: str) -> DeclaredRoutine:
    try:
        return _declared()[name]
    except KeyError:
        raise InputError(
            f"unknown routine {name!r}; known: {', '.join(sorted(_declared()))}"
        ) from None


def _type_name(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return "str"
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    text = text.replace(" ", "")
    for name in ("bool", "int", "float", "str"):
        if text == name or text in (f"{name}|None", f"None|{name}", f"Optional[{name}]"):
            return name
    return "json"


def _coerce(name: str, value: Any, type_name: str) -> Any:
    """CLI values arrive as strings; the web app may already send typed JSON."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.lower() in ("none", "null", ""):
        return None
    try:
        if type_name == "bool":
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if type_name == "int":
            return int(text)
        if type_name == "float":
            return float(text)
        if type_name == "json":
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return text  # a plain string for a union-typed parameter
    except ValueError:
        raise InputError(f"parameter {name}={value!r} is not a valid {type_name}") from None
    return text
