r"""Contraction certificates in a quadratic metric from an S-procedure LMI.

Setting
-------
A :class:`~ctdyn.models.JacobianSet` describes the Jacobians

.. math:: J(D) = -C + L D R, \qquad D = \operatorname{diag}(d),\;
          d_i \in [a, b],

with :math:`C` a positive diagonal leak, :math:`a \le b` the rational slope
bounds (:math:`a` may be negative) and :math:`(L, R) = (I, W)` for a
firing-rate network (``side="left"``) or :math:`(W, I)` for a Hopfield
network (``side="right"``). The claim is contraction with rate :math:`c > 0`
in :math:`\|x\|_P^2 = x^T P x`, :math:`P \succ 0`:

.. math:: \|x(t) - y(t)\|_P \le e^{-ct}\,\|x(0) - y(0)\|_P .

Why the slope box suffices
--------------------------
For two states with difference :math:`\delta = x - y`, put
:math:`p = R\delta`. Every activation difference is a difference quotient
times :math:`p_i`, and a Lipschitz activation's difference quotients lie in
:math:`[a, b]`. Hence :math:`f(x) - f(y) = -C\delta + L q` with
:math:`q = D p` for one :math:`D` of the box (it depends on :math:`x, y`).
Along two trajectories,

.. math:: \tfrac{d}{dt}\,\delta^T P \delta + 2c\,\delta^T P \delta
          = \delta^T\big(-CP - PC + 2cP\big)\delta + 2\,\delta^T P L q ,

so :math:`\|\delta\|_P` decays at rate :math:`c` as soon as this quadratic
form is :math:`\le 0` for every :math:`\delta` and every admissible
:math:`q`. That is the condition :math:`J(D)^T P + P J(D) + 2cP \preceq 0`
for all :math:`D` in the box; ``_vertex`` checks it at the :math:`2^n`
vertices.

S-procedure (derivation of the LMI)
-----------------------------------
Each pair :math:`(p_i, q_i) = (p_i, d_i p_i)` satisfies the sector inequality

.. math:: (q_i - a p_i)(b p_i - q_i) = (d_i - a)(b - d_i)\,p_i^2 \ge 0 .

With multipliers :math:`\Lambda = \operatorname{diag}(\lambda)`,
:math:`\lambda \ge 0`, the weighted sum of these inequalities expands to

.. math:: \sum_i \lambda_i (q_i - a p_i)(b p_i - q_i)
          = -q^T \Lambda q + (a + b)\,\delta^T R^T \Lambda q
            - ab\,\delta^T R^T \Lambda R\,\delta \;\ge 0 .

Adding it to the quadratic form above gives :math:`z^T M z` for
:math:`z = (\delta, q)` with

.. math:: M(c, P, \Lambda) = \begin{bmatrix}
          -CP - PC + 2cP - ab\,R^T \Lambda R & PL + \tfrac{a+b}{2} R^T \Lambda \\
          L^T P + \tfrac{a+b}{2} \Lambda R & -\Lambda \end{bmatrix}.

If :math:`M \preceq 0` then on every admissible :math:`(\delta, q)` the
quadratic form is at most :math:`-\sum_i \lambda_i(\cdots) \le 0`, so the
network contracts with rate :math:`c` in :math:`\|\cdot\|_P`. The
condition is sufficient only. Each :math:`d_i` enters
:math:`J^T P + P J` through the rank-two term
:math:`d_i (P l_i r_i^T + r_i l_i^T P)` (:math:`l_i` the i-th column of
:math:`L`, :math:`r_i^T` the i-th row of :math:`R`). One sector multiplier
covers such a term exactly when it is alone (the S-lemma is lossless for a
single constraint), and the relaxation loses only where several terms
combine. Measured against the vertex ground truth on
the adversarial sets of ``tests/test_lmi.py`` (n <= 3), the LMI rate came
within 1e-3 of the vertex rate in 15 of 20 cases and fell up to 0.05 below
it in the others (full P, sigmoid slopes, weights of size 3: 0.375 against
0.419).
``metric="full"`` gives method ``lmi_euclidean`` (any symmetric :math:`P`),
``metric="diagonal"`` gives ``lmi_diagonal``.

NOTE: Gokhale, Proskurnikov, Kawano and Bullo, "Contracting Neural
Networks: Sharp LMI Conditions with Applications to Integral Control and
Deep Learning", arXiv:2604.00119 (2026), state in their abstract that they
derive sharp LMI conditions for both architectures with non-expansive and
monotone non-expansive activations. Only the abstract was available here,
so none of their conditions is implemented. They are the candidate for a
less conservative multiplier class.

Procedure
---------
1. Bisection on :math:`c`. For a fixed :math:`c` the SDP maximizes
   :math:`t` subject to :math:`M \preceq -tI`, :math:`P \succeq tI` and
   :math:`\operatorname{tr} P = n`. The trace fixes the scale, because
   :math:`M` is homogeneous in :math:`(P, \Lambda)`. For a full :math:`P`
   with :math:`0 \in [a, b]` the constraint :math:`P \succeq tI` is implied
   (see ``_rate_upper_bound``) and left out. A rate counts as feasible
   only with solver status ``optimal`` and :math:`t` at least the margin
   ``_SOLVERS[solver].margin``, which is set above the solver's accuracy.
   Every feasible :math:`(P, \Lambda)` is lifted to the largest :math:`c`
   it supports (a generalized eigenvalue of the Schur complement), which
   shortens the bisection.
2. The best :math:`(P, \Lambda)` is rounded to 40-bit dyadic rationals
   (still exact floats), :math:`\lambda` is clipped to a positive floor, and
   :math:`c` is lowered by a back-off and rounded down. Then
   :math:`P \succ 0` and :math:`-M \succ 0` are decided in exact rational
   arithmetic (``ctdyn.verify``), or for :math:`n` above ``exact_limit``
   with a floating Cholesky test under an a priori rounding bound. A
   failure retries with a larger back-off. ``certified`` is returned only
   after a passed check.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import cvxpy as cp
import flint
import numpy as np
import scipy.linalg as sla
from threadpoolctl import threadpool_limits

from ..errors import InvalidModelError
from ..models import JacobianSet
from ..verify import (
    UNIT_ROUNDOFF,
    DefiniteCheck,
    gamma,
    is_positive_definite_exact,
    is_positive_definite_interval,
    rational_matrix,
    round_up,
)
from ._certificate import CERTIFIED, INCONCLUSIVE, Certificate

__all__ = ["lmi_contraction", "check_lmi_proposal", "DEFAULT_EXACT_LIMIT", "METRIC_METHODS",
           "AUTO_CLARABEL_LIMIT"]

logger = logging.getLogger(__name__)

# metric keyword -> certificate method name.
METRIC_METHODS = {"full": "lmi_euclidean", "diagonal": "lmi_diagonal"}

# Largest n whose 2n x 2n matrix -M is checked in exact rational arithmetic.
DEFAULT_EXACT_LIMIT = 60

# Proposals are rounded to multiples of 2**(e - _ROUNDING_BITS), where 2**e
# bounds the largest entry. The results are exact floats with short
# numerators, which keeps the exact check fast.
_ROUNDING_BITS = 40
# Multipliers are clipped below at this fraction of the largest one, since a
# zero multiplier makes -M singular and fails the strict check.
_MULTIPLIER_FLOOR = 1e-9
# The first back-off is rate_tolerance / 4, and each retry multiplies it by 4.
_BACKOFF_TRIES = 4
_MAX_BRACKET_STEPS = 10
_MAX_BISECTION_STEPS = 60


@dataclass(frozen=True)
class _SolverSettings:
    time_limit_option: str
    margin: float


# Solvers that accept semidefinite constraints through cvxpy 1.9. The margin
# is ten times the solver's default accuracy as cvxpy 1.9 calls it: 1e-8 for
# Clarabel, eps_abs = eps_rel = 1e-5 for SCS.
_SOLVERS = {
    "CLARABEL": _SolverSettings("time_limit", 1e-7),
    "SCS": _SolverSettings("time_limit_secs", 1e-4),
}
# solver="auto" uses Clarabel up to this n and SCS above. Clarabel's cost per
# solve grows like the cube of the 2n x 2n cone's dimension. Measured for a
# whole full-P certificate on 2 shared cores: 8 s (Clarabel) and 12 s (SCS)
# at n = 25, 190 s and 60 s at n = 50. Diagonal P: 8 s and 1.2 s at n = 25.
AUTO_CLARABEL_LIMIT = 20


# -- the set and its factors ---------------------------------------------------


@dataclass(frozen=True)
class _Factors:
    r"""Dense float data of :math:`J(D) = -C + L D R` (``None`` stands for the identity)."""

    weights: np.ndarray
    leak: np.ndarray
    left: np.ndarray | None
    right: np.ndarray | None
    slope_min: Fraction
    slope_max: Fraction

    @property
    def n(self) -> int:
        return len(self.leak)

    @property
    def contains_zero_slope(self) -> bool:
        return self.slope_min <= 0 <= self.slope_max

    @property
    def product(self) -> Fraction:
        return self.slope_min * self.slope_max

    @property
    def midpoint(self) -> Fraction:
        return (self.slope_min + self.slope_max) / 2


def _factors(jacobian_set: JacobianSet) -> _Factors:
    weights = np.asarray(jacobian_set.dense_weights(), dtype=float)
    left, right = (None, weights) if jacobian_set.side == "left" else (weights, None)
    return _Factors(weights, np.asarray(jacobian_set.leak, dtype=float), left, right,
                    Fraction(jacobian_set.slope_min), Fraction(jacobian_set.slope_max))


def _blocks_float(factors: _Factors, P: np.ndarray, lam: np.ndarray):
    r"""Return the float blocks of :math:`M` without the :math:`2cP` term.

    ``top_left`` is :math:`-CP - PC - ab R^T \Lambda R` and ``coupling`` is
    :math:`PL + \frac{a+b}{2} R^T \Lambda`.
    """
    leak = factors.leak
    scaled_right = lam[:, None] * (np.eye(factors.n) if factors.right is None else factors.right)
    right_t = np.eye(factors.n) if factors.right is None else factors.right.T
    gram = right_t @ scaled_right
    top_left = -(leak[:, None] * P + P * leak[None, :]) - float(factors.product) * gram
    p_left = P if factors.left is None else P @ factors.left
    coupling = p_left + float(factors.midpoint) * (right_t * lam[None, :])
    return top_left, coupling


def _lifted_rate(factors: _Factors, P: np.ndarray, lam: np.ndarray) -> float:
    r"""Return the largest :math:`c` with :math:`M(c, P, \Lambda) \preceq 0`, in floats.

    With :math:`\Lambda \succ 0`, :math:`M \preceq 0` is equivalent to
    :math:`S_0 + 2cP \preceq 0` for the Schur complement
    :math:`S_0 = T + B \Lambda^{-1} B^T` (:math:`T, B` the top blocks), so the
    largest rate is :math:`-\lambda_{\max}(S_0, P)/2`, a generalized
    eigenvalue.
    """
    top_left, coupling = _blocks_float(factors, P, lam)
    schur = top_left + (coupling / lam[None, :]) @ coupling.T
    schur = (schur + schur.T) / 2
    try:
        largest = sla.eigh(schur, P, eigvals_only=True)[-1]
    except (np.linalg.LinAlgError, ValueError):
        return -math.inf
    return float(-largest / 2)


def _rate_upper_bound(factors: _Factors) -> tuple[float, str]:
    r"""Return :math:`\min_D -\alpha(J(D))` over :math:`D \in \{aI, bI\}` (and :math:`0`), and that D.

    Contraction at rate :math:`c` in any norm puts every eigenvalue of every
    :math:`J(D)` at real part :math:`\le -c`, so this bounds every quadratic
    metric's rate from above (in floating point). When :math:`0 \in [a, b]`,
    :math:`D = 0` gives :math:`c \le \min_i C_{ii}`. Every probe then has
    :math:`C - cI \succ 0`, and :math:`M \preceq -tI` with :math:`ab \le 0`
    gives :math:`(C - cI)P + P(C - cI) \succeq tI`, which forces
    :math:`P \succeq t / (2\max_i (C_{ii} - c))\,I` (Lyapunov).
    """
    slopes = [factors.slope_min, factors.slope_max]
    if factors.contains_zero_slope:
        slopes.append(Fraction(0))
    bound, where = math.inf, ""
    for slope in slopes:
        jacobian = float(slope) * factors.weights - np.diag(factors.leak)
        value = float(-np.max(np.linalg.eigvals(jacobian).real))
        if value < bound:
            bound, where = value, f"D = {slope} I"
    return bound, where


# -- the SDP ---------------------------------------------------------------------


@dataclass
class _Attempt:
    """One solve of the margin SDP at a fixed rate."""

    rate: float
    status: str
    margin: float | None = None
    P: np.ndarray | None = None
    multipliers: np.ndarray | None = None

    def feasible(self, threshold: float) -> bool:
        return self.status == cp.OPTIMAL and self.margin is not None and self.margin >= threshold


class _MarginProgram:
    r"""The SDP :math:`\max t` s.t. :math:`M(c) \preceq -tI`, :math:`P \succeq tI`, :math:`\operatorname{tr}P = n`.

    Compiled once with :math:`c` as a cvxpy parameter, so each bisection
    step reuses the canonicalization.
    """

    def __init__(self, factors: _Factors, *, diagonal: bool):
        n = factors.n
        self.factors = factors
        self.diagonal = diagonal
        self.rate = cp.Parameter(name="rate")
        self.margin = cp.Variable(name="margin")
        self.lam = cp.Variable(n, name="multipliers")
        if diagonal:
            self.p = cp.Variable(n, name="metric_diagonal")
            P = cp.diag(self.p)
            metric_constraints = [self.p >= self.margin, cp.sum(self.p) == n]
        else:
            self.p = cp.Variable((n, n), symmetric=True, name="metric")
            P = self.p
            metric_constraints = [cp.trace(P) == n]
            if not factors.contains_zero_slope:
                # Otherwise P >= t I is implied (see _rate_upper_bound), and
                # dropping this n x n block makes each Clarabel solve cheaper.
                metric_constraints.append(P >> self.margin * np.eye(n))

        lam_matrix = cp.diag(self.lam)
        leak = np.diag(factors.leak)
        if factors.right is None:
            gram, right_t_lam = lam_matrix, lam_matrix
        else:
            gram = factors.right.T @ lam_matrix @ factors.right
            right_t_lam = factors.right.T @ lam_matrix
        p_left = P if factors.left is None else P @ factors.left
        top_left = (-leak @ P - P @ leak + 2 * self.rate * P
                    - float(factors.product) * gram)
        coupling = p_left + float(factors.midpoint) * right_t_lam
        matrix = cp.bmat([[top_left, coupling], [coupling.T, -lam_matrix]])
        symmetric = (matrix + matrix.T) / 2
        constraints = metric_constraints + [symmetric << -self.margin * np.eye(2 * n)]
        self.problem = cp.Problem(cp.Maximize(self.margin), constraints)

    def metric_value(self) -> np.ndarray:
        value = np.asarray(self.p.value, dtype=float)
        return np.diag(value) if self.diagonal else (value + value.T) / 2

    def solve(self, rate: float, *, solver: str, time_limit: float | None) -> _Attempt:
        self.rate.value = rate
        status = _solve(self.problem, solver=solver, time_limit=time_limit)
        attempt = _Attempt(rate=rate, status=status)
        if status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) and self.margin.value is not None:
            attempt.margin = float(self.margin.value)
            attempt.P = self.metric_value()
            attempt.multipliers = np.asarray(self.lam.value, dtype=float)
        return attempt

    def lift(self, attempt: _Attempt) -> float:
        lam = _clip_multipliers(attempt.multipliers)
        return _lifted_rate(self.factors, attempt.P, lam)


def _solve(problem: cp.Problem, *, solver: str, time_limit: float | None) -> str:
    """Solve and return cvxpy's status text; solver failures become a status, never an exception."""
    options = {}
    if time_limit is not None:
        options[_SOLVERS[solver].time_limit_option] = max(time_limit, 1e-9)
    try:
        # cvxpy warns on inaccurate statuses; the caller reads the status instead.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            problem.solve(solver=solver, **options)
    except cp.error.SolverError as error:
        return f"solver_error ({error})"
    return str(problem.status)


