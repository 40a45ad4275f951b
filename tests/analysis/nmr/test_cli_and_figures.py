"""The NMR routines through `python -m analysis`, and their figures."""
import json
import subprocess
import sys

from analysis.nmr.deconvolve import deconvolve
from analysis.nmr.layer_model import layer_model
from analysis.nmr.t1 import t1
from analysis.runner import render_figure
from analysis.synthetic import nmr as syn

NC83 = json.dumps([{"assignment": "ligand-adjacent", "integral_percent": 8},
                   {"assignment": "core", "integral_percent": 8},
                   {"assignment": "middle", "integral_percent": 39},
                   {"assignment": "surface", "integral_percent": 45}])


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True)


def test_layer_model_runs_without_files_from_cli():
    proc = run_cli("run", "nmr.layer_model", "--param", f"components={NC83}",
                   "--param", "diameter_nm=8.3", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert abs(out["quantities"]["core_boundary_depth_nm"]["value"] - 2.36) < 0.01


def test_layer_model_without_components_is_one_line_exit_2():
    proc = run_cli("run", "nmr.layer_model")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "give a 133Cs spectrum or the components" in proc.stderr


def test_layer_model_unknown_assignment_is_one_line_exit_2():
    bad = json.dumps([{"assignment": "mystery", "integral_percent": 5}])
    proc = run_cli("run", "nmr.layer_model", "--param", f"components={bad}", "--json")
    assert proc.returncode == 2
    assert "has no layer" in json.loads(proc.stdout)["error"]
    assert "Traceback" not in proc.stderr


def _png(result, name):
    result.routine = name
    return render_figure(result, "png")


def test_deconvolution_figure_renders():
    assert _png(deconvolve(syn.cs133_spectrum("NC12.8")), "nmr.deconvolve")[:4] == b"\x89PNG"


def test_t1_figure_renders():
    series = syn.cs133_saturation_recovery("NC8.3", n_points=2048)
    assert _png(t1(series), "nmr.t1")[:4] == b"\x89PNG"


def test_layer_figure_renders():
    result = layer_model(components=json.loads(NC83), diameter_nm=8.3)
    assert _png(result, "nmr.layer_model")[:4] == b"\x89PNG"
