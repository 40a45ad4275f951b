"""LabTrack's scientific routines: readers, fits and figures, with no Django import.

Use from Python (`analysis.runner.run_files`) or the command line (`python -m analysis`).
"""
import os

# Multi-threaded OpenBLAS on a shared 2-core machine made small SVD/QR calls ~100x slower
# (measured: 0.19 s vs 0.002 s); fits are many small problems, so one thread each is
# faster, and workers get their parallelism from processes. Must be set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

__version__ = "0.1.0"
