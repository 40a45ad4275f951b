"""The deploy files say what the README promises: template worker unit with memory
ceilings, stale temp clean-up at start, /admin/ kept off the internet."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"


def _unit(name: str) -> dict[str, list[str]]:
    text = (DEPLOY / name).read_text().replace("\\\n", " ")
    keys: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


def test_worker_is_a_template_unit_with_memory_ceilings():
    assert not (DEPLOY / "labtrack-worker.service").exists()
    unit = _unit("labtrack-worker@.service")
    start = unit["ExecStart"][0]
    assert "%i" in start  # the instance name: only meaningful in a template unit
    assert re.search(r"--max-memory-per-child \d+", start)
    assert re.fullmatch(r"\d+G", unit["MemoryMax"][0])


def test_demo_and_compose_workers_recycle_large_children():
    assert "--max-memory-per-child" in (DEPLOY / "run-demo.sh").read_text()
    assert "--max-memory-per-child" in (DEPLOY / "docker-compose.yml").read_text()


def test_worker_exec_start_pre_removes_stale_temp_dirs(tmp_path):
    pre = _unit("labtrack-worker@.service")["ExecStartPre"][0]
    argv = shlex.split(pre)
    assert argv[1] == "-c"
    stale = tmp_path / "labtrack-run-old"
    stale.mkdir()
    os.utime(stale, (time.time() - 7 * 3600,) * 2)
    fresh = tmp_path / "topspin-new"
    fresh.mkdir()
    proc = subprocess.run([sys.executable, "-c", argv[2]], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "TMPDIR": str(tmp_path)}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not stale.exists() and fresh.exists()


def test_nginx_keeps_admin_to_an_allow_list():
    conf = (DEPLOY / "nginx.conf").read_text()
    block = re.search(r"location \^~ /admin/ \{(.*?)\}", conf, re.S)
    assert block, "nginx.conf must have its own /admin/ location"
    rules = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    rules = [r for r in rules if r.startswith(("allow", "deny"))]
    assert rules[-1] == "deny all;" and all(r.startswith("allow") for r in rules[:-1])


def test_restore_compares_checksums_not_size_and_mtime():
    script = (DEPLOY / "restore.sh").read_text()
    assert "sha256sum" in script and "rsync -a --checksum" in script
    assert re.search(r"^\s*rsync -a \"\$BACKUP_DIR", script, re.M) is None
