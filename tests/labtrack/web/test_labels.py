"""Sample labels: the QR code on the PNG and in the PDF sheet decodes (zxing-cpp, a real
reader) to the sample page's absolute URL; the bench's scan box opens what a scanner types."""
from __future__ import annotations

import io

import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image

from tests.labtrack.factories import make_sample


def _decoded(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_label_png_qr_opens_the_sample_page(login, members, sample, settings):
    settings.LABTRACK_BASE_URL = "https://labtrack.example.org"
    response = login(members["viewer"]).get(reverse("sample_label_png", args=[sample.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (590, 295)
    assert _decoded(response.content) == [f"https://labtrack.example.org/samples/{sample.pk}/"]


def test_label_uses_the_request_host_when_base_url_is_the_localhost_default(login, members, sample, settings):
    settings.LABTRACK_BASE_URL = "http://localhost:8000"
    settings.ALLOWED_HOSTS = ["*"]
    response = login(members["viewer"]).get(reverse("sample_label_png", args=[sample.pk]),
                                            HTTP_HOST="lab-pc.local:8000")
    assert _decoded(response.content) == [f"http://lab-pc.local:8000/samples/{sample.pk}/"]


def test_batch_label_sheet_pdf_has_one_readable_qr_per_sample(login, members, batch, sample, settings):
    import pypdfium2 as pdfium
    settings.LABTRACK_BASE_URL = "https://labtrack.example.org"
    powder = make_sample(members["chemist"], batch, code="NC8.3-P", storage_location="Desiccator D1")
    client = login(members["viewer"])
    html = client.get(reverse("batch_labels", args=[batch.code]))
    assert html.status_code == 200 and "NC8.3-P" in html.content.decode() and "Desiccator D1" in html.content.decode()
    response = client.get(reverse("batch_labels_pdf", args=[batch.code]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    page = pdfium.PdfDocument(response.content)[0]
    bitmap = page.render(scale=4).to_pil()
    found = {r.text for r in zxingcpp.read_barcodes(bitmap)}
    assert found == {f"https://labtrack.example.org/samples/{s.pk}/" for s in (sample, powder)}


def test_sample_page_and_label_are_for_members_only(login, members, sample, make_user):
    client = login(make_user("stranger"))
    assert client.get(reverse("sample_detail", args=[sample.pk])).status_code == 404
    assert client.get(reverse("sample_label_png", args=[sample.pk])).status_code == 404
    page = login(members["viewer"]).get(reverse("sample_detail", args=[sample.pk]))
    assert page.status_code == 200 and sample.code in page.content.decode()


@pytest.mark.parametrize("typed", ["URL", "NC8.3-INK", "nc8.3-ink", "  NC8.3-INK  "])
def test_scan_box_opens_the_sample(login, members, sample, typed):
    text = f"https://anything.example/samples/{sample.pk}/" if typed == "URL" else typed
    response = login(members["viewer"]).get(reverse("scan_open"), {"scan": text})
    assert response.status_code == 302 and response["Location"] == reverse("sample_detail", args=[sample.pk])


def test_scan_box_opens_a_batch_and_explains_a_miss(login, members, batch):
    client = login(members["viewer"])
    assert client.get(reverse("scan_open"), {"scan": "NC8.3"})["Location"] == reverse("batch_detail", args=["NC8.3"])
    miss = client.get(reverse("scan_open"), {"scan": "x" * 5000}, follow=True)
    assert miss.status_code == 200 and "No sample or batch in your projects matches" in miss.content.decode()


def test_home_has_the_scan_box(login, members):
    body = login(members["chemist"]).get(reverse("home")).content.decode()
    assert f'action="{reverse("scan_open")}"' in body and "data-scan-box" in body