# -- bisection -------------------------------------------------------------------


@dataclass
class _Bisection:
    """Outcome of a rate bisection: the best lifted proposal and the solver record."""

    best_rate: float = -math.inf
    best: _Attempt | None = None
    steps: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    lower: float = -math.inf
    upper: float = math.inf
    timed_out: bool = False

    def record(self, attempt: _Attempt) -> None:
        self.steps += 1
        self.statuses[attempt.status] = self.statuses.get(attempt.status, 0) + 1

    def status_text(self) -> str:
        return ", ".join(f"{status} x{count}" for status, count in self.statuses.items())


def bisect_rate(solve: Callable[[float, float | None], _Attempt], lift: Callable[[_Attempt], float],
                *, upper: float, tolerance: float, threshold: float,
                deadline: float | None) -> _Bisection:
    r"""Find the largest feasible rate in :math:`(-\infty, \text{upper}]` to ``tolerance``.

    Feasibility is monotone: a proposal feasible at :math:`c` stays feasible
    at every :math:`c' < c`, because :math:`M` only gains
    :math:`-2(c - c')P \preceq 0`. Probes start at ``upper - span`` and move
    down, doubling the span, until one is feasible. Then ordinary bisection
    runs, where each feasible proposal lifts the lower end to the rate it
    supports by itself.
    """
    result = _Bisection(upper=upper)
    span = max(1.0, abs(upper))
    probe = upper - span
    bracket_steps = 0
    while result.steps < _MAX_BISECTION_STEPS:
        remaining = None if deadline is None else deadline - time.perf_counter()
        if remaining is not None and remaining <= 0 and result.steps > 0:
            result.timed_out = True
            break
        attempt = solve(probe, remaining)
        result.record(attempt)
        # An inaccurate solve still proposes a metric; its lifted rate is what
        # the proposal really supports (in floats; the certificate re-checks
        # it exactly). Counting such a solve as infeasible would cut the
        # bracket below rates that are feasible.
        lifted = lift(attempt) if attempt.P is not None else -math.inf
        if not math.isfinite(lifted) or lifted > upper + 1e-9 * max(1.0, abs(upper)):
            lifted = -math.inf  # degenerate metric: above the eigenvalue bound no rate is possible
        lifted = min(lifted, upper)
        if attempt.feasible(threshold) or lifted >= probe:
            if lifted > result.best_rate:
                result.best_rate, result.best = lifted, attempt
            logger.debug("rate %.8g feasible (status %s, margin %.3g), lifted to %.8g",
                         probe, attempt.status, attempt.margin, lifted)
            result.lower = max(result.lower, probe if attempt.feasible(threshold) else lifted,
                               lifted)
        else:
            logger.debug("rate %.8g not feasible: status %s, margin %s",
                         probe, attempt.status, attempt.margin)
            result.upper = min(result.upper, probe)
            if result.best is None:
                bracket_steps += 1
                if bracket_steps >= _MAX_BRACKET_STEPS:
                    break
                span *= 2
                probe = upper - span
                continue
        if result.upper - result.lower <= tolerance:
            break
        probe = (result.lower + result.upper) / 2
    return result


