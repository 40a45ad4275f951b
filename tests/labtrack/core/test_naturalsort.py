"""Natural order (issue 12): NC6.4 < NC10.4, p2 < p10, in Python and as stored sort text
the database orders by; the batch list, its CSV, the API and sample lists use it."""
import csv
import io

import pytest
from django.urls import reverse
from hypothesis import example, given, settings, strategies as st

from labtrack.core.naturalsort import natural_key, natural_sort_text
from labtrack.insights import batch_list as listing
from labtrack.samples.models import Batch, Sample
from tests.labtrack.factories import make_batch, make_sample

LAB_ORDER = ["bulk", "bulk-2", "NC6.4", "NC8.15", "NC8.3", "NC8.3a", "NC8.9", "NC10.4", "NC12.8", "nc12.80-b", "NC100"]


@pytest.mark.parametrize("codes", [
    LAB_ORDER,
    ["p1", "p2", "p10", "p10a", "p11"],
    ["a", "a b", "ab", "b"],
    ["C0", "C ", "C 1"],  # "c" stops before "c " goes on
    ["7", "007.5", "8", "x"],  # numbers sort before text; leading zeros do not count
])
def test_sort_text_orders_as_the_python_key(codes):
    assert sorted(codes, key=natural_key) == codes
    assert sorted(codes, key=natural_sort_text) == codes


def test_equal_numbers_give_equal_sort_text():
    assert natural_sort_text("NC8.30") == natural_sort_text("NC8.3") == natural_sort_text("nc008.3")


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.text(alphabet="NCnc0123456789.-_ \tPabé", max_size=12), min_size=2, max_size=8))
@example(["C0", "C "])  # a text part with a trailing space against one that stops (found in CI)
def test_sort_text_agrees_with_the_python_key_for_any_codes(codes):
    by_key = [natural_key(c) for c in sorted(codes, key=natural_key)]
    by_text = [natural_key(c) for c in sorted(codes, key=natural_sort_text)]
    assert by_text == by_key


def _lab(members, project):
    chemist = members["chemist"]
    for code in ["NC10.4", "NC12.8", "NC6.4", "NC8.3", "NC8.9"]:
        make_sample(chemist, make_batch(chemist, project, code=code), code=f"{code}-P")


def test_batch_list_sorts_codes_naturally_both_ways_and_in_the_csv(client, members, project):
    _lab(members, project)
    natural = ["NC6.4", "NC8.3", "NC8.9", "NC10.4", "NC12.8"]

    def codes(sort):
        return [b.code for b in listing.batch_list(user=members["viewer"],
                                                   filters=listing.BatchFilters(project_id=project.pk, sort=sort))]

    assert codes("code") == natural and codes("-code") == natural[::-1]
    client.force_login(members["viewer"])
    page = client.get(reverse("batch_list"), {"sort": "code"}).content.decode()
    positions = [page.index(f">{code}<") for code in natural]
    assert positions == sorted(positions)
    response = client.get(reverse("batch_list_csv"), {"sort": "code"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r[0] for r in rows[1:]] == natural


def test_renaming_a_batch_moves_it_in_the_sort(members, project):
    from labtrack.samples.services import batch_update

    _lab(members, project)
    batch_update(user=members["chemist"], batch=Batch.objects.get(code="NC12.8"), code="NC7.0")
    assert Batch.objects.get(code="NC7.0").code_sort_key == natural_sort_text("NC7.0")
    assert [b.code for b in Batch.objects.order_by("code_sort_key")] == ["NC6.4", "NC7.0", "NC8.3", "NC8.9", "NC10.4"]


def test_samples_and_api_list_in_natural_order(client, members, project):
    _lab(members, project)
    assert [s.code for s in Sample.objects.order_by("code_sort_key")] == [
        "NC6.4-P", "NC8.3-P", "NC8.9-P", "NC10.4-P", "NC12.8-P"]
    client.force_login(members["viewer"])
    body = client.get("/api/v1/samples/", {"project": project.pk}).json()
    results = body["results"] if isinstance(body, dict) else body
    assert [s["code"] for s in results] == ["NC6.4-P", "NC8.3-P", "NC8.9-P", "NC10.4-P", "NC12.8-P"]


def test_bulk_created_rows_get_their_sort_text(members, project):
    Batch.objects.bulk_create([Batch(project=project, code="NC9.1"), Batch(project=project, code="NC11.2")])
    assert dict(Batch.objects.values_list("code", "code_sort_key")) == {
        "NC9.1": natural_sort_text("NC9.1"), "NC11.2": natural_sort_text("NC11.2")}
