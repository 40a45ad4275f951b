"""XPS benchmarks: reading a Kratos-style VAMAS file and computing atomic ratios."""
from __future__ import annotations

import os
import tempfile

from bench import benchmark


def _kratos_file() -> tuple[tempfile.TemporaryDirectory, str]:
    from analysis.synthetic.xps import write_vamas

    folder = tempfile.TemporaryDirectory(prefix="bench_xps_")
    return folder, str(write_vamas(os.path.join(folder.name, "NC8.3.vms"), "NC8.3"))


@benchmark("xps.read_vamas", target_s=0.3)
def read_vamas():
    """Read a 5-region Kratos VAMAS file (1,200 channels, kinetic-energy axis)."""
    from analysis.io.vamas import read_vamas as read

    folder, path = _kratos_file()
    return lambda: (folder, read(path))


@benchmark("xps.atomic_ratios", target_s=0.3)
def atomic_ratios():
    """Shirley backgrounds, constrained doublet fits and ratios for 5 regions."""
    from analysis.io.vamas import read_vamas as read
    from analysis.xps import atomic_ratios as run

    folder, path = _kratos_file()
    spectra = read(path)
    folder.cleanup()
    return lambda: run(spectra)