# -- rounding and the exact or rigorous check -----------------------------------


def _clip_multipliers(lam: np.ndarray) -> np.ndarray:
    lam = np.asarray(lam, dtype=float)
    floor = _MULTIPLIER_FLOOR * max(float(np.max(np.abs(lam))), 1.0)
    return np.maximum(lam, floor)


def _round_dyadic(values: np.ndarray) -> np.ndarray:
    """Round to multiples of ``2**(e - _ROUNDING_BITS)``, where ``2**e`` bounds every ``|value|``."""
    values = np.asarray(values, dtype=float)
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    if largest == 0.0:
        return values.copy()
    step = 2.0 ** (math.frexp(largest)[1] - _ROUNDING_BITS)
    return np.round(values / step) * step


def _round_rate_down(rate: float) -> Fraction:
    """Return a dyadic rational at most ``rate``, exact as a float."""
    exponent = math.frexp(abs(rate))[1] if rate else 0
    scale = Fraction(2) ** (_ROUNDING_BITS - exponent)
    return Fraction(math.floor(Fraction(rate) * scale), scale)


def _as_fraction(value) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    if isinstance(value, str):
        return Fraction(value)
    return Fraction(float(value))


def _is_float_exact(values) -> bool:
    return all(Fraction(float(value)) == value for value in values)


