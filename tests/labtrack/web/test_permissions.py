"""Another project's objects are 404; a viewer cannot change anything."""
from __future__ import annotations

import pytest
from django.urls import reverse

from labtrack.measurements.models import Measurement, RawFile
from tests.labtrack.factories import make_batch, make_succeeded_run
from tests.labtrack.web.conftest import upload_file


@pytest.fixture
def outsider(make_user, other_project):
    from labtrack.samples.models import Membership

    user = make_user("outsider")
    Membership.objects.create(project=other_project, user=user, role="manager")
    return user


@pytest.mark.parametrize("name", ["batch_detail", "batch_edit", "sample_create", "measurement_create"])
def test_other_projects_batch_pages_are_404(login, outsider, batch, name):
    assert login(outsider).get(reverse(name, args=[batch.code])).status_code == 404


def test_other_projects_run_pages_are_404(login, outsider, members, batch):
    run = make_succeeded_run(batch, members["chemist"])
    client = login(outsider)
    for name in ("run_detail", "run_status", "run_figure"):
        assert client.get(reverse(name, args=[run.pk])).status_code == 404
    assert client.post(reverse("run_review", args=[run.pk]), {"decision": "accept"}).status_code == 404


def test_other_projects_batch_is_absent_from_list_and_csv(login, outsider, other_project, batch):
    make_batch(outsider, other_project, code="OT-1")
    client = login(outsider)
    assert "NC8.3" not in client.get(reverse("batch_list")).content.decode()
    csv_text = b"".join(client.get(reverse("batch_list_csv")).streaming_content).decode()
    assert "OT-1" in csv_text and "NC8.3" not in csv_text


def test_viewer_sees_no_upload_or_edit_links(login, members, batch, sample):
    html = login(members["viewer"]).get(reverse("batch_detail", args=[batch.code])).content.decode()
    assert reverse("measurement_create", args=[batch.code]) not in html
    assert reverse("batch_edit", args=[batch.code]) not in html


def test_viewer_cannot_open_or_post_the_upload_form(login, members, batch, sample, saxs_csv_bytes):
    client = login(members["viewer"])
    url = reverse("measurement_create", args=[batch.code])
    response = client.get(url)
    assert response.status_code == 403
    assert "Viewers cannot upload" in response.content.decode()
    before = (Measurement.objects.count(), RawFile.objects.count())
    response = client.post(url, {"sample": sample.pk, "technique": "saxs",
                                 "files": [upload_file("a.csv", saxs_csv_bytes)]})
    assert response.status_code == 403
    assert (Measurement.objects.count(), RawFile.objects.count()) == before


def test_viewer_cannot_create_or_edit_batches(login, members, batch):
    client = login(members["viewer"])
    assert client.get(reverse("batch_create")).status_code == 403
    assert client.post(reverse("batch_edit", args=[batch.code]), {"code": "X"}).status_code == 403


def test_viewer_cannot_review(login, members, batch):
    run = make_succeeded_run(batch, members["chemist"])
    client = login(members["viewer"])
    response = client.post(reverse("run_review", args=[run.pk]), {"decision": "accept"}, follow=True)
    run.refresh_from_db()
    assert run.review_state == "pending"
    assert "cannot review" in response.content.decode()


def test_raw_file_of_other_project_is_404(login, outsider, members, sample, saxs_csv_bytes):
    from labtrack.analyses.pipeline import Upload, measurement_upload
    import io

    m = measurement_upload(user=members["chemist"], sample=sample, technique="saxs",
                           uploads=[Upload("c.csv", io.BytesIO(saxs_csv_bytes))], request_analyses=False)
    raw = m.raw_files.get()
    assert login(outsider).get(reverse("raw_file_download", args=[raw.pk])).status_code == 404
