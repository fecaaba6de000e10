"""Shared test settings."""

import os

import matplotlib

# Figures are written to files in tests; never open a window.
matplotlib.use("Agg")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
