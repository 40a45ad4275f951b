"""Search across batches, samples, measurements, raw files, notes, storage places and
protocols: finds what the placeholder promises, stays in the user's projects, and costs
the same for a 10,000-character paste as for a short query (asserted on terms used and
queries made, never on seconds)."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labtrack.insights.search import KINDS, MAX_QUERY_CHARS, MAX_TERMS, parse_query, search
from labtrack.measurements.models import Measurement, RawFile
from labtrack.samples.models import SynthesisProtocol
from tests.labtrack.factories import make_batch, make_sample


@pytest.fixture
def lab(members, project, other_project):
    chemist = members["chemist"]
    protocol = SynthesisProtocol.objects.create(name="Hot injection, DDAB quench", version="2",
                                                description="Cs-oleate injected at 180 °C")
    nc83 = make_batch(chemist, project, code="NC8.3", notes="green emission", protocol=protocol)
    nc128 = make_batch(chemist, project, code="NC12.8")
    powder = make_sample(chemist, nc83, code="NC8.3-P", storage_location="Desiccator D1")
    aged = make_sample(chemist, nc128, code="NC12.8-P-AGED", storage_location="Bench shelf, ambient",
                       notes="Aliquot aged under ambient conditions for 6 months.")
    m = Measurement.objects.create(sample=powder, technique="nmr", label="133Cs one-pulse, 24 kHz MAS")
    RawFile.objects.create(measurement=m, sha256="ab" * 32, original_name="NC8.3_cs133_expno10.zip",
                           detected_format="bruker-topspin", data_kind="nmr-1d", uploaded_by=chemist,
                           size_bytes=10)
    # Another team's sample in the same desiccator must not be shown.
    from labtrack.samples.models import Membership
    Membership.objects.create(project=other_project, user=members["manager"], role="manager")
    secret = make_batch(members["manager"], other_project, code="SECRET1")
    make_sample(members["manager"], secret, code="SECRET1-P", storage_location="Desiccator D1")
    return {"powder": powder, "aged": aged, "batch": nc83, "protocol": protocol}


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def _titles(results, kind):
    return [h.title for h in results.groups.get(kind, [])]


def test_finds_aged(lab, members):
    results = search(user=members["analyst"], text="aged")
    assert "NC12.8-P-AGED" in _titles(results, "Samples")


def test_finds_a_sample_code_first(lab, members):
    results = search(user=members["analyst"], text="NC8.3-P")
    assert _titles(results, "Samples")[0] == "NC8.3-P"


def test_finds_a_storage_place_in_own_projects_only(lab, members):
    results = search(user=members["analyst"], text="desiccator d1")
    assert _titles(results, "Samples") == ["NC8.3-P"]  # SECRET1-P is another team's


def test_finds_raw_file_names_measurement_labels_and_protocols(lab, members):
    user = members["analyst"]
    assert _titles(search(user=user, text="expno10"), "Raw files") == ["NC8.3_cs133_expno10.zip"]
    assert any("24 kHz" in t for t in _titles(search(user=user, text="24 kHz"), "Measurements"))
    assert _titles(search(user=user, text="quench"), "Protocols") == ["Hot injection, DDAB quench v2"]
    assert "NC8.3" in _titles(search(user=user, text="green"), "Batches")


def test_equally_good_hits_come_in_natural_code_order(members, project):
    for code in ("NC10.4", "NC6.4", "NC8.3"):
        make_batch(members["chemist"], project, code=code, notes="washed twice")
    results = search(user=members["analyst"], text="washed")
    assert _titles(results, "Batches") == ["NC6.4", "NC8.3", "NC10.4"]


def test_every_word_must_match(lab, members):
    results = search(user=members["analyst"], text="desiccator aged")
    assert results.total == 0


def test_parse_caps_length_and_terms():
    long = " ".join(f"word{i}" for i in range(3000))  # ~26,000 characters
    parsed = parse_query(long)
    assert len(parsed.terms) == MAX_TERMS and parsed.truncated
    assert parse_query("aged AGED 'aged'").terms == ("aged",)
    assert parse_query("x" * 10_000).terms == ("x" * 64,)
    assert parse_query("").terms == ()


def test_ten_thousand_characters_cost_what_eight_words_cost(lab, members):
    text = ("aged NC8.3-P desiccator " * 500)[:10_000] + " ".join(f"w{i}" for i in range(2000))
    assert len(text) >= 10_000
    with CaptureQueriesContext(connection) as long_run:
        results = search(user=members["analyst"], text=text)
    with CaptureQueriesContext(connection) as short_run:
        search(user=members["analyst"], text="a b c d e f g h")
    assert len(results.query.terms) <= MAX_TERMS and results.query.truncated
    assert len(long_run) == len(short_run) == len(KINDS)
    longest_sql = max(len(q["sql"]) for q in long_run.captured_queries)
    assert longest_sql < 40 * MAX_QUERY_CHARS * 10  # SQL size bounded by the capped terms


def test_search_page_groups_by_kind_and_says_when_cut(lab, login, members):
    client = login(members["analyst"])
    page = client.get(reverse("search"), {"q": "NC8.3"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Samples" in body and "Batches" in body and reverse("sample_detail", args=[lab["powder"].pk]) in body
    long = client.get(reverse("search"), {"q": "z " * 5000})
    assert long.status_code == 200 and "Only the first" in long.content.decode()
    empty = client.get(reverse("search"), {"q": "zzzz-nothing"})
    assert "Nothing in your projects matches" in empty.content.decode()


def test_header_has_the_search_box(login, members, project):
    body = login(members["viewer"]).get(reverse("batch_list")).content.decode()
    assert f'action="{reverse("search")}"' in body
