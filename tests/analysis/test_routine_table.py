"""The declared routine table (lazy registry) says what the routine modules say."""
import subprocess
import sys

from analysis import registry
from analysis.routine_table import DECLARED, describe, from_modules


def test_declared_table_matches_the_routine_modules():
    assert DECLARED == from_modules(), "run `python -m analysis.routine_table` and commit the table"


def test_every_routine_module_is_in_the_table():
    assert {spec["module"] for spec in DECLARED.values()} == set(registry.ROUTINE_MODULES)


def test_declared_routine_behaves_like_the_registered_one():
    for name, real in registry.load_all().items():
        declared = registry.get_routine(name)
        assert describe(declared.registered()) == describe(real)
        assert declared.func is real.func and declared.plot is real.plot
        assert declared.coerce_params({}) == real.coerce_params({})


def test_list_and_one_routine_import_only_what_they_need():
    probe = ("import sys, analysis.__main__ as m, contextlib, io\n"
             "with contextlib.redirect_stdout(io.StringIO()): m.main(['list'])\n"
             "from analysis.registry import get_routine\n"
             "get_routine('nmr.deconvolve').func\n"
             "bad = [n for n in ('matplotlib', 'pybaselines', 'scipy.signal', 'analysis.xrd.fit', 'analysis.saxs')"
             " if n in sys.modules]\n"
             "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"imported without need: {out}"
