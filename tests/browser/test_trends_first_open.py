"""Issue 12 item 5 in Chromium on the demo lab: the trends page opened with no choice made
shows the 133Cs bulk fraction against sample age, accepted and pending fits told apart,
with error bars, and offers its figure and data for download. Issue 16: the chart is drawn
in the browser (uPlot, from trends/data.json) with zoom and hover; the server SVG/PNG are
downloads; axe-core finds no serious violation."""
from __future__ import annotations

import json
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

    chart = page.locator("[data-trend-plot][data-ready='1']")
    expect(chart).to_be_visible()
    expect(chart.locator("canvas")).to_have_count(1)
    # What trends.js drew on the canvas: a bar per point with an error, filled accepted
    # and open pending markers (the fixture accepts one fit and leaves the rest pending).
    drawn = {k: int(chart.get_attribute(f"data-drawn-{k}")) for k in ("bars", "accepted", "pending")}
    assert drawn["accepted"] >= 1 and drawn["pending"] >= 1, drawn
    assert drawn["accepted"] + drawn["pending"] == n_values and drawn["bars"] >= 1, drawn
    data = page.evaluate("() => document.querySelector('[data-trend-plot]').trendData")
    states = [s["state"] for s in data["series"]]
    assert "accepted" in states and "pending" in states
    # Pending rings are drawn after (above) the accepted markers, never hidden under them.
    assert states == sorted(states), states  # "accepted" < "pending": every accepted series first
    assert re.search("age", data["x_label"], re.I) and data["unit"] == "%"

    # Hover a pending point: its batch, sample, value ± error and review state.
    pending = next(s for s in data["series"] if s["state"] == "pending")
    chart.scroll_into_view_if_needed()
    x, y = page.evaluate("""([x, y]) => { const u = document.querySelector('[data-trend-plot]').uplot;
        const r = u.over.getBoundingClientRect();
        return [r.left + u.valToPos(x, 'x'), r.top + u.valToPos(y, 'y')]; }""", [pending["x"][0], pending["y"][0]])
    page.mouse.move(x, y)
    tip = page.locator(".trend-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("pending review")
    expect(tip).to_contain_text(data["batches"][pending["batch"][0]])
    expect(tip).to_contain_text("±")
    # The precision rule: the error to two significant figures ("15.21 ± 0.39 %", not 0.394).
    expect(tip).to_contain_text(re.compile(r"\d\.\d\d ± 0\.\d\d %"))
    shot(page, "trends-first-open-hover")
    page.mouse.move(0, 0)

    # Zoom: drag a box over the left half of the plot; the x range narrows.
    x_max_before = page.evaluate("() => document.querySelector('[data-trend-plot]').uplot.scales.x.max")
    over = chart.locator(".u-over").bounding_box()
    page.mouse.move(over["x"] + 5, over["y"] + 5)
    page.mouse.down()
    page.mouse.move(over["x"] + over["width"] / 2, over["y"] + over["height"] - 5, steps=5)
    page.mouse.up()
    x_max_after = page.evaluate("() => document.querySelector('[data-trend-plot]').uplot.scales.x.max")
    assert x_max_after < x_max_before
    page.locator(".u-over").dblclick()

    # The server figure stays a download, with matplotlib's error bars (LineCollection).
    svg_link = summary.get_by_role("link", name="SVG", exact=True)
    svg = page.request.get(base + svg_link.get_attribute("href")).text()
    assert "LineCollection" in svg, "no error bars in the trends figure"
    assert re.search(r"age", svg, re.I)
    for link in ("SVG", "PNG"):
        expect(summary.get_by_role("link", name=link, exact=True)).to_be_visible()
    assert_fits_width(page)
    shot(page, "trends-first-open")
    from tests.browser.test_batch_compare import _axe_serious

    violations = _axe_serious(page)
    assert violations == [], json.dumps(violations, indent=1)

    # Without a mouse: Tab to the chart, step through the points with the arrow keys (the
    # tooltip follows and a live region reads it out), Enter opens the point's run.
    chart.focus()
    page.keyboard.press("Home")
    expect(tip).to_be_visible()
    first = tip.inner_text()
    page.keyboard.press("ArrowRight")
    expect(tip).not_to_have_text(first)
    expect(page.locator("[aria-live=polite]").filter(has_text="Point 2 of")).to_have_count(1)
    page.keyboard.press("End")
    expect(page.locator("[aria-live=polite]").filter(has_text=f"Point {n_values} of {n_values}")).to_have_count(1)
    run_id = re.search(r"run #(\d+)", tip.inner_text()).group(1)
    shot(page, "trends-keyboard-last-point")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/runs/{run_id}/$"))
