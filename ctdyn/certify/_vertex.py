r"""Vertex enumeration: the best contraction rate of a quadratic metric class.

For a fixed :math:`P \succ 0` the contraction condition
:math:`J(D)^T P + P J(D) + 2cP \preceq 0` is affine in :math:`D`, and
:math:`\lambda_{\max}` is convex, so its worst case over the slope box
:math:`d_i \in [a, b]` is attained at one of the :math:`2^n` vertices
:math:`D_v`. Hence

.. math:: c(P) = \min_v -\tfrac12\,\lambda_{\max}\big(P^{-1/2}
          (J_v^T P + P J_v) P^{-1/2}\big), \qquad J_v = J(D_v),

is the exact best rate for that :math:`P` (:func:`vertex_rate_for_metric`).
The best rate over a class of metrics (any symmetric :math:`P`, or diagonal
:math:`P`) is the largest :math:`c` for which the :math:`2^n` vertex LMIs
have a common solution in the class. It is found by bisection on :math:`c`
with the same margin SDP and lifting as :mod:`ctdyn.certify._lmi`
(:func:`vertex_contraction_rate`). The lift here is :math:`c(P)` itself, so
the returned rate is the exact rate of the returned :math:`P` and lies within
``rate_tolerance`` of the class optimum when the solver behaves.

These are floating-point reference values for tests and benchmarks, the
ground truth that polynomial-size LMIs are measured against: a relaxation
may reach a lower rate, never a higher one. They are not certificates.
"""

from __future__ import annotations

import logging
import math
import time

import cvxpy as cp
import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import InvalidModelError, SolverError
from ..models import JacobianSet
from ._lmi import _SOLVERS, METRIC_METHODS, _Attempt, _solve, bisect_rate

__all__ = ["vertex_contraction_rate", "vertex_rate_for_metric", "MAX_VERTEX_SDP_SIZE",
           "MAX_VERTEX_EVALUATION_SIZE"]

logger = logging.getLogger(__name__)

# 2**12 = 4096 vertex LMIs; cvxpy's compile time grows linearly with their count.
MAX_VERTEX_SDP_SIZE = 12
# 2**16 vertices of a fixed metric take a few seconds of batched eigenvalues.
MAX_VERTEX_EVALUATION_SIZE = 16


def _vertex_jacobians(jacobian_set: JacobianSet, *, max_size: int) -> np.ndarray:
    """Return the distinct vertex Jacobians, shape (count, n, n)."""
    n = jacobian_set.n
    if n > max_size:
        raise InvalidModelError(
            "jacobian_set", f"at most {max_size} neurons for vertex enumeration",
            f"n = {n} (2**{n} vertices)",
            "Use lmi_contraction, whose size grows polynomially with n.")
    weights = np.asarray(jacobian_set.dense_weights(), dtype=float)
    low, high = float(jacobian_set.slope_min), float(jacobian_set.slope_max)
    options = (low,) if low == high else (low, high)
    count = len(options) ** n
    bits = (np.arange(count)[:, None] >> np.arange(n)[None, :]) & 1
    slopes = np.asarray(options)[bits] if len(options) == 2 else np.full((1, n), low)
    if jacobian_set.side == "left":
        products = slopes[:, :, None] * weights[None, :, :]
    else:
        products = weights[None, :, :] * slopes[:, None, :]
    return products - np.diag(jacobian_set.leak)[None, :, :]


def _rates_for_metric(jacobians: np.ndarray, P: np.ndarray) -> np.ndarray:
    r"""Return :math:`-\lambda_{\max}(P^{-1/2}(J^T P + P J)P^{-1/2})/2` for each Jacobian."""
    factor = np.linalg.cholesky(P)
    inverse = np.linalg.inv(factor)
    products = np.swapaxes(jacobians, 1, 2) @ P + P @ jacobians
    scaled = inverse[None, :, :] @ products @ inverse.T[None, :, :]
    scaled = (scaled + np.swapaxes(scaled, 1, 2)) / 2
    return -np.linalg.eigvalsh(scaled)[:, -1] / 2


def _validated_metric(P, n: int) -> np.ndarray:
    matrix = np.asarray(P, dtype=float)
    if matrix.shape != (n, n) or not np.all(np.isfinite(matrix)):
        raise InvalidModelError("P", f"a finite {n} x {n} matrix", f"shape {matrix.shape}",
                                "Pass the metric of this Jacobian set.")
    scale = max(float(np.max(np.abs(matrix))), 1e-300)
    if np.max(np.abs(matrix - matrix.T)) > 1e-12 * scale:
        raise InvalidModelError("P", "a symmetric matrix", "an asymmetric matrix",
                                "Pass (P + P.T) / 2.")
    matrix = (matrix + matrix.T) / 2
    if np.linalg.eigvalsh(matrix)[0] <= 0:
        raise InvalidModelError("P", "a positive definite matrix",
                                f"smallest eigenvalue {np.linalg.eigvalsh(matrix)[0]:.3g}",
                                "A metric x^T P x needs P > 0.")
    return matrix


def vertex_rate_for_metric(jacobian_set: JacobianSet, P) -> float:
    r"""Return the exact best contraction rate of a fixed metric :math:`x^T P x`, in floats.

    .. math:: c(P) = \min_v -\tfrac12\,\lambda_{\max}\big(P^{-1/2}
              (J_v^T P + P J_v) P^{-1/2}\big)

    over the :math:`2^n` slope-box vertices. A negative value means that
    :math:`P` proves no contraction.

    Raises
    ------
    InvalidModelError
        If ``n`` exceeds :data:`MAX_VERTEX_EVALUATION_SIZE` or ``P`` is not a
        symmetric positive definite ``n x n`` matrix.
    """
    jacobians = _vertex_jacobians(jacobian_set, max_size=MAX_VERTEX_EVALUATION_SIZE)
    metric = _validated_metric(P, jacobian_set.n)
    return float(np.min(_rates_for_metric(jacobians, metric)))


