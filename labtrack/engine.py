"""The engine: the only module of `labtrack` that calls the pure `analysis` package
(import-linter checks it). It knows no Django model: stored files come in as (path,
original name) pairs, results go out as plain dicts and rows.

What LabTrack knows about a technique (default routine per kind of data, headline
quantities, calibration parameters, titles) is declared next to each routine in
`analysis/` and read here from the registry.

Blobs are stored under their checksum, with no name; `analysis` readers recognise files
by name and content, so each input is materialised under its original name in a private
temp folder before it is read: a symlink when the caller has a local path (the filesystem
storage), else the bytes streamed from an opener in 1 MiB chunks (object storage: the
worker needs no shared disk, and memory holds one chunk whatever the file's size).
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from contextlib import closing, contextmanager
from functools import lru_cache
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterator, Union

from analysis import io as readers
from analysis.io import archive
from analysis.data import technique_of_kind
from analysis import traces
from analysis.quantity_labels import label_for
from analysis.registry import all_routines, default_routine_for, get_routine
from analysis.result import InputError, Result, plain
from analysis.runner import render_figures, run_files, sha256_of

log = logging.getLogger(__name__)

UserInputError = InputError
file_sha256 = sha256_of
# A stored input: a local path, or a callable opening a binary stream of its bytes.
Source = Union[str, Callable[[], IO[bytes]]]
COPY_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class RoutineInfo:
    """What the application shows and does per routine (from analysis' registry)."""

    name: str
    technique: str
    title: str
    headline: tuple[str, ...]
    headline_components: tuple[str, ...]
    headline_order: int
    calibration: tuple[str, ...]
    derived: bool


def routine_info(name: str) -> RoutineInfo:
    r = get_routine(name)
    return RoutineInfo(name=r.name, technique=r.technique, title=r.title, headline=r.headline,
                       headline_components=r.headline_components, headline_order=r.headline_order,
                       calibration=r.calibration, derived=r.derived)


@lru_cache(maxsize=4096)
def quantity_label(routine: str, name: str) -> QuantityLabelInfo:
    """Label, kind and unit of a routine's quantity as declared in analysis/quantity_labels.py
    (a routine no longer installed still gets the shared label of the name)."""
    try:
        declared = get_routine(routine).quantity_label(name)
    except InputError:
        declared = label_for(routine, name)
    return QuantityLabelInfo(label=declared.label, kind=declared.kind, unit=declared.unit)


@dataclass(frozen=True)
class QuantityLabelInfo:
    label: str
    kind: str   # measure, count, ratio, flag, list, text
    unit: str


def routines_with_headline() -> list[RoutineInfo]:
    """Routines that have headline numbers, in summary order."""
    infos = [routine_info(name) for name in all_routines()]
    return sorted((i for i in infos if i.headline or i.headline_components), key=lambda i: i.headline_order)


def technique_of(kind: str) -> str:
    """Technique a kind of file belongs to (a SAXS curve uploaded as XPS is refused)."""
    return technique_of_kind(kind)


def calibration_parameters(routine: str) -> tuple[str, ...]:
    """Instrument calibration keys the routine takes as parameters."""
    return get_routine(routine).calibration


@dataclass
class FileInfo:
    format: str
    kind: str
    metadata: dict[str, Any]
    read_in_full: bool = True  # False: a big file checked from its start; the analysis reads it all


@dataclass
class Outcome:
    result: dict[str, Any]
    curves: dict[str, Any]
    figure_svg: str
    figure_png: bytes
    quantities: list[dict[str, Any]] = field(default_factory=list)
    curve_arrays: bytes = b""          # the curves as one .npz (traces.pack_curves)


def safe_disk_name(name: str, max_bytes: int = 200) -> str:
    """`name` shortened to fit a file system's 255-byte limit, keeping its extension (readers
    recognise files by it). The name as uploaded is stored unchanged elsewhere."""
    name = os.path.basename(name.replace("\\", "/")) or "file"
    if len(name.encode()) <= max_bytes:
        return name
    stem, ext = os.path.splitext(name)
    ext = ext.encode()[:40].decode(errors="ignore")
    room = max_bytes - len(ext.encode())
    return stem.encode()[:room].decode(errors="ignore") + ext


def remove_stale_temp_dirs(max_age_hours: float = 6) -> None:
    """Remove run and archive temp folders left by killed workers (see analysis.io.archive)."""
    archive.remove_stale_temp_dirs(max_age_hours=max_age_hours)


@contextmanager
def named_inputs(files: list[tuple[Source, str]]) -> Iterator[list[str]]:
    """Yield paths named as uploaded for [(source, original_name), ...], where a source is
    a local path (linked) or an opener (its stream copied in chunks). The temp folder
    (under TMPDIR) and its copies are removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="labtrack-run-") as tmp:
        paths = []
        for i, (source, name) in enumerate(files):
            folder = os.path.join(tmp, str(i))
            os.mkdir(folder)
            target = os.path.join(folder, safe_disk_name(name))
            if callable(source):
                try:
                    stream = source()
                except FileNotFoundError:
                    raise InputError("is missing from LabTrack's file storage; an administrator must restore it "
                                     "(manage.py verify_raw_files lists what is missing)", name) from None
                with closing(stream), open(target, "wb") as out:
                    shutil.copyfileobj(stream, out, COPY_CHUNK_BYTES)
            else:
                os.symlink(os.path.abspath(source), target)
            paths.append(target)
        yield paths


def inspect_file(path: str, original_name: str) -> FileInfo:
    """Detect the format of an uploaded file and parse its acquisition metadata.
    Raises InputError (message names the file) when it cannot be read."""
    with named_inputs([(path, original_name)]) as (named,):
        try:
            inspection = readers.inspect(named)
        except InputError as exc:
            raise InputError(exc.message, original_name) from None
        except Exception as exc:  # a reader tripped on malformed content: the user's file, not a 500
            log.exception("reader failed on %s", original_name)
            raise InputError(f"could not be read: part of the file is malformed ({type(exc).__name__}: "
                             f"{str(exc)[:200]}). If the instrument wrote it like this, please report it "
                             "with the file.", original_name) from None
    return FileInfo(format=inspection.format, kind=inspection.kind, metadata=json_safe(inspection.metadata),
                    read_in_full=inspection.read_in_full)


def default_routine(kind: str) -> str | None:
    """The routine run automatically on a new file of this kind."""
    return default_routine_for(kind)


def routine_version(name: str) -> str:
    return get_routine(name).version


def routine_parameters(name: str) -> dict[str, dict[str, Any]]:
    return get_routine(name).parameters()


def check_parameters(name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Every effective parameter of `name`; InputError for unknown names or bad values."""
    return get_routine(name).coerce_params(parameters)


def routine_names() -> list[str]:
    return list(all_routines())


def execute(routine: str, files: list[tuple[Source, str]], parameters: dict[str, Any],
            *, on_stage: Callable[[str], None] = lambda stage: None) -> Outcome:
    """Run `routine` on stored files and return everything to save. InputError = the
    user's problem (stored as the run's error); anything else is a bug or a fault."""
    with named_inputs(files) as paths:
        try:
            result: Result = run_files(routine, paths, parameters, on_stage=on_stage)
        except InputError as exc:
            # Name the file as uploaded, not by its private temp path.
            names = dict(zip(paths, (name for _, name in files)))
            raise InputError(exc.message, names.get(exc.path, exc.path)) from None
    for entry, (_, name) in zip(result.inputs, files):
        entry["path"] = name
    on_stage("plotting")
    figures = render_figures(result, ("svg", "png"))
    svg, png = figures["svg"].decode(), figures["png"]
    payload = result.to_json()
    return Outcome(
        result=payload,
        curves=result.to_json(with_curves=True).get("curves", {}),
        figure_svg=svg,
        figure_png=png,
        quantities=quantity_rows(payload),
        curve_arrays=traces.pack_curves(result.curves),
    )


def quantity_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten a result's quantities and components into Quantity rows."""
    rows = []

    def add(name: str, q: dict, label: str = "", assignment: str = "") -> None:
        value = q.get("value")
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        rows.append({
            "name": name, "value": float(value) if numeric else None,
            "value_json": None if numeric else value, "stderr": q.get("stderr"),
            "unit": q.get("unit", ""), "component_label": label, "assignment": assignment,
        })

    for name, q in payload.get("quantities", {}).items():
        add(name, q)
    for comp in payload.get("components", []):
        for name, q in comp.get("quantities", {}).items():
            add(name, q, comp.get("label", ""), comp.get("assignment", ""))
    return rows


def json_safe(value: Any) -> Any:
    return plain(value)


def stability_assess(*, ages_days: list[float], values: list[float], stderrs: list[float | None],
                     baseline_window_days: float, threshold_kind: str, threshold_amount: float,
                     model: str | None = None) -> dict[str, Any]:
    """analysis.stability.assess: baseline, change, flags, trend with band, time to the
    threshold with its one-sided 95 % bound (ICH Q1E), as plain data (days, per month)."""
    from analysis.stability import assess

    return assess(ages_days, values, stderrs, baseline_window_days, threshold_kind, threshold_amount, model=model)


def stability_models() -> tuple[str, ...]:
    """Trend models a study may force (else AIC chooses)."""
    from analysis.stability import MODELS

    return MODELS


# Traces for the compare view (declared in analysis/traces.py).
TraceAxis = traces.Axis
trace_spec = traces.trace_spec
pack_curves = traces.pack_curves
minmax_decimate = traces.minmax_decimate
rounded_list = traces.rounded
normalised_trace = traces.normalised


def trace_routines(technique: str) -> list[str]:
    """Routines whose stored curves are a measurement's trace for `technique`."""
    return [name for name, spec in traces.TRACES.items() if spec.technique == technique]


def stored_curves(*, arrays: bytes | None, curves_json: dict | None, wanted: set[str]) -> dict:
    """A run's curves from its .npz blob, else (runs from before the blobs) its JSON curves."""
    if arrays:
        return traces.unpack_curves(bytes(arrays), wanted)
    return {k: v for k, v in traces.curves_from_json(curves_json or {}).items() if k in wanted}


def curves_from_json(curves: dict) -> dict:
    """Stored JSON curves as arrays (for packing runs from before the .npz blobs)."""
    return traces.curves_from_json(curves)
