"""Ageing pages: the due list on the home page, a study's page, figures, report, PDF and
calendar feed; query counts flat as studies and results grow."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from labtrack.ageing.models import Study
from labtrack.ageing.selectors import calendar_token_for
from tests.labtrack.ageing.helpers import MONTH, START, aged_sample, make_study, result
from tests.labtrack.web.test_query_counts import count_queries


@pytest.fixture
def study(members, project):
    sample = aged_sample(members["chemist"], project)
    study = make_study(members["chemist"], project, [sample])
    for months, value in ((0, 15.0), (1, 16.1), (3, 17.2), (6, 20.6)):
        result(sample, months * MONTH, value, reviewer=members["analyst"], requested_by=members["chemist"])
    return study


def at(days: float):
    return time_machine.travel(START + timedelta(days=days), tick=False)


def test_home_shows_the_overdue_pull_point(login, members, project):
    sample = aged_sample(members["chemist"], project)
    make_study(members["chemist"], project, [sample])
    with at(35):
        page = login(members["chemist"]).get(reverse("home")).content.decode()
    assert "NC12.8-P-AIR" in page and "1 month" in page and "overdue" in page
    assert reverse("measurement_create", args=["NC12.8"]) + f"?sample={sample.pk}" in page


def test_study_page_shows_fulfilment_trend_and_flag(login, members, study):
    with at(200):
        response = login(members["viewer"]).get(reverse("study_detail", args=[study.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "on time" in page and "Significant change" in page
    assert "133Cs bulk (120 ppm) fraction" in page and "linear" in page
    assert reverse("study_figure", args=[study.pk, "cs133_bulk_fraction", "png"]) in page


def test_figures_and_csv_download(login, members, study):
    client = login(members["viewer"])
    svg = client.get(reverse("study_figure", args=[study.pk, "cs133_bulk_fraction", "svg"]))
    png = client.get(reverse("study_figure", args=[study.pk, "cs133_bulk_fraction", "png"]) + "?download=1")
    csv = client.get(reverse("study_csv", args=[study.pk, "cs133_bulk_fraction"]))
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert png.content.startswith(b"\x89PNG") and "attachment" in png["Content-Disposition"]
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("sample,age_days,value") and len(lines) == 5
    assert lines[-1].split(",")[7] == "True"  # the 6-month result is significant


@pytest.mark.parametrize("name, args", [("study_figure", ["nope", "svg"]), ("study_figure", ["cs133_bulk_fraction", "gif"]),
                                        ("study_csv", ["nope"])])
def test_unknown_quantity_or_format_is_404(login, members, study, name, args):
    assert login(members["viewer"]).get(reverse(name, args=[study.pk, *args])).status_code == 404


def test_study_of_another_project_is_404(login, study, other_project, make_user):
    from labtrack.samples.models import Membership

    outsider = make_user("outsider")
    Membership.objects.create(project=other_project, user=outsider, role="manager")
    assert login(outsider).get(reverse("study_detail", args=[study.pk])).status_code == 404


def test_report_lists_results_with_run_and_reviewer_and_renders_pdf(login, members, study):
    client = login(members["viewer"])
    html = client.get(reverse("study_report", args=[study.pk])).content.decode()
    run = study.samples.get().measurements.order_by("measured_at").first().runs.get()
    assert reverse("run_detail", args=[run.pk]) in html and "analyst" in html and "significant" in html
    pdf = client.get(reverse("study_report_pdf", args=[study.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_create_study_from_a_template_on_the_page(login, members, project):
    from labtrack.ageing.models import StudyTemplate
    from labtrack.ageing.services import study_templates_ensure

    sample = aged_sample(members["chemist"], project)
    study_templates_ensure()
    template = StudyTemplate.objects.get(name="Glovebox N2, 12 months")
    client = login(members["chemist"])
    response = client.post(reverse("study_list"), {"name": "N2 shelf", "template": template.pk, "samples": [sample.pk]})
    study = Study.objects.get(name="N2 shelf")
    assert response.status_code == 302 and response["Location"] == reverse("study_detail", args=[study.pk])
    assert study.atmosphere == "n2" and study.pull_points.count() == 7
    again = client.post(reverse("study_list"), {"name": "N2 shelf", "template": template.pk, "samples": [sample.pk]})
    assert again.status_code == 400 and "already has a study called" in again.content.decode()


def test_viewer_cannot_post_a_study(login, members, project):
    assert login(members["viewer"]).post(reverse("study_list"), {"name": "x"}).status_code == 403


def test_calendar_feed_by_token_without_login(client, members, study):
    token = calendar_token_for(user=members["viewer"])
    response = client.get(reverse("ageing_calendar", args=[token]))
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert body.count("BEGIN:VEVENT") == 4 and "SUMMARY:NC12.8-P-AIR: 1 month pull point (on time)" in body
    assert "DTSTART;VALUE=DATE:20260204" in body
    assert client.get(reverse("ageing_calendar", args=["not-a-token"])).status_code == 404


def test_calendar_feed_shows_only_the_users_projects(client, study, other_project, make_user):
    from labtrack.samples.models import Membership

    outsider = make_user("outsider")
    Membership.objects.create(project=other_project, user=outsider, role="manager")
    body = client.get(reverse("ageing_calendar", args=[calendar_token_for(user=outsider)])).content.decode()
    assert "BEGIN:VEVENT" not in body


def grow(members, project, n: int, start_index: int) -> None:
    """n more studies, each on its own sample with accepted results at 0, 3 and 6 months
    (the 1-month point is left unmeasured)."""
    for i in range(start_index, start_index + n):
        sample = aged_sample(members["chemist"], project, code=f"QC{i:03d}")
        make_study(members["chemist"], project, [sample], name=f"Study {i}")
        for months, value in ((0, 15.0), (3, 17.0), (6, 19.0)):
            result(sample, months * MONTH, value, reviewer=members["analyst"], requested_by=members["chemist"])


def test_study_page_queries_do_not_grow_with_results(login, members, study):
    client = login(members["viewer"])
    url = reverse("study_detail", args=[study.pk])
    with at(200):
        few = count_queries(client, url)
    sample = study.samples.get()
    for k in range(12):
        result(sample, (7 + k) * MONTH, 21.0 + k, reviewer=members["analyst"], requested_by=members["chemist"])
    with at(200):
        many = count_queries(client, url)
    assert many == few, (few, many)


def test_due_list_queries_do_not_grow_with_studies(login, members, project):
    client = login(members["viewer"])
    grow(members, project, 2, 0)
    with at(35):
        few = count_queries(client, reverse("home"))
    grow(members, project, 10, 2)
    with at(35):
        many = count_queries(client, reverse("home"))
        due = client.get(reverse("home")).content.decode().count("<tr class=\"due-")
    assert many == few, (few, many)
    assert due == 12  # the 1-month point of every study is overdue


def test_fresh_and_aged_spectra_with_components(login, members, study):
    from labtrack.analyses.models import AnalysisRun, Quantity

    runs = list(AnalysisRun.objects.filter(measurement__sample__in=study.samples.all()).order_by("measurement__measured_at"))
    for k, run in enumerate(runs):
        ppm = [130.0, 120.0, 110.0]
        AnalysisRun.objects.filter(pk=run.pk).update(curves={"spectrum": {
            "ppm": ppm, "data": [0.1, 1.0 + k, 0.2], "fit": [0.1, 1.0 + k, 0.2], "fit_baseline": [0, 0, 0],
            "c2": [0.0, 0.9 + k, 0.1]}})
        Quantity.objects.create(run=run, component_label="c2", assignment="bulk", name="shift_ppm", value=120.0)
    client = login(members["viewer"])
    png = client.get(reverse("study_spectra", args=[study.pk, "NC12.8-P-AIR", "png"]))
    import csv

    rows = list(csv.reader(client.get(reverse("study_spectra", args=[study.pk, "NC12.8-P-AIR", "csv"]))
                           .content.decode().splitlines()))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    # the freshest (t0) and the most aged (6 months) accepted runs only
    assert {r[1] for r in rows[1:]} == {str(runs[0].pk), str(runs[-1].pk)}
    assert ["aged, 183 d", str(runs[-1].pk), "182.625", "c2 bulk", "120.0", "3.9"] in rows
    assert client.get(reverse("study_spectra", args=[study.pk, "NOPE", "png"])).status_code == 404


def test_spectra_are_offered_only_for_samples_with_an_accepted_deconvolution(login, members, project):
    """A PL-only sample (or one whose fits await review) gets no empty 133Cs figure."""
    measured = aged_sample(members["chemist"], project)
    unmeasured = aged_sample(members["chemist"], project, code="NC8.9")
    fresh = result(measured, 0, 15.0, reviewer=members["analyst"], requested_by=members["chemist"])
    study = make_study(members["chemist"], project, [measured, unmeasured])
    client = login(members["viewer"])
    html = client.get(reverse("study_detail", args=[study.pk])).content.decode()
    assert reverse("study_spectra", args=[study.pk, "NC12.8-P-AIR", "svg"]) in html
    assert reverse("study_spectra", args=[study.pk, "NC8.9-P-AIR", "svg"]) not in html

    from labtrack.analyses.models import AnalysisRun, ReviewState
    AnalysisRun.objects.filter(pk=fresh.pk).update(review_state=ReviewState.PENDING)
    html = client.get(reverse("study_detail", args=[study.pk])).content.decode()
    assert "/spectra/" not in html
    assert "No sample of this study has an accepted 133Cs deconvolution yet" in html


def test_trend_model_can_be_forced_and_bad_values_fall_back(login, members, study):
    client = login(members["viewer"])
    url = reverse("study_detail", args=[study.pk])
    sqrt = client.get(url, {"model": "sqrt"})
    assert sqrt.context["series"][0].assessment["fit"]["model"] == "sqrt"
    assert reverse("study_report", args=[study.pk]) + "?model=sqrt" in sqrt.content.decode()
    assert client.get(url, {"model": "cubic"}).context["series"][0].assessment["fit"]["model"] == "linear"
