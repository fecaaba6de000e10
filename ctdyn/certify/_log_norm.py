r"""Contraction certificates in weighted :math:`\ell_\infty` and :math:`\ell_1` norms.

With :math:`\|x\|_{\infty,\eta} = \max_i |x_i|/\eta_i` the log-norm is

.. math:: \mu_{\infty,\eta}(A) = \max_i \Big(a_{ii} + \sum_{j \ne i}
          |a_{ij}|\,\eta_j/\eta_i\Big).

Over the slope box :math:`d_i \in [a, b]` the worst row of
:math:`J = -C + W D` is :math:`-c_i + \max(a w_{ii}, b w_{ii}) + s \sum_{j\ne
i}|w_{ij}|\eta_j/\eta_i` with :math:`s = \max(|a|, |b|)`: one Metzler matrix
:math:`M`. Row ``i`` of :math:`J = -C + D W` depends on :math:`d_i` alone and
is convex in it, so its worst case is at :math:`d_i \in \{a, b\}`: a family
of Metzler matrices with independent rows. For such a family
:math:`\min_\eta \max_i (M\eta)_i/\eta_i` equals the largest spectral
abscissa over the family and is attained by a Perron vector (Blondel and
Nesterov, SIAM J. Matrix Anal. Appl. 31 (2009) 865-876; for one matrix,
Davydov, Proskurnikov and Bullo, IEEE TAC 2025, arXiv 2110.08298). ctdyn
finds it by policy iteration on the row choices. A small uniform
perturbation makes every majorant irreducible, so the Perron vector is
positive; the exact check below then decides the rate these weights earn.

The :math:`\ell_1` norm :math:`\|x\|_{1,\eta} = \sum_i |x_i|/\eta_i` uses
:math:`\mu_{1,\eta}(A) = \mu_{\infty,1/\eta}(A^T)`, and the transposed set
of :math:`-C + DW` is :math:`-C + W^T D`.

Check. The weights are floats, hence exact rationals. For each row the
worst-case value :math:`\rho_i` is computed exactly (python-flint integer
products) or, above ``exact_limit`` stored entries, with a priori rounding
bounds. The certified rate is :math:`c = -\max_i \rho_i`, and ``certified``
requires :math:`c > 0` strictly.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from ..models import JacobianSet
from ..verify._row_sums import exact_abs_row_sums, upper_abs_row_sums
from ._certificate import CERTIFIED, INCONCLUSIVE, Certificate

__all__ = ["log_norm_certificate", "optimal_weights", "worst_row_values"]

logger = logging.getLogger(__name__)

# Above this many stored weights the check uses rounding bounds instead of
# exact integers (exact: about 1 s for 250,000 dense entries on one core).
DEFAULT_EXACT_LIMIT = 250_000
_PERTURBATION = 1e-9
_MAX_POLICY_STEPS = 50
_DENSE_EIGEN_LIMIT = 400


@dataclass(frozen=True)
class _RowModel:
    """Worst-case rows of the Jacobian set in the weighted l_inf log-norm.

    Row ``i`` with slope option ``d`` contributes
    ``-c_i + d w_ii + |d| * (off-diagonal weighted sum)``; for the right side
    the options collapse to a single effective diagonal and scale.
    """

    weights: np.ndarray | sps.csr_array
    diagonal: np.ndarray
    leak: np.ndarray
    options: tuple[float, ...]
    right_side: bool
    slope_min: Fraction
    slope_max: Fraction


def _row_model(jacobian_set: JacobianSet) -> _RowModel:
    weights = jacobian_set.weights
    diagonal = weights.diagonal() if sps.issparse(weights) else np.diag(weights).copy()
    low, high = float(jacobian_set.slope_min), float(jacobian_set.slope_max)
    return _RowModel(weights, diagonal, jacobian_set.leak, (low, high),
                     jacobian_set.side == "right", jacobian_set.slope_min, jacobian_set.slope_max)


def _metzler_parts(model: _RowModel, choice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the diagonal and the off-diagonal scale of each row for a row choice."""
    low, high = model.options
    if model.right_side:
        diagonal = -model.leak + np.maximum(low * model.diagonal, high * model.diagonal)
        scale = np.full(model.leak.shape, max(abs(low), abs(high)))
        return diagonal, scale
    slope = np.where(choice, high, low)
    return -model.leak + slope * model.diagonal, np.abs(slope)


