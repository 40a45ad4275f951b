"""Bruker FID -> spectrum processing, and its exact inverse for the synthetic writer.

Conventions (shared by `analysis.io.topspin` and `analysis.synthetic.topspin`, so that a
written fid processes back to the written spectrum):
- the fid is complex (DQD/qsim); sample k is at t = k / SW_h. The digital filter delays the
  signal by GRPDLY samples; it is undone after the FT by the matching first-order phase
  (as TopSpin does, so no points are lost; see the phase convention below).
- the window (WDW/LB/GB/SSB) is applied on the raw samples, then zero fill to SI.
- display order is TopSpin's: index 0 is the highest frequency (+SW/2), index SI/2 the
  carrier, so ppm[i] = OFFSET - i * SW_p / (SF * SI) with
  OFFSET = (SFO1 - SF) / SF * 1e6 + SW_h / (2 SF).
  Bruker stores positive offsets as exp(+2 pi i f t) (nmrglue's fft-then-`rev` recipe);
  we index the DFT directly so that frequency index k = SI/2 - i, with no off-by-one.
- phase, as TopSpin applies PHC0/PHC1 (checked against TopSpin's own 1r of real
  experiments from four spectrometers, tests/analysis/io/test_topspin_real.py):
  spectrum * exp(-i (PHC0 + (PHC1 + 360 GRPDLY) * i / SI)) in degrees, i in display
  order. Both PHC1 and the digital-filter delay pivot on the leftmost point: a fractional
  GRPDLY (old DSPFVS 10-13 tables, or 67.98... on DSPFVS 20) leaves a constant
  180 * GRPDLY degree offset if it is pivoted on the carrier instead, and the opposite
  sign of PHC0/PHC1 turns a phased spectrum into a dispersive one.
- TopSpin's 1i is the negative of the imaginary part in this convention (1r - i 1i is
  the complex spectrum that the phase above produces).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

# TopSpin WDW codes we implement (EM, GM, SINE, QSINE are what solid-state labs use).
WINDOWS = {0: "no", 1: "EM", 2: "GM", 3: "SINE", 4: "QSINE"}
WINDOW_CODES = {name: code for code, name in WINDOWS.items()}


@dataclass
class ProcParams:
    """What is needed to turn a fid into a spectrum (TopSpin names in comments)."""

    si: int                   # SI: points of the real spectrum
    sw_hz: float              # SW_h: spectral width = 1 / dwell time
    wdw: int = 0              # WDW code
    lb_hz: float = 0.0        # LB
    gb: float = 0.0           # GB: position of the Gaussian maximum as a fraction of AQ
    ssb: float = 0.0          # SSB: sine-bell shift
    phc0_deg: float = 0.0     # PHC0
    phc1_deg: float = 0.0     # PHC1
    grpdly: float = 0.0       # GRPDLY, digital filter delay in samples
    ph_mod: int = 1           # PH_mod: 0 no, 1 pk (PHC0/PHC1), 2 magnitude, 3 power
    tdeff: int = 0            # TDeff: complex points used (0 = all)


def window(n: int, p: ProcParams) -> np.ndarray:
    """The apodisation function over `n` complex samples (dimensionless)."""
    t = np.arange(n) / p.sw_hz
    aq = n / p.sw_hz
    if p.wdw == 0:
        return np.ones(n)
    if p.wdw == 1:
        return np.exp(-math.pi * p.lb_hz * t)
    if p.wdw == 2:
        # TopSpin GM: exp(-a t - b t^2), a = pi LB (LB < 0), b = -a / (2 GB AQ).
        a = math.pi * p.lb_hz
        gb = p.gb if p.gb > 0 else 0.5
        b = -a / (2.0 * gb * aq)
        return np.exp(-a * t - b * t * t)
    if p.wdw in (3, 4):
        phi = math.pi / p.ssb if p.ssb >= 2 else 0.0
        w = np.sin(phi + (math.pi - phi) * t / aq)
        return w * w if p.wdw == 4 else w
    raise ValueError(f"window function WDW={p.wdw} is not supported")


def _display_index(si: int) -> np.ndarray:
    """DFT bin of each display point: frequency index k = SI/2 - i (mod SI)."""
    return (si // 2 - np.arange(si)) % si


def phase_factor(si: int, p: ProcParams) -> np.ndarray:
    """exp(-i (PHC0 + (PHC1 + 360 GRPDLY) i / SI)) per display point i (see the module
    docstring for why the sign is negative and the pivot is the leftmost point)."""
    i = np.arange(si)
    # PH_mod "no" only stops ft from phasing; apk/apks then phase the 1r and store what
    # they applied in PHC0/PHC1, so those are applied for 0 as for 1 ("pk").
    phc0, phc1 = (p.phc0_deg, p.phc1_deg) if p.ph_mod in (0, 1) else (0.0, 0.0)
    degrees = phc0 + (phc1 + 360.0 * p.grpdly) * i / si
    return np.exp(-1j * np.deg2rad(degrees))


def fid_to_spectrum(fid: np.ndarray, p: ProcParams) -> np.ndarray:
    """Complex spectrum(s) in display order from complex fid(s) (last axis is time)."""
    n = min(fid.shape[-1], p.si, p.tdeff or fid.shape[-1])
    data = fid[..., :n] * window(n, p)
    spectrum = np.fft.fft(data, n=p.si, axis=-1)[..., _display_index(p.si)]
    return spectrum * phase_factor(p.si, p)


def displayed(spectrum: np.ndarray, p: ProcParams) -> np.ndarray:
    """What TopSpin writes to 1r for PH_mod: the real part, or with PH_mod 2/3 the
    magnitude/power (mc/ps), which no phase can make negative."""
    if p.ph_mod == 2:
        return np.abs(spectrum)
    if p.ph_mod == 3:
        return np.abs(spectrum) ** 2
    return spectrum.real


def spectrum_to_fid(intensity: np.ndarray, p: ProcParams, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A complex fid of `n` samples whose processing gives `intensity` (display order,
    length SI) as its real part; also returns the complex spectrum (real part =
    `intensity`, imaginary part = its Hilbert pair; TopSpin writes minus that to 1i).

    The analytic (causal) signal is built exactly; it is then delayed by GRPDLY, phased
    and divided by the window. Only the part beyond `n` samples is lost (a decayed tail
    and the far pre-ringing of a fractional delay), so choose SI = 2 n and lines that
    decay within the acquisition time."""
    si = p.si
    if si % 2:
        raise ValueError(f"SI must be even to write a fid (got {si})")
    bins = _display_index(si)
    spectrum_bins = np.empty(si, dtype=complex)
    spectrum_bins[bins] = intensity
    x = np.fft.ifft(spectrum_bins)
    # Keep positive times only: the real part of the transform is unchanged.
    causal = np.zeros(si, dtype=complex)
    causal[0] = x[0]
    causal[1:si // 2] = 2.0 * x[1:si // 2]
    causal[si // 2] = x[si // 2]
    target = np.fft.fft(causal)[bins]
    raw_bins = np.empty(si, dtype=complex)
    raw_bins[bins] = target / phase_factor(si, p)
    delayed = np.fft.ifft(raw_bins)[:n]
    return delayed / window(n, p), target


def baseline_offset(spectrum: np.ndarray) -> np.ndarray:
    """Subtract a flat baseline: the median of the outer 5 % at both ends (per row)."""
    m = max(1, spectrum.shape[-1] // 20)
    edges = np.concatenate([spectrum[..., :m], spectrum[..., -m:]], axis=-1)
    return spectrum - np.median(edges, axis=-1, keepdims=True)


def group_delay(acqus: dict) -> float:
    """The digital filter delay in samples: GRPDLY, or the DECIM/DSPFVS table for old
    consoles (nmrglue's unrounded Westler-Abildgaard table); 0 for analog data."""
    grpdly = float(acqus.get("GRPDLY", -1) or -1)
    if grpdly > 0:
        return grpdly
    dspfvs = int(acqus.get("DSPFVS", 0) or 0)
    decim = acqus.get("DECIM", 1)
    if dspfvs >= 14 or dspfvs <= 0:
        return 0.0
    from nmrglue.fileio.bruker import bruker_dsp_table

    try:
        return float(bruker_dsp_table[dspfvs][int(decim)])
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"no digital filter delay known for DSPFVS={dspfvs}, DECIM={decim}") from None


_VD_UNITS = {"": 1.0, "s": 1.0, "m": 1e-3, "u": 1e-6}
_VD_LINE = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]*)$")


def parse_vdlist(text: str) -> np.ndarray:
    """Delays in seconds from a TopSpin vdlist: one per line, a plain number is seconds,
    suffix s, m (ms) or u (µs). Blank lines and '#' comments are skipped. Raises
    ValueError naming the line for anything else."""
    delays = []
    for number, line in enumerate(text.splitlines(), start=1):
        token = line.split("#", 1)[0].strip()
        if not token:
            continue
        match = _VD_LINE.match(token)
        if not match:
            raise ValueError(f"line {number}: {token!r} is not a delay")
        unit = match.group(2)
        if unit not in _VD_UNITS:
            raise ValueError(f"line {number}: {token!r} has an unknown unit {unit!r} (use s, m or u)")
        delays.append(float(match.group(1)) * _VD_UNITS[unit])
    if not delays:
        raise ValueError("is empty")
    return np.array(delays)
