"""Symbolic derivations: energies, their gradients and time derivatives."""

from ._energy import (
    EnergyFunction,
    IdentityProof,
    Primitive,
    derive_primitive,
    energy_function,
    integrate_primitive,
    prove_energy_identity,
    vanishes,
    weight_asymmetry,
)

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
