"""The exchange pages: /import/ (upload → preview → mapping → commit), templates, the
batch page's "Export .eln", /import/eln/ and the imported files' assignment."""
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from labtrack.exchange.models import ColumnMapping, ElnAttachment, SpreadsheetUpload
from labtrack.measurements.models import Measurement
from labtrack.samples.models import Batch, Sample
from tests.labtrack.factories import make_batch, make_sample


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def _upload(client, project, name, content):
    return client.post(reverse("import_upload"), {"project": project.pk, "file": SimpleUploadedFile(name, content)})


def test_upload_preview_map_and_commit(login, members, project):
    client = login(members["chemist"])
    assert b"Import spreadsheet or .eln" in client.get(reverse("batch_list")).content
    text = "Ansatz,OPA (mM),Sample,Form\nNC1,100,NC1-P,powder\nNC2,abc,,\n"
    response = _upload(client, project, "log.csv", text.encode())
    upload = SpreadsheetUpload.objects.get()
    assert response.status_code == 302 and response.url == reverse("import_preview", args=[upload.pk])
    page = client.get(response.url)
    body = page.content.decode()
    assert "Nothing can be imported yet" in body and "No column gives the batch code" in body
    # Map the lab's "Ansatz" once; the preview then names the bad cell by row and column.
    page = client.post(response.url, {"action": "map", "name-0": "ansatz", "field-0": "batch.code",
                                      "name-1": "opa", "field-1": "batch.opa_concentration_molar",
                                      "name-2": "sample", "field-2": "sample.code", "name-3": "form",
                                      "field-3": "sample.form"}, follow=True)
    assert ColumnMapping.objects.get(project=project, column="ansatz").field == "batch.code"
    report = page.context["report"]
    assert [(e.row, e.column) for e in report.errors] == [(3, "OPA (mM)")]
    assert "text in a number column" in page.content.decode()
    page = client.post(reverse("import_preview", args=[upload.pk]), {"action": "commit"})
    assert page.status_code == 200 and "Nothing was imported" in page.content.decode()
    assert not Batch.objects.exists()

    fixed = _upload(client, project, "log2.csv", text.replace("abc", "50").encode())
    page = client.get(fixed.url)
    assert "Ready to import" in page.content.decode()
    done = client.post(fixed.url, {"action": "commit"}, follow=True)
    assert "Imported 2 batches and 1 samples" in done.content.decode()
    assert Batch.objects.get(code="NC2").opa_concentration_molar == pytest.approx(0.05)
    again = client.post(fixed.url, {"action": "commit"})
    assert again.status_code == 200 and Batch.objects.count() == 2  # a committed upload is not imported twice


def test_refusals_are_messages_not_errors(login, members, project, settings):
    client = login(members["chemist"])
    settings.LABTRACK_IMPORT_MAX_BYTES = 1024
    response = _upload(client, project, "big.csv", b"Batch\n" + b"NC1\n" * 600)
    assert response.status_code == 200 and "more than the 1 KiB limit" in response.content.decode()
    response = _upload(client, project, "log.xls", b"\xd0\xcf\x11\xe0 old excel")
    assert "LabTrack reads .xlsx and .csv" in response.content.decode()
    assert not SpreadsheetUpload.objects.exists()


def test_viewers_cannot_import_and_nobody_sees_anothers_upload(login, members, project, make_user):
    assert login(members["viewer"]).get(reverse("import_upload")).status_code == 403
    client = login(members["chemist"])
    _upload(client, project, "log.csv", b"Batch\nNC1\n")
    upload = SpreadsheetUpload.objects.get()
    assert login(members["manager"]).get(reverse("import_preview", args=[upload.pk])).status_code == 404


def test_templates_download(login, members):
    client = login(members["viewer"])
    csv_response = client.get(reverse("import_template_csv"))
    assert csv_response["Content-Disposition"].endswith('template.csv"')
    assert csv_response.content.decode().startswith("Batch code,")
    xlsx = client.get(reverse("import_template_xlsx"))
    assert zipfile.ZipFile(io.BytesIO(xlsx.content)).testzip() is None


