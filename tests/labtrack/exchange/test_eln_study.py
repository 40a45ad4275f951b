"""An ageing study as one .eln: the crate is a valid RO-Crate 1.1 in the ELN profile, its
batches are described exactly as their own bundles describe them, and a round trip into
an empty LabTrack gives back the same study — conditions, schedule, pull points (a
re-dated one included), quantities — with the same results of record and raw-file
checksums. A damaged or incomplete bundle is refused with nothing written; the export
holds no raw file or run whole in memory; the study page offers it to whoever may see
the study and to nobody else."""
import hashlib
import io
import json
import os
import tracemalloc
import zipfile
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
import rocrate
from django.core.exceptions import ValidationError
from django.urls import reverse
from rocrate.rocrate import ROCrate

from analysis.synthetic.pl import write_pl_spectrum
from labtrack.ageing.models import PullPoint, Study
from labtrack.ageing.selectors import statuses, study_series
from labtrack.ageing.services import pull_point_redate
from labtrack.analyses.models import AnalysisRun, Quantity, ReviewState, RunStatus
from labtrack.analyses.pipeline import measurement_upload
from labtrack.analyses.selectors import quantities_of_record
from labtrack.exchange.eln_export import batch_export_eln
from labtrack.exchange.eln_import import eln_import
from labtrack.exchange.eln_study import study_export_eln
from labtrack.measurements.ingest import Upload
from labtrack.measurements.models import Measurement, RawFile
from labtrack.samples.models import Batch, Membership, Sample
from tests.labtrack.ageing.helpers import START, make_study
from tests.labtrack.exchange.test_eln import ELN_PROFILE
from tests.labtrack.exchange.eln_helpers import empty_labtrack, results_of_record, rezip
from tests.labtrack.factories import make_batch, make_sample, mark_accepted

CODES = ("NC12.8", "NC8.9")
DAYS = (0.5, 30.0, 91.0)
SCHEDULE = [{"label": "t0", "offset_days": 0, "tolerance_days": 2, "techniques": ["pl"]},
            {"label": "1 month", "offset_days": 30, "tolerance_days": 3, "techniques": ["pl"]},
            {"label": "3 months", "offset_days": 91, "tolerance_days": 5, "techniques": ["pl"]},
            {"label": "6 months", "offset_days": 182, "tolerance_days": 7, "techniques": ["pl"]}]


def _pl_run(measurement, raw, user, peak_nm: float, review_state=ReviewState.ACCEPTED, reviewer=None):
    result = {"routine": "pl.peak", "version": "1.0.0",
              "quantities": {"peak_wavelength_nm": {"value": peak_nm, "stderr": 0.1, "unit": "nm"}}}
    batch = measurement.sample.batch
    run = AnalysisRun.objects.create(
        project=batch.project, batch=batch, measurement=measurement, routine="pl.peak", routine_version="1.0.0",
        requested_by=user, status=RunStatus.SUCCEEDED, result=result,
        result_sha256=hashlib.sha256(json.dumps(result).encode()).hexdigest(),
        input_files=[{"raw_file_id": raw.pk, "sha256": raw.sha256, "name": raw.original_name, "format": "pl-csv"}],
        figure_svg=f"<svg xmlns='http://www.w3.org/2000/svg'><text>{peak_nm}</text></svg>")
    Quantity.objects.create(run=run, name="peak_wavelength_nm", value=peak_nm, stderr=0.1, unit="nm")
    Quantity.objects.create(run=run, name="fwhm_nm", value=18.5, stderr=0.2, unit="nm")
    if review_state == ReviewState.ACCEPTED:
        mark_accepted(run, reviewer)
    elif review_state == ReviewState.REJECTED:
        AnalysisRun.objects.filter(pk=run.pk).update(review_state=review_state, reviewer=reviewer,
                                                      review_reason="baseline wrong")
    return run


