"""Nucleus labels as spectrometers and people write them, mapped to one spelling.

TopSpin writes NUC1 as "133Cs", older parameter sets and exports as "<133Cs>" or
"<<133Cs>>" (JCAMP string brackets kept by some tools), people type "Cs133", "133cs",
"Cs-133" or "CS133". The site libraries and the field calculation are keyed by the
canonical mass-number-first form ("133Cs"), so every label is normalised on the way in;
a label that is not a nucleus ("off", "") is returned stripped and unchanged.
"""
from __future__ import annotations

import re

_MASS_FIRST = re.compile(r"^(\d{1,3})\s*[-_ ]?\s*([A-Za-z]{1,2})$")
_SYMBOL_FIRST = re.compile(r"^([A-Za-z]{1,2})\s*[-_ ]?\s*(\d{1,3})$")


def normalise_nucleus(label: object) -> str:
    """'<<133Cs>>', '<133Cs>', 'Cs133', '133cs', 'Cs-133', ' CS133 ' -> '133Cs';
    '1h' -> '1H'; anything else stripped of brackets and quotes, otherwise as given."""
    text = str(label or "").strip()
    text = text.strip("<>\"' \t").strip()
    match = _MASS_FIRST.match(text) or _SYMBOL_FIRST.match(text)
    if not match:
        return text
    a, b = match.groups()
    mass, symbol = (a, b) if a.isdigit() else (b, a)
    return f"{int(mass)}{symbol[0].upper()}{symbol[1:].lower()}"
