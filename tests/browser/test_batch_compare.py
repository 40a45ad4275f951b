"""Issue 12 in Chromium on the demo lab: the NC12.8 batch page at 1366 px (key results as
one table about two screens high, fresh and aged columns, a run finishing while the page is
open gains its review badge and its key results without a reload), the compare view
overlaying the seven 133Cs spectra and zooming, and axe-core on both pages."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.browser.conftest import assert_fits_width

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
SCREEN_PX = (1366, 768)
FRESH_133CS = "133Cs one-pulse, 24 kHz MAS"
NC_BATCHES = ("NC6.4", "NC7.7", "NC8.3", "NC8.9", "NC9.9", "NC10.4", "NC12.8")


def _execute(run) -> None:
    """What a worker does with a run's message, in this process (claim, then analyse)."""
    from labtrack.analyses.services import run_claim, run_execute

    attempt = run_claim(run_id=run.pk, task_id=f"browser-test-{run.pk}")
    run_execute(run_id=run.pk, attempt=attempt)


@pytest.fixture
def demo_lab(transactional_db, settings):
    """The demo lab without its worker: NC12.8's measurements (but its SAXS curve) and the
    fresh 133Cs spectra of the seven NC batches analysed here. Ageing-study measurements
    stay unanalysed (their cards show 'Queued'), as on a demo whose worker is behind."""
    from labtrack.analyses.models import AnalysisRun
    from labtrack.analyses.services import runs_request_defaults
    from labtrack.measurements.models import Measurement
    from labtrack.operations.demo import seed_demo

    settings.CELERY_TASK_ALWAYS_EAGER = False
    seed_demo(request_analyses=False, log=lambda msg: None)
    chemist = __import__("django.contrib.auth", fromlist=["get_user_model"]).get_user_model().objects.get(
        username="chemist")
    wanted = list(Measurement.objects.filter(sample__batch__code="NC12.8", label__in=[
        FRESH_133CS, "133Cs saturation recovery", "Powder XRD, Cu Kα", "SAXS, colloid in capillary",
        "TEM, holey carbon grid", "PL emission, 365 nm excitation", "XPS core levels, pass energy 20 eV",
        "133Cs one-pulse after 6 months"]))
    wanted += list(Measurement.objects.filter(label=FRESH_133CS, sample__batch__code__in=NC_BATCHES)
                   .exclude(sample__batch__code="NC12.8"))
    runs = {}
    for m in wanted:
        for run in runs_request_defaults(measurement=m, raw_files=list(m.raw_files.all()), user=chemist):
            runs[m.label, m.sample.batch.code] = run
    waiting = runs.pop(("SAXS, colloid in capillary", "NC12.8"))
    for run in runs.values():
        _execute(run)
    assert AnalysisRun.objects.filter(status="succeeded").count() == len(runs)
    return {"waiting": waiting, "fresh_133cs": [m.pk for m in wanted if m.label == FRESH_133CS]}


@pytest.fixture
def wide_page(chromium):
    """A 1366 x 768 page (a laptop); every CSP report fails the test, as in conftest."""
    context = chromium.new_context(viewport={"width": SCREEN_PX[0], "height": SCREEN_PX[1]}, device_scale_factor=1)
    context.set_default_timeout(30_000)
    pg = context.new_page()
    blocked: list[str] = []
    pg.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield pg
    context.close()
    assert blocked == [], f"the CSP blocked something: {blocked}"


