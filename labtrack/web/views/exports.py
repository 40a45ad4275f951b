"""Results of record as CSV, with provenance: the same numbers as the batch page, the
trends page and the API (one selector, labtrack.analyses.selectors.quantities_of_record)."""
from __future__ import annotations

from django.http import StreamingHttpResponse

from labtrack.analyses.selectors import quantities_of_record, results_csv_rows
from labtrack.core import csv_safe
from labtrack.web.views.common import page

FILTERS = ("name", "assignment", "technique", "routine", "batch", "sample")


class _Echo:
    def write(self, value):
        return value


@page
def results_csv(request):
    """?name=&technique=&routine=&batch=&sample=&assignment=; `accepted=0` adds the
    unreviewed candidates (flagged in the of_record column)."""
    filters = {key: request.GET[key] for key in FILTERS if request.GET.get(key)}
    quantities = quantities_of_record(user=request.user, accepted_only=request.GET.get("accepted", "1") != "0",
                                      **filters)
    writer = csv_safe.writer(_Echo())
    rows = results_csv_rows(quantities)
    response = StreamingHttpResponse((writer.writerow(r) for r in rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="results-of-record.csv"'
    return response
