"""Every reader on truncated, bit-flipped and random input: the only exception it may
raise is the analysis package's InputError (a chemist's message), never a crash that the
web would turn into a 500 or the worker into a failed run with a traceback.

Seeds are files from the synthetic writers and real instrument files in tests/data. The
number of examples is bounded for CI; `make fuzz` (LABTRACK_FUZZ_EXAMPLES=2000) runs longer.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.io import read
from analysis.result import InputError

EXAMPLES = int(os.environ.get("LABTRACK_FUZZ_EXAMPLES", "40"))
DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, Path]:
    """name -> a valid file or TopSpin folder each reader accepts."""
    from analysis.synthetic import nmr, pl, saxs, tem, topspin, xps, xrd

    root = tmp_path_factory.mktemp("seeds")
    out: dict[str, Path] = {}
    out["pl.csv"] = Path(pl.write_pl_spectrum(root / "pl.csv", "NC12.8"))
    out["saxs.dat"] = Path(saxs.write_saxs_curve(root / "saxs.dat", "NC12.8"))
    out["xps.vms"] = Path(xps.write_vamas(root / "xps.vms", "NC12.8"))
    pattern = xrd.powder_pattern("NC12.8")
    out["xrd.xy"] = Path(xrd.write_xy(str(root / "xrd.xy"), pattern))
    out["xrd.csv"] = Path(xrd.write_eva_csv(str(root / "xrd.csv"), pattern))
    out["xrd.brml"] = Path(xrd.write_brml(str(root / "xrd.brml"), pattern))
    out["tem.tif"] = Path(tem.write_tem_tiff(root / "tem.tif", "NC12.8", size_px=256))
    out["tem.dm3"] = Path(tem.write_tem_dm(root / "tem.dm3", "NC12.8", size_px=256))
    experiments = nmr.write_cs133_experiments(str(root / "nmr"), "NC12.8")
    out["topspin-1d"] = Path(experiments["1d"])
    out["topspin-t1"] = Path(experiments["t1"])
    out["topspin-1d.zip"] = topspin.zip_folder(experiments["1d"], root / "cs133.zip")
    for real in ("xrd/BT86.raw", "xrd/Cu3Au-1.raw", "xrd/format1.raw",
                 "xrd/Si-Std_SRM640d_D8D_20-97_7_16hm.brml", "xps/regular.vms"):
        out["real:" + real] = DATA / real
    real_1d = next((DATA / "topspin" / "strychnine-1h").rglob("acqus"), None)
    if real_1d is not None:
        out["real:topspin-1h"] = real_1d.parent
    for name, path in out.items():
        read(str(path))  # every seed is a readable file: the mutations, not the seeds, are under test
    return out


mutation = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0.0, 1.0)),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 7)), min_size=1, max_size=16)),
    st.tuples(st.just("overwrite"), st.floats(0.0, 1.0), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("text"), st.floats(0.0, 1.0), st.sampled_from([b"abc", b"nan", b"-", b"1e999", b"\x00", b",,,", b"\n\n"])),
    st.tuples(st.just("random"), st.binary(min_size=0, max_size=2048)),
)


def _mutate(data: bytes, how: tuple) -> bytes:
    kind = how[0]
    if kind == "truncate":
        return data[: int(len(data) * how[1])]
    if kind == "flip":
        buf = bytearray(data)
        for where, bit in how[1]:
            if buf:
                buf[min(int(where * len(buf)), len(buf) - 1)] ^= 1 << bit
        return bytes(buf)
    if kind in ("overwrite", "text"):
        at = int(len(data) * how[1])
        return data[:at] + how[2] + data[at + len(how[2]):]
    return how[1]


def _target_file(path: Path, pick: float) -> Path:
    """The file to damage: the path itself, or one file of a TopSpin folder."""
    if path.is_file():
        return path
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return files[min(int(pick * len(files)), len(files) - 1)]


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed_name=st.sampled_from(sorted([
    "pl.csv", "saxs.dat", "xps.vms", "xrd.xy", "xrd.csv", "xrd.brml", "tem.tif", "tem.dm3",
    "topspin-1d", "topspin-t1", "topspin-1d.zip", "real:xrd/BT86.raw",
    "real:xrd/Cu3Au-1.raw", "real:xrd/format1.raw", "real:xrd/Si-Std_SRM640d_D8D_20-97_7_16hm.brml",
    "real:xps/regular.vms", "real:topspin-1h"])),
    how=mutation, pick=st.floats(0.0, 1.0))
def test_a_damaged_file_is_read_or_refused_with_an_input_error(seeds, tmp_path_factory, seed_name, how, pick):
    if seed_name not in seeds:
        pytest.skip(f"{seed_name} not available")
    seed = seeds[seed_name]
    work = tmp_path_factory.mktemp("case")
    copy = work / seed.name
    if seed.is_dir():
        shutil.copytree(seed, copy)
    else:
        shutil.copy2(seed, copy)
    victim = _target_file(copy, pick)
    victim.write_bytes(_mutate(victim.read_bytes(), how))
    try:
        read(str(copy))
    except InputError as exc:
        assert str(exc).strip(), "an InputError must say what is wrong"
    finally:
        shutil.rmtree(work, ignore_errors=True)
