"""ctdyn: certify, derive and confirm convergence of energy-based neural dynamics.

The public API is what this module names; modules with a leading underscore
are private.
"""

from ._version import __version__
from .analysis import Analysis, analyze
from .certify._certificate import Certificate
from .errors import (
    CtdynError,
    CtdynWarning,
    ExpressionError,
    InvalidModelError,
    ModelFileError,
    SimulationContradiction,
    SolverError,
)
from .models import (
    Activation,
    FiringRateNetwork,
    HopfieldNetwork,
    JacobianSet,
    ModelSpec,
    load_model,
    make_activation,
)

__all__ = [
    "__version__",
    "analyze",
    "Analysis",
    "Certificate",
    "FiringRateNetwork",
    "HopfieldNetwork",
    "JacobianSet",
    "Activation",
    "make_activation",
    "load_model",
    "ModelSpec",
    "CtdynError",
    "CtdynWarning",
    "InvalidModelError",
    "ModelFileError",
    "ExpressionError",
    "SolverError",
    "SimulationContradiction",
]
