"""Synthetic instrument data generated from known truth (the paper's tables)."""
