"""ctdyn: certify, derive and confirm convergence of energy-based neural dynamics."""

from ._version import __version__

__all__ = ["__version__"]
