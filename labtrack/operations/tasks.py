"""Beat task for the periodic raw-file re-verification (issue 14, item 6). The work and the
rules (one pass at a time, each mismatch e-mailed once) are in
`labtrack.measurements.integrity`."""
from __future__ import annotations

from celery import shared_task

from labtrack.measurements.integrity import PASS_HARD_TIME_LIMIT_S, PASS_SOFT_TIME_LIMIT_S, blob_check_run


@shared_task(soft_time_limit=PASS_SOFT_TIME_LIMIT_S, time_limit=PASS_HARD_TIME_LIMIT_S)
def verify_raw_files() -> int | None:
    """Re-hash every stored raw-file blob; returns the BlobCheck id, None when a pass was
    already running. Not acks_late: a pass killed half-way is not redelivered but marked
    abandoned, and the next day's pass checks everything again."""
    check = blob_check_run()
    return check.pk if check else None