@pytest.fixture
def lab_study(members, project, tmp_path):
    """An air study on NC12.8-P-AIR and NC8.9-P-AIR (two batches; NC12.8 also holds an N2
    sample outside the study): PL at t0, 1 and 3 months with accepted peak fits (one
    rejected re-fit), the 6-month point of NC12.8 re-dated by hand."""
    chemist, analyst = members["chemist"], members["analyst"]
    samples = []
    for code in CODES:
        batch = make_batch(chemist, project, code=code, temperature_c=25.0, notes=f"{code} hot injection")
        sample = make_sample(chemist, batch, code=f"{code}-P-AIR", prepared_at=START, ageing_started_at=START)
        samples.append(sample)
        for i, days in enumerate(DAYS):
            path = write_pl_spectrum(tmp_path / f"{code}-{days:g}d.csv", code, seed=i)
            with open(path, "rb") as fh:
                m = measurement_upload(user=chemist, sample=sample, technique="pl", uploads=[Upload(path.name, fh)],
                                       measured_at=START + timedelta(days=days), request_analyses=False)
            _pl_run(m, m.raw_files.get(), chemist, 516.0 - 0.02 * days if code == "NC12.8" else 510.0 + 0.01 * days,
                    reviewer=analyst)
        if code == "NC12.8":
            make_sample(chemist, batch, code=f"{code}-P-N2", prepared_at=START, atmosphere="n2")
            _pl_run(m, m.raw_files.get(), chemist, 530.0, review_state=ReviewState.REJECTED, reviewer=analyst)
    study = make_study(chemist, project, samples, name="Ambient air, shelf A", notes="Open vials on shelf A.",
                       quantities=("pl_peak", "pl_fwhm"), temperature_c=25.0, relative_humidity_percent=45.0,
                       light="ambient", pull_points=SCHEDULE)
    six_months = study.pull_points.get(sample=samples[0], label="6 months")
    pull_point_redate(user=chemist, point=six_months, due_at=six_months.due_at + timedelta(days=5),
                      reason="instrument service that week")
    return Study.objects.get(pk=study.pk)


def _export(user, study, tmp_path) -> Path:
    target = tmp_path / "study.eln"
    with open(target, "wb") as out:
        assert study_export_eln(user=user, study=study, out=out) == "study-Ambient_air_shelf_A.eln"
    return target


def _study_state(user):
    """What the study page shows of the (one) study, as plain values."""
    study = Study.objects.get()
    points = list(PullPoint.objects.filter(study=study).select_related("sample").order_by("sample__code", "offset_days"))
    return {
        "fields": (study.name, study.atmosphere, study.temperature_c, study.relative_humidity_percent, study.light),
        "samples": sorted(s.code for s in study.samples.all()),
        "points": [(p.sample.code, p.label, p.offset_days, p.tolerance_days, p.techniques, p.due_at, p.opens_at,
                    p.closes_at, p.missed_at) for p in points],
        "statuses": [(s.point.sample.code, s.point.label, s.status, [m.measured_at for m in s.measurements])
                     for s in statuses(points)],
        "quantities": [(q.key, q.label, q.routine, q.name, q.assignment, q.unit, q.threshold_kind, q.threshold_amount)
                       for q in study.quantities.order_by("key")],
        "series": sorted((s.quantity.key, s.sample_code, [(round(p["age_days"], 9), p["value"], p["stderr"])
                                                          for p in s.points])
                         for s in study_series(user=user, study=study)),
    }




def _unzip(eln: Path, folder: Path) -> tuple[dict, Path]:
    with zipfile.ZipFile(eln) as archive:
        tops = {n.split("/")[0] for n in archive.namelist()}
        assert len(tops) == 1
        archive.extractall(folder)
    top = folder / tops.pop()
    return json.loads((top / "ro-crate-metadata.json").read_text()), top


