"""Fixtures for drop folders: a watched folder under tmp_path (the only allowed root), a
batch NC12.8 with samples NC12.8-P and NC12.8-P-AGED, and the real TopSpin experiments
of tests/data/topspin."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone as dt_timezone
from pathlib import Path

import pytest

from tests.labtrack.factories import make_batch, make_sample

TOPSPIN = Path(__file__).resolve().parents[2] / "data" / "topspin"
STRYCHNINE = TOPSPIN / "strychnine-1h" / "10"
ASPIRIN = TOPSPIN / "aspirin-1h" / "1"
# The real experiments were acquired 2006-2020; a measurement may not predate its sample.
PREPARED = datetime(2005, 1, 1, tzinfo=dt_timezone.utc)


@pytest.fixture
def drop_root(tmp_path, settings):
    root = tmp_path / "instruments"
    root.mkdir()
    settings.LABTRACK_DROPFOLDER_ROOTS = [str(root)]
    return root


@pytest.fixture
def samples(members, project):
    batch = make_batch(members["chemist"], project, code="NC12.8")
    return {code: make_sample(members["chemist"], batch, code=code, prepared_at=PREPARED)
            for code in ("NC12.8-P", "NC12.8-P-AGED")}


@pytest.fixture
def nmr_folder(drop_root, members, project, samples):
    from labtrack.dropfolders.services import dropfolder_create

    path = drop_root / "nmr400"
    path.mkdir()
    return dropfolder_create(user=members["manager"], name="NMR 400 export", path=str(path), project=project,
                             technique="nmr", upload_as=members["chemist"], settle_s=0.0)


def copy_experiment(src: Path, dest: Path, order: list[str] | None = None):
    """Yield after each file of `src` is copied into `dest` (in `order`, relative paths)."""
    rels = order or sorted(str(p.relative_to(src)) for p in src.rglob("*") if p.is_file())
    for rel in rels:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, target)
        yield rel
