"""ctdyn: certify, derive and confirm convergence of energy-based neural dynamics.

The public API is what this module names; modules with a leading underscore
are private.
"""

from ._version import __version__
from .analysis import Analysis, analyze
from .certify import (
    Certificate,
    energy_certificate,
    find_equilibrium,
    linearization_certificate,
    lmi_contraction,
    log_norm_certificate,
)
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
from .simulate import integrate
from .symbolic import energy_function, prove_energy_identity

__all__ = [
    "__version__",
    "analyze",
    "Analysis",
    "Certificate",
    "log_norm_certificate",
    "lmi_contraction",
    "energy_certificate",
    "linearization_certificate",
    "find_equilibrium",
    "energy_function",
    "prove_energy_identity",
    "integrate",
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
