r"""Simulation: batch integration, observed contraction rates and energy traces.

:func:`integrate` advances a batch of initial states with one shared adaptive
Dormand-Prince 5(4) step. :func:`observed_contraction` and
:func:`check_contraction_bound` challenge a certified contraction rate, and
:func:`energy_traces` with :func:`check_energy_decrease` challenge an energy
decrease claim. Each check allows for an integration error bound derived
from ``rtol`` and ``atol``.
"""

from ._integrate import ERROR_NORMS, Trajectories, integrate, spread_initial_states
from ._observe import (
    ENERGY_SAFETY,
    ERROR_SAFETY,
    FLOOR_FACTOR,
    ContractionCheck,
    ContractionObservation,
    EnergyCheck,
    EnergyTrace,
    check_contraction_bound,
    check_energy_decrease,
    energy_traces,
    norm_distances,
    observed_contraction,
)

__all__ = [
    "integrate",
    "Trajectories",
    "spread_initial_states",
    "ERROR_NORMS",
    "norm_distances",
    "observed_contraction",
    "ContractionObservation",
    "check_contraction_bound",
    "ContractionCheck",
    "energy_traces",
    "EnergyTrace",
    "check_energy_decrease",
    "EnergyCheck",
    "ERROR_SAFETY",
    "FLOOR_FACTOR",
    "ENERGY_SAFETY",
]
