"""Natural order for codes and labels: NC6.4 < NC10.4, p2 < p10 (not text order).

`natural_key` sorts in Python; `natural_sort_text` is the same order as a plain string,
stored beside a code (NaturalSortKeyField) so the database can sort and index it."""
from __future__ import annotations

import re

from django.db import models

_PARTS = re.compile(r"(\d+(?:\.\d+)?)")
# Integer parts are zero-padded to this many digits in the stored text (longer numbers
# keep their digits and still sort after shorter ones, just not padded).
_INTEGER_DIGITS = 12
SORT_TEXT_MAX_LENGTH = 255
# A part's end: below every character of a code (a space included, so "C " sorts after
# "C0" as in natural_key). PostgreSQL text cannot hold NUL, so \x01; the rare \x00/\x01
# inside a code are read as \x02.
_END = "\x01"
_BELOW_END = {0: "\x02", 1: "\x02"}


def natural_key(text: str) -> tuple:
    """Sort key splitting `text` into text and numbers (decimals included: NC8.9 < NC12.8)."""
    return tuple((0, float(part), "") if i % 2 else (1, 0.0, part.casefold())
                 for i, part in enumerate(_PARTS.split(text or "")) if part)


def natural_sort_text(text: str) -> str:
    """`text` as a string whose byte (code point) order is `natural_key`'s order.

    Each part is tagged ("0" number, "1" text, as numbers sort before text in
    natural_key) and ended by _END, lower than any character a part can hold, so a
    part that stops sorts before one that goes on ("nc" < "nca", "c" < "c ", 8.1 <
    8.15). A number is its zero-padded integer digits and its fraction digits without
    trailing zeros, so 8.30 and 8.3 are equal, as floats are."""
    out = []
    for i, part in enumerate(_PARTS.split(text or "")):
        if not part:
            continue
        if i % 2:
            integer, _, fraction = part.partition(".")
            out.append("0" + (integer.lstrip("0") or "0").rjust(_INTEGER_DIGITS, "0") + fraction.rstrip("0") + _END)
        else:
            out.append("1" + part.casefold().translate(_BELOW_END) + _END)
    return "".join(out)[:SORT_TEXT_MAX_LENGTH]


class NaturalSortKeyField(models.CharField):
    """`natural_sort_text` of another field of the row, set whenever the row is saved or
    bulk-created (as auto_now sets a date), so no writer can forget it. Compared byte by
    byte on PostgreSQL (COLLATE "C"): a language collation ignores the punctuation and
    control characters the key relies on. SQLite compares bytes already."""

    def __init__(self, *args, source: str = "code", **kwargs):
        self.source = source
        kwargs.setdefault("max_length", SORT_TEXT_MAX_LENGTH)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, value in (("max_length", SORT_TEXT_MAX_LENGTH), ("editable", False), ("default", "")):
            if kwargs.get(key, value) == value:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params

    def pre_save(self, model_instance, add):
        value = natural_sort_text(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value
