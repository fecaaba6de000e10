"""Network models: activations, vector fields, Jacobians and their structure."""

from ._activation import BUILTIN_ACTIVATIONS, Activation, SlopeBounds, make_activation
from ._expression import parse_expression
from ._networks import MAX_SYMBOLIC_SIZE, FiringRateNetwork, HopfieldNetwork
from ._loading import CLAIMS, FAMILIES, METHODS, ModelSpec, load_model, model_from_dict
from ._structure import JacobianSet

__all__ = [
    "Activation",
    "SlopeBounds",
    "make_activation",
    "BUILTIN_ACTIVATIONS",
    "parse_expression",
    "FiringRateNetwork",
    "HopfieldNetwork",
    "MAX_SYMBOLIC_SIZE",
    "JacobianSet",
    "ModelSpec",
    "load_model",
    "model_from_dict",
    "METHODS",
    "CLAIMS",
    "FAMILIES",
]
