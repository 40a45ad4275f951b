"""The demo seed: the paper's batches, samples and files, and a second run changes nothing."""
import pytest
from django.core.management import call_command

from analysis.synthetic import paper
from labtrack.operations.demo import AGED_CODES, BULK_CODE, seed_demo
from labtrack.measurements.models import Measurement, RawFile
from labtrack.samples.models import Batch, Membership, Sample

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        first = seed_demo(request_analyses=False, log=lambda msg: None)
        counts = {m: m.objects.count() for m in (Batch, Sample, Measurement, RawFile, Membership)}
        second = seed_demo(request_analyses=False, log=lambda msg: None)
        after = {m: m.objects.count() for m in (Batch, Sample, Measurement, RawFile, Membership)}
        yield first, second, counts, after
        # Module-scoped data lives outside the per-test transactions: empty the test DB.
        call_command("flush", interactive=False, verbosity=0)


def test_seed_creates_the_papers_eight_batches(seeded, db):
    first, _, counts, _ = seeded
    assert first["batches"] == 8
    codes = set(Batch.objects.values_list("code", flat=True))
    assert codes == {row.code for row in paper.TABLE1} | {BULK_CODE}
    nc83 = Batch.objects.get(code="NC8.3")
    assert (nc83.opa_concentration_molar, nc83.reaction_duration_s) == (0.4, 300)


def test_seed_has_samples_with_lineage_and_aged_aliquots(seeded, db):
    # ink + powder per NC batch, a bulk powder, the two 6-month aged aliquots and the
    # ageing studies' three aliquots (NC12.8 and NC8.9 in air, NC12.8 in N2)
    assert Sample.objects.count() == 7 * 2 + 1 + len(AGED_CODES) + 3
    for code in AGED_CODES:
        aged = Sample.objects.get(code=f"{code}-P-AGED")
        assert aged.parent.code == f"{code}-P" and aged.parent.parent.code == f"{code}-INK"
        measurement = aged.measurements.get()
        assert measurement.sample_age_days == pytest.approx(183, abs=1)


def test_seed_has_a_raw_file_for_every_technique(seeded, db):
    techniques = set(Measurement.objects.values_list("technique", flat=True))
    assert techniques == {"saxs", "tem", "xrd", "nmr", "xps", "pl"}
    assert RawFile.objects.count() == Measurement.objects.count()
    kinds = set(RawFile.objects.values_list("data_kind", flat=True))
    assert {"nmr-1d", "nmr-pseudo2d", "saxs-curve", "micrograph", "powder-pattern", "xps-spectra",
            "pl-spectrum"} <= kinds


def test_demo_users_have_each_role(seeded, db):
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {"viewer": "viewer", "chemist": "chemist", "analyst": "analyst", "manager": "manager"}


def test_second_seed_changes_nothing(seeded, db):
    _, second, counts, after = seeded
    assert second == {"batches": 0, "measurements": 0}
    assert counts == after


def test_seed_has_the_ageing_studies_with_one_overdue_pull_point(seeded, db):
    from labtrack.ageing.models import Study
    from labtrack.ageing.selectors import due_pull_points, statuses

    air, n2 = Study.objects.get(atmosphere="air"), Study.objects.get(atmosphere="n2")
    assert sorted(air.samples.values_list("code", flat=True)) == ["NC12.8-P-AIR", "NC8.9-P-AIR"]
    assert list(n2.samples.values_list("code", flat=True)) == ["NC12.8-P-N2"]
    assert list(air.pull_points.filter(sample__code="NC12.8-P-AIR").values_list("label", flat=True)) == [
        "t0", "1 month", "3 months", "6 months"]
    due = due_pull_points(user=None)
    assert [(d.point.sample.code, d.point.label, d.status) for d in due] == [("NC8.9-P-AIR", "3 months", "overdue")]
    n2_status = {s.point.label: s.status for s in statuses(list(n2.pull_points.all()))}
    assert n2_status == {"t0": "on time", "1 month": "on time", "3 months": "on time", "6 months": "upcoming"}