def test_the_study_crate_is_ro_crate_1_1_and_its_batches_are_described_as_their_own_bundles(
        members, lab_study, tmp_path):
    viewer = members["viewer"]
    metadata, top = _unzip(_export(viewer, lab_study, tmp_path), tmp_path / "study")
    jsonschema.Draft202012Validator(ELN_PROFILE, format_checker=jsonschema.FormatChecker()).validate(metadata)
    context_terms = json.loads((Path(rocrate.__file__).parent / "data" / "ro-crate.jsonld").read_text())["@context"]
    assert {k for e in metadata["@graph"] for k in e if not k.startswith("@") and k not in context_terms} == set()
    graph = {e["@id"]: e for e in metadata["@graph"]}
    root = graph["./"]
    assert root["name"] == "LabTrack ageing study Ambient air, shelf A" and root["hasPart"] == [{"@id": "study/"}]
    study_ds = graph["study/"]
    assert study_ds["identifier"] == "Ambient air, shelf A" and study_ds["text"] == "Open vials on shelf A."
    parts = [p["@id"] for p in study_ds["hasPart"]]
    assert parts[:2] == ["NC8.9-batch/", "NC12.8-batch/"] and "study/labtrack-study.json" in parts
    assert study_ds["about"] == [{"@id": "NC8.9-batch/samples/NC8.9-P-AIR/"}, {"@id": "NC12.8-batch/samples/NC12.8-P-AIR/"}]
    variables = {graph[v["@id"]]["propertyID"]: graph[v["@id"]] for v in study_ds["variableMeasured"]}
    assert variables["relative_humidity_percent"]["value"] == 45.0 and variables["relative_humidity_percent"]["unitText"] == "%"
    assert variables["pl_peak"]["name"] == "PL peak" and "±3 nm" in variables["pl_peak"]["description"]
    # Each pull point is an Event: its window, the sample it is about, the measurement that did it.
    events = [graph[e["@id"]] for e in study_ds["recordedAt"]]
    assert len(events) == 2 * 4 and all(e["@type"] == "Event" for e in events)
    one_month = next(e for e in events if e["name"] == "NC8.9-P-AIR: 1 month pull point")
    measured = Measurement.objects.get(sample__code="NC8.9-P-AIR", measured_at=START + timedelta(days=30))
    assert one_month["workPerformed"] == [{"@id": f"NC8.9-batch/measurements/{measured.pk}-pl/"}]
    assert one_month["startDate"] == (START + timedelta(days=27)).isoformat() and "on time" in one_month["description"]
    # Every file reachable from the root and in the zip with its size and checksum.
    reachable, todo = set(), ["study/"]
    while todo:
        pid = todo.pop()
        reachable.add(pid)
        todo += [p["@id"] for p in graph[pid].get("hasPart", []) if p["@id"] not in reachable]
    files = [e for e in graph.values() if e["@type"] == "File"]
    assert {f["@id"] for f in files} <= reachable
    for f in files:
        data = (top / f["@id"]).read_bytes()
        assert f["contentSize"] == str(len(data)) and f["sha256"] == hashlib.sha256(data).hexdigest()
    assert sorted(f["sha256"] for f in files if f["name"].endswith("d.csv")) == sorted(
        RawFile.objects.values_list("sha256", flat=True))
    crate = ROCrate(top)
    assert crate.dereference("NC8.9-batch/")["identifier"] == "NC8.9"

    # The batch NC12.8 as its own bundle describes it: the same entities, field for field
    # (its labtrack.json differs only by the time of export).
    batch_metadata, batch_top = _unzip(_export_batch(viewer, "NC12.8", tmp_path), tmp_path / "batch")
    alone = {e["@id"]: e for e in batch_metadata["@graph"]}
    own = {i for i in alone if i.startswith("NC12.8-batch/") or i.startswith("#batch-") or i.startswith("#sample-")}
    assert len(own) > 10
    native = "NC12.8-batch/labtrack.json"
    for i in own - {native}:
        assert graph[i] == alone[i], i

    def without_time(path):
        record = json.loads(path.read_text())
        record.pop("exported_at")
        return record

    assert without_time(top / native) == without_time(batch_top / native)

    # The native record and the results of record per pull point.
    record = json.loads((top / "study" / "labtrack-study.json").read_text())
    assert record["format"] == "labtrack-study" and record["version"] == 1
    assert record["study"]["samples"] == ["NC8.9-P-AIR", "NC12.8-P-AIR"]
    assert [b["record"] for b in record["batches"]] == ["NC8.9-batch/labtrack.json", "NC12.8-batch/labtrack.json"]
    redated = next(p for p in record["study"]["pull_points"] if p["sample"] == "NC12.8-P-AIR" and p["label"] == "6 months")
    assert redated["due_at"] == (START + timedelta(days=187)).isoformat()
    results = json.loads((top / "study" / "study-results.json").read_text())
    by_point = {(p["sample"], p["label"]): p["results"] for p in results["pull_points"]}
    peak = next(r for r in by_point[("NC12.8-P-AIR", "3 months")] if r["quantity"] == "pl_peak")
    assert peak["value"] == pytest.approx(516.0 - 0.02 * 91) and by_point[("NC12.8-P-AIR", "6 months")] == []
    assert peak["run"] in set(quantities_of_record(user=viewer).values_list("run_id", flat=True))
    series = next(s for s in results["series"] if s["quantity"] == "pl_peak" and s["sample"] == "NC12.8-P-AIR")
    assert [r["pull_point"] for r in series["results"]] == ["t0", "1 month", "3 months"]
    assert series["baseline"] == "515.99 ± 0.10 nm" and series["assessment"]["fit"]["model"]