def _log_in(page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("chemist")
    page.get_by_label("Password").fill("chemist-demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/batches/")


def _load_lazy_images(page) -> None:
    height = page.evaluate("document.documentElement.scrollHeight")
    for y in range(0, height, 600):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(40)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function("() => [...document.images].every(i => i.complete)")


def _axe_serious(page) -> list[dict]:
    """axe-core's serious and critical violations on the page (WCAG 2.x A/AA rules). The
    script is evaluated through the DevTools protocol, which the page's CSP does not block."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return result


def test_batch_page_and_compare_view_on_the_demo(wide_page, shot, live_server, demo_lab):
    from playwright.sync_api import expect

    page, base = wide_page, live_server.url
    _log_in(page, base)
    page.goto(f"{base}/batches/NC12.8/")

    table = page.locator("table.key-table")
    expect(table).to_be_visible()
    headers = table.locator("thead th.kt-sample")
    header_texts = headers.all_inner_texts()
    assert any("fresh" in t for t in header_texts) and any("aged" in t for t in header_texts), header_texts
    assert any("NC12.8-P-AGED" in t and "d old" in t for t in header_texts), header_texts
    # Rows are quantities with their technique, read as a person would.
    expect(table.locator("tbody th.kt-technique", has_text="XRD size and markers")).to_be_visible()
    expect(table.locator("th.kt-label", has_text="Size is a lower bound")).to_be_visible()
    for raw in ("mean_diameter_nm", "size_lower_bound", "True", "False"):
        assert raw not in table.inner_text(), raw
    t1_text = table.locator("tbody", has=page.locator("th.kt-technique", has_text="NMR T1")).inner_text()
    assert " ms" in t1_text and " 0.0" not in t1_text, t1_text  # 19.77 ms, not 0.01977 s
    # Fresh and aged 133Cs values of one site side by side in one row.
    bulk_shift = table.locator("tr", has=page.locator("th.kt-label", has_text="bulk · Shift"))
    assert bulk_shift.locator("td a").count() >= 2
    bottom = page.evaluate("document.querySelector('#key-results').getBoundingClientRect().bottom + window.scrollY")
    assert bottom <= 2.05 * SCREEN_PX[1], f"key results end at {bottom:.0f} px: more than two screens"
    assert_fits_width(page)

    # The SAXS run was still queued: it finishes while the page is open.
    waiting = demo_lab["waiting"]
    card = page.locator(f".run-card[data-run-id='{waiting.pk}']")
    expect(card.locator("[data-role=status]")).to_have_text("Queued")
    expect(table.locator("th.kt-technique", has_text="SAXS diameter")).to_have_count(0)
    _execute(waiting)
    expect(card.locator("[data-role=review]")).to_be_visible(timeout=30_000)
    expect(card.locator("[data-role=review]")).to_have_text("Pending review")
    expect(card.locator("[data-role=quantities]")).to_contain_text("Mean diameter")
    expect(page.locator("#key-results[data-refreshed]")).to_have_count(1, timeout=15_000)
    expect(page.locator("table.key-table tbody th.kt-technique", has_text="SAXS diameter")).to_be_visible()
    saxs_cells = page.locator("table.key-table tbody", has=page.locator("th.kt-technique", has_text="SAXS diameter"))
    expect(saxs_cells.locator("td a").first).to_contain_text(" nm")

    _load_lazy_images(page)
    shot(page, "40-batch-NC12.8-1366px")
    shot(page, "41-batch-NC12.8-first-two-screens", full_page=False)
    violations = _axe_serious(page)
    assert violations == [], json.dumps(violations, indent=1)

    # One demo lab for both pages: seeding and fitting it is most of this test's time.
    _compare_overlays_seven_133cs_spectra_and_zooms(page, shot, base, demo_lab)


def _compare_overlays_seven_133cs_spectra_and_zooms(page, shot, base, demo_lab):
    from playwright.sync_api import expect

    ids = "&".join(f"m={pk}" for pk in demo_lab["fresh_133cs"])
    assert len(demo_lab["fresh_133cs"]) == 7
    page.goto(f"{base}/compare/?technique=nmr&{ids}")
    plot = page.locator("[data-compare-plot]")
    expect(plot).to_have_attribute("data-ready", "1")
    expect(plot).to_have_attribute("data-series", "7")
    expect(page.locator("[data-role=compare-legend] li")).to_have_count(7)
    expect(page.locator(".u-legend")).to_contain_text("NC6.4-P")
    # NMR's shift axis runs right to left, as in the paper.
    assert page.evaluate("document.querySelector('[data-compare-plot]').uplot.scales.x.dir") == -1
    shot(page, "42-compare-133Cs-overlay")

    x_min, x_max = (float(plot.get_attribute(a)) for a in ("data-x-min", "data-x-max"))
    over = page.locator(".u-over").bounding_box()
    y = over["y"] + over["height"] * 0.5
    page.mouse.move(over["x"] + over["width"] * 0.40, y)
    page.mouse.down()
    page.mouse.move(over["x"] + over["width"] * 0.50, y, steps=8)
    page.mouse.move(over["x"] + over["width"] * 0.60, y, steps=8)
    page.mouse.up()
    page.wait_for_function("(x0) => Number(document.querySelector('[data-compare-plot]').dataset.xMin) > x0 + 1e-9",
                           arg=x_min)
    z_min, z_max = (float(plot.get_attribute(a)) for a in ("data-x-min", "data-x-max"))
    assert x_min < z_min < z_max < x_max
    assert (z_max - z_min) < 0.35 * (x_max - x_min)
    # Hovering reads values off the curves.
    page.mouse.move(over["x"] + over["width"] * 0.5, y)
    expect(page.locator(".u-legend .u-series").nth(1).locator(".u-value")).not_to_have_text("—")
    shot(page, "43-compare-133Cs-zoomed")
    # Without a mouse: the arrow keys move the read-out along the shift axis.
    page.mouse.move(0, 0)
    plot.focus()
    page.keyboard.press("ArrowRight")
    before = page.evaluate("document.querySelector('[data-compare-plot]').uplot.cursor.left")
    page.keyboard.press("Shift+ArrowRight")
    after = page.evaluate("document.querySelector('[data-compare-plot]').uplot.cursor.left")
    assert after == pytest.approx(before + 20)
    expect(page.locator(".u-legend .u-series").nth(1).locator(".u-value")).not_to_have_text("—")

    # Stacked with offset, normalised by area, with each run's fitted components.
    page.get_by_label("Layout").select_option("stack")
    page.get_by_label("Normalise").select_option("area")
    page.get_by_label("Fitted model and components of each run").check()
    page.wait_for_function("() => Number(document.querySelector('[data-compare-plot]').dataset.series) > 14")
    expect(page.locator("[data-role=compare-status]")).to_contain_text("normalised to area")
    with page.expect_download() as png:
        page.get_by_role("button", name="Download PNG").click()
    assert png.value.suggested_filename == "compare-nmr.png"
    with page.expect_download() as svg:
        page.get_by_role("button", name="Download SVG").click()
    assert "<polyline" in Path(svg.value.path()).read_text()
    csv_url = page.get_by_role("link", name="Download CSV").get_attribute("href")
    assert "norm=area" in csv_url and "components=1" in csv_url
    shot(page, "44-compare-133Cs-stacked-components")
    violations = _axe_serious(page)
    assert violations == [], json.dumps(violations, indent=1)
