"""Issue 12 item 5 in Chromium on the demo lab: the trends page opened with no choice made
shows the 133Cs bulk fraction against sample age, accepted and pending fits told apart,
with error bars, and offers its figure and data for download."""
from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def demo_ageing(transactional_db, settings):
    """The demo lab with the 133Cs one-pulse spectra of NC12.8 (fresh and aged) and NC8.3
    deconvolved here, in place of a worker; one NC12.8 fit accepted, the rest pending."""
    from django.contrib.auth import get_user_model

    from labtrack.analyses.models import AnalysisRun
    from labtrack.analyses.services import run_claim, run_execute, runs_request_defaults
    from labtrack.measurements.models import Measurement
    from labtrack.operations.demo import seed_demo
    from tests.labtrack.factories import mark_accepted

    settings.CELERY_TASK_ALWAYS_EAGER = False
    seed_demo(request_analyses=False, log=lambda msg: None)
    users = get_user_model().objects
    spectra = (Measurement.objects.filter(sample__batch__code__in=["NC12.8", "NC8.3"], technique="nmr",
                                          label__icontains="one-pulse").order_by("pk"))
    runs = []
    for m in spectra:
        for run in runs_request_defaults(measurement=m, raw_files=list(m.raw_files.all()),
                                         user=users.get(username="chemist")):
            if run.routine == "nmr.deconvolve":
                run_execute(run_id=run.pk, attempt=run_claim(run_id=run.pk, task_id=f"trends-{run.pk}"))
                runs.append(run)
    succeeded = AnalysisRun.objects.filter(pk__in=[r.pk for r in runs], status="succeeded")
    assert succeeded.count() == len(runs) >= 4
    mark_accepted(succeeded.filter(batch__code="NC12.8").first(), users.get(username="analyst"))
    return succeeded


def test_first_open_shows_bulk_fraction_against_age_with_error_bars(page, shot, live_server, demo_ageing):
    from playwright.sync_api import expect

    from tests.browser.conftest import assert_fits_width, log_in

    base = live_server.url
    log_in(page, base, "chemist", "chemist-demo")
    page.goto(f"{base}/trends/")
    picker = page.get_by_label("Quantity")
    expect(picker.locator("option:checked")).to_have_text(re.compile(r"^Integral — bulk"))
    expect(page.get_by_label("Against").locator("option:checked")).to_have_text(re.compile("age", re.I))
    summary = page.locator("#plot-h + p")
    expect(summary).to_contain_text("accepted (filled circles)")
    expect(summary).to_contain_text("pending review (open circles)")
    n_values = int(re.match(r"(\d+) value", summary.inner_text()).group(1))
    assert n_values >= len(demo_ageing) - 1  # every fit with a bulk component (a bulk-free one may be missing)

    figure = page.locator("img.figure")
    expect(figure).to_be_visible()
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    svg = page.request.get(base + figure.get_attribute("src")).text()
    # Error bars: matplotlib writes each errorbar's bars as a LineCollection group.
    assert "LineCollection" in svg, "no error bars in the trends figure"
    assert re.search(r"age", svg, re.I)
    for link in ("SVG", "PNG"):
        expect(summary.get_by_role("link", name=link, exact=True)).to_be_visible()
    assert_fits_width(page)
    shot(page, "trends-first-open")
