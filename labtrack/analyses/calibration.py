"""Instrument calibration from an accepted analysis run (XRD line-profile standard)."""
from __future__ import annotations

from django.core.exceptions import ValidationError

from labtrack.analyses.models import AnalysisRun
from labtrack.core.roles import Action
from labtrack.measurements.models import Instrument, Technique
from labtrack.samples.permissions import require


def instrument_calibrate_from_run(*, instrument: Instrument, run: AnalysisRun, user) -> Instrument:
    """Store an accepted xrd.instrument_profile result (Caglioti U, V, W and the
    Lorentzian fraction) as the instrument's calibration; later Scherrer runs use it."""
    require(user, run.project, Action.MANAGE)
    if run.routine != "xrd.instrument_profile" or not run.is_of_record:
        raise ValidationError({"run": "Only an accepted, current xrd.instrument_profile run can calibrate an instrument."})
    if instrument.technique != Technique.XRD:
        raise ValidationError({"instrument": f"{instrument} is not an XRD instrument."})
    q = {k: v.get("value") for k, v in (run.result or {}).get("quantities", {}).items()}
    calibration = dict(instrument.calibration)
    calibration["caglioti"] = {"U": q["caglioti_u"], "V": q["caglioti_v"], "W": q["caglioti_w"]}
    if q.get("instrument_eta") is not None:
        calibration["instrument_eta"] = q["instrument_eta"]
    calibration.pop("instrument_fwhm_deg", None)  # the profile supersedes a single width
    calibration["calibrated_by_run"] = run.pk
    instrument.calibration = calibration
    instrument._change_reason = f"calibrated from run #{run.pk}"
    instrument.save()
    return instrument
