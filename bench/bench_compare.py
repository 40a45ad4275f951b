"""Server-side times of the issue-12 pages: the compare view's JSON for seven 133Cs spectra
of 8,192 points (alone, and with each run's fit and six components), its CSV, and a batch
page shaped like the demo's NC12.8 (ink, powder and aged powder; SAXS, TEM, PL, XRD with
20 reflections, T1, fresh and aged 133Cs deconvolutions, XPS). Target p95 < 100 ms each.

Also a revalidation with the response's ETag (304, no arrays read), and each page's query
count. Same method as web.pages: a throw-away SQLite database, Django's test client in-process
(route, query, render; no network or browser), DEBUG off.
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time

from bench import benchmark

_VAR = tempfile.mkdtemp(prefix="labtrack-bench-compare-")
os.environ.setdefault("LABTRACK_VAR_DIR", _VAR)
os.environ.setdefault("MEDIA_ROOT", os.path.join(_VAR, "media"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")

TARGET_P95_S = 0.100
N_SPECTRA = 7
N_POINTS = 8192
REQUESTS = 60


def _spectrum_curves(shift_ppm: float):
    import numpy as np

    ppm = np.linspace(420, -280, N_POINTS)
    rng = np.random.default_rng(int(shift_ppm * 10))
    sites = [(shift_ppm + d, w, a) for d, w, a in ((0, 6, 1.0), (8, 5, 0.4), (-6, 7, 0.5), (44, 9, 0.15),
                                                      (-15, 8, 0.3), (125, 4, 0.02))]
    data = sum(a * np.exp(-((ppm - c) ** 2) / (2 * w ** 2)) for c, w, a in sites) + rng.normal(0, 0.005, N_POINTS)
    window = ppm[(ppm < 250) & (ppm > 50)]
    spectrum = {"ppm": window, "data": np.interp(window[::-1], ppm[::-1], data[::-1])[::-1]}
    comps = {f"c{i + 1}": a * np.exp(-((window - c) ** 2) / (2 * w ** 2)) for i, (c, w, a) in enumerate(sites)}
    spectrum.update(comps, fit=sum(comps.values()), residual=0 * window, fit_baseline=0 * window)
    return {"full": {"ppm": ppm, "data": data}, "spectrum": spectrum}


def _populate():
    from django.contrib.auth import get_user_model

    from labtrack import engine
    from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
    from labtrack.measurements.models import Measurement, RawFile
    from labtrack.samples.models import Batch, Membership, Project, Sample

    User = get_user_model()
    chemist = User.objects.create_user("bench-chemist", password="x")
    project = Project.objects.create(name="bench")
    Membership.objects.create(project=project, user=chemist, role="chemist")
    spectra = []
    for i, code in enumerate(("NC6.4", "NC7.7", "NC8.3", "NC8.9", "NC9.9", "NC10.4", "NC12.8")):
        batch = Batch.objects.create(project=project, code=code, status="complete")
        sample = Sample.objects.create(batch=batch, code=f"{code}-P", form="powder")
        m = Measurement.objects.create(sample=sample, technique="nmr", label="133Cs one-pulse, 24 kHz MAS")
        curves = _spectrum_curves(104 + 2 * i)
        AnalysisRun.objects.create(project=project, batch=batch, measurement=m, routine="nmr.deconvolve",
                                   requested_by=chemist, status=RunStatus.SUCCEEDED,
                                   curve_arrays=engine.pack_curves(curves), figure_png=b"\x89PNG" * 8000)
        spectra.append(m.pk)

    batch = Batch.objects.get(code="NC12.8")
    ink = Sample.objects.create(batch=batch, code="NC12.8-INK", form="colloid_ink")
    powder = Sample.objects.get(code="NC12.8-P")
    aged = Sample.objects.create(batch=batch, code="NC12.8-P-AGED", form="powder", parent=powder,
                                 ageing_started_at=powder.prepared_at)
    plan = [  # (sample, technique, routine, top-level names, components, per-component names)
        (ink, "saxs", "saxs.size_distribution", ["mean_diameter_nm", "sd_diameter_nm",
                                                 "volume_weighted_mean_diameter_nm", "scale", "background"], 0, []),
        (ink, "tem", "tem.particle_sizes", ["mean_diameter_nm", "sd_diameter_nm", "n_particles"], 0, []),
        (ink, "pl", "pl.peak", ["peak_wavelength_nm", "fwhm_nm", "peak_energy_ev", "fwhm_mev"], 0, []),
        (powder, "xrd", "xrd.scherrer", ["crystallite_size_nm", "size_lower_bound", "n_reflections",
                                         "lattice_a_angstrom", "orthorhombic_phase_evident"], 20,
         ["two_theta_deg", "fwhm_deg", "sample_fwhm_deg", "size_nm", "area", "eta"]),
        (powder, "nmr", "nmr.t1", [], 5, ["shift_ppm", "t1_s"]),
        (aged, "nmr", "nmr.deconvolve", ["n_components"], 6, ["shift_ppm", "fwhm_hz", "integral_percent",
                                                               "area", "eta", "t2_ms"]),
        (powder, "xps", "xps.atomic_ratios", ["cs_pb", "br_pb", "n_pb", "c_pb", "charge_shift_ev"], 8,
         ["position_ev", "area", "rsf", "fwhm_ev"]),
    ]
    for sample, technique, routine, top, n_comp, comp_names in plan:
        m = Measurement.objects.create(sample=sample, technique=technique, label=f"{technique} of {sample.code}")
        RawFile.objects.create(measurement=m, sha256=f"{m.pk:064d}", original_name=f"{sample.code}.{technique}",
                               size_bytes=1000, detected_format="x", data_kind="x", uploaded_by=chemist)
        run = AnalysisRun.objects.create(project=project, batch=batch, measurement=m, routine=routine,
                                         requested_by=chemist, status=RunStatus.SUCCEEDED, figure_png=b"\x89PNG" * 8000)
        rows = [Quantity(run=run, name=n, value=1.234 + i, stderr=0.0123, unit="nm") for i, n in enumerate(top)]
        rows += [Quantity(run=run, name=n, value=10.5 + c, stderr=0.05, unit="", component_label=f"c{c + 1}",
                          assignment=("bulk", "core", "middle", "surface", "ligand-adjacent", "Cs4PbBr6")[c % 6])
                 for c in range(n_comp) for n in comp_names]
        Quantity.objects.bulk_create(rows)
    nmr_run = AnalysisRun.objects.get(measurement__sample=powder, routine="nmr.deconvolve")
    Quantity.objects.bulk_create(Quantity(run=nmr_run, name=n, value=100.0 + c, stderr=0.05, unit="ppm",
                                          component_label=f"c{c + 1}", assignment=("bulk", "core", "middle", "surface",
                                                                                  "ligand-adjacent", "Cs4PbBr6")[c])
                                 for c in range(6) for n in ("shift_ppm", "fwhm_hz", "integral_percent"))
    return chemist, spectra


def _time(client, url: str, *, status: int = 200, **headers) -> dict:
    from django.db import connection

    for _ in range(3):
        assert client.get(url, **headers).status_code == status, url
    queries = []   # counted by a wrapper: the request_started signal empties connection.queries

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(url, **headers)
    times = []
    for _ in range(REQUESTS):
        t0 = time.perf_counter()
        response = client.get(url, **headers)
        if response.streaming:
            b"".join(response.streaming_content)
        times.append(time.perf_counter() - t0)
        assert response.status_code == status
    times.sort()
    p95 = times[int(0.95 * len(times)) - 1]
    return {"url": url[:120], "requests": len(times), "p50_ms": round(statistics.median(times) * 1e3, 2),
            "p95_ms": round(p95 * 1e3, 2), "max_ms": round(times[-1] * 1e3, 2), "bytes": len(response.content)
            if not response.streaming else None, "queries": len(queries), "meets_target": p95 < TARGET_P95_S}


@benchmark("web.compare", target_s=TARGET_P95_S, repeat=1)
def compare_pages() -> dict:
    """p50/p95 of compare JSON (7 spectra x 8k points), with components, CSV, NC12.8-like batch page."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections
    from django.test import Client
    from django.test.utils import setup_databases, teardown_databases
    from django.urls import reverse

    settings.DEBUG = False
    old = setup_databases(verbosity=0, interactive=False)
    try:
        chemist, spectra = _populate()
        client = Client(HTTP_HOST="localhost")
        client.force_login(chemist)
        query = "technique=nmr&" + "&".join(f"m={pk}" for pk in spectra)
        figures = {
            "compare_json_7x8k": _time(client, f"{reverse('compare_data')}?{query}"),
            "compare_json_7x8k_with_components": _time(client, f"{reverse('compare_data')}?{query}&components=1"),
            # A browser revalidating what it holds (ETag): the plan's queries, no arrays read or written.
            "compare_json_7x8k_revalidated_304": _time(
                client, f"{reverse('compare_data')}?{query}", status=304,
                HTTP_IF_NONE_MATCH=client.get(f"{reverse('compare_data')}?{query}")["ETag"]),
            "compare_json_7x8k_area": _time(client, f"{reverse('compare_data')}?{query}&norm=area"),
            "compare_csv_7x8k": _time(client, f"{reverse('compare_csv')}?{query}"),
            "compare_page": _time(client, f"{reverse('compare')}?{query}"),
            "batch_detail_nc12_8_like": _time(client, reverse("batch_detail", args=["NC12.8"])),
            "batch_key_results_fragment": _time(client, reverse("batch_key_results", args=["NC12.8"])),
        }
    finally:
        connections.close_all()
        teardown_databases(old, verbosity=0)
    return {
        "database": "SQLite (temp file)", "n_spectra": N_SPECTRA, "points_per_spectrum": N_POINTS,
        "target_p95_ms": TARGET_P95_S * 1e3, "pages": figures,
        "meets_target": all(f["meets_target"] for k, f in figures.items() if k in (
            "compare_json_7x8k", "batch_detail_nc12_8_like")),
        "machine_note": f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs while measured",
    }
