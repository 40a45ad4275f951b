"""Derived runs: the 133Cs layer model (with cross-batch size calibration) and 31P
quantification are requested once their inputs exist, and they compute real answers."""
import io

import pytest

from analysis.synthetic import paper
from labtrack import engine
from labtrack.analyses.derived import derived_runs_request
from labtrack.analyses.models import AnalysisRun, Quantity, ReviewState, RunStatus
from tests.labtrack.factories import mark_accepted, make_batch, make_succeeded_run


def _accepted_deconvolution(batch, requester, code):
    """An accepted 133Cs deconvolution carrying the paper's Table 2 integrals."""
    components = [{"label": f"c{i}", "assignment": line.assignment,
                   "quantities": {"integral_percent": {"value": line.integral_percent, "stderr": 1.0, "unit": "%"}}}
                  for i, line in enumerate(paper.TABLE2[code], start=1)]
    run = AnalysisRun.objects.create(
        project=batch.project, batch=batch, routine="nmr.deconvolve", requested_by=requester,
        status=RunStatus.SUCCEEDED, review_state=ReviewState.ACCEPTED, reviewer=requester,
        result={"routine": "nmr.deconvolve", "components": components})
    return run


def _lab(members, project, codes):
    batches = {}
    for code in codes:
        batch = make_batch(members["chemist"], project, code=code)
        saxs = make_succeeded_run(batch, members["chemist"], value=paper.TABLE1_BY_CODE[code].mean_diameter_nm)
        mark_accepted(saxs, members["analyst"])
        _accepted_deconvolution(batch, members["chemist"], code)
        batches[code] = batch
    return batches


def test_layer_model_is_requested_once_with_calibration(members, project, django_capture_on_commit_callbacks):
    batches = _lab(members, project, ("NC12.8", "NC9.9", "NC8.9", "NC8.3"))
    with django_capture_on_commit_callbacks(execute=False):
        (run,) = derived_runs_request(batch=batches["NC8.3"], user=members["analyst"])
        assert derived_runs_request(batch=batches["NC8.3"], user=members["analyst"]) == []
    assert run.routine == "nmr.layer_model" and run.is_automatic
    assert run.parameters["diameter_nm"] == pytest.approx(8.3)
    assert len(run.parameters["calibration"]) == 3
    assert run.derived_from.count() == 2 + 2 * 3


def test_layer_model_parameters_reproduce_the_papers_depths(members, project, django_capture_on_commit_callbacks):
    batches = _lab(members, project, ("NC12.8", "NC9.9", "NC8.9", "NC10.4"))
    with django_capture_on_commit_callbacks(execute=False):
        (run,) = derived_runs_request(batch=batches["NC9.9"], user=members["analyst"])
    outcome = engine.execute(run.routine, [], run.parameters)
    q = outcome.result["quantities"]
    assert q["core_boundary_depth_nm"]["value"] == pytest.approx(paper.LAYER_CORE_DEPTH_NM, abs=0.5)
    assert q["middle_boundary_depth_nm"]["value"] == pytest.approx(paper.LAYER_SURFACE_DEPTH_NM, abs=0.3)
    assert q["nmr_diameter_nm"]["value"] == pytest.approx(9.9, rel=0.10)


def test_no_layer_model_without_a_size_or_calibration(members, project):
    batch = make_batch(members["chemist"], project, code="NC7.7")
    _accepted_deconvolution(batch, members["chemist"], "NC7.7")
    assert derived_runs_request(batch=batch, user=members["analyst"]) == []


def test_31p_measurement_with_reference_requests_quantification(members, project, tmp_path,
                                                                 django_capture_on_commit_callbacks):
    from analysis.synthetic.nmr import write_p31_pair
    from analysis.synthetic.topspin import zip_folder
    from labtrack.analyses.pipeline import Upload, measurement_upload
    from tests.labtrack.factories import make_sample

    chemist = members["chemist"]
    sample_dir, reference_dir, params = write_p31_pair(str(tmp_path))
    batch = make_batch(chemist, project, code="NC8.3")
    nc = make_sample(chemist, batch, code="NC8.3-P", mass_mg=params["sample_mass_mg"])
    ref_batch = make_batch(chemist, project, code="REF-ADP")
    ref = make_sample(chemist, ref_batch, code="ADP", form="bulk_reference", mass_mg=params["reference_mass_mg"])

    def upload(sample, folder, name, **kw):
        path = zip_folder(folder, tmp_path / name)
        with open(path, "rb") as fh:
            return measurement_upload(user=chemist, sample=sample, technique="nmr",
                                      uploads=[Upload(name, io.BytesIO(fh.read()))], **kw)

    with django_capture_on_commit_callbacks(execute=False):
        reference = upload(ref, reference_dir, "adp.zip")
        measured = upload(nc, sample_dir, "p31.zip", reference=reference)
    run = measured.runs.get(routine="nmr.quantify")
    assert list(run.extra_measurements.all()) == [reference]
    files = [(f"{__import__('labtrack.measurements.blobs', fromlist=['x']).blob_full_path(f['sha256'])}", f["name"])
             for f in run.input_files]
    outcome = engine.execute(run.routine, files, run.parameters)
    wt = outcome.result["quantities"]["ligand_wt_percent"]["value"]
    assert wt == pytest.approx(paper.OPA_WT_PERCENT_NC83, rel=0.10)
