"""Figures 3d and 5a from live data: T1 per layer and XPS ratios against diameter, for a
chosen set of batches, as SVG, PNG and CSV; accepted results only."""
from __future__ import annotations

import csv

import pytest
from django.urls import reverse

from labtrack.analyses.models import Quantity
from labtrack.analyses.services import quantity_kinds_rebuild
from tests.labtrack.factories import make_batch, make_succeeded_run, mark_accepted

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab(members, project):
    for code, diameter, cs_pb, t1 in (("NC12.8", 12.8, 0.96, 24.0), ("NC8.9", 8.9, 0.9, 12.0), ("NC6.4", 6.4, 0.84, 4.5)):
        batch = make_batch(members["chemist"], project, code=code)
        make_succeeded_run(batch, members["chemist"], value=diameter)  # SAXS size (a candidate)
        xps = make_succeeded_run(batch, members["chemist"], routine="xps.atomic_ratios")
        Quantity.objects.filter(run=xps).update(name="cs_pb", value=cs_pb, unit="")
        mark_accepted(xps, members["analyst"])
        t1_run = make_succeeded_run(batch, members["chemist"], routine="nmr.t1")
        Quantity.objects.filter(run=t1_run).update(name="t1_s", value=t1, unit="s", component_label="c2",
                                                   assignment="core")
        Quantity.objects.create(run=t1_run, name="t1_s", value=t1 / 3, unit="s", component_label="c3",
                                assignment="middle")
        if code != "NC6.4":  # NC6.4's T1 fit is still pending review: it must not appear
            mark_accepted(t1_run, members["analyst"])
    quantity_kinds_rebuild()  # the quantities were renamed past the service that notes kinds


def rows(client, key, batches=""):
    response = client.get(reverse("paper_figure", args=[key, "csv"]), {"batches": batches})
    return list(csv.DictReader(response.content.decode().splitlines()))


def test_t1_per_layer_against_diameter(login, members, lab):
    got = {(r["series"], r["batch"], float(r["diameter_nm"]), float(r["value"]))
           for r in rows(login(members["viewer"]), "t1-vs-diameter")}
    assert got == {("core", "NC12.8", 12.8, 24.0), ("middle", "NC12.8", 12.8, 8.0),
                   ("core", "NC8.9", 8.9, 12.0), ("middle", "NC8.9", 8.9, 4.0)}


def test_xps_ratios_for_a_selection_of_batches(login, members, lab):
    got = [(r["series"], r["batch"], float(r["value"])) for r in rows(login(members["viewer"]), "xps-vs-diameter",
                                                                        "NC12.8, NC6.4")]
    assert sorted(got) == [("Cs/Pb", "NC12.8", 0.96), ("Cs/Pb", "NC6.4", 0.84)]


@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_figures_render(login, members, lab, fmt, magic):
    client = login(members["viewer"])
    assert client.get(reverse("paper_figure", args=["t1-vs-diameter", fmt])).content.startswith(magic)
    assert client.get(reverse("paper_figures")).status_code == 200


def test_unknown_figure_is_404(login, members):
    assert login(members["viewer"]).get(reverse("paper_figure", args=["fig9", "svg"])).status_code == 404