class _VertexProgram:
    r"""The SDP :math:`\max t` s.t. :math:`J_v^T P + P J_v + 2cP \preceq -tI` for all :math:`v`, :math:`P \succeq tI`, :math:`\operatorname{tr}P = n`."""

    def __init__(self, jacobians: np.ndarray, *, diagonal: bool):
        n = jacobians.shape[1]
        self.jacobians = jacobians
        self.diagonal = diagonal
        self.rate = cp.Parameter(name="rate")
        self.margin = cp.Variable(name="margin")
        if diagonal:
            self.p = cp.Variable(n, name="metric_diagonal")
            P = cp.diag(self.p)
            constraints = [self.p >= self.margin, cp.sum(self.p) == n]
        else:
            self.p = cp.Variable((n, n), symmetric=True, name="metric")
            P = self.p
            constraints = [P >> self.margin * np.eye(n), cp.trace(P) == n]
        for jacobian in jacobians:
            product = jacobian.T @ P + P @ jacobian + 2 * self.rate * P
            constraints.append((product + product.T) / 2 << -self.margin * np.eye(n))
        self.problem = cp.Problem(cp.Maximize(self.margin), constraints)

    def solve(self, rate: float, *, solver: str, time_limit: float | None) -> _Attempt:
        self.rate.value = rate
        status = _solve(self.problem, solver=solver, time_limit=time_limit)
        attempt = _Attempt(rate=rate, status=status)
        if status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) and self.margin.value is not None:
            value = np.asarray(self.p.value, dtype=float)
            attempt.margin = float(self.margin.value)
            attempt.P = np.diag(value) if self.diagonal else (value + value.T) / 2
        return attempt

    def lift(self, attempt: _Attempt) -> float:
        try:
            return float(np.min(_rates_for_metric(self.jacobians, attempt.P)))
        except np.linalg.LinAlgError:
            return -math.inf


def vertex_contraction_rate(jacobian_set: JacobianSet, *, metric: str = "full",
                            solver: str = "CLARABEL",
                            rate_tolerance: float = 1e-5) -> tuple[float, np.ndarray]:
    r"""Return the best rate of a metric class by the :math:`2^n` vertex LMIs, and its metric.

    Parameters
    ----------
    jacobian_set : JacobianSet
        At most :data:`MAX_VERTEX_SDP_SIZE` neurons.
    metric : {"full", "diagonal"}
        Any symmetric :math:`P`, or diagonal :math:`P`.
    solver : {"best", "CLARABEL", "SCS"}
        ``"best"`` runs every installed one and keeps the highest rate
        (slower: SCS needs minutes where Clarabel needs seconds at n = 8).
    rate_tolerance : float
        Width of the final bisection bracket.

    Returns
    -------
    rate : float
        ``vertex_rate_for_metric(jacobian_set, P)`` for the returned ``P``:
        a rate this metric really achieves, within ``rate_tolerance`` below
        the class optimum when every solve succeeds. It may be negative.
    P : ndarray, shape (n, n)
        The metric, normalized to trace ``n``.

    Raises
    ------
    InvalidModelError
        For invalid options or ``n`` above :data:`MAX_VERTEX_SDP_SIZE`.
    SolverError
        If no solve returned a usable metric (the message lists the statuses).
    """
    if metric not in METRIC_METHODS:
        raise InvalidModelError("metric", "'full' or 'diagonal'", metric,
                                "Use 'full' for any symmetric P or 'diagonal' for a diagonal P.")
    solver = str(solver).upper()
    available = sorted(set(_SOLVERS) & set(cp.installed_solvers()))
    if solver != "BEST" and solver not in available:
        raise InvalidModelError("solver", f"'best' or an installed SDP solver among {available}",
                                solver, "Pass one of these names.")
    if not (math.isfinite(rate_tolerance) and rate_tolerance > 0):
        raise InvalidModelError("rate_tolerance", "a positive finite number", rate_tolerance,
                                "Use for example 1e-5.")

    started = time.perf_counter()
    jacobians = _vertex_jacobians(jacobian_set, max_size=MAX_VERTEX_SDP_SIZE)
    upper = float(np.min([-np.max(np.linalg.eigvals(jacobian).real) for jacobian in jacobians]))
    program = _VertexProgram(jacobians, diagonal=(metric == "diagonal"))
    best, statuses = None, []
    # "best" runs each solver and keeps the highest rate that a returned
    # metric really achieves.
    for name in (available if solver == "BEST" else [solver]):
        with threadpool_limits(limits=1, user_api="blas"):
            bisection = bisect_rate(
                lambda rate, remaining: program.solve(rate, solver=name, time_limit=remaining),
                program.lift, upper=upper, tolerance=rate_tolerance,
                threshold=_SOLVERS[name].margin, deadline=None)
        logger.info("vertex %s rate %.8g with %s after %d solves in %.2f s (statuses: %s)",
                    metric, bisection.best_rate, name, bisection.steps,
                    time.perf_counter() - started, bisection.status_text())
        statuses.append(f"{name}: {bisection.status_text()}")
        if bisection.best is not None and (best is None or bisection.best_rate > best.best_rate):
            best = bisection
    if best is None:
        raise SolverError(f"vertex enumeration found no feasible {metric} metric "
                          f"(solver statuses: {'; '.join(statuses)})")
    return best.best_rate, best.best.P
