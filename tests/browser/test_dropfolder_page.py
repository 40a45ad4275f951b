"""The drop-folder page in Chromium: a chemist sees what the scanner could not place,
assigns the unmatched TopSpin experiment to its sample, and the page says what happened."""
from __future__ import annotations

import os
import shutil

import pytest

from tests.browser.conftest import assert_fits_width, log_in
from tests.browser.test_batch_compare import _axe_serious
# The drop-folder fixtures (a folder under tmp_path, samples NC12.8-P...) are shared with the unit tests.
from tests.labtrack.dropfolders.conftest import ASPIRIN, drop_root, nmr_folder, samples  # noqa: F401

pytestmark = pytest.mark.browser


def test_chemist_assigns_an_unmatched_experiment(page, shot, live_server, nmr_folder, samples, tmp_path):
    from playwright.sync_api import expect

    from labtrack.dropfolders.models import DropItem, ItemState
    from labtrack.dropfolders.scanning import folder_scan
    from labtrack.measurements.models import Measurement

    from analysis.synthetic.pl import write_pl_spectrum

    shutil.copytree(ASPIRIN, os.path.join(nmr_folder.path, "aspirin-ref", "1"))
    shutil.copyfile(write_pl_spectrum(tmp_path / "pl.csv", "NC12.8"), os.path.join(nmr_folder.path, "NC12.8-P_pl.csv"))
    folder_scan(folder_id=nmr_folder.pk), folder_scan(folder_id=nmr_folder.pk)
    assert sorted(DropItem.objects.values_list("state", flat=True)) == [ItemState.FAILED, ItemState.UNMATCHED]

    log_in(page, live_server.url, "chemist", "pw-chemist")
    page.get_by_role("link", name="Drop folders").click()
    rows = page.locator("table.drop-items tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="NC12.8-P_pl.csv")).to_contain_text("not Solid-state NMR")
    assert_fits_width(page)
    shot(page, "60-dropfolders-waiting")

    page.get_by_role("link", name="NMR 400 export").first.click()
    unmatched = page.locator("tr", has_text="aspirin-ref/1")
    unmatched.get_by_label("Sample").fill("NC12.8-P")
    unmatched.get_by_role("button", name="Ingest").click()
    expect(page.locator(".messages")).to_contain_text("aspirin-ref/1 ingested as a measurement of NC12.8-P")
    expect(page.locator("table.drop-items tbody tr")).to_have_count(1)
    shot(page, "61-dropfolder-detail-after-assign")
    assert Measurement.objects.get().sample.code == "NC12.8-P"


def test_manager_edits_a_folder_and_sees_a_bad_naming_rule_named(page, shot, live_server, nmr_folder, drop_root):
    from playwright.sync_api import expect

    from labtrack.dropfolders.models import DropFolder

    moved = drop_root / "nmr400-b"
    moved.mkdir()
    log_in(page, live_server.url, "manager", "pw-manager")
    page.goto(f"{live_server.url}/dropfolders/{nmr_folder.pk}/")
    page.get_by_role("link", name="Edit folder").click()
    page.locator("#id_path").fill(str(moved))
    page.get_by_label("Naming rule").fill(r"^(?P<sample>NC[\d.]+-P")
    page.get_by_label("Try the rule on a file name").fill("NC12.8-P-AGED_cs133.fid")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".field.has-error")).to_contain_text("not a valid regular expression")
    assert_fits_width(page)
    shot(page, "62-dropfolder-edit-bad-rule")
    page.get_by_label("Naming rule").fill(r"^(?P<sample>NC[\d.]+-P(?:-AGED)?)")
    page.get_by_label("Enabled").uncheck()
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".messages")).to_contain_text("reads NC12.8-P-AGED from")
    expect(page.locator(".messages")).to_contain_text("disabled")
    folder = DropFolder.objects.get(pk=nmr_folder.pk)
    assert folder.path == str(moved) and not folder.enabled
    # The folder page keeps who changed which setting.
    page.get_by_text("Settings changes (1)").click()
    history = page.locator(".settings-history table")
    expect(history).to_contain_text("manager")
    expect(history.locator("tr", has_text="Enabled")).to_contain_text("yes")
    expect(history.locator("tr", has_text="Path")).to_contain_text(str(moved))
    assert _axe_serious(page) == []
    shot(page, "64-dropfolder-settings-history")
    page.goto(f"{live_server.url}/dropfolders/{nmr_folder.pk}/edit/")
    assert _axe_serious(page) == []
    shot(page, "63-dropfolder-edit")
