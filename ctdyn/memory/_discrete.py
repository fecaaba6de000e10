r"""Discrete dense associative memories and modern Hopfield networks.

Dense associative memory (Krotov and Hopfield, "Dense associative memory for
pattern recognition", NeurIPS 2016): states :math:`x \in \{-1,
1\}^N`, energy :math:`E(x) = -\sum_\mu F(\xi^\mu \cdot x)`, and the
asynchronous rule that updates one neuron at a time,

.. math:: x_i \leftarrow \operatorname{sign} \sum_\mu \bigl[F(\xi^\mu_i + a_\mu)
          - F(-\xi^\mu_i + a_\mu)\bigr], \qquad a_\mu = \sum_{j \ne i} \xi^\mu_j x_j .

The bracket is :math:`E(x^{i-}) - E(x^{i+})`, so the rule moves neuron i to
the lower of its two energies and never raises E (proofs/dense_memory.md).
A tie keeps :math:`x_i`. The synchronous rule applies the same formula to
every neuron at once. It can cycle (:func:`synchronous_two_cycle`), and for
the dense energies one step can raise E (tests/test_memory.py finds such a
step by brute force over the 32 states of a 5-neuron memory).

Modern Hopfield network (Ramsauer et al., "Hopfield networks is all you
need", ICLR 2021): continuous states :math:`\xi \in \mathbb R^d`,
stored patterns as the columns of :math:`X`, energy
:math:`E(\xi) = -\beta^{-1} \log \sum_\mu e^{\beta x_\mu^T \xi} + \tfrac12
\xi^T \xi + \beta^{-1} \log K + \tfrac12 M^2` with :math:`M = \max_\mu
|x_\mu|`, and update :math:`\xi \leftarrow X \operatorname{softmax}(\beta
X^T \xi)`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ..errors import InvalidModelError
from ._functions import make_separation_function
from ._patterns import as_patterns, as_states

__all__ = ["DenseAssociativeMemory", "ModernHopfield", "Retrieval", "synchronous_two_cycle"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_SWEEPS = 30


@dataclass
class Retrieval:
    """Final states of a batch of queries and how the updates ended.

    Attributes
    ----------
    states : ndarray, shape (queries, N)
    sweeps : int
        Full passes over the neurons (or synchronous steps) that were run.
    converged : ndarray of bool, shape (queries,)
        True where the last sweep changed no neuron, so the state is a fixed point.
    """

    states: np.ndarray
    sweeps: int
    converged: np.ndarray


class DenseAssociativeMemory:
    r"""A discrete dense associative memory :math:`E(x) = -\sum_\mu F(\xi^\mu \cdot x)`.

    Parameters
    ----------
    patterns : array_like, shape (K, N)
        Stored patterns with entries +1 and -1.
    energy : {"classical", "polynomial", "rectified_polynomial", "exponential"}
    degree : int, optional
        Power of the polynomials (default 3).
    beta : float, optional
        Inverse temperature of the exponential (default 1).
    """

    def __init__(self, patterns, *, energy: str = "polynomial", degree: int | None = None,
                 beta: float | None = None):
        self.patterns = as_patterns(patterns, field="patterns")
        self.separation = make_separation_function(energy, neurons=self.patterns.shape[1],
                                                   degree=degree, beta=beta)

    @property
    def neurons(self) -> int:
        return self.patterns.shape[1]

    def energy(self, states) -> np.ndarray:
        """Return E for each row of ``states`` (shape (queries, N) or (N,))."""
        x = as_states(states, self.neurons)
        return -self.separation.value(x @ self.patterns.T.astype(float)).sum(axis=1)

    def local_fields(self, states) -> np.ndarray:
        r"""Return :math:`\sum_\mu \xi^\mu_i G(a_\mu)` for every query and neuron at once.

        With :math:`x_i \xi^\mu_i = \pm 1` the overlap without neuron i is
        :math:`a_\mu = m_\mu \mp 1`, and the sum splits into
        :math:`\tfrac12 \sum_\mu \xi^\mu_i [G(m - 1) + G(m + 1)] + \tfrac12 x_i
        \sum_\mu [G(m - 1) - G(m + 1)]`: two matrix products instead of a
        queries x K x N tensor. The exponential's fields carry a positive
        factor per query, which no sign depends on.
        """
        x = as_states(states, self.neurons)
        xi = self.patterns.astype(float)
        overlaps = x @ xi.T
        shift = overlaps.max(axis=1, keepdims=True)
        below = self.separation.flip_gain(overlaps - 1.0, shift)
        above = self.separation.flip_gain(overlaps + 1.0, shift)
        return 0.5 * (below + above) @ xi + 0.5 * x * (below - above).sum(axis=1, keepdims=True)

    def synchronous_step(self, states) -> np.ndarray:
        """Apply the update rule to every neuron at once; a zero field keeps the neuron."""
        x = as_states(states, self.neurons)
        fields = self.local_fields(x)
        return np.where(fields > 0, 1.0, np.where(fields < 0, -1.0, x))

    def asynchronous_sweep(self, states, *, order=None) -> tuple[np.ndarray, np.ndarray]:
        r"""Update the neurons one at a time in ``order`` (default 0..N-1), all queries together.

        Returns the new states and, per query, whether some neuron changed.
        The integer overlaps :math:`m = x \Xi^T` are kept up to date after
        each neuron, and :math:`G` is read from a table over the integers
        :math:`|a| \le N + 1`, so a sweep costs :math:`O(N \cdot queries
        \cdot K)` with no power or exponential evaluated inside it.
        """
        x = as_states(states, self.neurons).copy()
        xi = self.patterns.astype(np.int64)
        column_values = self.patterns.astype(float)
        overlaps = x.astype(np.int64) @ xi.T
        table, offset = self._gain_table()
        exponential = self.separation.kind == "exponential"
        changed = np.zeros(x.shape[0], dtype=bool)
        for i in range(self.neurons) if order is None else order:
            current = x[:, i].astype(np.int64)
            # Overlaps without neuron i.
            rest = overlaps - np.outer(current, xi[:, i])
            if exponential:
                rest = rest - rest.max(axis=1, keepdims=True)
            fields = table[rest + offset] @ column_values[:, i]
            new = np.where(fields > 0, 1.0, np.where(fields < 0, -1.0, x[:, i]))
            moved = new != x[:, i]
            if np.any(moved):
                overlaps += np.outer((new - x[:, i]).astype(np.int64), xi[:, i])
                x[:, i] = new
                changed |= moved
        return x, changed

    def _gain_table(self) -> tuple[np.ndarray, int]:
        """Return G on the integer overlaps and the index offset of overlap 0.

        For the exponential the overlaps are first shifted by their row
        maximum, so the table covers -2N - 2 to 0.
        """
        size = self.neurons
        if self.separation.kind == "exponential":
            values = np.arange(-2 * size - 2, 1, dtype=float)
            return self.separation.flip_gain(values, 0.0), 2 * size + 2
        values = np.arange(-size - 1, size + 2, dtype=float)
        return self.separation.flip_gain(values), size + 1

    def retrieve(self, states, *, rule: str = "asynchronous",
                 max_sweeps: int = DEFAULT_MAX_SWEEPS, seed: int | None = None) -> Retrieval:
        """Run the update rule from each query until no neuron changes or ``max_sweeps`` pass.

        ``seed`` draws a new random neuron order for every asynchronous
        sweep; without it the order is 0..N-1.
        """
        if rule not in ("asynchronous", "synchronous"):
            raise InvalidModelError("rule", "'asynchronous' or 'synchronous'", rule,
                                    "Choose one of the two update rules.")
        x = as_states(states, self.neurons).copy()
        active = np.ones(x.shape[0], dtype=bool)
        generator = np.random.default_rng(seed) if seed is not None else None
        sweeps = 0
        while sweeps < max_sweeps and np.any(active):
            sweeps += 1
            if rule == "asynchronous":
                order = generator.permutation(self.neurons) if generator is not None else None
                new, changed = self.asynchronous_sweep(x[active], order=order)
            else:
                new = self.synchronous_step(x[active])
                changed = np.any(new != x[active], axis=1)
            x[active] = new
            indices = np.flatnonzero(active)
            active[indices[~changed]] = False
        return Retrieval(states=x, sweeps=sweeps, converged=~active)

    def is_fixed_point(self, states) -> np.ndarray:
        """Return, per state, whether no single-neuron flip lowers the energy (exact for the polynomials)."""
        x = as_states(states, self.neurons)
        fields = self.local_fields(x)
        return np.all(fields * x >= 0, axis=1)


def synchronous_two_cycle() -> dict:
    r"""Return a two-neuron memory whose synchronous updates cycle forever.

    One pattern :math:`\xi = (1, 1)` with :math:`F(h) = h^2/2`: the local
    field of neuron i is the other neuron's state, so the synchronous rule
    swaps the two entries of :math:`x = (1, -1)` at every step. The energy
    stays at :math:`E = 0`, while the asynchronous rule reaches the minimum
    :math:`-2` in one step.
    """
    memory = DenseAssociativeMemory([[1, 1]], energy="classical")
    start = np.array([1.0, -1.0])
    first = memory.synchronous_step(start)[0]
    second = memory.synchronous_step(first)[0]
    asynchronous = memory.retrieve(start).states[0]
    return {"memory": memory, "states": [start, first, second],
            "energies": [float(memory.energy(state)[0]) + 0.0 for state in (start, first, second)],
            "asynchronous": asynchronous,
            "asynchronous_energy": float(memory.energy(asynchronous)[0]) + 0.0}


class ModernHopfield:
    r"""A modern Hopfield network with the log-sum-exp energy.

    Parameters
    ----------
    patterns : array_like, shape (K, d)
        Stored patterns as rows (the columns of X in the paper); any finite reals.
    beta : float
        Inverse temperature, positive.
    """

    def __init__(self, patterns, *, beta: float = 1.0):
        values = np.asarray(patterns, dtype=float)
        if values.ndim != 2 or values.size == 0 or not np.all(np.isfinite(values)):
            raise InvalidModelError("patterns", "a non-empty finite K x d matrix",
                                    f"shape {values.shape}", "Store one pattern per row.")
        if isinstance(beta, bool) or not np.isfinite(beta) or beta <= 0:
            raise InvalidModelError("beta", "a finite positive number", beta,
                                    "Use for example beta = 1.0.")
        self.patterns = values
        self.beta = float(beta)

    def energy(self, states) -> np.ndarray:
        xi = np.atleast_2d(np.asarray(states, dtype=float))
        scores = self.beta * xi @ self.patterns.T
        count = self.patterns.shape[0]
        largest = np.max(np.linalg.norm(self.patterns, axis=1))
        return (-logsumexp(scores, axis=1) / self.beta + 0.5 * np.sum(xi * xi, axis=1)
                + np.log(count) / self.beta + 0.5 * largest**2)

    def update(self, states) -> np.ndarray:
        r"""Return :math:`X \operatorname{softmax}(\beta X^T \xi)` for each row of ``states``."""
        xi = np.atleast_2d(np.asarray(states, dtype=float))
        # Softmax in place on the score matrix: one queries x K buffer instead of three.
        scores = (self.beta * xi) @ self.patterns.T
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores @ self.patterns

    def retrieve(self, states, *, max_steps: int = 100, tolerance: float = 1e-12) -> Retrieval:
        """Iterate :meth:`update` until the largest change is below ``tolerance``."""
        xi = np.atleast_2d(np.asarray(states, dtype=float)).copy()
        converged = np.zeros(xi.shape[0], dtype=bool)
        steps = 0
        while steps < max_steps and not np.all(converged):
            steps += 1
            new = self.update(xi)
            converged = np.max(np.abs(new - xi), axis=1) <= tolerance
            xi = new
        return Retrieval(states=xi, sweeps=steps, converged=converged)

    def separations(self) -> np.ndarray:
        r"""Return :math:`\Delta_\mu = x_\mu^T x_\mu - \max_{\nu \ne \mu} x_\mu^T x_\nu` for each pattern."""
        gram = self.patterns @ self.patterns.T
        others = gram - np.diag(np.full(gram.shape[0], np.inf))
        return np.diag(gram) - others.max(axis=1)

    def one_step_retrieval_bound(self, states, pattern: int) -> np.ndarray:
        r"""Return a bound on the one-step retrieval error :math:`\|f(\xi) - x_\mu\|`.

        With :math:`p = \operatorname{softmax}(\beta X^T \xi)`,
        :math:`f(\xi) - x_\mu = \sum_{\nu \ne \mu} p_\nu (x_\nu - x_\mu)`, and
        :math:`p_\nu \le e^{-\beta (x_\mu - x_\nu)^T \xi}` with
        :math:`(x_\mu - x_\nu)^T \xi \ge \Delta_\mu - 2 r M` for
        :math:`r = \|\xi - x_\mu\|`, :math:`M = \max_\nu \|x_\nu\|`. Hence
        :math:`\|f(\xi) - x_\mu\| \le 2 (K - 1) M e^{-\beta(\Delta_\mu - 2 r M)}`,
        the form of the retrieval bound of Ramsauer et al. (2021),
        derived in full in proofs/dense_memory.md.
        The bound is small once :math:`\Delta_\mu > 2 r M`.
        """
        xi = np.atleast_2d(np.asarray(states, dtype=float))
        radius = np.linalg.norm(xi - self.patterns[pattern], axis=1)
        largest = np.max(np.linalg.norm(self.patterns, axis=1))
        count = self.patterns.shape[0]
        gap = self.separations()[pattern] - 2.0 * radius * largest
        return 2.0 * (count - 1) * np.exp(-self.beta * gap) * largest

