"""What a bench scanner typed: a label's URL (…/samples/<id>/), a sample code or a batch
code. The scanner types the text then Enter; this finds the record, in the user's
projects only."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from labtrack.samples.models import Batch, Sample, code_is
from labtrack.samples.permissions import visible_projects

MAX_SCAN_CHARS = 500
_SAMPLE_PATH = re.compile(r"/samples/(\d+)/?$")


def find_scanned(*, user, text: str) -> Sample | Batch | None:
    """The sample (by label URL or code) or batch (by code) the text names, or None."""
    text = (text or "").strip()[:MAX_SCAN_CHARS]
    if not text:
        return None
    samples = Sample.objects.filter(batch__project__in=visible_projects(user)).select_related("batch")
    path = urlsplit(text).path if "/" in text else ""
    match = _SAMPLE_PATH.search(path)
    if match:
        return samples.filter(pk=int(match.group(1))).first()
    sample = samples.filter(code_is(text)).first()
    if sample is not None:
        return sample
    return Batch.objects.filter(code_is(text), project__in=visible_projects(user)).first()
