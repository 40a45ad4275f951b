"""The batch list at scale (issue 16): the CSV streams in chunks (counts per chunk, same
rows as one big page), and sorting by measurement count needs no correlated count."""
import csv
import io
import tempfile
from pathlib import Path

from django.urls import reverse

from analysis.synthetic.saxs import write_saxs_curve
from labtrack.analyses.pipeline import Upload, measurement_upload
from labtrack.insights import batch_list as listing
from labtrack.samples.models import Batch
from tests.labtrack.factories import make_batch, make_sample, make_succeeded_run


def _lab(members, project):
    """NC0.1 … NC4.1 with 0 … 4 SAXS measurements, uploaded through the service that keeps
    Batch.measurement_count (what the list sorts by); a run on NC1.1 and NC3.1."""
    chemist = members["chemist"]
    curve = write_saxs_curve(Path(tempfile.mkdtemp()) / "c.dat", "NC8.3").read_bytes()
    for i in range(5):
        batch = make_batch(chemist, project, code=f"NC{i}.1")
        sample = make_sample(chemist, batch)
        for k in range(i):
            measurement_upload(user=chemist, sample=sample, technique="saxs", request_analyses=False,
                               uploads=[Upload(f"{sample.code}-{k}.dat", io.BytesIO(curve))])
        if i % 2:
            make_succeeded_run(batch, chemist)


def test_csv_streams_in_chunks_with_the_same_rows(client, members, project, monkeypatch):
    _lab(members, project)
    filters = listing.BatchFilters(project_id=project.pk, sort="-measurements")
    expected = listing.batch_csv_rows(listing.attach_page_data(list(listing.batch_list(user=members["viewer"],
                                                                                       filters=filters))))
    monkeypatch.setattr(listing, "CSV_CHUNK", 2)  # 5 batches: chunks of 2, 2 and 1
    streamed = list(listing.batch_csv_rows_streamed(listing.batch_list(user=members["viewer"], filters=filters)))
    assert streamed == expected
    assert [row[0] for row in streamed[1:]] == ["NC4.1", "NC3.1", "NC2.1", "NC1.1", "NC0.1"]
    assert [row[9] for row in streamed[1:]] == [4, 3, 2, 1, 0]

    client.force_login(members["viewer"])
    response = client.get(reverse("batch_list_csv"), {"sort": "-measurements"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r[0] for r in rows[1:]] == ["NC4.1", "NC3.1", "NC2.1", "NC1.1", "NC0.1"]


def test_sort_by_measurements_counts_each_batch_once(members, project):
    _lab(members, project)
    batches = list(listing.batch_list(user=members["viewer"],
                                      filters=listing.BatchFilters(project_id=project.pk, sort="measurements")))
    assert [(b.code, b.measurement_count) for b in batches] == [(f"NC{i}.1", i) for i in range(5)]
    shown = listing.attach_page_data(batches)  # the page's own count agrees with the kept one
    assert [b.n_measurements for b in shown] == [0, 1, 2, 3, 4]


def test_sort_by_a_count_pages_the_same_rows_as_one_query(members, project):
    """The page's narrow sort (ids first, then the page's batches) gives batch_list's order."""
    _lab(members, project)
    for sort in ("-pending", "pending"):
        filters = listing.BatchFilters(project_id=project.pk, sort=sort)
        expected = [b.code for b in listing.batch_list(user=members["viewer"], filters=filters)]
        rows = listing.batch_list_rows(user=members["viewer"], filters=filters)
        assert isinstance(rows, listing.SortedByCount)
        assert [b.code for b in rows[0:5]] == expected
        assert [b.code for b in rows[1:3]] == expected[1:3]
        assert rows.count() == 5


def test_list_counts_only_so_far_under_per_batch_filters(client, members, project, monkeypatch):
    """With a technique or review filter the count stops past COUNT_AT_LEAST (and the page
    asked for) and says so; the next page link stays."""
    from labtrack.web.views import batches as batch_views

    _lab(members, project)  # NC1.1 … NC4.1 have SAXS measurements
    monkeypatch.setattr(batch_views, "COUNT_AT_LEAST", 2)
    monkeypatch.setattr(batch_views, "PAGE_SIZE", 1)
    client.force_login(members["viewer"])
    html = client.get(reverse("batch_list"), {"technique": "saxs"}).content.decode()
    assert "More than 2 batches match (counted no further)." in html
    assert "Page 1 of 3 or more" in html and 'rel="next"' in html
    # Page 3 asked for: counted far enough to show it (4 matches, rows up to page 4 counted).
    response = client.get(reverse("batch_list"), {"technique": "saxs", "page": "3"})
    assert response.context["page_obj"].number == 3
    assert "More than" not in response.content.decode() and "4 batches match." in response.content.decode()
    # No per-batch filter: the exact count, however many.
    html = client.get(reverse("batch_list")).content.decode()
    assert "5 batches." in html and "or more" not in html


def test_sort_by_pending_reviews_most_first_then_by_code_across_pages(members, project):
    _lab(members, project)  # one run awaiting review on NC1.1 and on NC3.1
    make_succeeded_run(Batch.objects.get(code="NC3.1"), members["chemist"])
    make_succeeded_run(Batch.objects.get(code="NC3.1"), members["chemist"])
    expected = ["NC3.1", "NC1.1", "NC0.1", "NC2.1", "NC4.1"]
    rows = listing.batch_list_rows(user=members["viewer"], filters=listing.BatchFilters(project_id=project.pk,
                                                                                         sort="-pending"))
    assert [b.code for b in rows[0:2]] + [b.code for b in rows[2:4]] + [b.code for b in rows[4:6]] == expected
    ascending = listing.batch_list_rows(user=members["viewer"], filters=listing.BatchFilters(project_id=project.pk,
                                                                                              sort="pending"))
    assert [b.code for b in ascending[0:5]] == ["NC0.1", "NC2.1", "NC4.1", "NC1.1", "NC3.1"]
    assert [b.code for b in ascending[3:]] == ["NC1.1", "NC3.1"]  # an open slice
    # Narrowed by a filter, the sort counts only the matching batches.
    narrowed = listing.batch_list_rows(user=members["viewer"], filters=listing.BatchFilters(
        project_id=project.pk, q="NC1", sort="-pending"))
    assert [b.code for b in narrowed[0:50]] == ["NC1.1"] and narrowed.count() == 1


def test_text_filter_matches_code_or_notes_case_folded_and_literally(members, project):
    chemist = members["chemist"]
    make_batch(chemist, project, code="NC8.3", notes="Hot injection")
    make_batch(chemist, project, code="nc10_4", notes="50% yield")
    make_batch(chemist, project, code="X1", notes="aged")

    def codes(q):
        return sorted(b.code for b in listing.batch_list(user=members["viewer"],
                                                         filters=listing.BatchFilters(project_id=project.pk, q=q)))

    assert codes("NC") == ["NC8.3", "nc10_4"] and codes("hOT") == ["NC8.3"] and codes("AGED") == ["X1"]
    assert codes("%") == ["nc10_4"] and codes("_") == ["nc10_4"] and codes("c_0") == []  # wildcards are literal
    assert codes("nc 3") == ["NC8.3"]  # every word must match, in code or notes
