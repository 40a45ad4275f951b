"""LabTrack's scientific routines: readers, fits and figures, with no Django import.

Use from Python (`analysis.runner.run_files`) or the command line (`python -m analysis`).
"""
__version__ = "0.1.0"
