"""TEM particle sizing: segment nanocrystals in a micrograph and fit their diameters.

Pipeline: Gaussian denoise -> flatten the slowly varying background (normalised
convolution that ignores particles) -> detect whether particles are dark or bright ->
threshold at half the particle contrast (the half-maximum of a blurred edge lies on the
true edge) -> split touching particles by distance-transform watershed -> reject
edge-touching, implausibly small or large and unsplit-cluster objects -> equivalent-circle
and Feret diameters -> histogram with a Gaussian fit.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.optimize import curve_fit
from scipy.spatial import ConvexHull, QhullError

from analysis.data import Micrograph
from analysis.registry import routine, set_plot
from analysis.result import InputError, Q, Result

DENOISE_SIGMA_PX = 1.0
MIN_AREA_PX = 12           # fewer pixels cannot be told from noise
MIN_SOLIDITY = 0.85        # below this an object is a cluster that was not split
MAX_ASPECT_RATIO = 1.8     # nanocrystals here are near-isotropic; longer is two particles
AUTO_MAX_FACTOR = 2.5      # default size cap: this multiple of the median diameter
MAX_OBJECTS = 50_000       # more is noise at this scale, and would take minutes to measure
OVERLAY_MAX_PX = 1024
ACCEPTED_RGB = (40, 230, 40)
REJECTED_RGB = (255, 40, 40)


@routine("tem.particle_sizes", version="1.0.0", accepts=(Micrograph.kind,),
         reader_options=("pixel_size_nm",), reader_option_types={"pixel_size_nm": "float"},
         title="TEM diameter", default_for=(Micrograph.kind,), headline=("mean_diameter_nm", "sd_diameter_nm"),
         headline_order=20)
def particle_sizes(micrograph: Micrograph, *, min_diameter_nm: float = 2.0,
                   max_diameter_nm: float | None = None, split_touching: bool = True,
                   dark_particles: bool | None = None) -> Result:
    """Particle size distribution from a TEM micrograph (diameters in nm).

    Counts particles fully inside the frame; equivalent-circle diameter is the size
    measure, fitted with a Gaussian over its histogram. `max_diameter_nm` None rejects
    objects larger than 2.5x the median diameter (agglomerates). `dark_particles` None
    detects the contrast (dark on bright for bright-field TEM).
    """
    px = float(micrograph.pixel_size_nm)
    where = micrograph.source or None
    if not np.isfinite(px) or px <= 0:
        raise InputError("the micrograph has no valid pixel size; give pixel_size_nm", where)
    image = np.asarray(micrograph.image, dtype=np.float32)
    if image.ndim != 2 or min(image.shape) < 16:
        raise InputError(f"expected a 2-D image of at least 16 x 16 pixels, got {list(image.shape)}",
                         where)
    if not np.all(np.isfinite(image)) or float(image.std()) == 0.0:
        raise InputError("the image is blank or contains invalid pixel values", where)
    if min_diameter_nm < 0 or (max_diameter_nm is not None and max_diameter_nm <= min_diameter_nm):
        raise InputError(f"need 0 <= min_diameter_nm < max_diameter_nm, got {min_diameter_nm} "
                         f"and {max_diameter_nm}")

    signal, dark = _particle_signal(image, dark_particles)
    mask = _threshold(signal, max(MIN_AREA_PX, _area_px(min_diameter_nm, px) / 2))
    labels, n = ndimage.label(mask)
    hint = "check pixel_size_nm, min_diameter_nm and dark_particles"
    if n == 0:
        raise InputError(f"no particles were found in the image; {hint}", where)
    if n > MAX_OBJECTS:
        raise InputError(f"the image splits into {n:,} separate objects, which looks like "
                         f"noise rather than particles; {hint}", where)
    props = _measure(labels, np.arange(1, n + 1))
    if split_touching:
        labels, props = _split_touching(labels, props)
    diam = 2 * np.sqrt(props["area"] / np.pi) * px
    reason, cap = _classify(props, diam, min_diameter_nm, max_diameter_nm)
    ok = reason == ""
    d = diam[ok]
    if d.size < 3:
        raise InputError(f"only {d.size} measurable particle(s) found; {hint}", where)

    warnings: list[str] = []
    fit = _fit_gaussian(d, warnings)
    feret_max, feret_min = props["feret_max"][ok] * px, props["feret_min"][ok] * px
    aspect = props["aspect"][ok]
    quantities = {
        "mean_diameter_nm": Q(fit["mean"], fit["mean_err"], "nm"),
        "sd_diameter_nm": Q(fit["sd"], fit["sd_err"], "nm"),
        "n_particles": Q(int(d.size), None, ""),
        "mean_aspect_ratio": _mean_q(aspect, ""),
        "feret_max_mean_nm": _mean_q(feret_max, "nm"),
        "feret_min_mean_nm": _mean_q(feret_min, "nm"),
    }
    rejected = {r: int(np.sum(reason == r)) for r in ("edge", "small", "large", "cluster")}
    if d.size < 30:
        warnings.append(f"only {d.size} particles counted; the size distribution is uncertain")
    if rejected["cluster"] > 0.2 * d.size:
        warnings.append(f"{rejected['cluster']} objects rejected as irregular clusters against "
                        f"{d.size} counted; the sample may be agglomerated, or the image out of "
                        "focus or mostly noise")
    return Result(
        quantities=quantities,
        fit={"reduced_chi2": fit["redchi"], "r_squared": fit["r2"], "n_points": fit["n_bins"],
             "sample_mean_diameter_nm": float(d.mean()), "sample_sd_diameter_nm": float(d.std(ddof=1)),
             "dark_particles": dark, "max_diameter_nm_used": cap,
             **{f"n_rejected_{k}": v for k, v in rejected.items()}},
        warnings=warnings,
        curves={
            "histogram": {"diameter_nm": fit["centres"], "count": fit["counts"], "fit": fit["model"]},
            "fit_curve": {"diameter_nm": fit["x"], "fit": fit["y"]},
            "particles": {"diameter_nm": d, "feret_max_nm": feret_max, "feret_min_nm": feret_min,
                          "aspect_ratio": aspect, "x_px": props["x"][ok], "y_px": props["y"][ok]},
        },
        extras={"overlay": _overlay(image, labels, ok), "pixel_size_nm": px, "rejected": rejected},
    )


def _classify(props: dict[str, np.ndarray], diam: np.ndarray, min_nm: float,
              max_nm: float | None) -> tuple[np.ndarray, float | None]:
    """Why each object is not counted ("" = counted: edge, small, cluster, large) and the
    size cap used (nm)."""
    reason = np.full(diam.size, "", dtype=object)
    reason[props["edge"]] = "edge"
    reason[(reason == "") & ((diam < min_nm) | (props["area"] < MIN_AREA_PX))] = "small"
    shape_bad = (props["solidity"] < MIN_SOLIDITY) | (props["aspect"] > MAX_ASPECT_RATIO)
    reason[(reason == "") & shape_bad] = "cluster"
    cap = max_nm
    if cap is None and np.any(reason == ""):
        cap = AUTO_MAX_FACTOR * float(np.median(diam[reason == ""]))
    if cap is not None:
        reason[(reason == "") & (diam > cap)] = "large"
    return reason, cap


def _mean_q(values: np.ndarray, unit: str) -> Q:
    """Mean with its standard error."""
    return Q(float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size)), unit)


def _area_px(diameter_nm: float, px: float) -> float:
    return np.pi / 4 * (diameter_nm / px) ** 2


def _particle_signal(image: np.ndarray, dark: bool | None) -> tuple[np.ndarray, bool]:
    """Denoised, background-flattened contrast (particles positive, background ~0) and
    whether the particles are dark on a bright background."""
    smooth = ndimage.gaussian_filter(image, DENOISE_SIGMA_PX)
    # The background is estimated on a coarse grid (<= 256 px): it varies slowly, and
    # this keeps the large blur cheap on big frames.
    f = max(1, int(np.ceil(max(image.shape) / 256)))
    h, w = (image.shape[0] // f) * f, (image.shape[1] // f) * f
    coarse = smooth[:h, :w].reshape(h // f, f, w // f, f).mean(axis=(1, 3))
    sigma = max(coarse.shape) / 12
    bg0 = ndimage.gaussian_filter(coarse, sigma, mode="reflect")
    flat0 = coarse / bg0 - 1
    t0 = _otsu(flat0)
    if dark is None:
        dark = _particles_are_dark(smooth, bg0)
    particles0 = flat0 < t0 if dark else flat0 > t0
    weight = (~ndimage.binary_dilation(particles0, iterations=2)).astype(np.float32)
    num = ndimage.gaussian_filter(coarse * weight, sigma, mode="reflect")
    den = ndimage.gaussian_filter(weight, sigma, mode="reflect")
    bg = np.where(den > 0.05, num / np.maximum(den, 1e-6), bg0)
    bg_full = ndimage.zoom(bg, (image.shape[0] / bg.shape[0], image.shape[1] / bg.shape[1]),
                           order=1, mode="nearest", grid_mode=True)
    bg_full = np.maximum(bg_full, 1e-6 * max(float(np.abs(bg).max()), 1e-12))
    flat = smooth / bg_full - 1
    return (-flat if dark else flat).astype(np.float32), dark


def _particles_are_dark(smooth: np.ndarray, bg0: np.ndarray) -> bool:
    """Which Otsu class is the particles. The background (support film) is one connected
    region around separate particles, even in a dense superlattice; when that does not
    tell (both or neither class connected), particles are the class covering less area."""
    s = max(1, int(np.ceil(max(smooth.shape) / 1024)))
    mid = smooth[::s, ::s]
    bg = ndimage.zoom(bg0, (mid.shape[0] / bg0.shape[0], mid.shape[1] / bg0.shape[1]),
                      order=1, mode="nearest", grid_mode=True)
    flat = mid / np.where(np.abs(bg) > 0, bg, 1) - 1
    low = flat < _otsu(flat)

    def largest_share(mask: np.ndarray) -> float:
        lab, n = ndimage.label(mask)
        return float(np.bincount(lab.ravel())[1:].max() / mask.sum()) if n else 0.0

    share_low, share_high = largest_share(low), largest_share(~low)
    if abs(share_high - share_low) > 0.3:
        return share_high > share_low
    return bool(low.mean() < 0.5)


def _otsu(values: np.ndarray) -> float:
    from skimage.filters import threshold_otsu

    return float(threshold_otsu(values))


def _threshold(signal: np.ndarray, min_area: float) -> np.ndarray:
    """Particle mask at half the particle contrast (Otsu gives the first split)."""
    from skimage.morphology import remove_small_objects

    step = max(1, int(np.sqrt(signal.size / 1e6)))
    t = _otsu(signal[::step, ::step])
    first = signal > t
    inner = ndimage.binary_erosion(first, iterations=2)
    outer = ~ndimage.binary_dilation(first, iterations=3)
    if inner.any() and outer.any():
        t = 0.5 * (float(np.median(signal[inner])) + float(np.median(signal[outer])))
    mask = ndimage.binary_fill_holes(signal > t)
    return remove_small_objects(mask, max_size=int(min_area))


def _measure(labels: np.ndarray, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Area (px), centroid, Feret diameters (px), solidity and edge contact of the
    objects labelled `ids`, in that order."""
    n = len(ids)
    out = {k: np.zeros(n) for k in ("area", "x", "y", "feret_max", "feret_min", "solidity")}
    out["edge"] = np.ones(n, bool)
    H, W = labels.shape
    slices = ndimage.find_objects(labels)
    for i, label in enumerate(ids):
        sl = slices[label - 1]
        if sl is None:
            continue
        region = labels[sl] == label
        yy, xx = np.nonzero(region)
        y0, x0 = sl[0].start, sl[1].start
        out["area"][i] = yy.size
        out["y"][i], out["x"][i] = yy.mean() + y0, xx.mean() + x0
        out["edge"][i] = sl[0].start == 0 or sl[1].start == 0 or sl[0].stop == H or sl[1].stop == W
        # Calipers and solidity use the boundary half-way between inside and outside
        # pixel centres (marching squares): pixel centres or corners would make a
        # digitised disk look ~5% elongated along its diagonals.
        outline = _outline(region)
        fmax, fmin, hull_area = _hull_stats(outline)
        out["feret_max"][i], out["feret_min"][i] = fmax, fmin
        out["solidity"][i] = _polygon_area(outline) / hull_area if hull_area > 0 else 0.0
    out["aspect"] = out["feret_max"] / np.maximum(out["feret_min"], 1e-9)
    return out