def _exact_blocks(factors: _Factors, P: flint.fmpq_mat, lam: list[Fraction],
                  rate: Fraction) -> flint.fmpq_mat:
    r"""Return :math:`-M(c, P, \Lambda)` as an exact ``fmpq_mat``."""
    n = factors.n
    weights = rational_matrix(factors.weights)
    leak = rational_matrix(np.diag(factors.leak))
    lam_matrix = flint.fmpq_mat(n, n)
    for i, value in enumerate(lam):
        lam_matrix[i, i] = flint.fmpq(value.numerator, value.denominator)
    product = flint.fmpq(factors.product.numerator, factors.product.denominator)
    midpoint = flint.fmpq(factors.midpoint.numerator, factors.midpoint.denominator)
    rate_q = flint.fmpq(rate.numerator, rate.denominator)

    if factors.right is None:
        gram, right_t_lam = lam_matrix, lam_matrix
    else:
        gram = weights.transpose() * lam_matrix * weights
        right_t_lam = weights.transpose() * lam_matrix
    p_left = P if factors.left is None else P * weights
    top_left = -(leak * P) - P * leak + P * (2 * rate_q) - gram * product
    coupling = p_left + right_t_lam * midpoint

    negative = flint.fmpq_mat(2 * n, 2 * n)
    for i in range(n):
        for j in range(n):
            negative[i, j] = -top_left[i, j]
            negative[i, n + j] = -coupling[i, j]
            negative[n + j, i] = -coupling[i, j]
        negative[n + i, n + i] = lam_matrix[i, i]
    return negative


