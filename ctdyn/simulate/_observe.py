r"""Observed contraction rates and energy traces, checked against certified claims.

A certificate claims, for a metric :math:`\|\cdot\|` and a rate :math:`c`,

.. math:: \|x(t) - y(t)\| \le e^{-ct} \|x(0) - y(0)\| \quad \text{for all } t \ge 0,

or that an energy never increases along trajectories. Simulation challenges
such a claim. The simulated states carry integration errors, so every check
here allows for an error bound derived from the tolerances ``rtol`` and
``atol`` and from the integrator's own local error estimates. A check that
fails beyond that bound contradicts the claim. When the claim is a certificate,
that means a bug in ctdyn, not a property of the model.

Error bound of one simulated state (trajectory ``b``, time ``t``), in the
metric:

.. math::

    \varepsilon_b(t) = \kappa\, \beta_b(t) + \|\mathrm{atol} +
        \mathrm{rtol}\, |x_b(t)|\|, \qquad \kappa = 10 \;(\text{ERROR\_SAFETY}).

Here :math:`\beta_b(t)` bounds, in the metric, the sum of the local error
estimates up to :math:`t` (:attr:`Trajectories.local_error_sums`). For the
weighted l_inf norm it is the l_inf sum divided by the smallest weight
:math:`\eta_{\min}`, and for the weighted l_1 norm the l_1 sum divided by
:math:`\eta_{\min}`. For the quadratic norm it is the l_2 sum times
:math:`\sqrt{\lambda_{\max}(P)}`, and for l_2 the l_2 sum itself. The second term, one unit of the tolerance scale at
the current state, keeps the bound positive. For the quadratic norm that
term is bounded by :math:`\sqrt{\lambda_{\max}(P)}` times its l_2 norm. If
the flow does not expand distances in the metric, which the claim under
test asserts for :math:`c \ge 0`, the global error is at most the sum of
the local errors. The factor :math:`\kappa` allows for local error
estimates that fall short of the true local error.

NOTE: the local error estimates are asymptotic estimates, not bounds, so
:math:`\varepsilon` is an estimate too. The check is only as rigorous as
those estimates.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..certify._certificate import to_json_value
from ..errors import CtdynWarning, InvalidModelError
from ..models._validate import finite_number
from ._integrate import Trajectories

__all__ = [
    "norm_distances",
    "ContractionObservation",
    "observed_contraction",
    "ContractionCheck",
    "check_contraction_bound",
    "EnergyTrace",
    "energy_traces",
    "EnergyCheck",
    "check_energy_decrease",
    "ERROR_SAFETY",
    "FLOOR_FACTOR",
    "ENERGY_SAFETY",
]

logger = logging.getLogger(__name__)

# Factor on the summed local error estimates in the state error bound epsilon.
ERROR_SAFETY = 10.0
# A pair counts at time t only while its distance is at least FLOOR_FACTOR
# times its error bound, because below that its log ratio has no meaningful digits.
FLOOR_FACTOR = 10.0
# Factor on rtol + atol / (state size) in the allowed relative energy increase.
ENERGY_SAFETY = 1000.0

_NORMS = ("l_inf", "l_1", "quadratic", "l_2")
# Elements of the (times, pairs, n) difference array formed at once.
_CHUNK_ELEMENTS = 4_000_000


# -- metrics -----------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class _Metric:
    r"""A validated norm.

    The norms are ``l_inf``, :math:`\max_i |x_i|/\eta_i`, ``l_1``,
    :math:`\sum_i |x_i|/\eta_i`, ``l_2``, the Euclidean norm, and
    ``quadratic``, :math:`\sqrt{x^T P x} = \|L^T x\|_2` with :math:`P = L L^T`.
    """

    norm: str
    inverse_weights: np.ndarray | None = None
    factor: np.ndarray | None = None  # the Cholesky factor L of P
    sqrt_lambda_max: float = 1.0

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        """Return the norm of each vector along the last axis."""
        if self.norm == "l_inf":
            return np.max(np.abs(vectors) * self.inverse_weights, axis=-1)
        if self.norm == "l_1":
            return np.sum(np.abs(vectors) * self.inverse_weights, axis=-1)
        if self.norm == "l_2":
            return np.linalg.norm(vectors, axis=-1)
        return np.linalg.norm(vectors @ self.factor, axis=-1)

    def bound(self, magnitudes: np.ndarray) -> np.ndarray:
        r"""Return an upper bound on :math:`\|v\|` over all :math:`|v| \le` ``magnitudes``.

        The weighted l_inf, l_1 and the l_2 norm are monotone, so the bound is
        the norm of ``magnitudes``. For the quadratic norm,
        :math:`\|v\|_P \le \sqrt{\lambda_{\max}(P)}\,\|v\|_2`.
        """
        if self.norm == "quadratic":
            return self.sqrt_lambda_max * np.linalg.norm(magnitudes, axis=-1)
        return self(magnitudes)

    def bound_from_sums(self, sums: np.ndarray) -> np.ndarray:
        r"""Bound :math:`\sum_k \|e_k\|` in this metric from the sums of l_1, l_2, l_inf norms.

        ``sums[..., j]`` is :math:`\sum_k \|e_k\|_{p_j}` for
        :math:`p = (1, 2, \infty)`. With :math:`\eta_{\min}` the smallest
        weight, :math:`\|e\|_{\infty,\eta} \le \|e\|_\infty / \eta_{\min}`,
        :math:`\|e\|_{1,\eta} \le \|e\|_1 / \eta_{\min}` and
        :math:`\|e\|_P \le \sqrt{\lambda_{\max}(P)}\,\|e\|_2`.
        """
        if self.norm == "l_inf":
            return sums[..., 2] * np.max(self.inverse_weights)
        if self.norm == "l_1":
            return sums[..., 0] * np.max(self.inverse_weights)
        return self.sqrt_lambda_max * sums[..., 1]


def _parse_metric(metric, n: int) -> _Metric:
    if not isinstance(metric, dict) or metric.get("norm") not in _NORMS:
        received = metric.get("norm") if isinstance(metric, dict) else metric
        raise InvalidModelError("metric.norm", f"one of {', '.join(_NORMS)}", received,
                                'Pass a metric such as {"norm": "l_inf", "weights": [...]} '
                                "or a certificate's metric.")
    norm = metric["norm"]
    if norm == "l_2":
        return _Metric("l_2")
    if norm == "quadratic":
        return _parse_quadratic(metric.get("P"), n)
    weights = metric.get("weights")
    if weights is None:
        weights = np.ones(n)
    weights = _as_float_array("metric.weights", weights)
    if weights.shape != (n,) or not np.all(np.isfinite(weights)) or np.any(weights <= 0):
        raise InvalidModelError("metric.weights", f"{n} finite positive weights", metric["weights"],
                                f"Give one positive weight per state component ({n}).")
    return _Metric(norm, inverse_weights=1.0 / weights)


def _parse_quadratic(matrix, n: int) -> _Metric:
    field = "metric.P"
    if matrix is None:
        raise InvalidModelError(field, f"an {n} x {n} positive definite matrix", None,
                                'Give the quadratic metric as {"norm": "quadratic", "P": [[...]]}.')
    matrix = _as_float_array(field, matrix)
    if matrix.shape != (n, n) or not np.all(np.isfinite(matrix)):
        raise InvalidModelError(field, f"a finite {n} x {n} matrix", f"shape {matrix.shape}",
                                f"Give P with {n} rows of {n} numbers.")
    asymmetry = np.max(np.abs(matrix - matrix.T))
    if asymmetry > 1e-12 * max(np.max(np.abs(matrix)), 1e-300):
        raise InvalidModelError(field, "a symmetric matrix", f"max |P - P^T| = {asymmetry:.3g}",
                                "Symmetrize P as (P + P^T) / 2.")
    symmetric = (matrix + matrix.T) / 2
    try:
        factor = np.linalg.cholesky(symmetric)
    except np.linalg.LinAlgError as error:
        raise InvalidModelError(field, "a positive definite matrix",
                                f"smallest eigenvalue {np.linalg.eigvalsh(symmetric)[0]:.3g}",
                                "A quadratic metric needs P > 0.") from error
    largest = float(np.linalg.eigvalsh(symmetric)[-1])
    return _Metric("quadratic", factor=factor, sqrt_lambda_max=math.sqrt(largest))


def _as_float_array(field: str, value) -> np.ndarray:
    try:
        return np.array(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise InvalidModelError(field, "numbers", value, f"Give {field} as numbers.") from error


def norm_distances(states_a, states_b, metric: dict) -> np.ndarray:
    r"""Return :math:`\|a - b\|` in ``metric`` along the last axis.

    Parameters
    ----------
    states_a, states_b : array_like, shape (..., n)
        Broadcast against each other.
    metric : dict
        ``{"norm": "l_inf", "weights": eta}`` for :math:`\max_i |x_i|/\eta_i`,
        ``{"norm": "l_1", "weights": eta}`` for :math:`\sum_i |x_i|/\eta_i`
        (weights default to ones), ``{"norm": "quadratic", "P": P}`` for
        :math:`\sqrt{x^T P x}` with :math:`P` symmetric positive definite, or
        ``{"norm": "l_2"}``. This is the convention of
        :class:`ctdyn.certify.Certificate`.

    Returns
    -------
    ndarray, shape (...)
    """
    difference = np.asarray(states_a, dtype=float) - np.asarray(states_b, dtype=float)
    if difference.ndim == 0:
        raise InvalidModelError("states_a", "arrays of shape (..., n)", "scalars",
                                "Pass state vectors.")
    return _parse_metric(metric, difference.shape[-1])(difference)


# -- contraction -------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ContractionObservation:
    r"""Distances between pairs of simulated trajectories and their log ratios.

    Times are measured from the first output time :math:`t_0` (usually 0).

    Attributes
    ----------
    metric : dict
        The metric as given.
    t : ndarray, shape (n_times,)
    pairs : ndarray of int, shape (n_pairs, 2)
        Trajectory indices ``(i, j)``, ``i < j``, into the batch.
    distances : ndarray, shape (n_times, n_pairs)
        :math:`d_p(t) = \|x_i(t) - x_j(t)\|` of the simulated states.
    error_bounds : ndarray, shape (n_times, n_pairs)
        :math:`\varepsilon_p(t) = \varepsilon_i(t) + \varepsilon_j(t)`, the
        bound on the error of :math:`d_p(t)` (module docstring).
    valid : ndarray of bool, shape (n_times, n_pairs)
        :math:`d_p(t) \ge` :data:`FLOOR_FACTOR` :math:`\varepsilon_p(t)` and
        :math:`d_p(t_0) \ge` :data:`FLOOR_FACTOR` :math:`\varepsilon_p(t_0)`.
        Only these points enter rates and checks.
    log_ratios : ndarray, shape (n_times, n_pairs)
        :math:`\log(d_p(t)/d_p(t_0))` where valid, NaN elsewhere.
    rate : float
        Observed rate: the minimum over pairs of
        :math:`-\log(d_p(T_p)/d_p(t_0)) / (T_p - t_0)`, with :math:`T_p` the
        last valid time of pair ``p`` (the final time unless the distance fell
        below its floor). NaN when no pair has a valid time after :math:`t_0`.
    rate_pair : tuple of int
        The pair that attains ``rate``.
    rate_time : float
        Its time :math:`T_p`.
    fitted_rate : float
        Minimum over pairs of :math:`-s_p`, where :math:`s_p` is the least
        squares slope through the origin of the valid log ratios against
        :math:`t - t_0`.
    skipped_pairs : int
        Pairs whose initial distance is below the floor (never valid).
    rtol, atol : float
        Tolerances of the integration.
    """

    metric: dict
    t: np.ndarray
    pairs: np.ndarray
    distances: np.ndarray
    error_bounds: np.ndarray
    valid: np.ndarray
    log_ratios: np.ndarray
    rate: float
    rate_pair: tuple[int, int]
    rate_time: float
    fitted_rate: float
    skipped_pairs: int
    rtol: float
    atol: float

    def excess(self, rate: float) -> np.ndarray:
        r"""Return :math:`\log(d_p(t)/d_p(t_0)) + c\,(t - t_0)`, NaN where not valid."""
        return self.log_ratios + rate * (self.t - self.t[0])[:, None]

    def tolerance(self, rate: float) -> np.ndarray:
        r"""Return the largest excess over ``rate`` that integration errors can explain.

        If the exact distances satisfy :math:`d(t) \le e^{-c t} d(0)` (times
        from :math:`t_0`), the simulated ones, which are off by at most
        :math:`\varepsilon`, satisfy
        :math:`\tilde d(t) \le e^{-ct}(\tilde d(0) + \varepsilon(0)) + \varepsilon(t)`, so

        .. math:: \log\frac{\tilde d(t)}{\tilde d(0)} + c t \le
                  \log\Big(1 + \frac{\varepsilon(0) + e^{ct}\varepsilon(t)}{\tilde d(0)}\Big).

        Evaluated in log space, so large :math:`ct` does not overflow.
        """
        elapsed = (self.t - self.t[0])[:, None]
        initial = self.distances[0][None, :]
        with np.errstate(divide="ignore"):
            start = np.log1p(self.error_bounds[0][None, :] / initial)
            growth = rate * elapsed + np.log(self.error_bounds / initial)
        return np.logaddexp(start, growth)

    def to_dict(self) -> dict[str, Any]:
        """Return the summary figures, JSON-ready (no per-time arrays)."""
        return to_json_value({
            "metric": self.metric,
            "observed_rate": self.rate,
            "rate_pair": list(self.rate_pair),
            "rate_time": self.rate_time,
            "fitted_rate": self.fitted_rate,
            "pairs": len(self.pairs),
            "skipped_pairs": self.skipped_pairs,
            "rtol": self.rtol,
            "atol": self.atol,
        })


def observed_contraction(trajectories: Trajectories, metric: dict, *, max_pairs: int = 2000,
                         seed: int = 0) -> ContractionObservation:
    r"""Measure how fast pairs of simulated trajectories approach each other.

    Parameters
    ----------
    trajectories : Trajectories
        At least two trajectories.
    metric : dict
        As for :func:`norm_distances`.
    max_pairs : int
        All :math:`\binom{batch}{2}` pairs are used when there are at most
        this many. Otherwise a uniform sample of ``max_pairs`` distinct pairs
        is drawn with ``numpy.random.default_rng(seed)``.
    seed : int
        Seed of the pair sample.

    Returns
    -------
    ContractionObservation
    """
    if trajectories.batch < 2:
        raise InvalidModelError("trajectories", "a batch of at least 2 trajectories",
                                f"batch {trajectories.batch}",
                                "Integrate several initial states, e.g. from spread_initial_states.")
    if isinstance(max_pairs, bool) or not isinstance(max_pairs, (int, np.integer)) or max_pairs < 1:
        raise InvalidModelError("max_pairs", "a positive integer", max_pairs,
                                "Give the number of trajectory pairs to compare, e.g. 2000.")
    parsed = _parse_metric(metric, trajectories.n)

    pairs = _choose_pairs(trajectories.batch, max_pairs, seed)
    distances = _pair_distances(trajectories.states, pairs, parsed)
    state_errors = _state_error_bounds(trajectories, parsed)
    error_bounds = state_errors[:, pairs[:, 0]] + state_errors[:, pairs[:, 1]]

    above_floor = distances >= FLOOR_FACTOR * error_bounds
    valid = above_floor & above_floor[0][None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratios = np.where(valid, np.log(distances / distances[0][None, :]), np.nan)

    rate, rate_index, rate_time = _final_rate(trajectories.t, log_ratios, valid)
    fitted = _fitted_rate(trajectories.t, log_ratios, valid)
    skipped = int(np.count_nonzero(~valid[0]))
    if skipped:
        logger.debug("skipped %d of %d pairs that start closer than their distance floor",
                     skipped, len(pairs))
    rate_pair = tuple(int(index) for index in pairs[rate_index]) if rate_index >= 0 else (-1, -1)
    return ContractionObservation(
        metric=metric, t=trajectories.t, pairs=pairs, distances=distances,
        error_bounds=error_bounds, valid=valid, log_ratios=log_ratios, rate=rate,
        rate_pair=rate_pair, rate_time=rate_time, fitted_rate=fitted, skipped_pairs=skipped,
        rtol=trajectories.rtol, atol=trajectories.atol)


def _choose_pairs(batch: int, max_pairs: int, seed: int) -> np.ndarray:
    total = batch * (batch - 1) // 2
    if total <= max_pairs:
        rows, columns = np.triu_indices(batch, k=1)
        return np.stack([rows, columns], axis=1)
    chosen = np.sort(np.random.default_rng(seed).choice(total, size=max_pairs, replace=False))
    # Row i of the upper triangle contains the batch-1-i pairs (i, i+1), ..., (i, batch-1).
    row_starts = np.concatenate([[0], np.cumsum(np.arange(batch - 1, 0, -1))])
    rows = np.searchsorted(row_starts, chosen, side="right") - 1
    columns = rows + 1 + (chosen - row_starts[rows])
    return np.stack([rows, columns], axis=1)


def _pair_distances(states: np.ndarray, pairs: np.ndarray, metric: _Metric) -> np.ndarray:
    n_times, _, n = states.shape
    chunk = max(1, _CHUNK_ELEMENTS // max(1, n_times * n))
    distances = np.empty((n_times, len(pairs)))
    for start in range(0, len(pairs), chunk):
        block = pairs[start:start + chunk]
        distances[:, start:start + chunk] = metric(states[:, block[:, 0]] - states[:, block[:, 1]])
    return distances


def _state_error_bounds(trajectories: Trajectories, metric: _Metric) -> np.ndarray:
    r"""Return :math:`\varepsilon_b(t)` of the module docstring, shape (n_times, batch)."""
    accumulated = ERROR_SAFETY * metric.bound_from_sums(trajectories.local_error_sums)
    states = trajectories.states
    n_times, batch, n = states.shape
    # In blocks of output times, so no temporary is as large as the states.
    times_per_block = max(1, _CHUNK_ELEMENTS // max(1, batch * n))
    for start in range(0, n_times, times_per_block):
        scale = np.abs(states[start:start + times_per_block])
        scale *= trajectories.rtol
        scale += trajectories.atol
        accumulated[start:start + times_per_block] += metric.bound(scale)
    return accumulated


def _final_rate(t: np.ndarray, log_ratios: np.ndarray, valid: np.ndarray):
    """Return the minimum over pairs of the rate at each pair's last valid time."""
    elapsed = t - t[0]
    usable = valid & (elapsed > 0)[:, None]
    has_points = usable.any(axis=0)
    if not has_points.any():
        return math.nan, -1, math.nan
    last = usable.shape[0] - 1 - np.argmax(usable[::-1], axis=0)
    columns = np.arange(usable.shape[1])
    rates = np.where(has_points, -log_ratios[last, columns] / elapsed[last], np.inf)
    index = int(np.argmin(rates))
    return float(rates[index]), index, float(t[last[index]])


