"""The number of SQL queries a page makes does not grow with its rows (5 vs 50)."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
from labtrack.measurements.models import Measurement, RawFile
from labtrack.samples.models import Batch, Sample


def populate_batches(project, user, n: int) -> None:
    """n batches, each with a sample, a SAXS measurement and a pending run."""
    start = Batch.objects.count()
    batches = Batch.objects.bulk_create(Batch(project=project, code=f"QB{start + i:04d}", notes="x",
                                              opa_concentration_molar=0.01 * i) for i in range(n))
    samples = Sample.objects.bulk_create(Sample(batch=b, code=f"{b.code}-S", form="powder") for b in batches)
    ms = Measurement.objects.bulk_create(Measurement(sample=s, technique="saxs") for s in samples)
    AnalysisRun.objects.bulk_create(AnalysisRun(project=project, batch=b, measurement=m, routine="saxs.size_distribution",
                                                requested_by=user, status=RunStatus.SUCCEEDED)
                                    for b, m in zip(batches, ms))


def populate_measurements(batch, user, n: int) -> None:
    """n measurements on `batch` over several samples, each with 2 raw files and a run with 3 quantities."""
    base = Sample.objects.count()
    samples = Sample.objects.bulk_create(Sample(batch=batch, code=f"QS{base + i:04d}", form="powder")
                                         for i in range(max(1, n // 5)))
    ms = Measurement.objects.bulk_create(Measurement(sample=samples[i % len(samples)], technique=("saxs", "tem", "nmr")[i % 3])
                                         for i in range(n))
    for m in ms:
        for k in range(2):
            RawFile.objects.create(measurement=m, sha256=f"{m.pk:060d}{k:04d}", original_name=f"f{m.pk}-{k}.dat",
                                   size_bytes=10, detected_format="saxs-text", data_kind="saxs-curve", uploaded_by=user)
    runs = AnalysisRun.objects.bulk_create(AnalysisRun(project=batch.project, batch=batch, measurement=m,
                                                       routine="saxs.size_distribution", requested_by=user,
                                                       status=RunStatus.SUCCEEDED, figure_svg="<svg/>") for m in ms)
    Quantity.objects.bulk_create(Quantity(run=r, name=name, value=1.0, stderr=0.1, unit="nm")
                                 for r in runs for name in ("mean_diameter_nm", "sd_diameter_nm", "scale"))


def count_queries(client, url, *, must_contain: str = "") -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        # A streamed response runs its queries while it is read.
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200
    assert must_contain.encode() in body
    return len(ctx.captured_queries)


def test_batch_list_queries_do_not_grow_with_batches(login, members, project):
    client = login(members["viewer"])
    populate_batches(project, members["chemist"], 5)
    few = count_queries(client, reverse("batch_list"))
    populate_batches(project, members["chemist"], 45)
    many = count_queries(client, reverse("batch_list"))
    assert many == few, (few, many)


def test_batch_page_queries_do_not_grow_with_measurements(login, members, batch, sample):
    client = login(members["viewer"])
    url = reverse("batch_detail", args=[batch.code])
    populate_measurements(batch, members["chemist"], 5)
    few = count_queries(client, url)
    populate_measurements(batch, members["chemist"], 45)
    many = count_queries(client, url)
    assert many == few, (few, many)


def test_review_queue_queries_do_not_grow_with_runs(login, members, project):
    client = login(members["analyst"])
    populate_batches(project, members["chemist"], 5)
    few = count_queries(client, reverse("review_queue"))
    populate_batches(project, members["chemist"], 45)
    many = count_queries(client, reverse("review_queue"))
    assert many == few, (few, many)


@pytest.mark.parametrize("name", ["batch_list", "review_queue"])
def test_pages_stay_under_a_fixed_query_budget(login, members, project, django_assert_max_num_queries, name):
    populate_batches(project, members["chemist"], 20)
    client = login(members["analyst"])
    with django_assert_max_num_queries(12):
        assert client.get(reverse(name)).status_code == 200


def _accept_all(reviewer) -> None:
    """Every pending run accepted (test shortcut; the constraints still hold: one run per
    measurement here)."""
    AnalysisRun.objects.filter(review_state="pending", status=RunStatus.SUCCEEDED).update(
        review_state="accepted", reviewer=reviewer)


def _with_diameters() -> None:
    Quantity.objects.bulk_create(Quantity(run=r, name="mean_diameter_nm", value=8.0 + r.pk % 5, stderr=0.1, unit="nm")
                                 for r in AnalysisRun.objects.filter(quantities__isnull=True))


@pytest.mark.parametrize("url", [
    "/trends/?quantity=mean_diameter_nm||saxs.size_distribution&x=age_days",
    "/trends/?quantity=mean_diameter_nm||&x=opa_concentration_molar",
    "/results.csv?name=mean_diameter_nm",
])
def test_cross_batch_reads_do_not_grow_with_results(login, members, project, url):
    client = login(members["viewer"])
    populate_batches(project, members["chemist"], 5)
    _with_diameters()
    _accept_all(members["analyst"])
    few = count_queries(client, url, must_contain="QB0004")
    populate_batches(project, members["chemist"], 45)
    _with_diameters()
    _accept_all(members["analyst"])
    many = count_queries(client, url, must_contain="QB0049")
    assert many == few, (few, many)