def _float_blocks_with_bound(factors: _Factors, P: np.ndarray, lam: np.ndarray,
                             rate: float) -> tuple[np.ndarray, float]:
    r"""Return :math:`fl(-M)`, exactly symmetric, and a bound on :math:`\|fl(-M) - (-M)\|_2`.

    ``P``, ``lam`` and ``rate`` are exact floats. Each entry of :math:`M` is
    a sum of at most :math:`n + 4` products of at most three float factors,
    one of which may be the rounded slope product :math:`ab` or midpoint
    :math:`(a+b)/2`. Computed in any order, such an entry is within
    :math:`\gamma_{n+8}` times the same expression in absolute values
    (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
    Lemma 3.1 and eq. 3.13). Underflow adds at most
    :math:`2^{-1074}` per product. Symmetrizing adds one rounding. The
    2-norm of the symmetric error matrix is at most its largest absolute row
    sum.
    """
    n = factors.n
    top_left, coupling = _blocks_float(factors, P, lam)
    top_left = top_left + (2.0 * rate) * P
    matrix = np.block([[-top_left, -coupling], [-coupling.T, np.diag(lam)]])

    abs_factors = _Factors(np.abs(factors.weights), factors.leak,
                           None if factors.left is None else np.abs(factors.left),
                           None if factors.right is None else np.abs(factors.right),
                           abs(factors.slope_min), abs(factors.slope_max))
    abs_p = np.abs(P)
    leak = factors.leak
    right_abs = np.eye(n) if abs_factors.right is None else abs_factors.right
    gram_abs = right_abs.T @ (lam[:, None] * right_abs)
    product_abs = abs(float(factors.product)) * (1 + UNIT_ROUNDOFF)
    midpoint_abs = abs(float(factors.midpoint)) * (1 + UNIT_ROUNDOFF)
    top_abs = leak[:, None] * abs_p + abs_p * leak[None, :] + 2.0 * abs(rate) * abs_p + product_abs * gram_abs
    left_abs = abs_p if abs_factors.left is None else abs_p @ abs_factors.left
    coupling_abs = left_abs + midpoint_abs * (right_abs.T * lam[None, :])
    magnitude = np.block([[top_abs, coupling_abs], [coupling_abs.T, np.zeros((n, n))]])

    factor = gamma(n + 8) * (1.0 + gamma(n + 8))
    error = magnitude * factor + (n + 4) * 2.0**-1074 * 4
    error = np.maximum(error, error.T)
    symmetric = (matrix + matrix.T) / 2
    error = error + 2 * UNIT_ROUNDOFF * np.abs(symmetric)
    row_sums = np.sum(error, axis=1)
    bound = round_up(Fraction(float(np.max(row_sums))) * (1 + Fraction(gamma(2 * n + 2))) * 2)
    return symmetric, bound


