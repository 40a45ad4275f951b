"""XPS: atomic ratios from VAMAS spectra (`atomic_ratios`: charge referencing, Shirley or
linear backgrounds, constrained doublet fits, relative sensitivity factors). Inside:
`lines` (core lines and RSF tables), `background`, `fit`, `ratios`.
"""
from analysis.xps.ratios import atomic_ratios, plot_atomic_ratios

__all__ = ["atomic_ratios", "plot_atomic_ratios"]
