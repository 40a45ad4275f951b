"""The spreadsheet import as a chemist meets it: upload the lab's log, read the dry run's
errors by row and column, map a column once, import; then the batch's .eln export and
its import page. Screenshots: test-artifacts/screenshots/60-*.png."""
from __future__ import annotations

import pytest

from tests.browser.conftest import assert_fits_width, log_in
from tests.labtrack.exchange.test_eln_study import lab_study  # noqa: F401  (a fixture)

pytestmark = pytest.mark.browser

LOG = """Ansatz,Protocol,Date,OPA (mM),Reaction time (min),Sample,Form,Mass (g)
NC8.3,LARP room-temperature v2,2024-03-05 14:30,100,1,NC8.3-P,powder,0.0125
NC8.3,,,,,NC8.3-I,colloid ink,
NC9.9,LARP v9,2024-03-06,fifty,2,,,
NC6.4,LARP room-temperature v2,2024-03-07,20,0.5,NC8.3-P,powder,
"""


def test_spreadsheet_import_preview_and_commit(page, shot, live_server, members, project, tmp_path):
    from playwright.sync_api import expect

    from labtrack.samples.models import Batch, SynthesisProtocol

    SynthesisProtocol.objects.create(name="LARP room-temperature", version="2")
    base = live_server.url
    log_in(page, base, "chemist", "pw-chemist")
    page.get_by_role("link", name="Import spreadsheet or .eln").click()
    expect(page.get_by_role("heading", name="Import syntheses and samples")).to_be_visible()
    shot(page, "60-import-upload")
    sheet = tmp_path / "synthesis-log.csv"
    sheet.write_text(LOG)
    page.get_by_label("File").set_input_files(str(sheet))
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_text("No column gives the batch code")).to_be_visible()

    page.get_by_label("Field for Ansatz").select_option("batch.code")
    page.get_by_role("button", name="Save this mapping for Perovskite NCs and check again").click()
    expect(page.get_by_role("heading", name="Problems by row")).to_be_visible()
    problems = page.locator("#problems-h + .table-wrap tbody tr")
    expect(problems).to_have_count(3)
    expect(page.get_by_text("Unknown protocol “LARP v9”").first).to_be_visible()
    expect(page.get_by_text("“fifty” is text in a number column").first).to_be_visible()
    expect(page.get_by_text("Duplicate sample code NC8.3-P in the file (also row 2)").first).to_be_visible()
    expect(page.get_by_text("mM converted to M")).to_be_visible()
    assert_fits_width(page)
    shot(page, "61-import-preview-errors")
    assert not Batch.objects.exists()

    fixed = tmp_path / "synthesis-log-fixed.csv"
    fixed.write_text(LOG.replace("LARP v9", "LARP room-temperature v2").replace("fifty", "50")
                     .replace("0.5,NC8.3-P,powder", "0.5,NC6.4-P,powder"))
    page.goto(f"{base}/import/")
    page.get_by_label("File").set_input_files(str(fixed))
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_role("heading", name="Ready to import")).to_be_visible()
    shot(page, "62-import-preview-ready")
    page.get_by_role("button", name="Import 3 batches").click()
    expect(page.get_by_text("Imported 3 batches and 3 samples from synthesis-log-fixed.csv.")).to_be_visible()
    assert Batch.objects.get(code="NC9.9").opa_concentration_molar == pytest.approx(0.05)

    page.goto(f"{base}/batches/NC8.3/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export .eln").click()
    assert download.value.suggested_filename == "NC8.3.eln"
    page.goto(f"{base}/import/eln/")
    page.get_by_label("File").set_input_files(download.value.path())
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("A batch NC8.3 already exists in this LabTrack; nothing was imported.")).to_be_visible()
    shot(page, "63-eln-import-refused")


def test_study_eln_export_and_import_lead_to_the_study(page, shot, live_server, members, lab_study, other_project,
                                                      tmp_path):
    """A study exported from its page in the browser, imported into another project from
    the import page; the report's link opens the imported study with its samples."""
    from playwright.sync_api import expect

    from labtrack.ageing.models import Study
    from labtrack.samples.models import Membership
    from tests.browser.test_batch_compare import _axe_serious
    from tests.labtrack.exchange.test_eln_study import _free_the_codes

    base = live_server.url
    Membership.objects.create(project=other_project, user=members["chemist"], role="chemist")
    log_in(page, base, "chemist", "pw-chemist")
    page.goto(f"{base}/studies/{lab_study.pk}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export .eln").click()
    assert download.value.suggested_filename == "study-Ambient_air_shelf_A.eln"
    bundle = tmp_path / download.value.suggested_filename
    download.value.save_as(bundle)
    _free_the_codes()  # as if the bundle came from another LabTrack

    page.goto(f"{base}/import/eln/")
    page.locator("#id_project").select_option(label=other_project.name)
    page.get_by_label("File").set_input_files(str(bundle))
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".messages")).to_contain_text(
        "Imported 2 batches and the ageing study Ambient air, shelf A from study-Ambient_air_shelf_A.eln.")
    report = page.locator("section[role=status]")
    expect(report.get_by_role("heading")).to_contain_text("Imported from")
    expect(report.get_by_role("link", name="Batch NC8.9")).to_be_visible()
    assert _axe_serious(page) == []
    assert_fits_width(page)
    shot(page, "64-eln-study-imported")
    report.get_by_role("link", name="Ageing study Ambient air, shelf A").click()
    imported = Study.objects.get(project=other_project)
    expect(page).to_have_url(f"{base}/studies/{imported.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ambient air, shelf A")
    expect(page.get_by_text("NC12.8-P-AIR").first).to_be_visible()
    # The trend figures load (two PL quantities); a PL-only study offers no empty 133Cs figure.
    page.wait_for_load_state("networkidle")
    widths = page.evaluate("() => [...document.querySelectorAll('img.figure')].map(i => i.complete && i.naturalWidth)")
    assert len(widths) == 2 and all(w > 0 for w in widths), widths
    expect(page.get_by_text("No sample of this study has an accepted 133Cs deconvolution yet")).to_be_visible()
    shot(page, "65-eln-study-imported-study-page")
