r"""Oscillator network models: the oscillator Ising machine and the Kuramoto network.

Both are gradient flows :math:`\dot\theta = -\nabla E(\theta)` of the
energies below (derived and checked by :mod:`ctdyn.oscillators._symbolic`):

Oscillator Ising machine, :math:`J = -A`
    :math:`\dot\phi_i = -K\sum_j J_{ij}\sin(\phi_i - \phi_j) - K_s\sin(2\phi_i)`,
    :math:`E(\phi) = -\tfrac K2 \sum_{i,j} J_{ij}\cos(\phi_i - \phi_j)
    - \tfrac{K_s}{2}\sum_i \cos(2\phi_i)`.
Kuramoto network
    :math:`\dot\theta_i = \omega_i - K\sum_j a_{ij}\sin(\theta_i - \theta_j)`,
    :math:`E(\theta) = -\sum_i \omega_i\theta_i
    - \tfrac K2 \sum_{i,j} a_{ij}\cos(\theta_i - \theta_j)`.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidModelError
from ._graph import Graph, as_graph, cut_value
from ._stability import _nonnegative, _positive

__all__ = ["OscillatorIsingMachine", "KuramotoNetwork", "order_parameter"]


class OscillatorIsingMachine:
    r"""An oscillator Ising machine on a weighted graph (:math:`J = -A`).

    Parameters
    ----------
    graph : Graph, path, matrix or networkx graph
    coupling : float
        :math:`K > 0`.
    injection : float
        :math:`K_s \ge 0`, the second-harmonic injection gain.
    spins : array of +1/-1, optional
        A binary state to certify (the model file's ``spins``).
    """

    family = "oscillator_ising"

    def __init__(self, graph, *, coupling: float = 1.0, injection: float = 1.0, spins=None):
        self.graph: Graph = as_graph(graph)
        self.coupling = _positive(coupling, "coupling")
        self.injection = _nonnegative(injection, "injection")
        self.spins = None
        if spins is not None:
            spins = np.asarray(spins)
            cut_value(self.graph, spins)  # validates shape and entries
            self.spins = spins.astype(int)

    @property
    def n(self) -> int:
        return self.graph.n

    def vector_field(self, phases: np.ndarray) -> np.ndarray:
        """Return dphi/dt for phases of shape (n,) or (n, batch)."""
        adjacency = self.graph.adjacency()
        cosine, sine = np.cos(phases), np.sin(phases)
        return (self.coupling * (sine * (adjacency @ cosine) - cosine * (adjacency @ sine))
                - self.injection * np.sin(2 * phases))

    def energy(self, phases: np.ndarray) -> np.ndarray:
        r"""Return :math:`E(\phi)` for phases of shape (n,) or (n, batch)."""
        adjacency = self.graph.adjacency()
        cosine, sine = np.cos(phases), np.sin(phases)
        # sum_ij A_ij cos(phi_i - phi_j) = c^T A c + s^T A s.
        coupling_sum = np.sum(cosine * (adjacency @ cosine) + sine * (adjacency @ sine), axis=0)
        return self.coupling / 2 * coupling_sum - self.injection / 2 * np.sum(np.cos(2 * phases),
                                                                              axis=0)

    def to_dict(self) -> dict:
        record = {"family": self.family, "dimension": self.n, "graph": self.graph.to_dict(),
                  "coupling": self.coupling, "injection": self.injection}
        if self.spins is not None:
            record["spins"] = self.spins.tolist()
        return record

    def __repr__(self) -> str:
        return (f"OscillatorIsingMachine({self.graph.name}: n = {self.n}, m = {self.graph.m}, "
                f"K = {self.coupling:g}, K_s = {self.injection:g})")


def order_parameter(phases: np.ndarray) -> np.ndarray:
    r"""Return :math:`r = |\frac1n\sum_j e^{i\theta_j}|` over axis 0."""
    return np.abs(np.mean(np.exp(1j * np.asarray(phases)), axis=0))


class KuramotoNetwork:
    r"""Kuramoto oscillators on a graph, or all-to-all with :math:`a_{ij} = 1/n`.

    Parameters
    ----------
    frequencies : array of float
        Natural frequencies :math:`\omega_i`; their length sets n.
    coupling : float
        :math:`K > 0`.
    graph : Graph, matrix, networkx graph or None
        Couplings :math:`a_{ij}`. None means all-to-all with
        :math:`a_{ij} = 1/n` (:math:`i \ne j`), the mean-field model whose
        critical coupling is :math:`2/(\pi g(0))`.
    distribution : FrequencyDistribution, optional
        Where the frequencies were drawn from, for the infinite-n theory.
    """

    family = "kuramoto"

    def __init__(self, frequencies, *, coupling: float, graph=None, distribution=None):
        try:
            omega = np.asarray(frequencies, dtype=float)
        except (TypeError, ValueError) as error:
            raise InvalidModelError("frequencies", "a list of numbers", frequencies,
                                    "Give one natural frequency per oscillator.") from error
        if omega.ndim != 1 or omega.size < 2 or not np.all(np.isfinite(omega)):
            raise InvalidModelError("frequencies", "at least 2 finite numbers", frequencies,
                                    "Give one finite natural frequency per oscillator.")
        self.frequencies = omega
        self.coupling = _positive(coupling, "coupling")
        self.distribution = distribution
        self.all_to_all = graph is None
        self.graph = None if graph is None else as_graph(graph, field="adjacency")
        if self.graph is not None and self.graph.n != omega.size:
            raise InvalidModelError("frequencies", f"{self.graph.n} entries, one per node",
                                    f"{omega.size} entries",
                                    "Give one natural frequency per node of the graph.")

    @property
    def n(self) -> int:
        return int(self.frequencies.size)

    def degrees(self) -> np.ndarray:
        r"""Return :math:`\sum_j a_{ij}` for each node."""
        if self.all_to_all:
            return np.full(self.n, (self.n - 1) / self.n)
        return np.asarray(self.graph.adjacency().sum(axis=1)).ravel()

    def coupling_terms(self, phases: np.ndarray) -> np.ndarray:
        r"""Return :math:`\sum_j a_{ij}\sin(\theta_i - \theta_j)` for (n,) or (n, batch) phases."""
        cosine, sine = np.cos(phases), np.sin(phases)
        if self.all_to_all:
            mean_cos = np.sum(cosine, axis=0) / self.n
            mean_sin = np.sum(sine, axis=0) / self.n
            return sine * mean_cos - cosine * mean_sin
        adjacency = self.graph.adjacency()
        return sine * (adjacency @ cosine) - cosine * (adjacency @ sine)

    def vector_field(self, phases: np.ndarray) -> np.ndarray:
        omega = self.frequencies if np.ndim(phases) == 1 else self.frequencies[:, None]
        return omega - self.coupling * self.coupling_terms(phases)

    def energy(self, phases: np.ndarray) -> np.ndarray:
        r"""Return :math:`E(\theta)` for phases of shape (n,) or (n, batch)."""
        cosine, sine = np.cos(phases), np.sin(phases)
        omega = self.frequencies if np.ndim(phases) == 1 else self.frequencies[:, None]
        if self.all_to_all:
            total = (np.sum(cosine, axis=0) ** 2 + np.sum(sine, axis=0) ** 2 - self.n) / self.n
        else:
            adjacency = self.graph.adjacency()
            total = np.sum(cosine * (adjacency @ cosine) + sine * (adjacency @ sine), axis=0)
        return -np.sum(omega * phases, axis=0) - self.coupling / 2 * total

    def to_dict(self) -> dict:
        record = {"family": self.family, "dimension": self.n, "coupling": self.coupling,
                  "network": "all_to_all" if self.all_to_all else self.graph.to_dict(),
                  "frequencies": {"mean": float(np.mean(self.frequencies)),
                                  "min": float(np.min(self.frequencies)),
                                  "max": float(np.max(self.frequencies))}}
        if self.distribution is not None:
            record["distribution"] = self.distribution.to_dict()
        return record

    def __repr__(self) -> str:
        network = "all-to-all" if self.all_to_all else f"graph {self.graph.name}"
        return f"KuramotoNetwork(n = {self.n}, {network}, K = {self.coupling:g})"


def wrap(phases: np.ndarray) -> np.ndarray:
    """Return phases wrapped to [-pi, pi)."""
    return (np.asarray(phases) + math.pi) % (2 * math.pi) - math.pi
