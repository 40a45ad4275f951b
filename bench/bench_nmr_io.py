"""Bruker TopSpin reading: processed 1D, the same from its fid, a 16 x 8k pseudo-2D."""
from __future__ import annotations

import tempfile

import numpy as np

from analysis.data import NmrSeries
from analysis.io.topspin import read_topspin, read_topspin_series
from analysis.synthetic.paper import CS133_SF_MHZ, TABLE2
from analysis.synthetic.topspin import gaussian_lines_spectrum, write_topspin_1d, write_topspin_pseudo2d
from bench import benchmark


def _spectrum(si: int = 8192):
    lines = [(line.shift_ppm, line.fwhm_khz * 1e3 / CS133_SF_MHZ, line.integral_percent)
             for line in TABLE2["NC8.3"]]
    return gaussian_lines_spectrum(lines, si=si)


def _experiment_1d() -> tuple[tempfile.TemporaryDirectory, str]:
    tmp = tempfile.TemporaryDirectory(prefix="bench-topspin-")
    return tmp, str(write_topspin_1d(tmp.name, _spectrum()))


@benchmark("nmr.read_processed_1d", target_s=0.05)
def read_processed_1d():
    """Read an 8k-point processed 133Cs 1D (acqus, procs, 1r) from its experiment folder."""
    tmp, folder = _experiment_1d()
    return lambda: (tmp, read_topspin(folder, source="processed"))


@benchmark("nmr.read_fid_1d", target_s=0.1)
def read_fid_1d():
    """Process the same experiment from its 4k-complex-point fid (filter delay, EM, FT, phase)."""
    tmp, folder = _experiment_1d()
    return lambda: (tmp, read_topspin(folder, source="fid"))


@benchmark("nmr.read_pseudo2d_2rr", target_s=0.2)
def read_pseudo2d_2rr():
    """Read a 16 x 8192 saturation-recovery 2rr tiled in 4 x 1024 submatrices, with vdlist."""
    base = _spectrum()
    delays = np.geomspace(0.01, 200.0, 16)
    series = NmrSeries(ppm=base.ppm, intensity=np.outer(1 - np.exp(-delays / 10), base.intensity),
                       delays_s=delays, nucleus="133Cs", sf_mhz=CS133_SF_MHZ)
    tmp = tempfile.TemporaryDirectory(prefix="bench-topspin-")
    folder = str(write_topspin_pseudo2d(tmp.name, series, xdim=(4, 1024)))
    return lambda: (tmp, read_topspin_series(folder))


_REAL = __import__("pathlib").Path(__file__).resolve().parents[1] / "tests" / "data" / "topspin"


@benchmark("nmr.read_fid_real_128k", target_s=0.5)
def read_fid_real():
    """Process a real 400 MHz 1H fid (40k complex points, zero-filled to SI 128k) as TopSpin
    would, from tests/data/topspin/strychnine-1h."""
    folder = _REAL / "strychnine-1h" / "10"
    if not folder.exists():
        return {"skipped": f"{folder} not found"}
    return lambda: read_topspin(str(folder), source="fid")


@benchmark("nmr.t1_real_ir", target_s=1.0)
def t1_real_ir():
    """nmr.t1 of a real 600 MHz 1H inversion-recovery ser (10 x 8k, processed from the ser)
    over one peak (tests/data/topspin/cyclosporin-t1ir)."""
    from analysis.nmr.t1 import t1

    folder = _REAL / "cyclosporin-t1ir" / "1"
    if not folder.exists():
        return {"skipped": f"{folder} not found"}
    series = read_topspin_series(str(folder), source="fid")
    return lambda: t1(series, fit_range_ppm=[4.2, 4.5], site_library={})  # not a DDAB sample