def _off_diagonal_products(model: _RowModel, eta: np.ndarray) -> np.ndarray:
    r"""Return :math:`\sum_{j \ne i} |w_{ij}| \eta_j` in floating point."""
    weights = model.weights
    if sps.issparse(weights):
        magnitudes = weights.copy()
        magnitudes.data = np.abs(magnitudes.data)
        full = magnitudes @ eta
    else:
        full = np.abs(weights) @ eta
    return full - np.abs(model.diagonal) * eta


def worst_row_values(jacobian_set: JacobianSet, eta: np.ndarray) -> np.ndarray:
    r"""Return :math:`\max_{D} (\,\cdot\,)_i` row ratios of :math:`\mu_{\infty,\eta}` in floats.

    The maximum over ``i`` is the worst weighted log-norm over the slope box.
    """
    model = _row_model(jacobian_set)
    eta = np.asarray(eta, dtype=float)
    off = _off_diagonal_products(model, eta) / eta
    values = []
    for option in (np.zeros(len(eta), bool), np.ones(len(eta), bool)):
        diagonal, scale = _metzler_parts(model, option)
        values.append(diagonal + scale * off)
    return np.maximum(values[0], values[1])


def _perron_vector(model: _RowModel, choice: np.ndarray) -> np.ndarray:
    """Return a positive Perron vector of the Metzler matrix of a row choice.

    The unperturbed vector is used when it is clearly positive; a reducible
    matrix gets the perturbation ``(epsilon / n) 1 1^T`` instead.
    """
    vector = _perron_candidate(model, choice, perturb=False)
    if np.min(vector) > 1e-12:
        return vector
    return np.maximum(_perron_candidate(model, choice, perturb=True), 1e-30)


def _perron_candidate(model: _RowModel, choice: np.ndarray, *, perturb: bool) -> np.ndarray:
    n = len(model.leak)
    diagonal, scale = _metzler_parts(model, choice)
    weights = model.weights
    if sps.issparse(weights):
        magnitudes = weights.copy()
        magnitudes.data = np.abs(magnitudes.data)
        magnitudes.setdiag(0)
        magnitudes.eliminate_zeros()
        off = sps.diags_array(scale) @ magnitudes
        size = float(np.max(np.abs(off.data))) if off.nnz else 0.0
    else:
        off = np.abs(weights) * scale[:, None]
        np.fill_diagonal(off, 0.0)
        size = float(np.max(off)) if n > 1 else 0.0
    size = max(size, float(np.max(np.abs(diagonal))), 1.0)
    epsilon = _PERTURBATION * size if perturb else 0.0
    shift = size * 2.0 - float(np.min(diagonal))

    # M + shift I + (epsilon / n) 1 1^T is positive, so its Perron root is
    # simple and the only eigenvalue of largest modulus.
    if n <= _DENSE_EIGEN_LIMIT:
        matrix = off.toarray() if sps.issparse(off) else off.copy()
        matrix += np.diag(diagonal + shift) + epsilon / n
        eigenvalues, eigenvectors = np.linalg.eig(matrix)
        vector = eigenvectors[:, np.argmax(eigenvalues.real)].real
    else:
        def matvec(x):
            x = np.ravel(x)
            return off @ x + (diagonal + shift) * x + epsilon / n * np.sum(x)

        operator = spla.LinearOperator((n, n), matvec=matvec, dtype=float)
        _, eigenvectors = spla.eigs(operator, k=1, which="LM", v0=np.ones(n), tol=1e-10,
                                    maxiter=max(1000, 10 * n))
        vector = eigenvectors[:, 0].real
    vector = vector if np.sum(vector) >= 0 else -vector
    return np.maximum(vector, 0.0) / np.max(np.abs(vector))