def _export_batch(user, code, tmp_path) -> Path:
    target = tmp_path / f"{code}.eln"
    with open(target, "wb") as out:
        batch_export_eln(user=user, batch=Batch.objects.get(code=code), out=out)
    return target


@pytest.mark.django_db(transaction=True)  # flush, as a fresh LabTrack, needs no open test transaction
def test_round_trip_of_a_study_into_an_empty_labtrack(members, lab_study, tmp_path, settings, make_user):
    viewer = members["viewer"]
    before = _study_state(viewer)
    record_before = results_of_record(viewer)
    checksums_before = sorted(RawFile.objects.values_list("sha256", flat=True))
    states_before = sorted(AnalysisRun.objects.values_list("review_state", "is_current"))
    eln = _export(viewer, lab_study, tmp_path)

    chemist, team = empty_labtrack(settings, tmp_path, make_user)  # another LabTrack
    assert not Study.objects.exists() and not RawFile.objects.exists()

    report = eln_import(user=chemist, project=team, path=str(eln), file_name="study.eln")
    study = Study.objects.get()
    assert report.kind == "labtrack" and report.batches == ["NC8.9", "NC12.8"]
    assert report.studies == [{"id": study.pk, "name": "Ambient air, shelf A"}]
    assert report.measurements == 6 and report.runs == 7
    assert sorted(report.samples) == ["NC12.8-P-AIR", "NC12.8-P-N2", "NC8.9-P-AIR"]
    assert _study_state(chemist) == before
    assert results_of_record(chemist) == record_before
    assert sorted(RawFile.objects.values_list("sha256", flat=True)) == checksums_before
    assert sorted(AnalysisRun.objects.values_list("review_state", "is_current")) == states_before
    assert study.project == team and study.created_by == chemist
    assert study.notes.startswith("Open vials on shelf A.\nImported from study.eln")
    # The re-dated point keeps its date, and its history says where it came from.
    redated = study.pull_points.get(sample__code="NC12.8-P-AIR", label="6 months")
    assert redated.due_at == START + timedelta(days=187)
    assert redated.history.first().history_change_reason.startswith("Imported from study.eln")
    assert not study.pull_points.get(sample__code="NC8.9-P-AIR", label="6 months").history.first().history_change_reason

    # Importing it again is refused whole, the study included.
    with pytest.raises(ValidationError, match="already has a study"):
        eln_import(user=chemist, project=team, path=str(eln), file_name="study.eln")
    assert (Batch.objects.count(), Study.objects.count(), AnalysisRun.objects.count()) == (2, 1, 7)




def _counts():
    return (Batch.objects.count(), Sample.objects.count(), Measurement.objects.count(), AnalysisRun.objects.count(),
            Study.objects.count(), PullPoint.objects.count())