def check_lmi_proposal(jacobian_set: JacobianSet, *, P, multipliers, rate,
                       exact_limit: int = DEFAULT_EXACT_LIMIT) -> DefiniteCheck:
    r"""Decide whether :math:`(P, \lambda, c)` proves contraction with rate :math:`c`.

    Checks the strict inequalities :math:`P \succ 0` and
    :math:`-M(c, P, \Lambda) \succ 0` (see the module docstring), which
    imply :math:`J(D)^T P + P J(D) + 2cP \prec 0` on the whole slope box.
    Negative multipliers fail the check because :math:`\Lambda` is a block
    of :math:`-M`.

    Parameters
    ----------
    jacobian_set : JacobianSet
    P : array_like, shape (n, n)
        Exactly symmetric; floats, Fractions or integers (converted exactly).
    multipliers : array_like, shape (n,)
        The diagonal :math:`\lambda` of :math:`\Lambda`.
    rate : Fraction, float, int or str
        The claimed rate :math:`c`, converted exactly.
    exact_limit : int
        Largest ``n`` checked in exact rational arithmetic. Larger sets are
        checked by a floating Cholesky factorization under an a priori
        rounding bound (``checked="interval"``), provided every input is an
        exact float. Inputs that are not exact floats are always checked
        exactly.

    Returns
    -------
    DefiniteCheck
        ``passed`` only if both matrices are proved positive definite;
        ``margin`` is that of :math:`-M`.
    """
    factors = _factors(jacobian_set)
    n = factors.n
    P_entries = [[_as_fraction(value) for value in row] for row in np.asarray(P, dtype=object)]
    lam = [_as_fraction(value) for value in np.ravel(np.asarray(multipliers, dtype=object))]
    rate_exact = _as_fraction(rate)
    if len(P_entries) != n or any(len(row) != n for row in P_entries) or len(lam) != n:
        raise InvalidModelError("P and multipliers", f"an {n} x {n} matrix and {n} multipliers",
                                f"{len(P_entries)} rows and {len(lam)} multipliers",
                                "Pass a proposal built for this Jacobian set.")

    flat = [value for row in P_entries for value in row] + lam + [rate_exact]
    if n > exact_limit and _is_float_exact(flat):
        return _check_interval(factors, P_entries, lam, rate_exact)
    return _check_exact(factors, P_entries, lam, rate_exact)


def _check_exact(factors: _Factors, P_entries, lam, rate) -> DefiniteCheck:
    P = rational_matrix(P_entries)
    metric_check = is_positive_definite_exact(P)
    if not metric_check.passed:
        return _relabel(metric_check, f"P is not positive definite: {metric_check.detail}")
    negative = _exact_blocks(factors, P, lam, rate)
    check = is_positive_definite_exact(negative)
    label = "-M is positive definite" if check.passed else "-M is not positive definite"
    return _relabel(check, f"{label}: {check.detail}")


def _check_interval(factors: _Factors, P_entries, lam, rate) -> DefiniteCheck:
    P = np.array([[float(value) for value in row] for row in P_entries])
    lam_float = np.array([float(value) for value in lam])
    metric_check = is_positive_definite_interval(P, 0.0)
    if not metric_check.passed:
        return _relabel(metric_check, f"P is not proved positive definite: {metric_check.detail}")
    matrix, bound = _float_blocks_with_bound(factors, P, lam_float, float(rate))
    check = _interval_check_with_shift(matrix, bound)
    label = "-M is positive definite" if check.passed else "-M is not proved positive definite"
    return _relabel(check, f"{label} (rounding bound {bound:.3g}): {check.detail}")


