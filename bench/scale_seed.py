"""Seed a lab of N batches for the scale benchmark (issue 16), fast and once.

Shape per batch: 2 samples (a fresh powder and an aged one), 5 measurements (fresh: SAXS,
133Cs NMR, XRD; aged: 133Cs NMR, XPS), one raw file and one succeeded run each, ~13
quantities per run (real routine and quantity names), review states (about half accepted,
40 % pending, 10 % rejected), re-fits (an accepted re-fit that superseded its parent on
every 20th batch, a pending re-fit on every 25th) and aged samples measured up to ~400
days after their ageing started. One ageing study holds 20 aged samples.

Rows are written with bulk_create (no services, no history rows: this is a read
benchmark). The database is kept between runs: `ensure_seeded` returns at once when a
complete seed of the same shape version is present.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone as dt_timezone

SEED_VERSION = "scale-seed-v1"
BASE = datetime(2026, 6, 1, tzinfo=dt_timezone.utc)
CHUNK = 5000

# (name, assignment/component) templates per routine; values get a per-batch wiggle.
NMR_COMPONENTS = (("c1", "surface", -34.0, 28.0), ("c2", "bulk", 95.0, 55.0), ("c3", "subsurface", 42.0, 17.0))
XPS_REGIONS = (("Cs3d", "Cs 3d5/2", 724.1), ("Pb4f", "Pb 4f7/2", 138.4), ("Br3d", "Br 3d5/2", 68.3))
XRD_PEAKS = (("p1", "100", 15.2), ("p2", "110", 21.5), ("p3", "200", 30.7))


def _quantities(routine: str, i: int, k: int) -> list[tuple]:
    """(name, value, stderr, unit, component_label, assignment) rows for one run."""
    w = ((i * 7919 + k * 104729) % 1000) / 1000.0  # deterministic wiggle in [0, 1)
    d = 6.0 + 7.0 * ((i % 97) / 96.0)  # the batch's particle size, nm
    if routine == "saxs.size_distribution":
        top = [("mean_diameter_nm", d, 0.05 + 0.1 * w, "nm"), ("sd_diameter_nm", 0.1 * d, 0.02, "nm"),
               ("polydispersity_percent", 8 + 4 * w, 0.3, "%"), ("mode_diameter_nm", d * 0.98, 0.06, "nm"),
               ("volume_weighted_diameter_nm", d * 1.05, 0.07, "nm"), ("reduced_chi2", 1 + w, None, ""),
               ("scale", 1e-3 * (1 + w), 1e-5, ""), ("background_per_cm", 0.01 * w, 1e-4, "1/cm"),
               ("q_min_per_nm", 0.1, None, "1/nm"), ("q_max_per_nm", 3.0, None, "1/nm"),
               ("n_points", 480.0, None, ""), ("size_lower_bound", 0.0, None, ""),
               ("number_density_rel", 1.0 / d ** 3, None, "")]
        return [(n, v, e, u, "", "") for n, v, e, u in top]
    if routine == "nmr.deconvolve":
        aged = k == 3
        rows = [("reduced_chi2", 1.1 + w, None, "", "", "")]
        bulk = 100.0 * (0.3 + 0.4 * (1 - 1 / (1 + 0.1 * d))) + (12.0 * w if aged else 0.0)
        fractions = {"surface": (100 - bulk) * 0.6, "bulk": bulk, "subsurface": (100 - bulk) * 0.4}
        for label, assignment, shift, fwhm in NMR_COMPONENTS:
            rows += [("shift_ppm", shift + w, 0.1, "ppm", label, assignment),
                     ("fwhm_hz", fwhm * 100 * (1 + 0.1 * w), 20.0, "Hz", label, assignment),
                     ("integral_percent", fractions[assignment], 0.3 + 0.5 * w, "%", label, assignment),
                     ("amplitude", 1e5 * (1 + w), 1e3, "", label, assignment)]
        return rows
    if routine == "xrd.scherrer":
        rows = [("crystallite_size_nm", d * 0.9, 0.2, "nm", "", ""), ("lattice_a_angstrom", 5.87 + 0.01 * w, 0.002, "Å", "", ""),
                ("reduced_chi2", 1.2 + w, None, "", "", ""), ("n_peaks", 3.0, None, "", "", "")]
        for label, hkl, tth in XRD_PEAKS:
            rows += [("two_theta_deg", tth + 0.01 * w, 0.002, "°", label, hkl),
                     ("fwhm_deg", 0.9 / d * 10, 0.01, "°", label, hkl), ("size_nm", d * 0.9, 0.3, "nm", label, hkl)]
        return rows
    if routine == "xps.atomic_ratios":
        rows = [("cs_pb", 0.8 + 0.2 * (d - 6) / 7, 0.02, "", "", ""), ("br_pb", 2.9 + 0.1 * w, 0.05, "", "", ""),
                ("cs_br", 0.3, 0.01, "", "", "")]
        for label, assignment, be in XPS_REGIONS:
            rows += [("binding_energy_ev", be + 0.1 * w, 0.02, "eV", label, assignment),
                     ("fwhm_ev", 1.1 + 0.1 * w, 0.01, "eV", label, assignment),
                     ("area", 1e4 * (1 + w), 50.0, "", label, assignment),
                     ("atomic_percent", 20 + 10 * w, 0.5, "%", label, assignment)]
        return rows
    raise ValueError(routine)


# Per batch: (sample index 0 fresh / 1 aged, technique, routine)
MEASUREMENTS = ((0, "saxs", "saxs.size_distribution"), (0, "nmr", "nmr.deconvolve"), (0, "xrd", "xrd.scherrer"),
                (1, "nmr", "nmr.deconvolve"), (1, "xps", "xps.atomic_ratios"))


def _review(i: int, k: int) -> str:
    r = (i * 5 + k * 3) % 10
    return "accepted" if r < 5 else ("pending" if r < 9 else "rejected")


def is_seeded(n_batches: int) -> bool:
    from labtrack.samples.models import Project

    return Project.objects.filter(name=f"scale-{n_batches}", description=SEED_VERSION).exists()


def ensure_seeded(n_batches: int, log=print) -> dict:
    """Seed N batches unless a complete seed is there; returns {seconds, seeded, counts}."""
    from django.db import connection

    from labtrack.analyses.models import AnalysisRun, Quantity

    if is_seeded(n_batches):
        return {"seeded_now": False, "runs": AnalysisRun.objects.count(), "quantities": Quantity.objects.count()}
    t0 = time.perf_counter()
    _seed(n_batches, log)
    if connection.vendor == "postgresql":
        # VACUUM too, not only ANALYZE: a bulk load leaves the visibility map unset, so
        # no index-only scan is possible until autovacuum passes (minutes later on a
        # live server); measuring before it would time a state no lab stays in.
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    return {"seeded_now": True, "seed_s": round(time.perf_counter() - t0, 1),
            "runs": AnalysisRun.objects.count(), "quantities": Quantity.objects.count()}


def _seed(n: int, log) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from labtrack.ageing.models import Study, StudyQuantity
    from labtrack.analyses.models import AnalysisRun, Quantity
    from labtrack.measurements.models import Measurement, RawFile
    from labtrack.measurements.services import batch_measurement_counts_refresh
    from labtrack.samples.models import Batch, Membership, Project, Sample, SynthesisProtocol

    User = get_user_model()
    with transaction.atomic():
        users = {}
        for role in ("chemist", "analyst", "manager", "viewer"):
            users[role], _ = User.objects.get_or_create(username=f"scale-{role}")
            users[role].set_password("x")
            users[role].save()
        project = Project.objects.create(name=f"scale-{n}", description="seeding")
        for role, user in users.items():
            Membership.objects.create(project=project, user=user, role=role)
        protocols = [SynthesisProtocol.objects.get_or_create(name=f"Hot injection {v}", version="1")[0] for v in "ABC"]
        t = time.perf_counter()
        batches = []
        for lo in range(0, n, CHUNK):
            batches += Batch.objects.bulk_create(
                [Batch(project=project, code=f"B{i}", protocol=protocols[i % 3], operator=users["chemist"],
                       synthesised_at=BASE - timedelta(hours=2 * i), opa_concentration_molar=0.01 * (i % 20),
                       reaction_duration_s=10 + i % 50, temperature_c=170 + i % 30,
                       notes=("aged in air" if i % 7 == 0 else "fresh batch"), status="complete")
                 for i in range(lo, min(n, lo + CHUNK))])
        samples = []
        for lo in range(0, n, CHUNK):
            chunk = []
            for i, b in enumerate(batches[lo:lo + CHUNK], start=lo):
                chunk.append(Sample(batch=b, code=f"{b.code}-P", form="powder", prepared_at=b.synthesised_at))
                chunk.append(Sample(batch=b, code=f"{b.code}-P-AGED", form="powder", prepared_at=b.synthesised_at,
                                    ageing_started_at=b.synthesised_at + timedelta(days=1), storage_location="desiccator 2"))
            samples += Sample.objects.bulk_create(chunk)
        log(f"  batches and samples: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        m_rows, run_rows = [], []  # (batch index, k), model
        for i, b in enumerate(batches):
            for k, (s_idx, technique, routine) in enumerate(MEASUREMENTS):
                sample = samples[2 * i + s_idx]
                when = (sample.prepared_at + timedelta(days=1) if s_idx == 0
                        else sample.ageing_started_at + timedelta(days=(i * 13 + k) % 400 + 1))
                m_rows.append(Measurement(sample=sample, technique=technique, measured_at=when,
                                          label="133Cs one-pulse" if technique == "nmr" else ""))
        measurements = []
        for lo in range(0, len(m_rows), CHUNK):
            measurements += Measurement.objects.bulk_create(m_rows[lo:lo + CHUNK])
        RawFile.objects.bulk_create(
            (RawFile(measurement=m, sha256=f"{m.pk:064x}", original_name=f"{m.technique}-{m.pk}.dat", size_bytes=100_000,
                     detected_format="bench", data_kind="bench", uploaded_by=users["chemist"], uploaded_at=m.measured_at)
             for m in measurements), batch_size=CHUNK)
        # bulk_create passes the services that keep Batch.measurement_count: recount.
        batch_measurement_counts_refresh([b.pk for b in batches])
        log(f"  measurements and raw files: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        specs = []  # (i, k, run)
        for idx, m in enumerate(measurements):
            i, k = divmod(idx, len(MEASUREMENTS))
            routine = MEASUREMENTS[k][2]
            state = _review(i, k)
            refit_accepted = i % 20 == 0 and k == 1
            done = m.measured_at + timedelta(minutes=5)
            run = AnalysisRun(
                project=project, batch=batches[i], measurement=m, routine=routine, routine_version="1.0.0",
                status="succeeded", stage="done", queued_at=done - timedelta(minutes=1), started_at=done - timedelta(seconds=30),
                finished_at=done, requested_by=users["chemist"], is_automatic=True,
                input_files=[{"raw_file_id": None, "name": f"{m.technique}-{m.pk}.dat"}],
                parameters={}, result={"quantities": {}}, figure_svg="<svg xmlns='http://www.w3.org/2000/svg'/>",
                figure_png=b"\x89PNG",
                review_state="accepted" if refit_accepted else state,
                reviewer=None if state == "pending" and not refit_accepted else users["analyst"],
                reviewed_at=None if state == "pending" and not refit_accepted else done + timedelta(days=1),
                review_reason="baseline" if state == "rejected" and not refit_accepted else "",
                is_current=not refit_accepted)
            specs.append((i, k, run))
        runs = []
        for lo in range(0, len(specs), CHUNK):
            runs += AnalysisRun.objects.bulk_create([s[2] for s in specs[lo:lo + CHUNK]])
        refits = []
        for (i, k, parent) in specs:
            if (i % 20 == 0 or i % 25 == 0) and k == 1:
                accepted = i % 20 == 0
                done = parent.finished_at + timedelta(days=2)
                refits.append((i, k, AnalysisRun(
                    project=project, batch=parent.batch, measurement=parent.measurement, routine=parent.routine,
                    routine_version="1.0.0", status="succeeded", stage="done", queued_at=done - timedelta(minutes=1),
                    finished_at=done, requested_by=users["analyst"], supersedes=parent, parameters={"n_components": 3},
                    result={"quantities": {}}, review_state="accepted" if accepted else "pending",
                    reviewer=users["analyst"] if accepted else None,
                    reviewed_at=done + timedelta(hours=1) if accepted else None)))
        AnalysisRun.objects.bulk_create([r for _, _, r in refits], batch_size=CHUNK)
        log(f"  runs ({len(runs)} + {len(refits)} re-fits): {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        buf = []
        n_q = 0
        for i, k, run in [*specs, *refits]:
            for name, value, stderr, unit, comp, assignment in _quantities(run.routine, i, k):
                buf.append(Quantity(run=run, name=name, value=value, stderr=stderr, unit=unit,
                                    component_label=comp, assignment=assignment))
            if len(buf) >= 20000:
                Quantity.objects.bulk_create(buf, batch_size=CHUNK)
                n_q += len(buf)
                buf = []
        Quantity.objects.bulk_create(buf, batch_size=CHUNK)
        n_q += len(buf)
        log(f"  quantities ({n_q}): {time.perf_counter() - t:.1f} s")
        study = Study.objects.create(project=project, name="Air, dark, 20 °C: 20 batches", created_by=users["manager"])
        study.samples.set([samples[2 * i + 1] for i in range(0, min(n, 200), 10)])
        StudyQuantity.objects.create(study=study, key="cs133_bulk_fraction", label="133Cs bulk fraction",
                                     routine="nmr.deconvolve", name="integral_percent", assignment="bulk", unit="%",
                                     threshold_kind="increase", threshold_amount=5.0)
        try:  # the trends picker's kinds (the services keep them; a bulk seed must ask)
            from labtrack.analyses.services import quantity_kinds_rebuild
        except ImportError:  # code from before issue 16 (the "before" measurement)
            pass
        else:
            quantity_kinds_rebuild(project_id=project.pk)
        project.description = SEED_VERSION
        project.save(update_fields=["description"])
