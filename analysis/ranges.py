"""One way to give a range to a routine: `<quantity>_range_<unit>` = [low, high], either
end may be None (open). Checked here once, with a message a scientist understands."""
from __future__ import annotations

import math
from typing import Any

from analysis.result import InputError


def parse_range(value: Any, name: str) -> tuple[float | None, float | None]:
    """(low, high) from [low, high] (in either order; None for an open end)."""
    if value is None:
        return None, None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise InputError(f"{name} must be two numbers [low, high] (either may be null), not {value!r}")
    ends = []
    for end in value:
        if end is None:
            ends.append(None)
            continue
        if isinstance(end, bool) or not isinstance(end, (int, float)) or not math.isfinite(end):
            raise InputError(f"{name} must be two numbers [low, high] (either may be null), not {value!r}")
        ends.append(float(end))
    low, high = ends
    if low is not None and high is not None and low > high:
        low, high = high, low
    return low, high
