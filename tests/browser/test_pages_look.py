"""Every page rendered in Chromium, screenshotted for a person to look at, with checks a
person would make: labels on inputs, errors next to the file, keyboard-reachable controls."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.browser.conftest import assert_fits_width, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def lab(members, project):
    from django.utils import timezone

    from labtrack.analyses.review import run_review
    from labtrack.samples.models import SynthesisProtocol
    from tests.labtrack.factories import make_batch, make_sample, make_succeeded_run

    protocol = SynthesisProtocol.objects.create(name="LARP room-temperature", version="2")
    chemist = members["chemist"]
    for i, (opa, dur) in enumerate([(0.0, 10), (0.02, 20), (0.05, 30), (0.1, 60), (0.2, 120)]):
        b = make_batch(chemist, project, code=f"NC8.{i}", opa_concentration_molar=opa, reaction_duration_s=dur,
                       protocol=protocol, synthesised_at=timezone.now() - timedelta(days=10 - i),
                       notes="aged in air" if i % 2 else "")
        ink = make_sample(chemist, b, code=f"NC8.{i}-INK", form="colloid_ink", storage_location="fridge 4 °C")
        make_sample(chemist, b, code=f"NC8.{i}-PWD", form="powder", parent=ink,
                    ageing_started_at=timezone.now() - timedelta(days=i * 3))
        run = make_succeeded_run(b, chemist, value=7.5 + i * 0.3)
        if i % 2:
            run_review(run=run, reviewer=members["analyst"], accept=True)
    return project


def test_pages_render_accessibly(page, shot, live_server, lab, members):
    from playwright.sync_api import expect

    base = live_server.url
    log_in(page, base, "chemist", "pw-chemist")
    expect(page.locator("table.batches tbody tr")).to_have_count(5)
    shot(page, "20-batch-list")

    # Filters: open, choose, apply; the list narrows and the sort link toggles.
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("OPA min (M)").fill("0.05")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("table.batches tbody tr")).to_have_count(3)
    page.get_by_role("link", name="OPA (M)").click()
    expect(page.locator("table.batches tbody tr").first).to_contain_text("NC8.2")
    shot(page, "21-batch-list-filtered")

    # Every visible form control has an accessible name.
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(el => el.offsetParent !== null && !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.name)""")
    assert unlabeled == []

    page.goto(f"{base}/batches/NC8.1/")
    shot(page, "22-batch-page")
    assert_fits_width(page)
    page.goto(f"{base}/batches/NC8.1/edit/")
    page.get_by_label("Reaction duration (s)").fill("45")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".field-error")).to_contain_text("say why")
    shot(page, "23-batch-edit-reason-required")

    # Dropping files on the box adds them to the form and checks them at once.
    page.goto(f"{base}/batches/NC8.1/measurements/new/")
    page.evaluate("""() => {
        const dt = new DataTransfer();
        dt.items.add(new File(["not a spectrum"], "dropped.bin"));
        const zone = document.querySelector('[data-dropzone]');
        zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""")
    expect(page.locator("[data-detect-preview] tr.bad")).to_contain_text("dropped.bin")
    assert page.evaluate("document.querySelector('#id_files').files.length") == 1

    # An unreadable file is named with its problem, before and after saving.
    page.goto(f"{base}/batches/NC8.1/measurements/new/")
    page.set_input_files("#id_files", files=[{"name": "notes.docx", "mimeType": "application/octet-stream",
                                              "buffer": b"PK\x03\x04 not an instrument file"}])
    expect(page.locator("[data-detect-preview]")).to_contain_text("notes.docx")
    expect(page.locator("[data-detect-preview] tr.bad")).to_contain_text("Cannot be read")
    page.get_by_label("Sample").select_option(label="NC8.1-PWD")
    page.get_by_role("button", name="Save measurement").click()
    expect(page.locator(".file-errors")).to_contain_text("notes.docx")
    shot(page, "24-upload-error")

    # Keyboard: the skip link is the first stop and lands on the content.
    page.goto(f"{base}/batches/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    log_in_viewer = members["viewer"]
    page.get_by_role("button", name="Log out").click()
    log_in(page, base, log_in_viewer.username, "pw-viewer")
    page.goto(f"{base}/batches/NC8.1/")
    expect(page.get_by_role("link", name="Upload measurement")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("Edit batch"))).to_have_count(0)
    shot(page, "25-batch-page-viewer")

    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(f"{base}/batches/")
    shot(page, "26-batch-list-tablet-portrait")
    assert_fits_width(page)
