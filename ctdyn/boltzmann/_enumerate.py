r"""Exact partition function, marginals and log-likelihood by enumeration.

The units are split into a block of :data:`LOW_UNITS` low units and the
remaining high units. The :math:`2^{16}` low states are enumerated once as
the rows of a matrix. The high configurations are visited one at a time,
and each costs one vectorized matrix-vector product, so memory stays
bounded. Sums of :math:`e^{-E/T}` are kept as a
running log-sum-exp: each chunk is scaled by the largest exponent seen so
far, so no term overflows and the sum loses no term to underflow that
matters at double precision.

For a restricted Boltzmann machine the smaller layer is enumerated and the
other is summed out in closed form:
:math:`\sum_{h \in \{0,1\}} e^{x h} = 1 + e^{x}` and
:math:`\sum_{h \in \{-1,1\}} e^{x h} = 2\cosh x`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from ..errors import InvalidModelError
from ._model import MAX_EXACT_UNITS, BoltzmannMachine, RestrictedBoltzmannMachine

__all__ = ["ExactResult", "exact_statistics", "log_likelihood", "enumerate_states",
           "free_energy", "CHUNK_STATES"]

logger = logging.getLogger(__name__)

# States of the enumerated RBM layer per vectorized chunk.
CHUNK_STATES = 1 << 16
# Units enumerated together in one block of 2**LOW_UNITS states.
LOW_UNITS = 16

Progress = Callable[[str, float], None]


@dataclass
class ExactResult:
    r"""Exact statistics of the Gibbs distribution.

    Attributes
    ----------
    log_partition : float
        :math:`\log Z = \log \sum_s e^{-E(s)/T}`.
    marginals : ndarray, shape (n,)
        :math:`\langle s_i \rangle` over all units (visible first for an RBM).
    correlations : ndarray, shape (n, n) or None
        :math:`\langle s_i s_j \rangle` for a Boltzmann machine, or
        :math:`\langle v_i h_j \rangle` (shape (visible, hidden)) for an RBM.
    states_visited : int
        Number of enumerated configurations (of the smaller layer for an RBM).
    """

    log_partition: float
    marginals: np.ndarray
    correlations: np.ndarray | None
    states_visited: int

    def to_dict(self) -> dict:
        return {"log_partition": self.log_partition, "marginals": self.marginals.tolist(),
                "states_visited": self.states_visited}


def enumerate_states(n: int, start: int, stop: int, states: str) -> np.ndarray:
    """Return the states with integer codes ``start <= code < stop`` as rows (bit i is unit i)."""
    codes = np.arange(start, stop, dtype=np.int64)
    bits = ((codes[:, None] >> np.arange(n, dtype=np.int64)[None, :]) & 1).astype(float)
    return 2.0 * bits - 1.0 if states == "pm1" else bits


def _check_size(units: int, what: str) -> None:
    if units > MAX_EXACT_UNITS:
        raise InvalidModelError(
            what, f"at most {MAX_EXACT_UNITS} units for exact enumeration (2**{MAX_EXACT_UNITS} "
            "states)", f"{units} units",
            "Use Gibbs sampling or parallel tempering (ctdyn.boltzmann.gibbs_sample, "
            "parallel_tempering) for larger machines, or run only the mean-field "
            "certificate: methods = [\"mean_field\"].")


class _RunningSum:
    """Accumulate log sum exp(a_k) and the matching weighted first and second moments."""

    def __init__(self):
        self.shift = -np.inf
        self.total = 0.0
        self.first = 0.0
        self.second = 0.0

    def weights(self, exponents: np.ndarray) -> np.ndarray:
        """Rescale the sums to a new largest exponent; return exp(exponents - shift)."""
        peak = float(np.max(exponents))
        if peak > self.shift:
            scale = np.exp(self.shift - peak) if np.isfinite(self.shift) else 0.0
            self.total *= scale
            self.first = self.first * scale
            self.second = self.second * scale
            self.shift = peak
        weights = np.exp(exponents - self.shift)
        self.total += float(weights.sum())
        return weights

    @property
    def log_total(self) -> float:
        return self.shift + float(np.log(self.total))


def exact_statistics(model, *, correlations: bool = False,
                     progress: Progress | None = None) -> ExactResult:
    r"""Compute :math:`\log Z`, the marginals and optionally the correlations exactly.

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
    correlations : bool
        Also accumulate second moments (the learning-rule statistics).
    progress : callable(stage, fraction), optional

    Raises
    ------
    InvalidModelError
        When more than :data:`MAX_EXACT_UNITS` units must be enumerated.
    """
    if isinstance(model, RestrictedBoltzmannMachine):
        return _rbm_statistics(model, correlations=correlations, progress=progress)
    if not isinstance(model, BoltzmannMachine):
        raise InvalidModelError("model", "a BoltzmannMachine or RestrictedBoltzmannMachine",
                                type(model).__name__, "Build the model with ctdyn.boltzmann.")
    _check_size(model.n, "weights")
    return _machine_statistics(model, correlations=correlations, progress=progress)


def _machine_statistics(model: BoltzmannMachine, *, correlations: bool,
                        progress: Progress | None) -> ExactResult:
    # Split s = (l, h) into LOW_UNITS low units, enumerated once, and the
    # high units, visited one configuration at a time:
    # E(s) = E_l(l) + E_h(h) - l^T W_lh h, so each high state costs one
    # matrix-vector product over all low states.
    n, temperature = model.n, model.temperature
    low = min(n, LOW_UNITS)
    weights, bias = model.weights, model.bias
    low_states = enumerate_states(low, 0, 1 << low, model.states)
    low_energies = (-0.5 * np.sum((low_states @ weights[:low, :low]) * low_states, axis=1)
                    - low_states @ bias[:low])
    cross = weights[:low, low:]
    high_count = 1 << (n - low)
    accumulator = _RunningSum()
    for code in range(high_count):
        high = enumerate_states(n - low, code, code + 1, model.states)[0]
        high_energy = -0.5 * high @ weights[low:, low:] @ high - bias[low:] @ high
        exponents = -(low_energies + high_energy - low_states @ (cross @ high)) / temperature
        factors = accumulator.weights(exponents)
        low_first = factors @ low_states
        accumulator.first = accumulator.first + np.concatenate([low_first,
                                                                factors.sum() * high])
        if correlations:
            block = np.empty((n, n))
            block[:low, :low] = (low_states * factors[:, None]).T @ low_states
            block[:low, low:] = np.outer(low_first, high)
            block[low:, :low] = block[:low, low:].T
            block[low:, low:] = factors.sum() * np.outer(high, high)
            accumulator.second = accumulator.second + block
        if progress is not None and (code % 16 == 15 or code == high_count - 1):
            progress("exact enumeration", (code + 1) / high_count)
    logger.info("enumerated %d states of a %d-unit Boltzmann machine", 1 << n, n)
    return ExactResult(accumulator.log_total, accumulator.first / accumulator.total,
                       accumulator.second / accumulator.total if correlations else None, 1 << n)


def _layer_terms(x: np.ndarray, states: str) -> tuple[np.ndarray, np.ndarray]:
    r"""Return :math:`\log \sum_h e^{x h}` and :math:`\langle h \rangle` elementwise."""
    if states == "01":
        return np.logaddexp(0.0, x), expit(x)
    return np.logaddexp(x, -x), np.tanh(x)


def _rbm_statistics(model: RestrictedBoltzmannMachine, *, correlations: bool,
                    progress: Progress | None) -> ExactResult:
    # Enumerate the smaller layer ("outer") and sum the other ("inner") out.
    swap = model.n_hidden < model.n_visible
    weights = model.weights.T if swap else model.weights
    outer_bias, inner_bias = ((model.hidden_bias, model.visible_bias) if swap
                              else (model.visible_bias, model.hidden_bias))
    outer_size, inner_size = weights.shape
    _check_size(outer_size, "hidden" if swap else "visible")
    temperature = model.temperature
    total = 1 << outer_size
    accumulator = _RunningSum()
    for start in range(0, total, CHUNK_STATES):
        stop = min(total, start + CHUNK_STATES)
        outer = enumerate_states(outer_size, start, stop, model.states)
        fields = (outer @ weights + inner_bias) / temperature
        log_sums, inner_means = _layer_terms(fields, model.states)
        exponents = outer @ outer_bias / temperature + log_sums.sum(axis=1)
        factors = accumulator.weights(exponents)
        accumulator.first = accumulator.first + factors @ np.hstack([outer, inner_means])
        if correlations:
            accumulator.second = accumulator.second + (outer * factors[:, None]).T @ inner_means
        if progress is not None:
            progress("exact enumeration", stop / total)
    means = accumulator.first / accumulator.total
    outer_means, inner_means = means[:outer_size], means[outer_size:]
    visible, hidden = (inner_means, outer_means) if swap else (outer_means, inner_means)
    second = None
    if correlations:
        second = accumulator.second / accumulator.total
        second = second.T if swap else second
    return ExactResult(accumulator.log_total, np.concatenate([visible, hidden]), second, total)


def log_likelihood(model, data, *, log_partition: float | None = None) -> float:
    r"""Return the mean log-likelihood :math:`\frac1N\sum_k \log p(x_k)` of data rows.

    For a Boltzmann machine the rows are full states; for an RBM they are
    visible states and the hidden layer is summed out.
    """
    data = _check_data(model, data)
    if log_partition is None:
        log_partition = exact_statistics(model).log_partition
    if isinstance(model, RestrictedBoltzmannMachine):
        return float(np.mean(-free_energy(model, data)) - log_partition)
    return float(np.mean(-model.energy(data) / model.temperature) - log_partition)


def free_energy(model: RestrictedBoltzmannMachine, visible) -> np.ndarray:
    r"""Return :math:`F(v) = -\log \sum_h e^{-E(v,h)/T}` for visible rows."""
    visible = np.asarray(visible, dtype=float)
    fields = (visible @ model.weights + model.hidden_bias) / model.temperature
    log_sums, _ = _layer_terms(fields, model.states)
    return -(visible @ model.visible_bias) / model.temperature - log_sums.sum(axis=-1)


def _check_data(model, data) -> np.ndarray:
    data = np.atleast_2d(np.asarray(data, dtype=float))
    width = model.n_visible if isinstance(model, RestrictedBoltzmannMachine) else model.n
    allowed = (0.0, 1.0) if model.states == "01" else (-1.0, 1.0)
    if data.ndim != 2 or data.shape[1] != width or data.shape[0] == 0:
        raise InvalidModelError("data", f"rows of {width} unit values", f"shape {data.shape}",
                                "Give one state per row.")
    if not np.all(np.isin(data, allowed)):
        raise InvalidModelError("data", f"entries in {set(allowed)} for states = "
                                f"{model.states!r}", "other values",
                                "Binarize the data to the model's state set.")
    return data

