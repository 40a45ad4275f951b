"""A member of project A sees nothing of project B through any endpoint: lists, details,
filters, downloads and exports (counted: zero leaked records), and every list operation
the OpenAPI schema describes is checked, so a new endpoint cannot be forgotten."""
from __future__ import annotations

import csv
import io

import pytest

LIST_KINDS = {
    "/api/v1/projects/": "projects", "/api/v1/batches/": "batches", "/api/v1/samples/": "samples",
    "/api/v1/measurements/": "measurements", "/api/v1/files/": "files", "/api/v1/runs/": "runs",
    "/api/v1/studies/": "studies", "/api/v1/quantities/": "quantities",
}
# Shared reference data (not owned by a project): visible to all, by design.
SHARED = {"/api/v1/protocols/", "/api/v1/instruments/"}


def _all_pages(api, url, params=None):
    rows, params = [], {"page_size": 1000, **(params or {})}
    while url:
        response = api.get(url, params)
        assert response.status_code == 200, (url, response.content[:300])
        body = response.json()
        rows += body["results"]
        url, params = body["next"], None
    return rows


def _ids(kind: str, rows: list[dict]) -> set:
    key = "run" if kind == "quantities" else "id"
    return {r[key] for r in rows}


def _leaked(kind: str, rows: list[dict], other) -> list:
    """Rows that belong to the other lab, by id (runs for quantities) and by code."""
    ids = other.ids.get("runs" if kind == "quantities" else kind, set())
    codes = set().union(*other.codes.values())
    text_leaks = [r for r in rows if any(str(v) in codes for v in r.values() if isinstance(v, str))]
    return [r for r in rows if (r.get("run") if kind == "quantities" else r.get("id")) in ids] + text_leaks


@pytest.fixture
def api_a(members, token_client):
    return token_client(members["viewer"], scope="read")


def test_lists_show_own_records_and_none_of_the_other_project(api_a, two_labs):
    a, b = two_labs["a"], two_labs["b"]
    for url, kind in LIST_KINDS.items():
        rows = _all_pages(api_a, url, {"accepted": "false"} if kind == "quantities" else None)
        assert _leaked(kind, rows, b) == [], url
        own = a.ids.get("runs" if kind == "quantities" else kind, set())
        assert _ids(kind, rows) >= (own if kind != "quantities" else own), url


def test_details_of_the_other_project_are_404(api_a, two_labs):
    b = two_labs["b"]
    urls = [f"/api/v1/batches/{code}/" for code in b.codes["batches"]]
    urls += [f"/api/v1/{kind}/{pk}/" for kind in ("projects", "samples", "measurements", "files", "runs", "studies")
             for pk in b.ids[kind]]
    urls += [f"/api/v1/files/{pk}/download/" for pk in b.ids["files"]]
    urls += [f"/api/v1/measurements/{pk}/analyse/" for pk in b.ids["measurements"]]
    leaked = []
    for url in urls:
        response = api_a.post(url, {}, format="json") if url.endswith("analyse/") else api_a.get(url)
        if response.status_code not in (403, 404):
            leaked.append((url, response.status_code))
        # read-only token: POST is refused before the object is even looked up
    assert leaked == []
    for url in urls:
        if not url.endswith("analyse/"):
            assert api_a.get(url).status_code == 404, url


def test_writes_cannot_reach_the_other_project(members, token_client, two_labs):
    b = two_labs["b"]
    analyst = token_client(members["analyst"])
    run = next(iter(b.ids["runs"]))
    assert analyst.post(f"/api/v1/runs/{run}/review/", {"decision": "reject", "reason": "x"},
                        format="json").status_code == 404
    assert analyst.post(f"/api/v1/runs/{run}/refit/", {}, format="json").status_code == 404
    chemist = token_client(members["chemist"])
    response = chemist.post("/api/v1/batches/", {"project_id": two_labs["b"].project.pk, "code": "NC0.1"},
                            format="json")
    assert response.status_code == 400 and "project_id" in response.json()["errors"]
    response = chemist.post("/api/v1/samples/", {"batch": "OT8.3", "code": "OT8.3-X", "form": "powder"}, format="json")
    assert response.status_code == 400 and "batch" in response.json()["errors"]
    measurement = next(iter(b.ids["measurements"]))
    assert chemist.post(f"/api/v1/measurements/{measurement}/analyse/", {"routine": "saxs.size_distribution"},
                        format="json").status_code == 404
    assert chemist.patch("/api/v1/batches/OT8.3/", {"notes": "mine now"}, format="json").status_code == 404


def test_filters_naming_the_other_projects_records_find_nothing(api_a, two_labs):
    b = two_labs["b"]
    probes = {
        "/api/v1/batches/": [{"code": "OT8.3"}, {"project": b.project.pk}],
        "/api/v1/samples/": [{"batch": "OT8.3"}, {"code": "OT8.3-P"}, {"project": b.project.pk}],
        "/api/v1/measurements/": [{"sample": "OT8.3-P"}, {"batch": "OT8.3"}],
        "/api/v1/files/": [{"measurement": m} for m in b.ids["measurements"]],
        "/api/v1/runs/": [{"batch": "OT8.3"}] + [{"measurement": m} for m in b.ids["measurements"]],
        "/api/v1/quantities/": [{"batch": "OT8.3"}, {"sample": "OT8.3-P"}, {"project": b.project.pk},
                                {"batch": "OT8.3", "accepted": "false"}],
        "/api/v1/studies/": [{"project": b.project.pk}, {"name": "OT"}],
    }
    found = {(url, tuple(p.items())): len(_all_pages(api_a, url, p)) for url, ps in probes.items() for p in ps}
    assert {k: n for k, n in found.items() if n} == {}


def test_exports_hold_none_of_the_other_projects_numbers(api_a, two_labs):
    from openpyxl import load_workbook

    for shape in ("long", "wide"):
        response = api_a.get("/api/v1/quantities/export/", {"format": "csv", "shape": shape, "accepted": "false"})
        text = b"".join(response.streaming_content).decode()
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) > 1
        assert not [r for r in rows if any(cell.startswith("OT") for cell in r)], shape
        response = api_a.get("/api/v1/quantities/export/", {"format": "xlsx", "shape": shape, "batch": "OT8.3"})
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        assert len(list(sheet.iter_rows(values_only=True))) == 1  # the header only
    # the page's CSV too (same selector)
    from django.test import Client

    client = Client()
    client.force_login(two_labs["a"].project.memberships.first().user)
    body = b"".join(client.get("/results.csv?accepted=0").streaming_content).decode()
    assert "OT8.3" not in body and "NC8.3" in body


def test_every_list_operation_in_the_schema_is_checked(api_a, two_labs):
    """Walk the schema: each collection GET (no path parameter) is either one of the
    project-owned lists above (checked for leaks here too) or shared reference data."""
    import yaml

    schema = yaml.safe_load(api_a.get("/api/schema/").content)
    lists = {path for path, ops in schema["paths"].items() if "get" in ops and "{" not in path
             and path.startswith("/api/v1/")}
    lists -= {"/api/v1/quantities/export/"}  # checked by test_exports_...
    assert lists - set(LIST_KINDS) - SHARED == set(), "a new list endpoint needs a leak check"
    for url in lists & set(LIST_KINDS):
        rows = _all_pages(api_a, url)
        assert _leaked(LIST_KINDS[url], rows, two_labs["b"]) == [], url
