"""The naming rule: a regular expression with a group named `sample` that finds a sample
code in a file or data set name. The rule is checked once when a folder is configured
(`check_naming_rule`) and applied by `sample_code_candidates`."""
from __future__ import annotations

import os
import re

from django.core.exceptions import ValidationError


def check_naming_rule(rule: str) -> re.Pattern:
    """The compiled rule, or a ValidationError a chemist can act on."""
    try:
        pattern = re.compile(rule)
    except re.error as exc:
        raise ValidationError({"naming_rule": f"The naming rule is not a valid regular expression ({exc})."}) from None
    if "sample" not in pattern.groupindex:
        raise ValidationError({"naming_rule": "The naming rule needs a group named 'sample', e.g. "
                                              r"^(?P<sample>NC\d+\.\d+-[A-Z]+)"})
    return pattern


def sample_code_candidates(rule: str, name: str, *, is_file: bool = True) -> list[str]:
    """Sample codes to look up for `name`, longest first: what the rule's `sample` group
    found, then the same with trailing '-part's removed (NC12.8-P-AGED-cs133 →
    NC12.8-P-AGED, NC12.8-P, ...). A file's extension is not part of its name (a folder
    name such as NC12.8-P has none). [] when the rule finds nothing."""
    pattern = re.compile(rule)
    found = (pattern.search(os.path.splitext(name)[0]) if is_file else None) or pattern.search(name)
    code = (found.group("sample") or "").strip() if found else ""
    if not code:
        return []
    parts = code.split("-")
    return ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]