def _free_the_codes():
    """Rename this LabTrack's batches and samples so only the study's own checks can refuse."""
    for model in (Batch, Sample):
        for row in model.objects.all():
            model.objects.filter(pk=row.pk).update(code=row.code + "-old")


def test_a_tampered_study_bundle_is_refused_and_nothing_is_written(members, lab_study, tmp_path, other_project):
    eln = _export(members["viewer"], lab_study, tmp_path)
    Membership.objects.create(project=other_project, user=members["chemist"], role="chemist")
    _free_the_codes()
    counts = _counts()
    # A raw file of the second batch altered: the first batch is not kept either.
    altered = rezip(eln, tmp_path / "altered.eln",
                     lambda n, d: (n, d + b"\n600.0,12\n" if n.endswith("NC8.9-91d.csv") else d))
    with pytest.raises(ValidationError, match="does not match its checksum"):
        eln_import(user=members["chemist"], project=other_project, path=str(altered), file_name="altered.eln")
    assert _counts() == counts
    # The study record edited (a threshold loosened) without its checksum.
    loosened = rezip(eln, tmp_path / "loosened.eln", lambda n, d: (
        n, d.replace(b'"threshold_amount": 3.0', b'"threshold_amount": 30.0') if n.endswith("labtrack-study.json") else d))
    with pytest.raises(ValidationError, match="labtrack-study.json in loosened.eln does not match its checksum"):
        eln_import(user=members["chemist"], project=other_project, path=str(loosened), file_name="loosened.eln")
    assert _counts() == counts


def _rewrite_studyresults_of_record(eln: Path, target: Path, change) -> Path:
    """The bundle with its study record changed and its checksum and size updated, as a
    consistent (not tampered) file from an incomplete export would be."""
    with zipfile.ZipFile(eln) as archive:
        top = archive.namelist()[0].split("/")[0]
        record = json.loads(archive.read(f"{top}/study/labtrack-study.json"))
        metadata = json.loads(archive.read(f"{top}/ro-crate-metadata.json"))
    change(record)
    data = json.dumps(record).encode()
    entity = next(e for e in metadata["@graph"] if e["@id"] == "study/labtrack-study.json")
    entity.update(sha256=hashlib.sha256(data).hexdigest(), contentSize=str(len(data)))

    def swap(name, old):
        if name.endswith("study/labtrack-study.json"):
            return name, data
        if name.endswith("ro-crate-metadata.json"):
            return name, json.dumps(metadata).encode()
        return name, old

    return rezip(eln, target, swap)


def test_a_study_whose_samples_are_not_in_the_bundle_is_refused_clearly(members, lab_study, tmp_path, other_project):
    eln = _export(members["viewer"], lab_study, tmp_path)
    Membership.objects.create(project=other_project, user=members["chemist"], role="chemist")
    _free_the_codes()
    counts = _counts()
    one_batch = _rewrite_studyresults_of_record(eln, tmp_path / "one-batch.eln",
                                      lambda r: r.update(batches=[b for b in r["batches"] if b["code"] == "NC12.8"]))
    with pytest.raises(ValidationError, match="on sample NC8.9-P-AIR, which the file's batches do not hold"):
        eln_import(user=members["chemist"], project=other_project, path=str(one_batch), file_name="one-batch.eln")
    assert _counts() == counts
    unknown = _rewrite_studyresults_of_record(eln, tmp_path / "unknown.eln",
                                    lambda r: r["study"]["quantities"][0].update(key="zeta_potential"))
    with pytest.raises(ValidationError, match="quantity this LabTrack does not know"):
        eln_import(user=members["chemist"], project=other_project, path=str(unknown), file_name="unknown.eln")
    assert _counts() == counts
    # The same bundle, whole, imports (the refusals above were the study's own checks).
    report = eln_import(user=members["chemist"], project=other_project, path=str(eln), file_name="study.eln")
    assert report.batches == ["NC8.9", "NC12.8"] and Study.objects.filter(project=other_project).count() == 1


