"""Upload: several files, detection preview, per-file errors, nothing half-saved."""
from __future__ import annotations

from django.urls import reverse

from labtrack.analyses.models import AnalysisRun
from labtrack.measurements.models import Measurement, RawFile
from tests.labtrack.web.conftest import upload_file


def _counts():
    return Measurement.objects.count(), RawFile.objects.count(), AnalysisRun.objects.count()


def test_upload_saves_measurement_files_and_queues_default_run(login, members, batch, sample, saxs_csv_bytes):
    client = login(members["chemist"])
    response = client.post(reverse("measurement_create", args=[batch.code]), {
        "sample": sample.pk, "technique": "", "action": "save",
        "files": [upload_file("NC8.3_saxs.csv", saxs_csv_bytes)]})
    assert response.status_code == 302
    m = Measurement.objects.get()
    assert m.technique == "saxs"  # detected from the file
    raw = m.raw_files.get()
    assert raw.original_name == "NC8.3_saxs.csv" and raw.size_bytes == len(saxs_csv_bytes)
    assert AnalysisRun.objects.get().routine == "saxs.size_distribution"
    page = client.get(reverse("batch_detail", args=[batch.code])).content.decode()
    assert "NC8.3_saxs.csv" in page and raw.sha256[:12] in page
    assert reverse("run_status", args=[AnalysisRun.objects.get().pk]) in page  # live progress bar


def test_download_serves_exact_bytes_under_original_name(login, members, batch, sample, saxs_csv_bytes):
    client = login(members["chemist"])
    client.post(reverse("measurement_create", args=[batch.code]), {
        "sample": sample.pk, "technique": "saxs", "files": [upload_file("NC8.3_saxs.csv", saxs_csv_bytes)]})
    raw = RawFile.objects.get()
    response = login(members["viewer"]).get(reverse("raw_file_download", args=[raw.pk]))
    assert b"".join(response.streaming_content) == saxs_csv_bytes
    assert 'filename="NC8.3_saxs.csv"' in response["Content-Disposition"]
    assert response["X-Checksum-SHA256"] == raw.sha256


def test_unreadable_file_is_named_with_its_problem_and_nothing_is_saved(login, members, batch, sample, saxs_csv_bytes):
    before = _counts()
    response = login(members["chemist"]).post(reverse("measurement_create", args=[batch.code]), {
        "sample": sample.pk, "technique": "saxs",
        "files": [upload_file("good.csv", saxs_csv_bytes), upload_file("notes.docx", b"PK\x03\x04 not really")]})
    assert response.status_code == 400
    assert list(response.context["file_errors"]) == ["notes.docx"]
    html = response.content.decode()
    assert "notes.docx" in html and "Nothing was saved" in html
    assert _counts() == before


def test_empty_file_is_refused(login, members, batch, sample):
    before = _counts()
    response = login(members["chemist"]).post(reverse("measurement_create", args=[batch.code]), {
        "sample": sample.pk, "technique": "saxs", "files": [upload_file("empty.csv", b"")]})
    assert response.status_code == 400
    assert "empty" in " ".join(response.context["file_errors"]["empty.csv"])
    assert _counts() == before


def test_file_of_another_technique_is_refused(login, members, batch, sample, saxs_csv_bytes):
    before = _counts()
    response = login(members["chemist"]).post(reverse("measurement_create", args=[batch.code]), {
        "sample": sample.pk, "technique": "xrd", "files": [upload_file("c.csv", saxs_csv_bytes)]})
    assert response.status_code == 400
    assert "not Powder XRD" in " ".join(response.context["file_errors"]["c.csv"])
    assert _counts() == before


def test_no_file_is_an_error(login, members, batch, sample):
    response = login(members["chemist"]).post(reverse("measurement_create", args=[batch.code]), {
        "sample": sample.pk, "technique": "saxs"})
    assert response.status_code == 400
    assert "Attach at least one raw file" in response.content.decode()


def test_detect_preview_reports_each_file_without_saving(login, members, batch, sample, saxs_csv_bytes, tem_tif_bytes):
    before = _counts()
    response = login(members["chemist"]).post(reverse("measurement_detect", args=[batch.code]), {
        "files": [upload_file("c.csv", saxs_csv_bytes), upload_file("m.tif", tem_tif_bytes)]})
    data = response.json()
    assert [(f["name"], f["technique"]) for f in data["files"]] == [("c.csv", "saxs"), ("m.tif", "tem")]
    assert "different techniques" in data["problem"]
    assert _counts() == before


def test_detect_preview_names_the_unreadable_file(login, members, batch, saxs_csv_bytes):
    response = login(members["chemist"]).post(reverse("measurement_detect", args=[batch.code]), {
        "files": [upload_file("c.csv", saxs_csv_bytes), upload_file("junk.bin", b"\x00\x01garbage")]})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["junk.bin"]


def test_viewer_cannot_use_detect(login, members, batch, saxs_csv_bytes):
    response = login(members["viewer"]).post(reverse("measurement_detect", args=[batch.code]),
                                             {"files": [upload_file("c.csv", saxs_csv_bytes)]})
    assert response.status_code == 403


def test_mixed_techniques_without_a_choice_ask_for_one(login, members, batch, sample, saxs_csv_bytes, tem_tif_bytes):
    before = _counts()
    response = login(members["chemist"]).post(reverse("measurement_create", args=[batch.code]), {
        "sample": sample.pk, "technique": "",
        "files": [upload_file("c.csv", saxs_csv_bytes), upload_file("m.tif", tem_tif_bytes)]})
    assert response.status_code == 400
    assert "different techniques" in " ".join(response.context["form"].errors["technique"])
    assert _counts() == before


def _measurement(members, sample, saxs_csv_bytes):
    import io

    from labtrack.analyses.pipeline import Upload, measurement_upload

    return measurement_upload(user=members["chemist"], sample=sample, technique="saxs",
                              uploads=[Upload("c.csv", io.BytesIO(saxs_csv_bytes))], request_analyses=False)


def test_measurement_edit_changes_label_and_keeps_files(login, members, batch, sample, saxs_csv_bytes):
    m = _measurement(members, sample, saxs_csv_bytes)
    sha = m.raw_files.get().sha256
    response = login(members["chemist"]).post(reverse("measurement_edit", args=[m.pk]), {
        "sample": sample.pk, "measured_at": "2026-11-20T10:00", "label": "capillary 2", "notes": "re-mounted"})
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.label == "capillary 2" and m.raw_files.get().sha256 == sha


def test_measurement_edit_after_review_needs_reason(login, members, batch, sample, saxs_csv_bytes):
    from labtrack.analyses.review import run_review
    from tests.labtrack.factories import make_succeeded_run

    m = _measurement(members, sample, saxs_csv_bytes)
    run_review(run=make_succeeded_run(batch, members["chemist"]), reviewer=members["analyst"], accept=True)
    client = login(members["chemist"])
    data = {"sample": sample.pk, "measured_at": "2026-11-20T10:00", "label": "x"}
    response = client.post(reverse("measurement_edit", args=[m.pk]), data)
    assert response.status_code == 200 and "say why" in " ".join(response.context["form"].errors["reason"])
    response = client.post(reverse("measurement_edit", args=[m.pk]), {**data, "reason": "label typo"})
    assert response.status_code == 302
    assert m.history.first().history_change_reason == "label typo"


def test_viewer_cannot_edit_a_measurement(login, members, batch, sample, saxs_csv_bytes):
    m = _measurement(members, sample, saxs_csv_bytes)
    response = login(members["viewer"]).post(reverse("measurement_edit", args=[m.pk]), {"label": "x"})
    assert response.status_code == 403