def _outline(region: np.ndarray) -> np.ndarray:
    """(x, y) vertices of the outer boundary of a binary region, at half-pixel level."""
    from skimage.measure import find_contours

    contours = find_contours(np.pad(region, 1).astype(np.float32), 0.5)
    rc = max(contours, key=len) - 1
    return rc[:, ::-1]


def _polygon_area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _hull_stats(points: np.ndarray) -> tuple[float, float, float]:
    """Max and min caliper (Feret) width and area of the convex hull of `points`."""
    try:
        hull = points[ConvexHull(points).vertices]
    except (QhullError, ValueError):  # degenerate: all points on a line
        return float(np.ptp(points, axis=0).max()) if len(points) else 0.0, 0.0, 0.0
    diff = hull[:, None, :] - hull[None, :, :]
    fmax = float(np.sqrt((diff**2).sum(-1)).max())
    edges = np.roll(hull, -1, axis=0) - hull
    normal = np.column_stack([-edges[:, 1], edges[:, 0]]) / np.hypot(edges[:, 0], edges[:, 1])[:, None]
    # Rotating calipers: the minimum width is attained perpendicular to a hull edge.
    widths = np.abs((hull[None, :, :] - hull[:, None, :]) @ normal[:, :, None])[..., 0]
    return fmax, float(widths.max(axis=1).min()), _polygon_area(hull)


