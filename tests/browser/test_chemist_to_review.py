"""The whole path in a real browser with a real Celery worker: a chemist records a batch
and a sample, uploads a zipped 133Cs TopSpin folder and watches the fit appear; an analyst
re-fits it with 4 components; a second analyst accepts the re-fit from the review queue
(the requester of a run may not review it); the batch page shows the accepted values."""
from __future__ import annotations

import re

import pytest
from django.utils import timezone

from tests.browser.conftest import assert_fits_width, log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def topspin_zip(tmp_path):
    from analysis.synthetic.nmr import cs133_spectrum
    from analysis.synthetic.topspin import write_topspin_1d, zip_folder

    expno = write_topspin_1d(tmp_path / "NC8.3_133Cs", cs133_spectrum("NC8.3"))
    return zip_folder(expno, tmp_path / "NC8.3_133Cs_onepulse.zip")


def test_upload_fit_refit_review(page, shot, live_server, worker, members, topspin_zip):
    from playwright.sync_api import expect

    from labtrack.analyses.models import AnalysisRun

    base = live_server.url

    # --- the chemist ------------------------------------------------------------------
    page.goto(f"{base}/batches/")
    expect(page).to_have_url(re.compile(r"/login/"))
    shot(page, "01-login")
    log_in(page, base, "chemist", "pw-chemist")
    shot(page, "02-batch-list-empty")

    page.get_by_role("link", name="New batch").first.click()
    page.get_by_label("Code").fill("NC8.3")
    page.get_by_label("OPA concentration (M)").fill("0.05")
    page.get_by_label("reaction duration (s)").fill("30")
    page.get_by_label("temperature (°C)").fill("25")
    shot(page, "03-batch-form")
    page.get_by_role("button", name="Record batch").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Batch NC8.3")

    page.get_by_role("link", name="Add sample").click()
    page.get_by_label("Code").fill("NC8.3-PWD")
    page.get_by_label("Form").select_option("powder")
    page.get_by_label("Storage location").fill("glovebox, shelf 2")
    page.get_by_role("button", name="Record sample").click()
    expect(page.get_by_role("cell", name="glovebox, shelf 2", exact=False)).to_be_visible()

    page.get_by_role("link", name="Upload measurement").click()
    page.set_input_files("#id_files", str(topspin_zip))
    # The synthetic acqus is dated 2023, before this sample was made today: a file date
    # like that is refused, so the chemist gives the real date.
    page.get_by_label("Measured at").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    preview = page.locator("[data-detect-preview]")
    expect(preview).to_contain_text("bruker-topspin")
    expect(preview).to_contain_text("nmr.deconvolve")
    shot(page, "04-upload-detected")
    page.get_by_role("button", name="Save measurement").click()
    expect(page.locator(".message.success")).to_contain_text("measurement saved")
    shot(page, "05-batch-page-queued")

    # The worker claims the run; the progress bar turns into the fitted figure.
    card = page.locator(".run-card").first
    expect(card.locator("img.thumb")).to_be_visible(timeout=90_000)
    expect(card.locator("[data-role=status]")).to_have_text("Succeeded")
    expect(card.locator("progress")).to_have_count(0)
    expect(card.locator("[data-role=quantities]")).to_contain_text("Integral")
    shot(page, "06-batch-page-fitted")
    first_run = AnalysisRun.objects.get(routine="nmr.deconvolve")
    log_out(page)

    # --- the analyst: find it in the queue, re-fit with 4 components -----------------
    log_in(page, base, "analyst", "pw-analyst")
    page.get_by_role("link", name="Review queue").click()
    item = page.locator(f"#queue-{first_run.pk}")
    expect(item).to_be_visible()
    shot(page, "07-review-queue")
    item.get_by_role("link", name=re.compile("NC8.3 · nmr.deconvolve")).click()
    expect(page.locator("img.figure").first).to_be_visible()
    shot(page, "08-run-page")

    page.get_by_label("n components").fill("4")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview (not saved)")).to_be_visible(timeout=60_000)
    shot(page, "09-refit-preview")
    assert AnalysisRun.objects.count() == 1  # the preview saved nothing
    page.get_by_role("button", name="Save re-fit").click()
    expect(page.locator(".message.success")).to_contain_text("supersedes")
    refit = AnalysisRun.objects.get(supersedes=first_run)
    assert refit.parameters["n_components"] == 4
    # The run page reloads itself when the worker is done.
    expect(page.locator("img.figure").first).to_be_visible(timeout=90_000)
    expect(page.get_by_text("another analyst must review it")).to_be_visible()
    shot(page, "10-refit-run-page")
    assert_fits_width(page)
    log_out(page)

    # --- a second analyst accepts the re-fit from the queue, by keyboard --------------
    log_in(page, base, "analyst2", "pw-analyst2")
    page.goto(f"{base}/review/")
    item = page.locator(f"#queue-{refit.pk}")
    expect(item).to_be_visible()
    expect(page.locator(f"#queue-{first_run.pk}")).to_have_count(0)  # superseded: reviewed via its re-fit
    page.keyboard.press("j")
    expect(item).to_have_class(re.compile("selected"))
    page.keyboard.press("a")
    expect(page.locator("[role=status]", has_text="Undo")).to_be_visible()  # 5 s to take it back
    expect(page.locator(".message.success")).to_contain_text(f"Run #{refit.pk}", timeout=15_000)
    refit.refresh_from_db()
    assert refit.review_state == "accepted" and refit.reviewer.username == "analyst2"
    shot(page, "11-review-queue-after-accept")

    page.goto(f"{base}/batches/NC8.3/")
    table = page.locator("table.key-table")
    expect(table).to_contain_text("Integral")
    expect(page.locator(".kt-legend")).to_contain_text("Result of record")  # nothing left pending
    expect(table.locator(f"a[href='/runs/{refit.pk}/']").first).to_be_visible()
    shot(page, "12-batch-page-accepted")

    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet, portrait
    shot(page, "13-batch-page-tablet-portrait")
    assert_fits_width(page)
