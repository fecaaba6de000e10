r"""The continuous two-layer dense associative memory of the ``dense_memory`` family.

Krotov and Hopfield ("Large associative memory problem in neurobiology and
machine learning", ICLR 2021) write a dense memory as N feature
neurons :math:`v` and K memory neurons :math:`h`, each layer with a
Lagrangian whose gradient is its output:

.. math::
    \tau_f \dot v = \Xi^T f(h) - v, \quad \tau_h \dot h = \Xi g(v) - h, \quad
    g = \nabla L_v, \quad f = \nabla L_h,

with the patterns as the rows of :math:`\Xi` (K x N). ctdyn takes

* :math:`L_v(v) = \sum_i \ell(v_i)` with :math:`\ell(v) = v^2/2` for
  :math:`|v| \le 1` and :math:`|v| - 1/2` otherwise, so
  :math:`g = \operatorname{clip}(v, -1, 1)` (hard tanh) reaches the
  pattern values :math:`\pm 1` exactly;
* :math:`L_h(h) = \sum_\mu F(h_\mu)` with F from
  :mod:`ctdyn.memory._functions`, so :math:`f = F'`.

The energy is :math:`E = \sum_i (v_i g_i - \ell(v_i)) + \sum_\mu (h_\mu f_\mu -
F(h_\mu)) - f^T \Xi g`, and :math:`\dot E = -\tau_f \dot v^T \nabla^2 L_v
\dot v - \tau_h \dot h^T \nabla^2 L_h \dot h \le 0` when both Hessians are
positive semidefinite (proofs/dense_memory.md). :math:`\nabla^2 L_v` is
diagonal with entries 0 and 1, and :math:`\nabla^2 L_h = \operatorname{diag}(F'')`
is positive semidefinite exactly when F is convex, so a polynomial of odd
degree is rejected.

A stored pattern :math:`\xi` corresponds to the state :math:`h^* = \Xi \xi`,
:math:`v^* = \Xi^T f(h^*)`; it is an equilibrium with :math:`g(v^*) = \xi`
exactly when :math:`\xi_i v^*_i \ge 1` for every i.
"""

from __future__ import annotations

import logging

import numpy as np

from ..errors import InvalidModelError
from ._functions import SeparationFunction, make_separation_function
from ._patterns import as_patterns

__all__ = ["TwoLayerMemory"]

logger = logging.getLogger(__name__)


class TwoLayerMemory:
    r"""The continuous two-layer dense associative memory (family ``dense_memory``).

    Parameters
    ----------
    patterns : array_like, shape (K, N)
        Stored patterns with entries +1 and -1.
    energy : {"classical", "polynomial", "rectified_polynomial", "exponential"}
        Shape of F; the polynomial needs an even degree (a convex F).
    degree : int, optional
        Power of the polynomials, 2 to 20 (default 3; the polynomial then needs 2 or 4).
    beta : float, optional
        Inverse temperature of the exponential (default 1).
    tau_feature, tau_memory : float
        Time constants of the two layers, positive.

    The state is :math:`(v, h)`, of dimension N + K.
    """

    family = "dense_memory"

    def __init__(self, patterns, *, energy: str = "rectified_polynomial",
                 degree: int | None = None, beta: float | None = None,
                 tau_feature: float = 1.0, tau_memory: float = 1.0, field_prefix: str = ""):
        self.patterns = as_patterns(patterns, field=f"{field_prefix}patterns")
        self.energy_name = energy
        self.separation: SeparationFunction = make_separation_function(
            energy, neurons=self.patterns.shape[1], degree=degree, beta=beta,
            field_prefix=field_prefix)
        if not self.separation.convex:
            raise InvalidModelError(
                f"{field_prefix}degree", "an even degree for energy \"polynomial\" (a convex F)",
                self.separation.degree,
                "The energy of the continuous model decreases only for a convex F: use an even "
                "degree, or energy = \"rectified_polynomial\", which is convex for every degree.")
        self.tau_feature = _time_constant(tau_feature, f"{field_prefix}tau_feature")
        self.tau_memory = _time_constant(tau_memory, f"{field_prefix}tau_memory")

    @property
    def neurons(self) -> int:
        return self.patterns.shape[1]

    @property
    def memories(self) -> int:
        return self.patterns.shape[0]

    @property
    def n(self) -> int:
        return self.neurons + self.memories

    def __repr__(self) -> str:
        return (f"TwoLayerMemory({self.memories} patterns of {self.neurons} neurons, "
                f"{self.separation.label()})")

    def to_dict(self) -> dict:
        return {
            "family": self.family,
            "dimension": self.n,
            "neurons": self.neurons,
            "patterns": self.memories,
            "energy": self.energy_name,
            "separation": self.separation.label(),
            "degree": self.separation.degree if self.separation.kind != "exponential" else None,
            "beta": self.separation.beta if self.separation.kind == "exponential" else None,
            "tau_feature": self.tau_feature,
            "tau_memory": self.tau_memory,
        }

    # -- dynamics --------------------------------------------------------------

    def split(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        states = np.atleast_2d(states)
        return states[:, :self.neurons], states[:, self.neurons:]

    def vector_field(self, states: np.ndarray) -> np.ndarray:
        """Return the time derivative of each row (v, h) of ``states``, shape (batch, N + K)."""
        v, h = self.split(states)
        xi = self.patterns.astype(float)
        dv = (self.separation.derivative(h) @ xi - v) / self.tau_feature
        dh = (np.clip(v, -1.0, 1.0) @ xi.T - h) / self.tau_memory
        return np.concatenate([dv, dh], axis=1)

    def energy(self, states: np.ndarray) -> np.ndarray:
        """Return the Lagrangian energy E of each row (v, h) of ``states``."""
        v, h = self.split(states)
        g = np.clip(v, -1.0, 1.0)
        ell = np.where(np.abs(v) <= 1.0, 0.5 * v * v, np.abs(v) - 0.5)
        f = self.separation.derivative(h)
        feature = np.sum(v * g - ell, axis=1)
        memory = np.sum(h * f - self.separation.value(h), axis=1)
        coupling = np.sum((f @ self.patterns.astype(float)) * g, axis=1)
        return feature + memory - coupling

    def pattern_state(self, index: int) -> np.ndarray:
        r"""Return the candidate equilibrium :math:`(v^*, h^*)` of pattern ``index`` (floating point)."""
        xi = self.patterns.astype(float)
        h = xi @ xi[index]
        v = self.separation.derivative(h) @ xi
        return np.concatenate([v, h])


def _time_constant(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not np.isfinite(value) or value <= 0:
        raise InvalidModelError(field, "a finite positive time constant", value,
                                "Use for example 1.0.")
    return float(value)