def _split_touching(labels: np.ndarray, props: dict[str, np.ndarray]
                    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Watershed-split objects that are too big or not convex enough to be one particle."""
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    area = props["area"]
    single = (props["solidity"] >= 0.93) & (props["aspect"] < 1.4)
    typical = float(np.median(area[single])) if single.any() else float(np.median(area))
    r = np.sqrt(typical / np.pi)
    candidates = np.nonzero(~props["edge"] & ((area > 1.25 * typical) | ~single))[0]
    out = labels.copy()
    next_label = labels.max() + 1
    changed: list[int] = []
    slices = ndimage.find_objects(labels)
    for i in candidates:
        sl = tuple(slice(max(s.start - 1, 0), s.stop + 1) for s in slices[i])
        region = labels[sl] == i + 1
        dist = ndimage.gaussian_filter(ndimage.distance_transform_edt(region), 1.0)
        # A neck between two particles dips the distance map by ~r/2; facets and
        # pixel noise make much shallower bumps.
        peaks, n_peaks = ndimage.label(h_maxima(dist, max(1.5, 0.2 * r)) & region)
        if n_peaks < 2:
            continue
        pieces = watershed(-dist, peaks, mask=region)
        changed.append(int(i + 1))
        view = out[sl]
        for k in range(2, n_peaks + 1):
            view[pieces == k] = next_label
            next_label += 1
    if not changed:
        return labels, props
    ids = np.array(changed + list(range(labels.max() + 1, next_label)))
    fresh = _measure(out, ids)
    merged = {}
    for key, values in props.items():
        grown = np.concatenate([values, np.zeros(next_label - 1 - values.size, values.dtype)])
        grown[ids - 1] = fresh[key]
        merged[key] = grown
    return out, merged


def _fit_gaussian(d: np.ndarray, warnings: list[str]) -> dict:
    """Gaussian fit to the diameter histogram (Poisson weights); sample moments if the
    fit cannot be made. Returns mean/sd (nm) with stderrs and the arrays to plot."""
    n = d.size
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    n_bins = int(np.clip(np.ceil(2 * n ** (1 / 3)), 5, 30))
    counts, edges = np.histogram(d, bins=n_bins)
    centres = 0.5 * (edges[1:] + edges[:-1])
    width = edges[1] - edges[0]

    def gauss(x, a, mu, s):
        return a * np.exp(-0.5 * ((x - mu) / s) ** 2)

    out = {"mean": mean, "sd": sd, "mean_err": sd / np.sqrt(n), "sd_err": sd / np.sqrt(2 * (n - 1)),
           "redchi": None, "r2": None, "n_bins": n_bins, "centres": centres, "counts": counts}
    popt = None
    if n >= 10 and sd > 0:
        try:
            p0 = (n * width / (sd * np.sqrt(2 * np.pi)), mean, sd)
            popt, pcov = curve_fit(gauss, centres, counts, p0=p0, maxfev=2000,
                                   sigma=np.sqrt(np.maximum(counts, 1)), absolute_sigma=True)
        except RuntimeError:
            popt = None
    if popt is not None and np.all(np.isfinite(pcov)) and d.min() <= popt[1] <= d.max():
        resid = counts - gauss(centres, *popt)
        dof = max(n_bins - 3, 1)
        redchi = float(np.sum(resid**2 / np.maximum(counts, 1)) / dof)
        err = np.sqrt(np.diag(pcov)) * np.sqrt(max(redchi, 1.0))
        ss_tot = float(np.sum((counts - counts.mean()) ** 2))
        out.update(mean=float(popt[1]), sd=float(abs(popt[2])), mean_err=float(err[1]),
                   sd_err=float(err[2]), redchi=redchi,
                   r2=1 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else None)
    else:
        warnings.append("the Gaussian fit to the histogram failed or had too few particles; "
                        "mean and SD are the sample moments")
        popt = (n * width / (sd * np.sqrt(2 * np.pi)) if sd > 0 else n, mean, sd or width)
    out["model"] = gauss(centres, *popt)
    out["x"] = np.linspace(edges[0], edges[-1], 200)
    out["y"] = gauss(out["x"], *popt)
    return out


def _overlay(image: np.ndarray, labels: np.ndarray, accepted: np.ndarray) -> np.ndarray:
    """RGB uint8 image (<= 1024 px) with accepted outlines green and rejected red."""
    f = max(1, int(np.ceil(max(image.shape) / OVERLAY_MAX_PX)))
    h, w = (image.shape[0] // f) * f, (image.shape[1] // f) * f
    lo, hi = np.percentile(image[::f, ::f], (1, 99))
    grey = image[:h, :w].reshape(h // f, f, w // f, f).mean(axis=(1, 3))
    grey = np.clip((grey - lo) / max(hi - lo, 1e-9) * 255, 0, 255).astype(np.uint8)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    lab = labels[:h, :w]
    edge = np.zeros(lab.shape, bool)
    edge[:-1, :] |= lab[:-1, :] != lab[1:, :]
    edge[1:, :] |= lab[1:, :] != lab[:-1, :]
    edge[:, :-1] |= lab[:, :-1] != lab[:, 1:]
    edge[:, 1:] |= lab[:, 1:] != lab[:, :-1]
    edge &= lab > 0
    status = np.concatenate([[0], np.where(accepted, 1, 2)])[lab] * edge
    for value, colour in ((2, REJECTED_RGB), (1, ACCEPTED_RGB)):
        hit = (status == value).reshape(h // f, f, w // f, f).any(axis=(1, 3))
        if max(hit.shape) > 512:  # keep outlines visible when the figure scales it down
            hit = ndimage.binary_dilation(hit)
        rgb[hit] = colour
    return rgb


def plot_particle_sizes(result: Result):
    """Figure: the overlay of counted (green) and rejected (red) particles beside the
    diameter histogram with its Gaussian fit."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 5))
    ax_img, ax_hist = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.1]})
    overlay = result.extras["overlay"]
    px = result.extras["pixel_size_nm"]
    ax_img.imshow(overlay, interpolation="nearest")
    ax_img.set_axis_off()
    n = result.quantities["n_particles"].value
    rej = sum(result.extras["rejected"].values())
    ax_img.set_title(f"{n} counted (green), {rej} rejected (red)")
    hist = result.curves["histogram"]
    centres = np.asarray(hist["diameter_nm"])
    width = float(centres[1] - centres[0]) if centres.size > 1 else 1.0
    ax_hist.bar(centres, hist["count"], width=width * 0.9, color="0.7", label="particles")
    ax_hist.plot(result.curves["fit_curve"]["diameter_nm"], result.curves["fit_curve"]["fit"],
                 color="C3", label="Gaussian fit")
    mean, sd = result.quantities["mean_diameter_nm"], result.quantities["sd_diameter_nm"]
    ax_hist.set_title(f"d = {mean.value:.2f} ± {sd.value:.2f} nm (n = {n}, pixel {px:.3g} nm)")
    ax_hist.set_xlabel("equivalent-circle diameter (nm)")
    ax_hist.set_ylabel("count")
    ax_hist.legend(frameon=False)
    fig.tight_layout()
    return fig


set_plot("tem.particle_sizes", plot_particle_sizes)
