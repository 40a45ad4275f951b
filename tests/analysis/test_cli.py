"""The command line's contract: exit codes, one-line errors, JSON errors."""
import json
import subprocess
import sys

import pytest

from analysis.io.archive import open_zip
from analysis.result import InputError


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True)


def test_missing_file_is_exit_2_with_one_line(tmp_path):
    proc = run_cli("read", str(tmp_path / "nope.dat"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "no such file" in proc.stderr and "nope.dat" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_routine_json_error(tmp_path):
    proc = run_cli("run", "no.such.routine", "--json")
    assert proc.returncode == 2
    assert "unknown routine" in json.loads(proc.stdout)["error"]


def test_empty_file_is_refused(tmp_path):
    empty = tmp_path / "empty.dat"
    empty.write_bytes(b"")
    proc = run_cli("read", str(empty))
    assert proc.returncode == 2 and "empty" in proc.stderr


def test_zip_with_parent_path_is_refused(tmp_path):
    import zipfile

    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../../etc/passwd", "x")
    with pytest.raises(InputError, match="unsafe member path"):
        open_zip(str(bad))


def test_zip_bomb_is_refused(tmp_path):
    import zipfile

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(InputError, match="zip bomb"):
        open_zip(str(bomb))
