"""Crystallography and line shapes shared by the XRD routines and the synthetic generator.

Angles are 2θ in degrees, wavelengths and lattice constants in Å. Profiles are normalised
to unit area so that a fitted `area` is an integrated intensity.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

CSPBBR3_CUBIC_A = 5.87      # Å, Pm-3m (paper; see analysis.synthetic.paper)
SI_SRM640D_A = 5.43123      # Å, NIST SRM 640d certificate (22.5 °C)
# Reflections that only the orthorhombic (Pnma) polymorph shows, with 2θ for Cu Kα1.
ORTHORHOMBIC_MARKERS = (("(102)", 24.2), ("(131)", 27.4), ("(221)", 28.6))
FOUR_LN2 = 4.0 * math.log(2.0)


@dataclass(frozen=True)
class Reflection:
    hkl: str              # "(200)", or "(300)/(221)" where two families coincide
    n: int                # h²+k²+l²
    multiplicity: int
    triples: tuple[tuple[int, int, int], ...]


def d_spacing_cubic(a: float, n: int) -> float:
    """Interplanar spacing d (Å) of a cubic reflection with h²+k²+l² = n."""
    return a / math.sqrt(n)


def two_theta_deg(d: float, wavelength: float) -> float:
    """Bragg angle 2θ (degrees) for spacing d and wavelength (Å); NaN when unreachable."""
    s = wavelength / (2.0 * d)
    return math.degrees(2.0 * math.asin(s)) if s < 1 else float("nan")


def ka2_position(two_theta: np.ndarray | float, ka1: float, ka2: float) -> np.ndarray | float:
    """2θ of the Kα2 line of a reflection seen at `two_theta` with Kα1 (degrees)."""
    s = np.clip(np.sin(np.radians(two_theta) / 2.0) * ka2 / ka1, -1.0, 1.0)
    return np.degrees(2.0 * np.arcsin(s))


def _multiplicity(h: int, k: int, l: int) -> int:
    perms = set(itertools.permutations((h, k, l)))
    signed = {tuple(s * v for s, v in zip(signs, p)) for p in perms
              for signs in itertools.product((1, -1), repeat=3)}
    return len(signed)


def cubic_reflections(max_n: int = 30, allowed=None) -> list[Reflection]:
    """Families of a cubic lattice grouped by h²+k²+l² (ascending), with m-3m
    multiplicities. `allowed(h, k, l)` filters by extinction rules (default: primitive)."""
    groups: dict[int, list[tuple[int, int, int]]] = {}
    for h in range(0, 7):
        for k in range(0, h + 1):
            for l in range(0, k + 1):
                n = h * h + k * k + l * l
                if 0 < n <= max_n and (allowed is None or allowed(h, k, l)):
                    groups.setdefault(n, []).append((h, k, l))
    out = []
    for n in sorted(groups):
        triples = tuple(sorted(groups[n], reverse=True))
        label = "/".join(f"({h}{k}{l})" for h, k, l in triples)
        out.append(Reflection(label, n, sum(_multiplicity(*t) for t in triples), triples))
    return out


def diamond_allowed(h: int, k: int, l: int) -> bool:
    """Fd-3m (silicon): all odd, or all even with h+k+l divisible by 4."""
    parities = {h % 2, k % 2, l % 2}
    if parities == {1}:
        return True
    return parities == {0} and (h + k + l) % 4 == 0


def reflection_positions(reflections: list[Reflection], a: float, wavelength: float,
                         lo: float, hi: float) -> list[tuple[Reflection, float]]:
    """(reflection, 2θ) pairs inside [lo, hi] degrees."""
    out = []
    for r in reflections:
        tt = two_theta_deg(d_spacing_cubic(a, r.n), wavelength)
        if lo <= tt <= hi:
            out.append((r, tt))
    return out


# ---------------------------------------------------------------- line shapes
def pseudo_voigt(x: np.ndarray, center: float, fwhm: float, eta: float) -> np.ndarray:
    """Unit-area pseudo-Voigt: η·Lorentzian + (1-η)·Gaussian with a common FWHM."""
    u = (x - center) / fwhm
    gauss = math.sqrt(FOUR_LN2 / math.pi) / fwhm * np.exp(-FOUR_LN2 * u * u)
    lorentz = 2.0 / (math.pi * fwhm) / (1.0 + 4.0 * u * u)
    return eta * lorentz + (1.0 - eta) * gauss


def doublet(x: np.ndarray, center: float, area: float, fwhm: float, eta: float,
            ka1: float, ka2: float, ratio: float) -> np.ndarray:
    """A reflection seen with Kα1 at `center` plus Kα2 (area × ratio) at its own angle,
    sharing width and shape."""
    y = area * pseudo_voigt(x, center, fwhm, eta)
    if ratio > 0:
        y = y + area * ratio * pseudo_voigt(x, float(ka2_position(center, ka1, ka2)), fwhm, eta)
    return y


def tch_fwhm(gauss_fwhm: float, lorentz_fwhm: float) -> float:
    """FWHM of the Voigt with these Gaussian and Lorentzian FWHMs (Thompson, Cox and
    Hastings, J. Appl. Cryst. 20, 79 (1987)), same units as the inputs."""
    g, l = max(gauss_fwhm, 0.0), max(lorentz_fwhm, 0.0)
    return (g**5 + 2.69269 * g**4 * l + 2.42843 * g**3 * l**2 + 4.47163 * g**2 * l**3
            + 0.07842 * g * l**4 + l**5) ** 0.2


def split_pseudo_voigt(fwhm: float, eta: float) -> tuple[float, float]:
    """(Gaussian FWHM, Lorentzian FWHM) of the Voigt that a pseudo-Voigt (fwhm, η)
    approximates (de Keijser et al., J. Appl. Cryst. 15, 308 (1982))."""
    eta = min(max(eta, 0.0), 1.0)
    lorentz = fwhm * (0.72928 * eta + 0.19289 * eta**2 + 0.07783 * eta**3)
    gauss = fwhm * math.sqrt(max(1.0 - 0.74417 * eta - 0.24781 * eta**2 - 0.00810 * eta**3, 0.0))
    return gauss, lorentz


def sample_fwhm(fwhm_obs: float, eta_obs: float, fwhm_inst: float, eta_inst: float) -> float:
    """Sample broadening (same units) after removing the instrument's: Lorentzian widths
    subtract, Gaussian widths subtract in quadrature, and TCH recombines them. Returns a
    value <= 0 when the peak is no broader than the instrument."""
    g_obs, l_obs = split_pseudo_voigt(fwhm_obs, eta_obs)
    g_ins, l_ins = split_pseudo_voigt(fwhm_inst, eta_inst)
    l_s = l_obs - l_ins
    g2 = g_obs**2 - g_ins**2
    if l_s <= 0 and g2 <= 0:
        return min(l_s, 0.0) - math.sqrt(max(-g2, 0.0))
    return tch_fwhm(math.sqrt(max(g2, 0.0)), max(l_s, 0.0))


def scherrer_nm(fwhm_deg: float, two_theta: float, wavelength: float, k: float) -> float:
    """Scherrer crystallite size D = Kλ/(β cos θ) in nm, β the sample FWHM in radians."""
    beta = math.radians(fwhm_deg)
    return k * wavelength / (beta * math.cos(math.radians(two_theta) / 2.0)) / 10.0