def optimal_weights(jacobian_set: JacobianSet) -> tuple[np.ndarray, float]:
    r"""Return weights :math:`\eta` minimizing the worst :math:`\mu_{\infty,\eta}` and that value.

    Policy iteration over the row choices (left side) converges to the
    row-wise worst Metzler matrix; each step needs one Perron vector.
    """
    model = _row_model(jacobian_set)
    n = len(model.leak)
    low, high = model.options
    choice = np.full(n, abs(high) >= abs(low))
    best_eta, best_value = None, np.inf
    for step in range(_MAX_POLICY_STEPS):
        eta = _perron_vector(model, choice)
        rows = worst_row_values(jacobian_set, eta)
        value = float(np.max(rows))
        if best_eta is None or value < best_value - 1e-15 * max(1.0, abs(best_value)):
            best_eta, best_value = eta, value
        if model.right_side:
            break
        off = _off_diagonal_products(model, eta) / eta
        values_low = -model.leak + low * model.diagonal + abs(low) * off
        values_high = -model.leak + high * model.diagonal + abs(high) * off
        new_choice = np.where(np.isclose(values_low, values_high, rtol=1e-13, atol=0.0),
                              choice, values_high > values_low)
        logger.debug("policy step %d: worst row %.12g, %d rows changed", step, value,
                     int(np.sum(new_choice != choice)))
        if np.array_equal(new_choice, choice):
            break
        choice = new_choice
    return best_eta, best_value


def _exact_worst_rows(model: _RowModel, eta: np.ndarray) -> list[Fraction]:
    """Return the exact worst value of each weighted row, divided by eta_i."""
    full = exact_abs_row_sums(model.weights, eta)
    low, high = model.slope_min, model.slope_max
    results = []
    for i, total in enumerate(full):
        eta_i = Fraction(float(eta[i]))
        w_ii = Fraction(float(model.diagonal[i]))
        c_i = Fraction(float(model.leak[i]))
        off = total - abs(w_ii) * eta_i
        if model.right_side:
            value = -c_i * eta_i + max(low * w_ii, high * w_ii) * eta_i + max(abs(low), abs(high)) * off
        else:
            value = max(-c_i * eta_i + d * w_ii * eta_i + abs(d) * off for d in (low, high))
        results.append(value / eta_i)
    return results


def _interval_worst_rows(model: _RowModel, eta: np.ndarray) -> np.ndarray:
    """Return rigorous upper bounds on the worst value of each weighted row, divided by eta_i.

    The n-term sums carry the a priori bound of ``upper_abs_row_sums``. The
    few operations per row that follow are done in floats too. Each adds at
    most ``u`` times the magnitude of its operands. There are about six of
    them, plus the slopes rounded to floats, so ``16 u`` times the sum of the
    magnitudes of all terms bounds their total error with room to spare.
    """
    sums, relative, absolute = upper_abs_row_sums(model.weights, eta)
    unit = 2.0**-53
    total_upper = (sums * (1.0 + relative) + absolute) * (1.0 + 4 * unit)
    diagonal_term = np.abs(model.diagonal) * eta
    off_upper = total_upper - diagonal_term
    leak_term = model.leak * eta
    candidates = []
    magnitude = leak_term + diagonal_term
    if model.right_side:
        low, high = float(model.slope_min), float(model.slope_max)
        scale = max(abs(low), abs(high))
        slope_diagonal = np.maximum(low * model.diagonal, high * model.diagonal) * eta
        candidates.append(-leak_term + slope_diagonal + scale * off_upper)
        magnitude = magnitude + max(abs(low), abs(high)) * (diagonal_term + total_upper + off_upper)
    else:
        for d in (float(model.slope_min), float(model.slope_max)):
            candidates.append(-leak_term + d * model.diagonal * eta + abs(d) * off_upper)
        scale = max(abs(float(model.slope_min)), abs(float(model.slope_max)))
        magnitude = magnitude + scale * (diagonal_term + total_upper + off_upper)
    value = np.max(candidates, axis=0)
    error = 16 * unit * magnitude
    return (value + error) / eta * (1.0 + 4 * unit) + 2.0**-1000


