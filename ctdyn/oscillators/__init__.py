r"""Oscillator networks: Kuramoto synchronization and oscillator Ising machines for MaxCut.

Public API:

- :class:`Graph`, :func:`read_graph`, :func:`cut_value`: weighted graphs from
  Gset/rudy, Matrix Market, NumPy or networkx, and cuts of spin vectors.
- :class:`OscillatorIsingMachine`, :func:`stability_threshold`,
  :func:`certify_binary_state`, :func:`stability_ladder`: binary-state
  stability with exact checks.
- :func:`solve_maxcut`: the MaxCut solver.
- :class:`KuramotoNetwork`, :class:`FrequencyDistribution`,
  :func:`critical_coupling`, :func:`stationary_order_parameter`,
  :func:`simulate_kuramoto`: synchronization.
- :func:`find_locked_state`, :func:`enclose_locked_state`,
  :func:`enclose_cohesive_state`: phase-locked states of Kuramoto networks
  on graphs, computed by Newton's method and proved by a dense Krawczyk
  test or a sparse M-matrix test.
- :func:`derive_energy`: the energies derived by sympy.

``read_model`` and ``analyze`` plug the families ``kuramoto`` and
``oscillator_ising`` into ``ctdyn certify``.
"""

from ._graph import Graph, as_graph, cut_value, cut_values, read_graph
from ._kuramoto import (
    FrequencyDistribution,
    critical_coupling,
    locked_state_certificate,
    simulate_kuramoto,
    stationary_order_parameter,
    synchronization_certificate,
)
from ._locking import (
    LockedEnclosure,
    LockedState,
    enclose_cohesive_state,
    enclose_locked_state,
    find_locked_state,
)
from ._maxcut import MaxCutResult, Schedule, greedy_polish, solve_maxcut, tabu_search
from ._models import KuramotoNetwork, OscillatorIsingMachine, order_parameter
from ._plugin import analyze, brute_force_max_cut, read_model
from ._stability import (
    Threshold,
    binary_state_matrix,
    certify_binary_state,
    stability_ladder,
    stability_threshold,
)
from ._symbolic import derive_energy

__all__ = [
    "Graph", "as_graph", "cut_value", "cut_values", "read_graph",
    "FrequencyDistribution", "critical_coupling", "locked_state_certificate",
    "simulate_kuramoto", "stationary_order_parameter", "synchronization_certificate",
    "LockedEnclosure", "LockedState", "enclose_cohesive_state", "enclose_locked_state",
    "find_locked_state",
    "MaxCutResult", "Schedule", "greedy_polish", "solve_maxcut", "tabu_search",
    "KuramotoNetwork", "OscillatorIsingMachine", "order_parameter",
    "analyze", "brute_force_max_cut", "read_model",
    "Threshold", "binary_state_matrix", "certify_binary_state", "stability_ladder",
    "stability_threshold", "derive_energy",
]
