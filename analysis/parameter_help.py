"""What each routine parameter means, in a sentence a chemist can act on: shown by
`python -m analysis list` and as the help of each field of the web app's re-fit form.
A parameter shared by several routines is described once; a routine may say more."""
from __future__ import annotations

COMMON = {
    "fit_range_ppm": "Chemical-shift window fitted, [high, low] in ppm (e.g. [400, -100]); empty = the whole "
                     "spectrum around the signal.",
    "n_components": "Number of lines to fit; empty = chosen automatically by the lowest BIC.",
    "positions_ppm": "Starting positions of the lines in ppm (JSON list, e.g. [116, 108, 95]); empty = from the "
                     "site library and peak picking.",
    "fixed": 'Parameters held fixed during the fit, e.g. {"c1.shift_ppm": 116.0}; empty = all free.',
    "lineshape": "Line shape of each component: gaussian, lorentzian or voigt.",
    "site_library": 'Assignment of shifts to sites, e.g. {"core": 116, "surface": 95} (ppm); empty = the '
                    "lab's default library for the nucleus.",
    "diameter_nm": "Particle diameter in nm used by the model; empty = the batch's accepted SAXS/TEM diameter.",
    "model": "Model fitted to the data (see the routine's description for the choices).",
}

BY_ROUTINE = {
    "nmr.hetcor": {
        "threshold_sigma": "Smallest cross-peak height reported, in multiples of the noise sigma.",
        "f2_range_ppm": "Direct (F2) shift window searched, [high, low] ppm; empty = whole axis.",
        "f1_range_ppm": "Indirect (F1) shift window searched, [high, low] ppm; empty = whole axis.",
        "f1_site_library": "Site library of the indirect-dimension nucleus (e.g. 1H); empty = the lab's default.",
    },
    "nmr.layer_model": {
        "components": "The 133Cs deconvolution's components with their assignments and integrals (JSON "
                      "list); empty = taken from the input spectrum's deconvolution.",
        "calibration": 'Batches with SAXS diameters and components that calibrate the depths, e.g. '
                       '[{"diameter_nm": 8.3, "components": [...]}]; empty = none.',
        "core_depth_nm": "Depth in nm below the surface of the core boundary, held fixed; empty = from "
                         "diameter_nm or the calibration.",
        "surface_depth_nm": "Depth in nm below the surface of the middle/surface boundary, held fixed; empty = "
                            "from diameter_nm or the calibration.",
    },
    "nmr.quantify": {
        "sample_range_ppm": "Integration window of the sample's 31P signal, [high, low] ppm; empty = automatic.",
        "reference_range_ppm": "Integration window of the reference's signal, [high, low] ppm; empty = automatic.",
        "reference_compound": "The quantitative reference compound (one P per formula unit), e.g. NH4H2PO4.",
        "reference_mass_mg": "Mass of reference compound in the rotor, mg.",
        "sample_mass_mg": "Mass of sample in the rotor, mg; empty = the sample's recorded mass.",
        "ligand_molar_mass_g_mol": "Molar mass of the ligand in g/mol (194.21 = octylphosphonic acid).",
        "density_g_cm3": "Density of the nanocrystal material in g/cm³ (4.76 = CsPbBr3).",
    },
    "nmr.t1": {
        "model": "Recovery model: exponential (one T1 per line) or stretched (stretched exponential).",
    },
    "pl.peak": {
        "model": "Peak shape fitted in energy: gaussian or voigt.",
        "wavelength_range_nm": "Wavelength window fitted, [low, high] in nm (e.g. to exclude scattered "
                               "excitation light); empty = the band ± 3 FWHM.",
    },
    "saxs.size_distribution": {
        "q_range_per_nm": "Scattering-vector window fitted, [low, high] in 1/nm; empty = the usable range.",
        "shape": "Number distribution fitted in mode=model: gaussian or lognormal.",
        "mode": "model (fit a distribution of the chosen shape) or montecarlo (distribution-free, "
                "regularised NNLS).",
        "n_repetitions": "Noise-resampled repeats in mode=montecarlo (more = steadier errors, slower).",
        "seed": "Random seed of the montecarlo repeats (same seed, same numbers).",
        "q_unit": "Unit of q in the file when it does not say: 1/nm or 1/A; empty = from the file.",
    },
    "tem.particle_sizes": {
        "min_diameter_nm": "Smallest particle counted, nm (smaller blobs are noise).",
        "max_diameter_nm": "Largest particle counted, nm; empty = no upper limit (aggregates are flagged).",
        "split_touching": "Separate touching particles by a watershed before measuring them.",
        "dark_particles": "Particles are darker than the background (bright-field); empty = detected.",
        "pixel_size_nm": "Pixel size in nm when the image does not carry its calibration.",
    },
    "xps.atomic_ratios": {
        "c1s_reference_ev": "Binding energy the adventitious C 1s peak is shifted to, eV.",
        "charge_shift_ev": "Charge correction in eV applied to every region; empty = from the C 1s peak.",
        "background": "Background subtracted under each peak: shirley, tougaard or linear.",
        "end_average_points": "Points averaged at each end of a region to anchor the background.",
        "area_method": "How peak areas are measured: integration (after background) or fit.",
        "rsf": 'Relative sensitivity factors by region, e.g. {"Cs 3d": 7.89}; empty = the library values.',
        "rsf_scale": "Which built-in RSF table the factors come from (values of different scales never "
                     "mix).",
    },
    "xrd.instrument_profile": {
        "lattice_a_angstrom": "Lattice constant of the line-profile standard, Å (5.43123 = NIST SRM 640d Si).",
        "min_snr": "Smallest signal-to-noise ratio of a standard reflection used in the fit.",
    },
    "xrd.scherrer": {
        "k": "Scherrer shape factor K (0.9 for roughly spherical crystallites).",
        "instrument_fwhm_deg": "Instrumental line width in ° 2θ subtracted from each peak; empty = from the "
                               "instrument's calibration or Caglioti terms.",
        "caglioti": "Instrument profile as Caglioti [U, V, W] (from xrd.instrument_profile); empty = none.",
        "instrument_eta": "Lorentzian fraction of the instrument profile (pseudo-Voigt eta, 0 to 1).",
        "marker_threshold_percent": "Smallest orthorhombic-marker intensity reported, percent of the "
                                    "strongest peak.",
        "williamson_hall": "Also separate size and microstrain from the width of every reflection "
                           "(Williamson-Hall plot).",
        "lattice_a_angstrom": "Starting cubic lattice constant in Å used to index the reflections "
                              "(5.87 = cubic CsPbBr3).",
    },
}


def parameter_help(routine: str, name: str) -> str:
    """The sentence for `name` of `routine`; "" when none is written yet."""
    return BY_ROUTINE.get(routine, {}).get(name) or COMMON.get(name, "")
