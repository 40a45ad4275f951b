"""An ageing study in a real browser with a real worker: the chemist sees the overdue
3-month pull point on the home page, uploads the measurement (dated inside the window),
an analyst accepts the fit, and the study page shows the point on time and a trend of
three accepted results; screenshots of the study page and its report are saved."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCHEDULE = [{"label": "t0", "offset_days": 0, "tolerance_days": 2, "techniques": ["nmr"]},
            {"label": "1 month", "offset_days": 30, "tolerance_days": 3, "techniques": ["nmr"]},
            {"label": "3 months", "offset_days": 91, "tolerance_days": 2, "techniques": ["nmr"]},
            {"label": "6 months", "offset_days": 182, "tolerance_days": 7, "techniques": ["nmr"]}]


@pytest.fixture
def aged_zip(tmp_path):
    from analysis.synthetic import nmr, paper, topspin

    spectrum = nmr.cs133_spectrum("NC12.8", seed=3, lines=paper.aged_lines("NC12.8", 22.0))
    folder = topspin.write_topspin_1d(tmp_path / "NC12.8_3mo", spectrum, expno=10)
    return topspin.zip_folder(folder, tmp_path / "NC12.8-P-AIR_3mo.zip")


def test_overdue_point_uploaded_accepted_and_trended(page, shot, live_server, worker, members, project, aged_zip):
    from playwright.sync_api import expect

    from labtrack.analyses.models import AnalysisRun
    from tests.labtrack.ageing.helpers import aged_sample, make_study, result

    base = live_server.url
    # Day 95 of the study: t0 and 1 month measured and accepted; 3 months overdue.
    start = (timezone.now() - timedelta(days=95)).replace(second=0, microsecond=0)
    sample = aged_sample(members["chemist"], project, start=start)
    study = make_study(members["chemist"], project, [sample], pull_points=SCHEDULE)
    for days, value in ((0, 15.0), (30, 16.2)):
        result(sample, days, value, reviewer=members["analyst"], requested_by=members["chemist"])

    log_in(page, base, "chemist", "pw-chemist")
    page.goto(f"{base}/")
    row = page.locator("table.due-list tr", has_text="NC12.8-P-AIR")
    expect(row).to_contain_text("3 months")
    expect(row).to_contain_text("overdue")
    shot(page, "ageing-01-home-overdue")

    row.get_by_role("link", name="Upload").click()
    page.set_input_files("#id_files", str(aged_zip))
    page.get_by_label("Measured at").fill((start + timedelta(days=92)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save measurement").click()
    expect(page.locator(".message.success")).to_contain_text("measurement saved")
    run = AnalysisRun.objects.get(routine="nmr.deconvolve", measurement__raw_files__isnull=False)
    log_out(page)

    log_in(page, base, "analyst", "pw-analyst")
    page.goto(f"{base}/runs/{run.pk}/")
    expect(page.locator("img.figure").first).to_be_visible(timeout=90_000)
    page.goto(f"{base}/review/")
    item = page.locator(f"#queue-{run.pk}")
    expect(item).to_be_visible()
    item.get_by_role("button", name=re.compile("^Accept")).click()
    expect(page.locator(".message.success")).to_contain_text(f"Run #{run.pk}")

    page.goto(f"{base}/studies/{study.pk}/")
    point = page.locator("table.schedule tr", has_text="3 months")
    expect(point).to_contain_text("on time")
    trend = page.locator("#series-cs133_bulk_fraction-NC12\\.8-P-AIR")
    expect(trend).to_contain_text("3")          # three accepted results
    expect(trend).to_contain_text("linear")     # a trend once there are three
    expect(page.get_by_text("Nothing due")).to_be_visible()
    shot(page, "ageing-02-study-page")
    page.get_by_role("link", name="Edit study").click()
    expect(page.get_by_role("textbox", name="Schedule")).to_have_value(re.compile(r"^t0 \| 0 \|"))
    expect(page.get_by_role("combobox", name="Pull point")).to_contain_text("6 months")      # the one not measured yet
    shot(page, "ageing-04-study-edit")
    page.goto(f"{base}/studies/{study.pk}/report/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stability report")
    shot(page, "ageing-03-study-report")