def _checked_worst(model: _RowModel, eta: np.ndarray, exact: bool) -> Fraction:
    if exact:
        return max(_exact_worst_rows(model, eta))
    return Fraction(float(np.max(_interval_worst_rows(model, eta))))


def log_norm_certificate(jacobian_set: JacobianSet, *, norm: str = "l_inf",
                         weights: np.ndarray | None = None,
                         exact_limit: int = DEFAULT_EXACT_LIMIT) -> Certificate:
    r"""Certify contraction in a weighted :math:`\ell_\infty` or :math:`\ell_1` norm.

    Parameters
    ----------
    jacobian_set : JacobianSet
    norm : {"l_inf", "l_1"}
    weights : ndarray, optional
        Fixed weights :math:`\eta` (in the norm's own convention); by default
        the optimal ones are computed.
    exact_limit : int
        Largest number of stored weights checked in exact rational
        arithmetic; larger sets are checked with rounding bounds
        (``checked="interval"``).

    Returns
    -------
    Certificate
        ``certified`` with rate :math:`c` when the checked worst log-norm
        :math:`\max_D \mu_\eta(J(D)) \le -c < 0`; otherwise ``inconclusive``
        with the best value found.
    """
    if norm not in ("l_inf", "l_1"):
        raise ValueError(f"norm must be 'l_inf' or 'l_1', got {norm!r}")
    method = "log_norm_inf" if norm == "l_inf" else "log_norm_1"
    started = time.perf_counter()

    # The l_1 problem is the l_inf problem of the transposed set, weights 1/eta.
    working = jacobian_set if norm == "l_inf" else jacobian_set.transpose()
    if weights is None:
        try:
            eta, float_value = optimal_weights(working)
        except (np.linalg.LinAlgError, ValueError, spla.ArpackNoConvergence) as error:
            # Entries near the float range overflow in the Perron vector
            # computation; without weights there is nothing to check.
            return Certificate(method=method, claim="contraction", status=INCONCLUSIVE,
                               reason=f"the optimal weights could not be computed: {error}")
    else:
        eta = np.asarray(weights, dtype=float)
        eta = eta if norm == "l_inf" else 1.0 / eta
        float_value = float(np.max(worst_row_values(working, eta)))
    eta = eta / np.max(eta)
    solve_seconds = time.perf_counter() - started

    model = _row_model(working)
    stored = working.weights.nnz if working.is_sparse else working.n**2
    exact = stored <= exact_limit
    worst = _checked_worst(model, eta, exact)
    unit = np.ones(working.n)
    unweighted = _checked_worst(model, unit, exact)
    check_seconds = time.perf_counter() - started - solve_seconds
    checked = "exact" if exact else "interval"

    reported = eta if norm == "l_inf" else 1.0 / eta
    reported = reported / np.max(reported)
    metric = {"norm": norm, "weights": reported.tolist()}
    details = {
        "unweighted_rate": float(-unweighted),
        "float_log_norm": float_value,
        "solve_time_s": solve_seconds,
        "check_time_s": check_seconds,
        "slope_box": [str(jacobian_set.slope_min), str(jacobian_set.slope_max)],
    }
    rate = -worst
    if rate > 0:
        return Certificate(
            method=method, claim="contraction", status=CERTIFIED,
            rate=_round_down(rate), metric=metric, checked=checked, margin=_round_down(rate),
            reason=f"worst weighted log-norm over the slope box is {float(worst):.6g} < 0",
            evidence={"rate_exact": str(rate) if exact else None,
                      "rate_lower_bound": _round_down(rate)},
            details=details,
        )
    return Certificate(
        method=method, claim="contraction", status=INCONCLUSIVE, rate=None, metric=metric,
        checked=checked, margin=_round_down(rate),
        reason=(f"the best weighted {norm} log-norm over the slope box is {float(worst):.6g} >= 0, "
                "so this norm proves no positive rate"),
        details=details,
    )


def _round_down(value: Fraction) -> float:
    approximate = float(value)
    if Fraction(approximate) > value:
        approximate = float(np.nextafter(approximate, -np.inf))
    return approximate
