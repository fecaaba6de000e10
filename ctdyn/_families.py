r"""The model families that plug into the core: names, methods and claims.

The core families ``firing_rate`` and ``hopfield`` are built into
:mod:`ctdyn.models` and :func:`ctdyn.analysis.analyze`. Every other family
lives in its own subpackage and is imported only when a model file or an
API call requests it, so ``ctdyn certify`` on a Hopfield network never pays for
the oscillator or Boltzmann code.

A family module provides

``read_model(table, base_dir, family) -> model``
    Validate the ``[model]`` table of a model file (a mapping that still
    holds ``family``) and return the model object. It checks its own keys
    and raises :class:`ctdyn.errors.ModelFileError` or
    :class:`ctdyn.errors.InvalidModelError` naming the field
    (``model.lam``, ``model.patterns[2][0]``). Relative file names are
    resolved against ``base_dir``.
``analyze(model, *, methods, simulate, trajectories, t_final, seed, progress) -> Analysis``
    Run the family's certificate methods (``methods`` is a tuple of names
    from the family's entry below, or None for all), challenge them by
    simulation when ``simulate`` is true, and return a
    :class:`ctdyn.analysis.Analysis` whose ``claims`` are the family's claims.

The model object has ``family`` (str), ``n`` (int) and ``to_dict()``
(JSON-ready, with ``family`` and ``dimension`` keys).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

__all__ = ["Family", "PLUGIN_FAMILIES", "family_module", "all_methods", "all_claims"]

CORE_METHODS = ("log_norm_inf", "log_norm_1", "lmi_euclidean", "lmi_diagonal", "energy",
                "linearization")
CORE_CLAIMS = ("contraction", "energy_decrease", "local_stability")


@dataclass(frozen=True)
class Family:
    """A model family outside the core: where it lives and what it certifies."""

    name: str
    module: str
    methods: tuple[str, ...]
    claims: tuple[str, ...]
    summary: str


PLUGIN_FAMILIES: dict[str, Family] = {family.name: family for family in (
    Family("proximal_gradient", "ctdyn.proximal", ("proximal_rate", "optimality"),
           ("contraction", "optimality"),
           "x' = -x + prox_{gamma g}(x - gamma grad f(x))"),
    Family("lca", "ctdyn.proximal", ("proximal_rate", "optimality"),
           ("contraction", "optimality"),
           "locally competitive algorithm u' = -u + Phi^T y - (Phi^T Phi - I) T_lambda(u)"),
    Family("kuramoto", "ctdyn.oscillators", ("synchronization", "phase_locked_stability"),
           ("synchronization", "local_stability"),
           "theta_i' = omega_i - K sum_j a_ij sin(theta_i - theta_j)"),
    Family("oscillator_ising", "ctdyn.oscillators", ("binary_stability",),
           ("local_stability",),
           "phi_i' = -K sum_j J_ij sin(phi_i - phi_j) - K_s sin(2 phi_i)"),
    Family("dense_memory", "ctdyn.memory", ("pattern_stability", "basin"),
           ("local_stability", "retrieval"),
           "dense associative memory, E = -sum_mu F(xi_mu . x)"),
    Family("boltzmann", "ctdyn.boltzmann", ("mean_field", "exact"),
           ("contraction",),
           "Boltzmann machine E(s) = -1/2 s^T W s - b^T s at temperature T"),
)}


def family_module(name: str) -> ModuleType:
    """Import and return the module that implements the family ``name``."""
    return importlib.import_module(PLUGIN_FAMILIES[name].module)


def all_methods() -> tuple[str, ...]:
    """Return every method name of every family, core first, without repeats."""
    names = list(CORE_METHODS)
    for family in PLUGIN_FAMILIES.values():
        names += [method for method in family.methods if method not in names]
    return tuple(names)


def all_claims() -> tuple[str, ...]:
    """Return every claim name of every family, core first, without repeats."""
    names = list(CORE_CLAIMS)
    for family in PLUGIN_FAMILIES.values():
        names += [claim for claim in family.claims if claim not in names]
    return tuple(names)
