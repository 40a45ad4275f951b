"""nmr.quantify: ligand content from a 31P sample and an NH4H2PO4 reference."""
import pytest

from analysis.nmr.quantify import quantify
from analysis.result import InputError
from analysis.synthetic import nmr as syn
from analysis.synthetic import paper


@pytest.mark.parametrize("wt", [paper.OPA_WT_PERCENT_NC83, 0.3])
def test_known_weight_percent_recovered(wt):
    sample, reference, params = syn.p31_pair(wt_percent=wt, seed=1)
    q = quantify(sample, reference, **params).quantities
    assert q["ligand_wt_percent"].value == pytest.approx(wt, rel=0.10)
    assert q["ligand_wt_percent"].stderr > 0


def test_ligands_per_particle_follows_from_moles_and_sphere_mass():
    sample, reference, params = syn.p31_pair(seed=2)
    q = quantify(sample, reference, **params).quantities
    mass_g = 4.76 * 3.14159265 / 6 * (8.3e-7) ** 3
    particles = 40e-3 * (1 - 0.0003) / mass_g
    assert q["ligands_per_particle"].value == pytest.approx(
        q["moles"].value * 6.02214076e23 / particles, rel=1e-3)


def test_nc_proc_not_applied_by_reader_is_applied_here():
    sample, reference, params = syn.p31_pair(seed=3)
    before = quantify(sample, reference, **params).quantities["moles"].value
    sample.intensity = sample.intensity / 8.0
    sample.metadata.update(nc_proc=3, nc_proc_applied=False)
    after = quantify(sample, reference, **params).quantities["moles"].value
    assert after == pytest.approx(before, rel=1e-6)


def test_missing_scans_in_metadata_is_refused():
    sample, reference, params = syn.p31_pair(seed=4)
    del reference.metadata["ns"]
    with pytest.raises(InputError, match="reference spectrum has no NS"):
        quantify(sample, reference, **params)


def test_unknown_reference_compound_lists_known_ones():
    sample, reference, params = syn.p31_pair(seed=5)
    params["reference_compound"] = "unobtainium"
    with pytest.raises(InputError, match="known: NH4H2PO4"):
        quantify(sample, reference, **params)


def test_empty_integration_region_is_refused():
    sample, reference, params = syn.p31_pair(seed=6)
    params["sample_range_ppm"] = [150.0, 180.0]
    with pytest.raises(InputError, match="no sample signal above the noise"):
        quantify(sample, reference, **params)


def test_default_ranges_integrate_each_line():
    sample, reference, params = syn.p31_pair(seed=7)
    del params["sample_range_ppm"], params["reference_range_ppm"]
    result = quantify(sample, reference, **params)
    lo, hi = result.fit["sample_range_ppm"]
    assert lo < 28.0 < hi and hi - lo < 60
    assert result.quantities["ligand_wt_percent"].value == pytest.approx(
        paper.OPA_WT_PERCENT_NC83, rel=0.10)