def test_export_link_download_and_import_page(login, members, project, tmp_path):
    from analysis.synthetic.saxs import write_saxs_curve
    from labtrack.analyses.pipeline import Upload, measurement_upload

    batch = make_batch(members["chemist"], project, code="NC8.3")
    sample = make_sample(members["chemist"], batch, code="NC8.3-P")
    with open(write_saxs_curve(tmp_path / "c.dat", "NC8.3"), "rb") as fh:
        measurement_upload(user=members["chemist"], sample=sample, technique="saxs", uploads=[Upload("c.dat", fh)],
                           request_analyses=False)
    viewer = login(members["viewer"])
    page = viewer.get(reverse("batch_detail", args=["NC8.3"]))
    assert reverse("batch_export_eln", args=["NC8.3"]).encode() in page.content
    response = viewer.get(reverse("batch_export_eln", args=["NC8.3"]))
    data = b"".join(response.streaming_content)
    assert response["Content-Disposition"] == 'attachment; filename="NC8.3.eln"'
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert "NC8.3/ro-crate-metadata.json" in archive.namelist()

    chemist = login(members["chemist"])
    refused = chemist.post(reverse("eln_import"), {"project": project.pk, "file": SimpleUploadedFile("NC8.3.eln", data)})
    assert "already exists in this LabTrack" in refused.content.decode()
    broken = chemist.post(reverse("eln_import"), {"project": project.pk, "file": SimpleUploadedFile("x.eln", b"nope")})
    assert broken.status_code == 200 and "not a zip archive" in broken.content.decode()


def test_imported_files_become_measurements_on_their_page(login, members, project, tmp_path):
    from analysis.synthetic.saxs import write_saxs_curve
    from labtrack.measurements.blobs import blob_store

    batch = make_batch(members["chemist"], project, code="ELN-X")
    sample = make_sample(members["chemist"], batch, code="ELN-X-P")
    path = write_saxs_curve(tmp_path / "c.dat", "NC8.3")
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    blob_store(str(path), digest)
    attachment = ElnAttachment.objects.create(batch=batch, name="c.dat", sha256=digest, size_bytes=path.stat().st_size,
                                              source="x.eln: ./exp/c.dat", imported_by=members["chemist"])
    client = login(members["chemist"])
    assert b"Imported files (1)" in client.get(reverse("batch_detail", args=["ELN-X"])).content
    page = client.get(reverse("eln_attachments", args=["ELN-X"]))
    assert b"Make measurement" in page.content
    wrong = client.post(reverse("eln_attachment_assign", args=[attachment.pk]),
                        {"sample": sample.pk, "technique": "xrd"}, follow=True)
    assert "not Powder XRD" in wrong.content.decode() and not Measurement.objects.exists()
    done = client.post(reverse("eln_attachment_assign", args=[attachment.pk]),
                       {"sample": sample.pk, "technique": "saxs"}, follow=True)
    assert "is now measurement" in done.content.decode()
    assert Measurement.objects.get().technique == "saxs"
    assert login(members["viewer"]).post(reverse("eln_attachment_assign", args=[attachment.pk]),
                                         {"sample": sample.pk, "technique": "saxs"}).status_code == 302


def test_management_commands_round_trip(members, project, tmp_path, make_user):
    from django.core.management import CommandError, call_command

    sheet = tmp_path / "log.csv"
    sheet.write_text("Batch,OPA (mM)\nNC1,100\n")
    out = io.StringIO()
    call_command("import_spreadsheet", str(sheet), project=project.name, user="chemist", stdout=out)
    assert "Would import 1 batches" in out.getvalue() and not Batch.objects.exists()
    call_command("import_spreadsheet", str(sheet), project=project.name, user="chemist", commit=True, stdout=out)
    assert Batch.objects.get().opa_concentration_molar == pytest.approx(0.1)
    eln = tmp_path / "NC1.eln"
    call_command("export_eln", "NC1", str(eln), user="viewer", stdout=out)
    assert zipfile.ZipFile(eln).namelist()[0] == "NC1/ro-crate-metadata.json"
    with pytest.raises(CommandError, match="already exists"):
        call_command("import_eln", str(eln), project=project.name, user="chemist", stdout=out)
    with pytest.raises(CommandError, match="No batch NOPE"):
        call_command("export_eln", "NOPE", str(eln), user="viewer")
