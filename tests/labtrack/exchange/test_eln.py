""".eln export and import: the exported crate is a valid RO-Crate 1.1 and follows the ELN
Consortium's profile; a round trip into an empty LabTrack gives the same quantities of
record and raw-file checksums, with review states kept and marked as imported; damaged,
altered, traversing or bomb-like archives are refused with nothing written."""
import hashlib
import io
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest
from django.core.exceptions import ValidationError
import rocrate
from rocrate.rocrate import ROCrate

from analysis.synthetic.saxs import write_saxs_curve
from labtrack.analyses.models import AnalysisRun, Quantity, ReviewState, RunStatus
from labtrack.exchange.eln_export import batch_export_eln
from labtrack.exchange.eln_import import eln_import
from labtrack.measurements.ingest import Upload
from labtrack.measurements.models import Measurement, RawFile
from labtrack.analyses.pipeline import measurement_upload
from labtrack.samples.models import Batch, Sample
from tests.labtrack.exchange.eln_helpers import empty_labtrack, results_of_record, rezip
from tests.labtrack.factories import make_batch, make_sample, mark_accepted, measurement_counts_wrong

# The ELN Consortium's profile of RO-Crate 1.1 as a JSON Schema, written from its
# SPECIFICATION.md: the descriptor conforms to 1.1 and names a publisher and a version;
# files carry name, encodingFormat, contentSize (a string of bytes) and sha256; datasets
# carry a name; dates are ISO 8601 date-times.
_ENTITY_DATE = {"type": "string", "format": "date-time"}
ELN_PROFILE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["@context", "@graph"],
    "properties": {
        "@context": {"const": "https://w3id.org/ro/crate/1.1/context"},
        "@graph": {"type": "array", "items": {"type": "object", "required": ["@id", "@type"], "allOf": [
            {"if": {"properties": {"@id": {"const": "ro-crate-metadata.json"}}},
             "then": {"required": ["conformsTo", "about", "sdPublisher", "version"],
                      "properties": {"conformsTo": {"properties": {"@id": {"const": "https://w3id.org/ro/crate/1.1"}}},
                                     "version": {"type": "string"}, "dateCreated": _ENTITY_DATE}}},
            {"if": {"properties": {"@type": {"const": "File"}}},
             "then": {"required": ["name", "encodingFormat", "contentSize", "sha256"],
                      "properties": {"contentSize": {"type": "string", "pattern": "^[0-9]+$"},
                                     "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}}},
            {"if": {"properties": {"@type": {"const": "Dataset"}}},
             "then": {"required": ["name"], "properties": {"dateCreated": _ENTITY_DATE, "dateModified": _ENTITY_DATE,
                                                          "datePublished": _ENTITY_DATE}}},
        ]}},
    },
}


def _run(batch, measurement, raw, user, value, **fields):
    result = {"routine": "saxs.size_distribution", "version": "1.2.0",
              "quantities": {"mean_diameter_nm": {"value": value, "stderr": 0.2, "unit": "nm"}}, "components": []}
    run = AnalysisRun.objects.create(
        project=batch.project, batch=batch, measurement=measurement, routine="saxs.size_distribution",
        routine_version="1.2.0", requested_by=user, status=RunStatus.SUCCEEDED, result=result,
        result_sha256=hashlib.sha256(json.dumps(result).encode()).hexdigest(),
        input_files=[{"raw_file_id": raw.pk, "sha256": raw.sha256, "name": raw.original_name, "format": "saxs-dat"}],
        figure_svg=f"<svg xmlns='http://www.w3.org/2000/svg'><text>{value}</text></svg>",
        figure_png=b"\x89PNG\r\n\x1a\n" + bytes([int(value)]) * 64, parameters={"q_unit": "1/nm"}, **fields)
    Quantity.objects.create(run=run, name="mean_diameter_nm", value=value, stderr=0.2, unit="nm")
    Quantity.objects.create(run=run, name="mean_diameter_nm", value=value / 2, unit="nm", component_label="c1",
                            assignment="core")
    return run


@pytest.fixture
def lab_batch(members, project, tmp_path):
    """NC8.3 with a powder (and a child aliquot), a SAXS measurement of a real synthetic
    curve, an accepted re-fit superseding its parent, and a rejected run."""
    chemist, analyst = members["chemist"], members["analyst"]
    batch = make_batch(chemist, project, code="NC8.3", opa_concentration_molar=0.1, temperature_c=25.0,
                       notes="Hot injection, quenched with DDAB")
    powder = make_sample(chemist, batch, code="NC8.3-P", mass_mg=12.5)
    make_sample(chemist, batch, code="NC8.3-P-aged", parent=powder)
    path = write_saxs_curve(tmp_path / "NC8.3.dat", "NC8.3")
    with open(path, "rb") as fh:
        measurement = measurement_upload(user=chemist, sample=powder, technique="saxs",
                                         uploads=[Upload("NC8.3.dat", fh)], request_analyses=False)
    raw = measurement.raw_files.get()
    first = _run(batch, measurement, raw, chemist, 8.0)
    mark_accepted(first, analyst)
    AnalysisRun.objects.filter(pk=first.pk).update(is_current=False)
    refit = _run(batch, measurement, raw, chemist, 8.3, supersedes=first)
    mark_accepted(refit, analyst)
    rejected = _run(batch, measurement, raw, chemist, 20.0)
    AnalysisRun.objects.filter(pk=rejected.pk).update(review_state=ReviewState.REJECTED, reviewer=analyst,
                                                      review_reason="fit did not converge")
    return batch


def _export(user, batch, tmp_path) -> Path:
    target = tmp_path / "NC8.3.eln"
    with open(target, "wb") as out:
        assert batch_export_eln(user=user, batch=batch, out=out) == "NC8.3.eln"
    return target




def test_exported_crate_is_ro_crate_1_1_and_follows_the_eln_profile(members, lab_batch, tmp_path):
    eln = _export(members["viewer"], lab_batch, tmp_path)
    with zipfile.ZipFile(eln) as archive:
        names = archive.namelist()
        assert {n.split("/")[0] for n in names} == {"NC8.3"}  # one top folder
        metadata = json.loads(archive.read("NC8.3/ro-crate-metadata.json"))
        archive.extractall(tmp_path / "unzipped")
    assert metadata["@context"] == "https://w3id.org/ro/crate/1.1/context"
    graph = {e["@id"]: e for e in metadata["@graph"]}
    descriptor = graph["ro-crate-metadata.json"]
    assert descriptor["conformsTo"] == {"@id": "https://w3id.org/ro/crate/1.1"} and descriptor["about"] == {"@id": "./"}
    assert descriptor["version"] and graph[descriptor["sdPublisher"]["@id"]]["@type"] == "Organization"
    root = graph["./"]
    assert root["@type"] == "Dataset" and root["name"] and root["datePublished"] and root["hasPart"]
    # Every data entity is reachable from the root through hasPart, and every file is in the zip
    # with the declared size and checksum (ELN profile: name, encodingFormat, contentSize, sha256).
    reachable, todo = set(), [p["@id"] for p in root["hasPart"]]
    while todo:
        pid = todo.pop()
        reachable.add(pid)
        todo += [p["@id"] for p in graph[pid].get("hasPart", []) if p["@id"] not in reachable]
    files = [e for e in graph.values() if e["@type"] == "File"]
    assert files and {f["@id"] for f in files} <= reachable
    for f in files:
        data = (tmp_path / "unzipped" / "NC8.3" / f["@id"]).read_bytes()
        assert f["contentSize"] == str(len(data)) and f["sha256"] == hashlib.sha256(data).hexdigest()
        assert f["name"] and f["encodingFormat"]
    for d in (e for e in graph.values() if e["@type"] == "Dataset" and e["@id"] != "./"):
        assert d["name"] and d["@id"].endswith("/")
    raw = next(f for f in files if f["name"] == "NC8.3.dat")
    assert raw["sha256"] == RawFile.objects.get().sha256
    batch_ds = graph["NC8.3-batch/"]
    assert batch_ds["author"]["@id"] in graph and batch_ds["dateCreated"].startswith(str(lab_batch.synthesised_at.year))
    opa = next(graph[p["@id"]] for p in batch_ds["variableMeasured"] if graph[p["@id"]]["propertyID"] == "opa_concentration_molar")
    assert opa["value"] == 0.1 and opa["unitText"] == "M"
    # The consortium's JSON schema for ro-crate-metadata.json, and ro-crate-py reading it back.
    jsonschema.Draft202012Validator(ELN_PROFILE, format_checker=jsonschema.FormatChecker()).validate(metadata)
    broken = json.loads(json.dumps(metadata))
    next(e for e in broken["@graph"] if e["@type"] == "File").pop("sha256")
    with pytest.raises(jsonschema.ValidationError):  # the profile check can fail
        jsonschema.Draft202012Validator(ELN_PROFILE).validate(broken)
    # Every property is a term of the RO-Crate JSON-LD context (ro-crate-py ships the
    # current one, a superset of 1.1's), so a JSON-LD processor drops none of them.
    context_terms = json.loads((Path(rocrate.__file__).parent / "data" / "ro-crate.jsonld").read_text())["@context"]
    undefined = {k for e in metadata["@graph"] for k in e if not k.startswith("@") and k not in context_terms}
    assert undefined == set()
    crate = ROCrate(tmp_path / "unzipped" / "NC8.3")
    assert crate.root_dataset["name"] == "LabTrack batch NC8.3"
    assert crate.dereference("NC8.3-batch/")["identifier"] == "NC8.3"
    results = json.loads((tmp_path / "unzipped" / "NC8.3" / "NC8.3-batch" / "results-of-record.json").read_text())
    assert sorted(r["value"] for r in results) == [4.15, 8.3]  # the accepted re-fit only (the rule of record)


@pytest.mark.django_db(transaction=True)  # flush, as a fresh LabTrack, needs no open test transaction
def test_round_trip_into_an_empty_labtrack(members, lab_batch, tmp_path, settings, make_user):
    viewer = members["viewer"]
    record_before = results_of_record(viewer)
    checksums_before = sorted(RawFile.objects.values_list("sha256", flat=True))
    states_before = sorted(AnalysisRun.objects.values_list("review_state", "is_current"))
    eln = _export(viewer, lab_batch, tmp_path)

    chemist, team = empty_labtrack(settings, tmp_path, make_user)  # another LabTrack
    assert not Batch.objects.exists() and not RawFile.objects.exists()

    report = eln_import(user=chemist, project=team, path=str(eln), file_name="NC8.3.eln")
    assert report.kind == "labtrack" and report.batches == ["NC8.3"] and report.runs == 3
    assert results_of_record(chemist) == record_before
    assert sorted(RawFile.objects.values_list("sha256", flat=True)) == checksums_before
    from labtrack.measurements.blobs import blob_verify
    assert all(blob_verify(s) for s in checksums_before)
    assert sorted(AnalysisRun.objects.values_list("review_state", "is_current")) == states_before
    refit = AnalysisRun.objects.get(is_current=True, review_state=ReviewState.ACCEPTED)
    assert refit.supersedes.quantities.get(component_label="").value == 8.0
    assert refit.review_reason.startswith("Imported from NC8.3.eln") and "Reviewed there by analyst" in refit.review_reason
    assert refit.history.first().history_change_reason.startswith("Imported from NC8.3.eln")
    assert refit.figure_svg.startswith("<svg") and bytes(refit.figure_png).startswith(b"\x89PNG")
    assert refit.input_files[0]["raw_file_id"] == RawFile.objects.get().pk
    batch = Batch.objects.get()
    assert batch.project == team and batch.opa_concentration_molar == 0.1
    assert Sample.objects.get(code="NC8.3-P-aged").parent.code == "NC8.3-P"
    assert Measurement.objects.get().technique == "saxs"
    assert batch.measurement_count == 1 and measurement_counts_wrong() == {}  # imported through the services
    # The imported numbers are offered on the trends page like fitted ones.
    from labtrack.insights.selectors import quantity_choices
    assert ("saxs.size_distribution", "mean_diameter_nm") in {(c.routine, c.name) for c in quantity_choices(user=chemist)}

    # Importing the same bundle again is refused whole: codes are unique.
    with pytest.raises(ValidationError, match="already exists"):
        eln_import(user=chemist, project=team, path=str(eln), file_name="NC8.3.eln")
    assert Batch.objects.count() == 1 and AnalysisRun.objects.count() == 3
    assert measurement_counts_wrong() == {}  # the refused import counted nothing




def test_an_altered_raw_file_is_refused_and_nothing_is_written(members, lab_batch, tmp_path, project):
    eln = _export(members["viewer"], lab_batch, tmp_path)
    altered = rezip(eln, tmp_path / "altered.eln",
                     lambda n, d: (n, d + b"\n0.5 1.0\n" if n.endswith("NC8.3.dat") else d))
    Batch.objects.filter(pk=lab_batch.pk).update(code="NC8.3-old")
    for s in Sample.objects.filter(batch=lab_batch):
        Sample.objects.filter(pk=s.pk).update(code=s.code + "-old")
    counts = (Batch.objects.count(), Measurement.objects.count(), AnalysisRun.objects.count())
    with pytest.raises(ValidationError, match="does not match its checksum"):
        eln_import(user=members["chemist"], project=project, path=str(altered), file_name="altered.eln")
    assert (Batch.objects.count(), Measurement.objects.count(), AnalysisRun.objects.count()) == counts


@pytest.mark.parametrize("entries, message", [
    ({"a/ro-crate-metadata.json": b"{}", "b/x.txt": b"x"}, "exactly one folder"),
    ({"top/../../etc/passwd": b"x", "top/ro-crate-metadata.json": b"{}"}, "outside its folder"),
    ({"/top/ro-crate-metadata.json": b"{}"}, "outside its folder"),
    ({"top/notes.txt": b"x"}, "no ro-crate-metadata.json"),
    ({"top/ro-crate-metadata.json": b"{not json"}, "not valid JSON"),
    ({"top/ro-crate-metadata.json": json.dumps({"@context": "https://schema.org", "@graph": []}).encode()},
     "RO-Crate 1.x context"),
])
def test_malformed_archives_are_refused_clearly(members, project, tmp_path, entries, message):
    path = tmp_path / "bad.eln"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(ValidationError, match=message):
        eln_import(user=members["chemist"], project=project, path=str(path), file_name="bad.eln")
    assert not Batch.objects.exists()


def test_zip_bombs_are_refused_before_unpacking(members, project, tmp_path, settings):
    path = tmp_path / "bomb.eln"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("top/ro-crate-metadata.json", b"{}")
        archive.writestr("top/zeros.bin", b"\0" * (20 << 20))  # 20 MiB of zeros packs ~1000x
    with pytest.raises(ValidationError, match="zip bomb"):
        eln_import(user=members["chemist"], project=project, path=str(path), file_name="bomb.eln")
    settings.LABTRACK_ELN_MAX_RATIO = 10_000
    settings.LABTRACK_ELN_MAX_UNPACKED_BYTES = 10 << 20
    with pytest.raises(ValidationError, match="more than the 10 MiB limit"):
        eln_import(user=members["chemist"], project=project, path=str(path), file_name="bomb.eln")
    settings.LABTRACK_ELN_MAX_UNPACKED_BYTES = 1 << 30
    settings.LABTRACK_ELN_MAX_ENTRIES = 1
    with pytest.raises(ValidationError, match="holds 2 files"):
        eln_import(user=members["chemist"], project=project, path=str(path), file_name="bomb.eln")


def test_a_labtrack_record_of_the_wrong_shape_is_refused_not_a_crash(members, project, tmp_path):
    record = json.dumps({"format": "labtrack-batch", "version": 1, "samples": []}).encode()
    graph = [{"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"},
              "sdPublisher": {"@id": "#labtrack"}},
             {"@id": "#labtrack", "@type": "Organization", "name": "LabTrack"},
             {"@id": "./", "@type": "Dataset", "hasPart": [{"@id": "b/"}]},
             {"@id": "b/", "@type": "Dataset", "name": "b", "hasPart": [{"@id": "b/labtrack.json"}]},
             {"@id": "b/labtrack.json", "@type": "File", "name": "labtrack.json",
              "sha256": hashlib.sha256(record).hexdigest()}]
    path = tmp_path / "odd.eln"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("odd/ro-crate-metadata.json", json.dumps({"@context": "https://w3id.org/ro/crate/1.1/context",
                                                                   "@graph": graph}))
        archive.writestr("odd/b/labtrack.json", record)
    with pytest.raises(ValidationError, match="could not be mapped"):
        eln_import(user=members["chemist"], project=project, path=str(path), file_name="odd.eln")
    assert not Batch.objects.exists()
