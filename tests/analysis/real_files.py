"""Where the tests find real instrument files: the project's own copies in tests/data/
(see its README for sources and licences), else the team's shared/data/ beside the repo."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST_DATA = ROOT / "tests" / "data"
SHARED_DATA = ROOT / ".." / "shared" / "data"


def real_file(relative: str) -> Path:
    """tests/data/<relative> if the repository carries it, else ../shared/data/<relative>."""
    own = TEST_DATA / relative
    return own if own.exists() else SHARED_DATA / relative
