"""The vendored JCAMP-DX reader (analysis.io.jcamp) reads every TopSpin parameter file
exactly as nmrglue's read_jcamp does."""
import warnings
from pathlib import Path

import pytest
from nmrglue.fileio.bruker import read_jcamp as nmrglue_read_jcamp

from analysis.io.jcamp import read_jcamp
from analysis.synthetic import nmr, topspin

DATA = Path(__file__).resolve().parents[1] / "data"
NAMES = {"acqus", "acqu2s", "acqu", "procs", "proc2s", "proc", "acqu2", "proc2"}


def _parameter_files():
    return sorted(p for p in DATA.rglob("*") if p.is_file() and p.name in NAMES)


def test_there_are_real_parameter_files_to_compare():
    assert len(_parameter_files()) >= 4


@pytest.mark.parametrize("path", _parameter_files(), ids=lambda p: str(p.relative_to(DATA)))
def test_same_dictionary_as_nmrglue_on_real_files(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert read_jcamp(str(path), encoding="latin-1") == nmrglue_read_jcamp(str(path), encoding="latin-1")


def test_same_dictionary_on_synthetic_and_odd_files(tmp_path):
    folder = topspin.write_topspin_1d(tmp_path / "e1", nmr.cs133_spectrum("NC8.3", seed=1))
    odd = tmp_path / "odd"
    odd.write_text("##TITLE= x\n$$ comment\n##$A= (0..3)\n1 2.5 <s>\n-inf\n##$B= <two\nlines>\n##$C= yes\n"
                   "##$D= no\n##$E= 1e3\n##$F=\n##$G= word\nstray line\n##$H (broken\n##END=\n")
    for path in [*(p for p in folder.rglob("*") if p.name in NAMES), odd]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert read_jcamp(str(path)) == nmrglue_read_jcamp(str(path)), path
