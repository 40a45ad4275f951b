"""Command line: `python -m analysis list | read PATH | run ROUTINE PATH... [--param N=V]`.

See ANALYSIS_CONTRACT.md. Exit 0 on success; on a user error exit 2 with one line on
stderr (and `{"error": ...}` on stdout with --json), never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from analysis.errors import InputError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="routines, versions, parameters, inputs")
    p_list.add_argument("--json", action="store_true")
    p_read = sub.add_parser("read", help="detected format, metadata and array shapes")
    p_read.add_argument("path")
    p_read.add_argument("--json", action="store_true")
    p_read.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="reader option, e.g. q_unit=1/nm or pixel_size_nm=0.2")
    p_run = sub.add_parser("run", help="run a routine on files")
    p_run.add_argument("routine")
    p_run.add_argument("paths", nargs="*")
    p_run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p_run.add_argument("--json", action="store_true")
    p_run.add_argument("--plot", metavar="OUT.png|OUT.svg")
    args = parser.parse_args(argv)

    try:
        if args.command == "list":
            return _list(args.json)
        if args.command == "read":
            return _read(args.path, _pairs(args.option), args.json)
        return _run(args.routine, args.paths, _pairs(args.param), args.json, args.plot)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if getattr(args, "json", False):
            print(json.dumps({"error": str(exc)}))
        return 2


def _pairs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"parameter {item!r} should look like NAME=VALUE")
        out[name.strip()] = value
    return out


def _list(as_json: bool) -> int:
    from analysis.registry import all_routines

    table = {
        name: {
            "version": r.version,
            "accepts": list(r.accepts),
            "description": r.description,
            # The declared table's defaults are plain literals already (no numpy here).
            "parameters": {k: {"default": v["default"], "type": v["type"], "help": v.get("help", "")}
                           for k, v in r.parameters().items()},
        }
        for name, r in all_routines().items()
    }
    if as_json:
        print(json.dumps(table, indent=2))
    else:
        for name, info in table.items():
            print(f"{name} {info['version']}  accepts: {', '.join(info['accepts'])}")
            if info["description"]:
                print(f"    {info['description']}")
            for pname, spec in info["parameters"].items():
                print(f"    --param {pname}=...  (default {spec['default']!r}, {spec['type']})"
                      + (f"  {spec['help']}" if spec["help"] else ""))
    return 0


def _read(path: str, options: dict[str, str], as_json: bool) -> int:
    from analysis import io as readers
    from analysis.result import _plain

    data = readers.read(path, **options)
    info = {
        "path": path,
        "format": data.format,
        "kind": data.kind,
        "metadata": _plain(data.metadata),
        "arrays": data.shapes(),
    }
    if as_json:
        print(json.dumps(info, indent=2))
    else:
        print(f"{path}: {data.format} ({data.kind})")
        for k, v in info["metadata"].items():
            print(f"  {k}: {v}")
        for k, v in info["arrays"].items():
            print(f"  array {k}: {v}")
    return 0


def _run(name: str, paths: list[str], params: dict[str, str], as_json: bool, plot: str | None) -> int:
    from analysis.runner import render_figure, run_files

    result = run_files(name, paths, params)
    if plot:
        fmt = os.path.splitext(plot)[1].lstrip(".").lower()
        if fmt not in ("png", "svg"):
            raise InputError(f"--plot must end in .png or .svg, not {plot!r}")
        with open(plot, "wb") as fh:
            fh.write(render_figure(result, fmt))
    out = result.to_json()
    if as_json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{out['routine']} {out['version']}")
        for k, q in out["quantities"].items():
            err = f" ± {q['stderr']:.3g}" if isinstance(q["stderr"], (int, float)) else ""
            print(f"  {k} = {q['value']}{err} {q['unit']}".rstrip())
        for c in out["components"]:
            qs = ", ".join(f"{k}={v['value']:.4g}" if isinstance(v["value"], (int, float)) else f"{k}={v['value']}"
                           for k, v in c["quantities"].items())
            print(f"  [{c['label']}] {c['assignment']}: {qs}")
        for w in out["warnings"]:
            print(f"  warning: {w}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