def test_the_export_holds_no_raw_file_or_run_whole_in_memory(members, lab_study, tmp_path):
    """A 24 MiB raw file and runs with 4 MiB figures: Python's peak allocation while
    exporting stays below the raw file's size (it is streamed in chunks) and does not
    grow with the number of runs (each run's outputs are read when written, then let go)."""
    from labtrack.measurements.blobs import blob_store

    sample = Sample.objects.get(code="NC8.9-P-AIR")
    big = tmp_path / "big.tif"
    digest = hashlib.sha256()
    with open(big, "wb") as fh:
        for _ in range(24):
            chunk = os.urandom(1 << 20)
            digest.update(chunk)
            fh.write(chunk)
    blob_store(str(big), digest.hexdigest())
    measurement = Measurement.objects.create(sample=sample, technique="tem", measured_at=START + timedelta(days=2))
    raw = RawFile.objects.create(measurement=measurement, sha256=digest.hexdigest(), original_name="big.tif",
                                 size_bytes=24 << 20, detected_format="tiff", data_kind="tem-image",
                                 uploaded_by=members["chemist"])

    def add_runs(n):
        for i in range(n):
            AnalysisRun.objects.create(project=sample.batch.project, batch=sample.batch, measurement=measurement,
                                       routine="tem.sizing", routine_version="1.0.0", status=RunStatus.SUCCEEDED,
                                       requested_by=members["chemist"], result={"i": i}, result_sha256="ab" * 32,
                                       figure_png=os.urandom(4 << 20))

    def peak_mib() -> float:
        tracemalloc.start()
        try:
            eln = _export(members["viewer"], Study.objects.get(), tmp_path)
            return tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
            with zipfile.ZipFile(eln) as archive:
                sizes = {i.filename: i.file_size for i in archive.infolist()}
            assert sizes[f"study-Ambient_air_shelf_A/NC8.9-batch/measurements/{measurement.pk}-tem/{raw.pk}-big.tif"] \
                == 24 << 20

    add_runs(1)
    _export(members["viewer"], Study.objects.get(), tmp_path)  # (modules and queries warmed up before measuring)
    with_one_run = peak_mib()
    add_runs(4)
    with_five_runs = peak_mib()
    assert with_one_run < 24, f"{with_one_run:.1f} MiB"
    # four more 4 MiB figures written: kept until the end they would add 16 MiB
    assert with_five_runs - with_one_run < 4, f"{with_one_run:.1f} -> {with_five_runs:.1f} MiB"


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_the_study_page_offers_the_export_to_viewers_and_is_404_for_outsiders(login, members, lab_study, make_user,
                                                                               other_project):
    client = login(members["viewer"])
    url = reverse("study_export_eln", args=[lab_study.pk])
    assert url == f"/studies/{lab_study.pk}/export.eln"
    page = client.get(reverse("study_detail", args=[lab_study.pk])).content.decode()
    assert f'href="{url}"' in page and "Export .eln" in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/vnd.eln+zip"
    assert 'filename="study-Ambient_air_shelf_A.eln"' in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert "study-Ambient_air_shelf_A/study/labtrack-study.json" in archive.namelist()
    outsider = make_user("outsider")
    Membership.objects.create(project=other_project, user=outsider, role="manager")
    assert login(outsider).get(url).status_code == 404


def test_the_import_page_takes_a_study_bundle_and_links_the_study(login, members, lab_study, tmp_path, other_project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = _export(members["viewer"], lab_study, tmp_path).read_bytes()
    Membership.objects.create(project=other_project, user=members["chemist"], role="chemist")
    _free_the_codes()
    page = login(members["chemist"]).post(reverse("eln_import"), {
        "project": other_project.pk, "file": SimpleUploadedFile("study.eln", data)})
    study = Study.objects.get(project=other_project)
    body = page.content.decode()
    assert page.status_code == 200 and f'href="{reverse("study_detail", args=[study.pk])}"' in body
    assert "Ageing study Ambient air, shelf A" in body and "Batch NC8.9" in body
    assert "Imported 2 batches and the ageing study Ambient air, shelf A from" in body
