"""The slow case of the 2,000-example fuzz run: a TopSpin parameter file that ends inside a
multi-line value (an array `(0..n)` short of its n+1 values, or a `<string` without its
`>`). The vendored nmrglue parser read past the end for ever (growing the string each
time); now the cost is bounded by the file: the key is skipped and the reader says what is
missing with an InputError."""
from __future__ import annotations

import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest

from analysis.io import read
from analysis.io.jcamp import read_jcamp
from analysis.result import InputError

REAL_1H = Path(__file__).resolve().parents[2] / "data" / "topspin" / "strychnine-1h"


class _StillParsing(BaseException):
    """Not an Exception: the parser's own `except Exception` must not swallow it."""


@contextmanager
def at_most(seconds: int):
    """Fail instead of hanging the suite (the old parser never returned)."""
    def stop(signum, frame):
        raise _StillParsing

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    except _StillParsing:
        pytest.fail(f"still parsing after {seconds} s: the parser does not stop at the end of the file")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("ending", [
    "##$AMP= (0..31)\n100 100 100\n",                  # array short of its 32 values
    "##$HUGE= (0..99999999999)\n1 2 3\n",              # an absurd declared count
    "##$ORIGIN= <Bruker BioSpin GmbH\nno closing",     # string without its '>'
])
def test_a_parameter_file_ending_inside_a_value_is_read_up_to_there(tmp_path, ending):
    path = tmp_path / "acqus"
    path.write_text("##TITLE= Parameter file\n##$BF1= 400.13\n" + ending, encoding="latin-1")
    with at_most(10):
        dic = read_jcamp(str(path), encoding="latin-1")
    assert dic["BF1"] == 400.13
    key = ending[3:ending.index("=")]
    assert key not in dic


@pytest.mark.skipif(not REAL_1H.is_dir(), reason="tests/data/topspin/strychnine-1h not available")
def test_a_topspin_dataset_whose_acqus_is_cut_inside_an_array_is_read_or_refused_quickly(tmp_path):
    copy = tmp_path / "strychnine-1h"
    shutil.copytree(REAL_1H, copy)
    acqus = next(copy.rglob("acqus"))
    text = acqus.read_text(encoding="latin-1")
    cut = text.index("##$AMP= (0..31)") + len("##$AMP= (0..31)\n") + 10  # inside AMP's values
    acqus.write_text(text[:cut], encoding="latin-1")
    with at_most(20):
        try:
            data = read(str(copy))
        except InputError as refused:
            assert str(refused).strip()
        else:  # AMP is not needed for the spectrum: it is read from the rest
            assert data is not None
