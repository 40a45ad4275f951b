"""Issue 12 (items 4, 6, 7) in Chromium: the review queue filtered by technique reaches the
newest run, a keyboard accept is undone within its window (nothing sent) and a second one
goes through; search finds "aged", a sample code and a storage place; the sample page and
its label sheet; the home page's scan box opens a sample as a USB scanner would (typing
the label's URL, then Enter). New pages are checked with axe-core (no serious or critical
violations) and screenshotted."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import assert_fits_width, log_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def assert_accessible(page) -> None:
    # Evaluated through DevTools, which the page's CSP does not govern (a <script> tag would be blocked).
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
        .violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))""")
    assert violations == [], f"{page.url}: {violations}"


@pytest.fixture
def queue_lab(members, project):
    from django.utils import timezone

    from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
    from labtrack.measurements.models import Measurement
    from tests.labtrack.factories import make_batch, make_sample

    chemist = members["chemist"]
    now = timezone.now()
    runs = []
    for b, code in enumerate(("NC6.4", "NC8.3", "NC12.8")):
        batch = make_batch(chemist, project, code=code, notes="washed twice with ethyl acetate")
        powder = make_sample(chemist, batch, code=f"{code}-P", storage_location="Desiccator D1")
        aged = make_sample(chemist, batch, code=f"{code}-P-AGED", parent=powder,
                           ageing_started_at=now - timedelta(days=183), storage_location="Bench shelf, ambient",
                           notes="Aliquot aged under ambient conditions for 6 months.")
        for i in range(9):
            nmr = i % 3 == 0
            m = Measurement.objects.create(sample=aged if i % 2 else powder, technique="nmr" if nmr else "saxs",
                                           label="133Cs one-pulse" if nmr else "")
            routine = "nmr.deconvolve" if nmr else "saxs.size_distribution"
            fit = {"reduced_chi2": 1.02 + 0.01 * i, "r_squared": 0.998, "n_points": 2048}
            run = AnalysisRun.objects.create(
                project=project, batch=batch, measurement=m, routine=routine, requested_by=chemist,
                status=RunStatus.SUCCEEDED, queued_at=now - timedelta(hours=100 - 10 * b - i),
                finished_at=now - timedelta(hours=99 - 10 * b - i), result={"fit": fit}, result_sha256="ef" * 32)
            if nmr:
                for label, site, shift, pct in (("c1", "core", 116.2, 18.0), ("c2", "middle", 108.1, 45.0),
                                                ("c3", "surface", 95.3, 37.0)):
                    for name, value, stderr, unit in (("shift_ppm", shift, 0.05, "ppm"), ("fwhm_hz", 900.0, 12.0, "Hz"),
                                                      ("integral_percent", pct, 0.6, "%")):
                        Quantity.objects.create(run=run, component_label=label, assignment=site, name=name,
                                                value=value, stderr=stderr, unit=unit)
                Quantity.objects.create(run=run, name="n_components", value=3)
            else:
                Quantity.objects.create(run=run, name="mean_diameter_nm", value=8.3 - b, stderr=0.04, unit="nm")
            runs.append(run)
    return runs


def test_queue_filter_newest_and_undo(page, shot, live_server, members, queue_lab):
    from playwright.sync_api import expect

    from labtrack.analyses.models import AnalysisRun

    base = live_server.url
    newest_nmr = max((r for r in queue_lab if r.routine == "nmr.deconvolve"), key=lambda r: r.queued_at)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, base, "analyst", "pw-analyst")
    page.goto(f"{base}/review/")
    expect(page.locator("h1")).to_contain_text("(27)")
    page.get_by_label("Technique").select_option("nmr")
    page.get_by_label("Order").select_option("newest")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"technique=nmr"))
    expect(page.locator("h1")).to_contain_text("(9)")
    first = page.locator("[data-queue-item]").first
    expect(first).to_have_id(f"queue-{newest_nmr.pk}")
    expect(first).to_contain_text("reduced χ²")
    expect(first.locator(".queue-components")).to_contain_text("surface")
    assert_fits_width(page)
    assert_accessible(page)
    shot(page, "issue12-queue-nmr-newest", full_page=False)

    # A stray "a": the card says it will accept in 5 s; "u" undoes it, nothing is sent.
    page.keyboard.press("a")
    bar = first.locator("[data-undo-bar]")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text(f"Accepting run #{newest_nmr.pk}")
    shot(page, "issue12-queue-accept-pending", full_page=False)
    page.keyboard.press("u")
    expect(bar).to_contain_text("Undone: nothing was sent.")
    page.wait_for_timeout(6000)  # past the window: still nothing sent
    assert AnalysisRun.objects.get(pk=newest_nmr.pk).review_state == "pending"
    expect(page).to_have_url(re.compile(r"technique=nmr"))
    shot(page, "issue12-queue-accept-undone", full_page=False)

    # Deliberately: "a" and wait; the accept is sent and the page says so.
    page.keyboard.press("a")
    expect(page.locator(".message.success")).to_contain_text(f"Run #{newest_nmr.pk}", timeout=15_000)
    run = AnalysisRun.objects.get(pk=newest_nmr.pk)
    assert run.review_state == "accepted" and run.review_meaning.startswith("Accepted: I have checked")
    expect(page.locator("h1")).to_contain_text("(8)")


def test_search_sample_page_labels_and_scan(page, shot, live_server, members, queue_lab):
    from playwright.sync_api import expect

    from labtrack.samples.models import Sample

    base = live_server.url
    log_in(page, base, "chemist", "pw-chemist")
    search = page.get_by_role("searchbox", name="Search")
    search.fill("aged")
    search.press("Enter")
    expect(page.locator("h1")).to_have_text("Search")
    samples = page.locator(".search-group", has=page.get_by_role("heading", name=re.compile("Samples")))
    expect(samples).to_contain_text("NC12.8-P-AGED")
    assert_accessible(page)
    shot(page, "issue12-search-aged")
    page.goto(f"{base}/search/?q=NC8.3-P")
    expect(page.locator(".search-hits a").first).to_have_text("NC8.3-P")
    page.goto(f"{base}/search/?q=desiccator+d1")
    expect(page.locator(".search-group").first).to_contain_text("stored: Desiccator D1")
    page.goto(f"{base}/search/?q=" + "aged+" * 2000)
    expect(page.locator(".notice")).to_contain_text("Only the first 8 words")

    # The bench tablet: the scanner types the label's URL and Enter into the focused box.
    sample = Sample.objects.get(code="NC8.3-P-AGED")
    page.goto(f"{base}/")
    box = page.locator("[data-scan-box]")
    expect(box).to_be_focused()
    assert_accessible(page)
    shot(page, "issue12-home-scan-box", full_page=False)
    page.keyboard.type(f"{base}/samples/{sample.pk}/")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Sample NC8.3-P-AGED")
    expect(page.locator("img.label-png")).to_be_visible()
    width = 0
    for _ in range(100):  # the PNG is drawn on request; poll (wait_for_function needs eval, which the CSP forbids)
        width = page.evaluate("() => document.querySelector('img.label-png').naturalWidth")
        if width:
            break
        page.wait_for_timeout(100)
    assert width == 590
    assert_accessible(page)
    shot(page, "issue12-sample-page")
    page.get_by_role("link", name="All labels of NC8.3").click()
    expect(page.locator(".label")).to_have_count(2)
    assert_accessible(page)
    shot(page, "issue12-label-sheet")
