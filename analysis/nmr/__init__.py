"""Solid-state NMR routines."""
