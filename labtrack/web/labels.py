"""Printable sample labels: a QR code that opens the sample's page, with its code, batch,
form, preparation date and storage place. One PNG per sample (for a label printer),
and an HTML sheet of labels that prints as is or goes through WeasyPrint to a PDF."""
from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import urlsplit

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from labtrack.samples.models import Sample

# 50 x 25 mm at 300 dpi, the common small label-printer size.
LABEL_PX = (590, 295)
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def site_base_url(request) -> str:
    """Where a scanned label should point: LABTRACK_BASE_URL when it names a real host;
    when it is a localhost address (the built-in default), the host and port the request
    came to (a tablet scanning a 'localhost' label would open itself)."""
    configured = (getattr(settings, "LABTRACK_BASE_URL", "") or "").rstrip("/")
    if configured and (request is None or urlsplit(configured).hostname not in _LOCAL_HOSTS):
        return configured
    return request.build_absolute_uri("/").rstrip("/")


def sample_url(request, sample: Sample) -> str:
    return site_base_url(request) + reverse("sample_detail", args=[sample.pk])


def qr_for(url: str) -> segno.QRCode:
    # Error level M: still reads with a smudge or a scratch on a vial.
    return segno.make(url, error="m", micro=False)


@dataclass
class Label:
    sample: Sample
    url: str
    lines: list[str]
    qr_svg_data_uri: str


def label_lines(sample: Sample) -> list[str]:
    """Text under the code: batch and form, preparation date, storage place."""
    prepared = timezone.localtime(sample.prepared_at).strftime("%Y-%m-%d")
    lines = [f"{sample.batch.code} · {sample.get_form_display()}", f"prepared {prepared}"]
    if sample.storage_location:
        lines.append(sample.storage_location[:40])
    return lines


def label_for(request, sample: Sample) -> Label:
    url = sample_url(request, sample)
    return Label(sample, url, label_lines(sample), qr_for(url).svg_data_uri(scale=4, border=2))


def _font(size: int) -> ImageFont.ImageFont:
    for name in ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _fit_text(draw: ImageDraw.ImageDraw, text: str, width: int, size: int) -> tuple[str, ImageFont.ImageFont]:
    """The largest font (down to 14 px) that fits `width`; cut with an ellipsis below that."""
    while size > 14 and draw.textlength(text, font=_font(size)) > width:
        size -= 2
    font = _font(size)
    while len(text) > 1 and draw.textlength(text, font=font) > width:
        text = text[:-2] + "…"
    return text, font


def label_png(request, sample: Sample) -> bytes:
    """A 590 x 295 px (50 x 25 mm at 300 dpi) black-on-white label: QR on the left, the
    sample code large on the right, then batch/form, date and storage place."""
    url = sample_url(request, sample)
    qr = qr_for(url)
    side = LABEL_PX[1] - 20
    scale = max(1, side // (qr.symbol_size(border=2)[0]))
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=scale, border=2)
    qr_image = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    image = Image.new("L", LABEL_PX, 255)
    top = (LABEL_PX[1] - qr_image.size[1]) // 2
    image.paste(qr_image, (10, top))
    draw = ImageDraw.Draw(image)
    x = 20 + qr_image.size[0]
    width = LABEL_PX[0] - x - 10
    code, font = _fit_text(draw, sample.code, width, 52)
    draw.text((x, 24), code, fill=0, font=font)
    y = 100
    for line in label_lines(sample):
        text, small = _fit_text(draw, line, width, 26)
        draw.text((x, y), text, fill=0, font=small)
        y += 40
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def labels_html(request, labels: list[Label], title: str, pdf: bool = False, pdf_url: str = "") -> str:
    return render_to_string("web/labels.html", {"labels": labels, "title": title, "pdf": pdf, "pdf_url": pdf_url},
                            request=request)


def labels_pdf(request, labels: list[Label], title: str) -> bytes:
    """The label sheet (A4, 3 x 10 labels of 63.5 x 25.4 mm) as PDF. QR codes are inline
    SVG data, the stylesheet is read from disk: WeasyPrint fetches no URL."""
    import weasyprint

    html = labels_html(request, labels, title, pdf=True)
    stylesheet = weasyprint.CSS(filename=finders.find("labtrack/css/labels.css"))
    return weasyprint.HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf(stylesheets=[stylesheet])

