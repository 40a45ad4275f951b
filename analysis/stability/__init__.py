"""Stability (ageing) statistics, pure Python: trend fits of a quantity against sample
age with confidence bands, model choice by AIC, the ICH Q1E time to a threshold with its
one-sided 95 % confidence bound, and significant-change flags against a baseline.

Times come in as days and go out per month (1 month = 365.25 / 12 days).
"""
from analysis.stability.assess import assess
from analysis.stability.change import (Baseline, Flag, Threshold, ThresholdKind, baseline_of, change_limit,
                                       significant_changes)
from analysis.stability.fit import (DAYS_PER_MONTH, MODELS, Crossing, TooFewPoints, TrendFit, fit_best, fit_trend,
                                    time_to_limit)

__all__ = ["assess", "Baseline", "Crossing", "DAYS_PER_MONTH", "Flag", "MODELS", "Threshold", "ThresholdKind", "TooFewPoints",
           "TrendFit", "baseline_of", "change_limit", "fit_best", "fit_trend", "significant_changes",
           "time_to_limit"]