def _interval_check_with_shift(matrix: np.ndarray, bound: float) -> DefiniteCheck:
    """Run the interval test shifted by half the estimated smallest eigenvalue.

    The kernel's margin is a proven lower bound near its shift, so a shift
    close to the true smallest eigenvalue reports the real slack. If that
    Cholesky fails the test is repeated with the kernel's default shift;
    both outcomes are rigorous.
    """
    estimate = float(np.linalg.eigvalsh(matrix)[0])
    if estimate > 0:
        check = is_positive_definite_interval(matrix, bound, shift=estimate / 2)
        if check.passed:
            return check
    return is_positive_definite_interval(matrix, bound)


def _relabel(check: DefiniteCheck, detail: str) -> DefiniteCheck:
    return DefiniteCheck(check.passed, check.checked, check.margin, check.failed_index, detail)


# -- the certifier ---------------------------------------------------------------


def _choose_solver(solver: str, n: int) -> str:
    name = str(solver).upper()
    if name == "AUTO":
        return "CLARABEL" if n <= AUTO_CLARABEL_LIMIT else "SCS"
    if name not in _SOLVERS or name not in cp.installed_solvers():
        available = sorted(set(_SOLVERS) & set(cp.installed_solvers()))
        raise InvalidModelError("solver", f"'auto' or an installed SDP solver among {available}",
                                solver, "Pass one of these names.")
    return name


def _validate_options(metric: str, solver: str, n: int, rate_tolerance: float, exact_limit: int,
                      max_time: float | None) -> str:
    if metric not in METRIC_METHODS:
        raise InvalidModelError("metric", "'full' or 'diagonal'", metric,
                                "Use 'full' for any symmetric P or 'diagonal' for a diagonal P.")
    name = _choose_solver(solver, n)
    if not (isinstance(rate_tolerance, (int, float)) and math.isfinite(rate_tolerance)
            and rate_tolerance > 0):
        raise InvalidModelError("rate_tolerance", "a positive finite number", rate_tolerance,
                                "Use for example 1e-4.")
    if not isinstance(exact_limit, (int, np.integer)) or exact_limit < 0:
        raise InvalidModelError("exact_limit", "a nonnegative integer", exact_limit,
                                "Use for example 60.")
    if max_time is not None and not (math.isfinite(max_time) and max_time > 0):
        raise InvalidModelError("max_time", "None or a positive number of seconds", max_time,
                                "Omit it for no limit.")
    return name


def lmi_contraction(jacobian_set: JacobianSet, *, metric: str = "full", solver: str = "auto",
                    rate_tolerance: float = 1e-4, exact_limit: int = DEFAULT_EXACT_LIMIT,
                    max_time: float | None = None) -> Certificate:
    r"""Certify contraction in a quadratic metric :math:`x^T P x` by the S-procedure LMI.

    Parameters
    ----------
    jacobian_set : JacobianSet
    metric : {"full", "diagonal"}
        Search any symmetric :math:`P` (method ``lmi_euclidean``) or a
        diagonal :math:`P` (method ``lmi_diagonal``).
    solver : {"auto", "CLARABEL", "SCS"}
        cvxpy solver for the semidefinite programs. ``"auto"`` takes
        Clarabel (interior point, accurate) up to
        :data:`AUTO_CLARABEL_LIMIT` neurons and SCS (first order, cheaper per
        solve at large n) above. The exact check does not depend on the
        choice.
    rate_tolerance : float
        Width of the final bisection bracket on :math:`c`. The certified
        rate is also lowered by at least ``rate_tolerance / 4`` before the
        exact check, which leaves room for rounding.
    exact_limit : int
        Largest ``n`` checked in exact rational arithmetic (the check then
        factors a :math:`2n \times 2n` rational matrix). Larger sets are
        checked with a rigorous floating-point bound (``checked="interval"``).
    max_time : float, optional
        Wall-clock budget in seconds for the bisection. The remaining time is
        passed to each solve as the solver's time limit, so cvxpy's
        compilation and the final check come on top of it.

    Returns
    -------
    Certificate
        ``certified`` with rate :math:`c > 0` only after
        :math:`P \succ 0` and :math:`-M(c, P, \Lambda) \succ 0` passed an
        exact (or rigorous interval) check. Otherwise ``inconclusive``, with
        the best rate found or the solver statuses in ``reason``. This
        method never returns ``refuted``.
    """
    solver = _validate_options(metric, solver, jacobian_set.n, rate_tolerance, exact_limit,
                               max_time)
    method = METRIC_METHODS[metric]
    started = time.perf_counter()
    deadline = None if max_time is None else started + max_time
    factors = _factors(jacobian_set)
    upper, where = _rate_upper_bound(factors)
    details = {"solver": solver, "rate_upper_bound": upper,
               "slope_box": [str(factors.slope_min), str(factors.slope_max)]}

    if upper <= 0:
        reason = (f"no positive rate found with a quadratic metric: the Jacobian at {where} has "
                  f"an eigenvalue with real part {-upper:.6g} (floating point), so no metric "
                  "gives a positive rate")
        return _inconclusive(method, reason, details, started)

    program = _MarginProgram(factors, diagonal=(metric == "diagonal"))
    threshold = _SOLVERS[solver].margin
    # numpy, scipy and SCS each load their own OpenBLAS. With default threads
    # they contend for the cores, so BLAS runs on one thread here.
    with threadpool_limits(limits=1, user_api="blas"):
        bisection = bisect_rate(
            lambda rate, remaining: program.solve(rate, solver=solver, time_limit=remaining),
            program.lift, upper=upper, tolerance=rate_tolerance, threshold=threshold,
            deadline=deadline)
    solve_seconds = time.perf_counter() - started
    details.update({"solve_time_s": solve_seconds, "bisection_steps": bisection.steps,
                    "solver_statuses": dict(bisection.statuses),
                    "float_rate": bisection.best_rate})
    logger.info("%s: bisection took %d solves in %.2f s, best float rate %.6g (statuses: %s)",
                method, bisection.steps, solve_seconds, bisection.best_rate, bisection.status_text())

    if bisection.best is None:
        limit = " within max_time" if bisection.timed_out else ""
        reason = (f"the solver found no feasible quadratic metric{limit} "
                  f"(solver statuses: {bisection.status_text()})")
        return _inconclusive(method, reason, details, started)
    if bisection.best_rate <= 0:
        reason = (f"no positive rate found with a quadratic metric "
                  f"(best c = {bisection.best_rate:.6g})")
        return _inconclusive(method, reason, details, started)
    return _round_and_check(jacobian_set, factors, bisection, method=method,
                            tolerance=rate_tolerance, exact_limit=exact_limit,
                            details=details, started=started)


