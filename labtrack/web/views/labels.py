"""A sample's own page (what its label's QR code opens), its printable labels (PNG, an
HTML sheet, PDF) and the bench's scan-to-open box."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from labtrack.core.roles import Action
from labtrack.samples import selectors
from labtrack.samples.memberships import user_can as can
from labtrack.samples.models import Batch, Sample
from labtrack.samples.scan import find_scanned
from labtrack.web import labels
from labtrack.web.views.common import page


@page
def sample_detail(request, pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    measurements = (sample.measurements.select_related("instrument").prefetch_related("raw_files")
                    .order_by("technique", "-measured_at", "-id"))
    return render(request, "web/sample_detail.html", {
        "sample": sample, "batch": sample.batch, "measurements": list(measurements),
        "children": list(sample.children.order_by("prepared_at", "code_sort_key")),
        "label": labels.label_for(request, sample),
        "can_edit": can(request.user, sample.batch.project, Action.EDIT_SAMPLES),
    })


@page
def sample_label_png(request, pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    response = HttpResponse(labels.label_png(request, sample), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="label-{sample.code}.png"'
    return response


def _sheet(request, samples: list[Sample], title: str, filename: str, fmt: str):
    sheet = [labels.label_for(request, s) for s in samples]
    if fmt == "pdf":
        response = HttpResponse(labels.labels_pdf(request, sheet, title), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
        return response
    # /samples/3/labels/ -> /samples/3/labels.pdf (the URL names pair them that way)
    return HttpResponse(labels.labels_html(request, sheet, title, pdf_url=request.path.rstrip("/") + ".pdf"))


@page
def sample_labels(request, pk: int, fmt: str = "html"):
    sample = selectors.sample_get(user=request.user, pk=pk)
    return _sheet(request, [sample], f"Label of {sample.code}", f"label-{sample.code}", fmt)


@page
def batch_labels(request, code: str, fmt: str = "html"):
    batch = selectors.batch_get(user=request.user, code=code)
    samples = selectors.batch_samples(batch=batch)
    if not samples:
        messages.info(request, f"Batch {batch.code} has no samples to label yet.")
        return redirect("batch_detail", code=batch.code)
    return _sheet(request, samples, f"Labels of batch {batch.code}", f"labels-{batch.code}", fmt)


@page
def scan_open(request):
    """?scan=<what the scanner typed>: open that sample (or batch); else say what was not
    found, back on the home page with the box focused."""
    text = request.GET.get("scan", "")
    found = find_scanned(user=request.user, text=text)
    if isinstance(found, Sample):
        return redirect("sample_detail", pk=found.pk)
    if isinstance(found, Batch):
        return redirect("batch_detail", code=found.code)
    shown = text.strip()[:80] or "nothing"
    messages.error(request, f"No sample or batch in your projects matches “{shown}”. Scan the label again, "
                            "or type a sample code such as NC8.3-P.")
    return redirect("home")