def _fitted_rate(t: np.ndarray, log_ratios: np.ndarray, valid: np.ndarray) -> float:
    elapsed = (t - t[0])[:, None]
    usable = valid & (elapsed > 0)
    weights = np.where(usable, elapsed, 0.0)
    denominator = np.sum(weights**2, axis=0)
    numerator = np.sum(np.where(usable, elapsed * log_ratios, 0.0), axis=0)
    has_points = denominator > 0
    if not has_points.any():
        return math.nan
    return float(np.min(-numerator[has_points] / denominator[has_points]))


@dataclass(frozen=True)
class ContractionCheck:
    r"""Result of :func:`check_contraction_bound`.

    Attributes
    ----------
    consistent : bool
        True when every valid point satisfies excess :math:`\le` tolerance
        (not strict).
    rate : float
        The claimed rate :math:`c`.
    worst_excess : float
        :math:`\log(d_p(t)/d_p(t_0)) + c(t - t_0)` at the point where excess
        minus tolerance is largest. That is the worst violation, or the
        smallest margin when the check is consistent.
    tolerance : float
        The tolerance at that point, ``tolerance`` argument included.
    pair : tuple of int
        Trajectory indices of that point.
    time : float
        Time of that point.
    points_checked, points_skipped : int
        Pair-time points after :math:`t_0` that were checked, and those below
        the distance floor.
    """

    consistent: bool
    rate: float
    worst_excess: float
    tolerance: float
    pair: tuple[int, int]
    time: float
    points_checked: int
    points_skipped: int

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dictionary."""
        return to_json_value(dict(self.__dict__))


def check_contraction_bound(observation: ContractionObservation, rate: float, *,
                            tolerance: float = 0.0) -> ContractionCheck:
    r"""Check observed distances against a claimed contraction rate.

    The claim :math:`d(t) \le e^{-ct} d(t_0)` is consistent with the
    simulation when at every valid pair and time

    .. math::

        \log\frac{d_p(t)}{d_p(t_0)} + c\,(t - t_0) \le
        \log\Big(1 + \frac{\varepsilon_p(t_0) + e^{c (t - t_0)}\varepsilon_p(t)}
        {d_p(t_0)}\Big) + \tau,

    where :math:`\varepsilon_p` is the error bound of
    :attr:`ContractionObservation.error_bounds` and :math:`\tau` is
    ``tolerance``. Points with :math:`d_p(t) < 10\,\varepsilon_p(t)`
    (:data:`FLOOR_FACTOR`) are skipped, because their log ratio has no
    meaningful digits. On the floor the right-hand side is at least
    :math:`\log(1 + 1/10) \approx 0.095`.

    Parameters
    ----------
    observation : ContractionObservation
    rate : float
        Claimed rate :math:`c`, finite (a negative value bounds the growth).
    tolerance : float
        Extra allowance :math:`\tau \ge 0` added to the derived tolerance,
        for instance for a rate that was rounded up.

    Returns
    -------
    ContractionCheck
    """
    rate = finite_number("rate", rate)
    tolerance = finite_number("tolerance", tolerance)
    if tolerance < 0:
        raise InvalidModelError("tolerance", "a number >= 0", tolerance,
                                "Pass an extra allowance in log units, or 0.")

    elapsed = observation.t - observation.t[0]
    usable = observation.valid & (elapsed > 0)[:, None]
    later = (elapsed > 0).sum() * observation.valid.shape[1]
    checked = int(np.count_nonzero(usable))
    if checked == 0:
        warnings.warn("no trajectory pair stayed above its distance floor after the first "
                      "time, so the contraction check is vacuous. Use initial states farther "
                      "apart or tighter rtol/atol.", CtdynWarning, stacklevel=2)
        return ContractionCheck(True, rate, math.nan, math.nan, (-1, -1), math.nan, 0, int(later))

    excess = observation.excess(rate)
    allowed = observation.tolerance(rate) + tolerance
    slack = np.where(usable, excess - allowed, -np.inf)
    time_index, pair_index = np.unravel_index(np.argmax(slack), slack.shape)
    consistent = bool(slack[time_index, pair_index] <= 0)
    result = ContractionCheck(
        consistent=consistent, rate=rate,
        worst_excess=float(excess[time_index, pair_index]),
        tolerance=float(allowed[time_index, pair_index]),
        pair=tuple(int(index) for index in observation.pairs[pair_index]),
        time=float(observation.t[time_index]),
        points_checked=checked, points_skipped=int(later - checked))
    if not consistent:
        logger.debug("contraction rate %.6g contradicted: excess %.3g > tolerance %.3g at "
                     "pair %s, t = %.6g", rate, result.worst_excess, result.tolerance,
                     result.pair, result.time)
    return result


# -- energy ------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class EnergyTrace:
    r"""Energy values along simulated trajectories.

    Attributes
    ----------
    t : ndarray, shape (n_times,)
    energies : ndarray, shape (n_times, batch)
        :math:`E(x_b(t_k))`.
    state_sizes : ndarray, shape (batch,)
        :math:`X_b = \max_k \|x_b(t_k)\|_\infty`.
    rtol, atol : float
        Tolerances of the integration.
    """

    t: np.ndarray
    energies: np.ndarray
    state_sizes: np.ndarray
    rtol: float
    atol: float


def energy_traces(trajectories: Trajectories,
                  energy_value: Callable[[np.ndarray], np.ndarray]) -> EnergyTrace:
    r"""Evaluate an energy along every trajectory at every output time.

    Parameters
    ----------
    trajectories : Trajectories
    energy_value : callable
        Maps states of shape ``(m, n)`` to energies of shape ``(m,)``. It is
        called on blocks of several output times at once, so ``m`` is a
        multiple of the batch size.

    Returns
    -------
    EnergyTrace
    """
    n_times, batch, n = trajectories.states.shape
    times_per_call = max(1, _CHUNK_ELEMENTS // (batch * n))
    energies = np.empty((n_times, batch))
    for start in range(0, n_times, times_per_call):
        block = trajectories.states[start:start + times_per_call]
        rows = block.reshape(-1, n)
        values = np.asarray(energy_value(rows), dtype=float)
        if values.shape != (rows.shape[0],):
            raise InvalidModelError(
                "energy_value", f"a function returning shape ({rows.shape[0]},) for states of "
                f"shape {rows.shape}", f"shape {values.shape}",
                "Return one energy per state row.")
        if not np.all(np.isfinite(values)):
            raise InvalidModelError("energy_value", "finite energies along the trajectories",
                                    "non-finite values",
                                    "Check the energy formula on the simulated states.")
        energies[start:start + len(block)] = values.reshape(len(block), batch)
    state_sizes = np.max(np.abs(trajectories.states), axis=(0, 2))
    return EnergyTrace(t=trajectories.t, energies=energies, state_sizes=state_sizes,
                       rtol=trajectories.rtol, atol=trajectories.atol)


@dataclass(frozen=True)
class EnergyCheck:
    r"""Result of :func:`check_energy_decrease`.

    Attributes
    ----------
    consistent : bool
        True when no relative increase exceeds its allowance.
    max_increase : float
        Relative increase :math:`(E_b(t_{k+1}) - E_b(t_k)) / \mathcal E_b` at
        the point where increase minus allowance is largest, over trajectories
        and consecutive times. It is negative when the energy decreases
        everywhere.
    allowed : float
        The allowance at that point, ``tolerance`` argument included.
    trajectory : int
        Batch index of that point.
    time : float
        :math:`t_k`, the start of that interval.
    energy_scale : float
        :math:`\mathcal E_b` of that trajectory.
    """

    consistent: bool
    max_increase: float
    allowed: float
    trajectory: int
    time: float
    energy_scale: float

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dictionary."""
        return to_json_value(dict(self.__dict__))