def _round_and_check(jacobian_set: JacobianSet, factors: _Factors, bisection: _Bisection, *,
                     method: str, tolerance: float, exact_limit: int, details: dict,
                     started: float) -> Certificate:
    """Round the best proposal, back off the rate and check it; retry with larger back-offs."""
    best = bisection.best
    P = _round_dyadic((best.P + best.P.T) / 2)
    lam = _round_dyadic(_clip_multipliers(best.multipliers))
    lifted = _lifted_rate(factors, P, lam)
    backoff = tolerance / 4
    failures = []
    for attempt in range(_BACKOFF_TRIES):
        rate = _round_rate_down(lifted - backoff)
        if rate <= 0:
            failures.append(f"rate {float(rate):.6g} after back-off {backoff:.3g} is not positive")
            break
        check_started = time.perf_counter()
        check = check_lmi_proposal(jacobian_set, P=P, multipliers=lam, rate=rate,
                                   exact_limit=exact_limit)
        details["check_time_s"] = time.perf_counter() - check_started
        logger.info("%s: %s check of rate %s: %s", method, check.checked, float(rate), check.detail)
        if check.passed:
            return _certified(method, P, lam, rate, check, details, started)
        failures.append(f"rate {float(rate):.6g}: {check.detail}")
        backoff *= 4
    details["total_time_s"] = time.perf_counter() - started
    reason = ("the rounded proposal failed the "
              f"{'exact' if factors.n <= exact_limit else 'interval'} check "
              f"(best float rate {bisection.best_rate:.6g}; " + "; ".join(failures) + ")")
    return Certificate(method=method, claim="contraction", status=INCONCLUSIVE, reason=reason,
                       metric={"norm": "quadratic", "P": P.tolist()},
                       evidence={"P": P.tolist(), "multipliers": lam.tolist()}, details=details)


def _certified(method: str, P: np.ndarray, lam: np.ndarray, rate: Fraction, check: DefiniteCheck,
               details: dict, started: float) -> Certificate:
    details["total_time_s"] = time.perf_counter() - started
    # rate is a dyadic rational with at most _ROUNDING_BITS + 1 significant bits, an exact float.
    rate_float = float(rate)
    return Certificate(
        method=method, claim="contraction", status=CERTIFIED, rate=rate_float,
        metric={"norm": "quadratic", "P": P.tolist()}, checked=check.checked, margin=check.margin,
        reason=(f"S-procedure LMI with rate {rate_float:.6g}: P and -M proved positive definite "
                f"({check.checked} check)"),
        evidence={"P": P.tolist(), "multipliers": lam.tolist(), "rate_exact": str(rate)},
        details=details,
    )


def _inconclusive(method: str, reason: str, details: dict, started: float) -> Certificate:
    details["total_time_s"] = time.perf_counter() - started
    return Certificate(method=method, claim="contraction", status=INCONCLUSIVE, reason=reason,
                       details=details)
