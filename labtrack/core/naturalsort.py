"""Natural order for codes and labels: NC6.4 < NC10.4, p2 < p10 (not text order)."""
from __future__ import annotations

import re

_PARTS = re.compile(r"(\d+(?:\.\d+)?)")


def natural_key(text: str) -> tuple:
    """Sort key splitting `text` into text and numbers (decimals included: NC8.9 < NC12.8)."""
    return tuple((0, float(part), "") if i % 2 else (1, 0.0, part.casefold())
                 for i, part in enumerate(_PARTS.split(text or "")) if part)
