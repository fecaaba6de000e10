"""Symbolic derivations: energies, their gradients and time derivatives."""

from ._energy import EnergyFunction, energy_function, weight_asymmetry
from ._identity import IdentityProof, prove_energy_identity
from ._primitive import Primitive, derive_primitive, integrate_primitive
from ._zero import vanishes

__all__ = [
    "EnergyFunction",
    "IdentityProof",
    "Primitive",
    "derive_primitive",
    "energy_function",
    "integrate_primitive",
    "prove_energy_identity",
    "vanishes",
    "weight_asymmetry",
]
