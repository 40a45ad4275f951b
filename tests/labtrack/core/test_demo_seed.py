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
    # ink + powder per NC batch, a bulk powder, and the two 6-month aged aliquots
    assert Sample.objects.count() == 7 * 2 + 1 + len(AGED_CODES)
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