def check_energy_decrease(trace: EnergyTrace, *, tolerance: float = 0.0) -> EnergyCheck:
    r"""Check that energies never increase between consecutive output times.

    With the energy scale :math:`\mathcal E_b = \max_k |E_b(t_k)|` and the
    state size :math:`X_b` of trajectory ``b``, the energy is consistent with
    a non-increasing one when for all ``b`` and ``k``

    .. math::

        \frac{E_b(t_{k+1}) - E_b(t_k)}{\mathcal E_b} \le
        \kappa_E \Big(\mathrm{rtol} + \frac{\mathrm{atol}}{\max(X_b, \mathrm{atol})}\Big)
        + \tau, \qquad \kappa_E = 1000,

    with :math:`\kappa_E` = :data:`ENERGY_SAFETY` and :math:`\tau` =
    ``tolerance``. The bracket is the relative accuracy of the simulated
    states. :math:`\kappa_E` allows for the accumulation of global error
    and for energies whose relative change exceeds the relative change of the
    state. A trajectory whose energies are all 0 has no increase.

    NOTE: this allowance is an estimate, not a bound, because it does not
    use the gradient of the energy. A large constant offset in the energy
    raises :math:`\mathcal E_b` and so weakens the check.

    Parameters
    ----------
    trace : EnergyTrace
        At least two output times.
    tolerance : float
        Extra relative allowance :math:`\tau \ge 0`.

    Returns
    -------
    EnergyCheck
    """
    tolerance = finite_number("tolerance", tolerance)
    if tolerance < 0:
        raise InvalidModelError("tolerance", "a number >= 0", tolerance,
                                "Pass an extra relative allowance, or 0.")
    if len(trace.t) < 2:
        raise InvalidModelError("trace", "energies at two or more output times",
                                f"{len(trace.t)} time", "Integrate with more output times.")

    scale = np.max(np.abs(trace.energies), axis=0)
    safe_scale = np.where(scale > 0, scale, 1.0)
    increases = np.diff(trace.energies, axis=0) / safe_scale[None, :]
    relative_accuracy = trace.rtol + trace.atol / np.maximum(trace.state_sizes, trace.atol)
    allowed = ENERGY_SAFETY * relative_accuracy + tolerance

    slack = increases - allowed[None, :]
    time_index, trajectory = np.unravel_index(np.argmax(slack), slack.shape)
    return EnergyCheck(
        consistent=bool(slack[time_index, trajectory] <= 0),
        max_increase=float(increases[time_index, trajectory]),
        allowed=float(allowed[trajectory]),
        trajectory=int(trajectory),
        time=float(trace.t[time_index]),
        energy_scale=float(scale[trajectory]))
