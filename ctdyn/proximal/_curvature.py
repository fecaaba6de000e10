r"""Rigorous bounds :math:`\mu I \preceq \nabla^2 f \preceq L I` and the certified rate.

For :math:`f = \frac12\|Ax-b\|^2 + \frac\rho2\|x\|^2` the Hessian is
:math:`H = A^TA + \rho I`. Floating-point eigenvalues propose :math:`\mu`
(rounded down) and :math:`L` (rounded up); the proposal is kept only when
:math:`A^TA - \mu_A I` and :math:`L_A I - A^TA` are proved positive
definite, exactly (python-flint rationals, small sizes) or by a shifted
floating Cholesky factorization with an a priori error bound. The nonzero
eigenvalues of :math:`A^TA` and :math:`AA^T` agree, so the smaller Gram
matrix is factored. With more columns than rows :math:`A^TA` is singular and
:math:`\mu_A = 0` is exact without a check.

The contraction rate of :math:`\dot x = -x + \mathrm{prox}_{\gamma g}(x -
\gamma\nabla f(x))` in the Euclidean norm is
:math:`1 - \kappa\max(|1 - \gamma\mu|, |1 - \gamma L|)` with :math:`\kappa`
the Lipschitz constant of the proximal map (proofs/proximal_gradient.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from fractions import Fraction

import flint
import numpy as np

from ..verify import (
    UNIT_ROUNDOFF,
    is_positive_definite_exact,
    is_positive_definite_interval,
    matmul_error_bound,
    rational_matrix,
    round_up,
)
from ._losses import QuadraticLoss, exact_hessian

__all__ = ["CurvatureBounds", "curvature_bounds", "contraction_factor", "optimal_step"]

logger = logging.getLogger(__name__)

# Gram matrices up to this size are checked in exact rationals, larger ones
# by the shifted floating Cholesky test.
EXACT_GRAM_LIMIT = 40
EXACT_ENTRY_LIMIT = 200_000
# Relative widening of the floating eigenvalue proposals before the check.
_PROPOSAL_SLACK = 1e-9


@dataclass(frozen=True)
class CurvatureBounds:
    r"""Proved bounds :math:`\mu \le \lambda_{\min}(H)` and :math:`L \ge \lambda_{\max}(H)`.

    ``mu`` and ``L`` are exact rationals; ``mu`` is None and ``L`` is None
    when no bound could be proved (``reason`` gives the cause).
    """

    mu: Fraction | None
    L: Fraction | None
    checked: str | None
    reason: str = ""
    details: dict = field(default_factory=dict)

    @property
    def strongly_convex(self) -> bool:
        return self.mu is not None and self.mu > 0


def curvature_bounds(loss) -> CurvatureBounds:
    """Return proved curvature bounds of a quadratic loss, or the reason there are none."""
    if isinstance(loss, QuadraticLoss):
        return _least_squares_bounds(loss)
    hessian = exact_hessian(loss)
    if hessian is None:
        return CurvatureBounds(None, None, None,
                               "the Hessian of f depends on x; ctdyn bounds mu and L only for "
                               "quadratic f (constant Hessian)")
    matrix = flint.fmpq_mat([[flint.fmpq(v.numerator, v.denominator) for v in row]
                             for row in hessian])
    floats = np.array([[float(v) for v in row] for row in hessian])
    mu, L, details = _prove_bounds(matrix, floats, singular=False, error_bound=None)
    return CurvatureBounds(mu, L, "exact", details=details)


def _least_squares_bounds(loss: QuadraticLoss) -> CurvatureBounds:
    A = loss.A
    m, n = A.shape
    singular = n > m
    small = min(m, n)
    exact = small <= EXACT_GRAM_LIMIT and m * n <= EXACT_ENTRY_LIMIT
    if exact:
        rational = rational_matrix(A)
        gram = rational.transpose() * rational if n <= m else rational * rational.transpose()
        floats = A.T @ A if n <= m else A @ A.T
        mu, L, details = _prove_bounds(gram, (floats + floats.T) / 2, singular=singular,
                                       error_bound=None)
        checked = "exact"
    else:
        floats, error = _float_gram(A if n <= m else A.T)
        mu, L, details = _prove_bounds(None, floats, singular=singular, error_bound=error)
        checked = "interval"
    if L is None:
        return CurvatureBounds(None, None, None, "the check of L I - A^T A failed", details)
    ridge = Fraction(loss.ridge)
    details["gram"] = "A^T A" if n <= m else "A A^T (same nonzero eigenvalues as A^T A)"
    mu_total = (mu if mu is not None else Fraction(0)) + ridge
    return CurvatureBounds(mu_total, L + ridge, checked, details=details)


def _float_gram(B: np.ndarray) -> tuple[np.ndarray, float]:
    """Return fl(B^T B) symmetrized and a bound on its 2-norm distance to B^T B."""
    product = B.T @ B
    gram = (product + product.T) / 2
    entrywise = matmul_error_bound(B.T, B)
    k = gram.shape[0]
    # ||E||_2 <= ||E||_F <= k max|E_ij|; symmetrizing adds one rounding per entry.
    bound = round_up(Fraction(k) * Fraction(float(entrywise.max()))
                     + Fraction(k) * Fraction(UNIT_ROUNDOFF) * Fraction(float(np.abs(gram).max())))
    return gram, bound


def _prove_bounds(exact_matrix, floats: np.ndarray, *, singular: bool,
                  error_bound: float | None) -> tuple[Fraction | None, Fraction | None, dict]:
    eigenvalues = np.linalg.eigvalsh(floats)
    smallest, largest = float(eigenvalues[0]), float(eigenvalues[-1])
    scale = max(abs(largest), 1e-300)
    details = {"lambda_min_float": smallest, "lambda_max_float": largest}

    if exact_matrix is not None:
        # The float eigenvalues themselves are tried first: for matrices with
        # small rational spectra (diag(1, 4)) they are exact, and the
        # semidefinite test accepts them.
        L_exact = Fraction(largest)
        mu_exact = Fraction(0) if singular else Fraction(smallest)
        if _semidefinite_exact(_shifted(exact_matrix, L_exact, upper=True)) and (
                singular or mu_exact <= 0
                or _semidefinite_exact(_shifted(exact_matrix, mu_exact, upper=False))):
            details["float_eigenvalues_proved"] = True
            return max(mu_exact, Fraction(0)), L_exact, details
    L_proposal = Fraction(round_up(Fraction(largest) + Fraction(scale * _PROPOSAL_SLACK)
                                   + Fraction(error_bound or 0) * 2))
    L = L_proposal if _definite(exact_matrix, floats, L_proposal, upper=True,
                                error_bound=error_bound) else None
    if singular:
        return Fraction(0), L, details
    mu_proposal = Fraction(smallest - scale * _PROPOSAL_SLACK) - Fraction(error_bound or 0) * 2
    mu = Fraction(0)
    if mu_proposal > 0 and _definite(exact_matrix, floats, Fraction(float(mu_proposal)),
                                     upper=False, error_bound=error_bound):
        mu = Fraction(float(mu_proposal))
    elif mu_proposal > 0:
        details["mu_check"] = "failed; mu = 0 used (A^T A is positive semidefinite by construction)"
    return mu, L, details


def _shifted(matrix: flint.fmpq_mat, shift: Fraction, *, upper: bool) -> flint.fmpq_mat:
    """Return shift I - matrix (upper) or matrix - shift I, exactly."""
    n = matrix.nrows()
    identity = flint.fmpq_mat(n, n)
    for i in range(n):
        identity[i, i] = flint.fmpq(shift.numerator, shift.denominator)
    return identity - matrix if upper else matrix - identity


def _semidefinite_exact(matrix: flint.fmpq_mat) -> bool:
    """Decide exactly whether a symmetric rational matrix is positive semidefinite.

    Its eigenvalues are real, so by Descartes' rule of signs they are all
    nonnegative iff the coefficients of det(t I - M) alternate in sign.
    """
    if matrix != matrix.transpose():
        return False
    n = matrix.nrows()
    coefficients = matrix.charpoly().coeffs()  # constant term first
    return all(coefficient * (-1) ** (n - k) >= 0 for k, coefficient in enumerate(coefficients))


def _definite(exact_matrix, floats: np.ndarray, shift: Fraction, *, upper: bool,
              error_bound: float | None) -> bool:
    """Prove L I - G (upper) or G - mu I positive definite."""
    n = floats.shape[0]
    if exact_matrix is not None:
        return is_positive_definite_exact(_shifted(exact_matrix, shift, upper=upper)).passed
    value = float(shift)
    shifted = (value * np.eye(n) - floats) if upper else (floats - value * np.eye(n))
    # The shift itself is exact (value == shift); subtracting it rounds each diagonal entry once.
    diagonal_rounding = UNIT_ROUNDOFF * (float(np.abs(np.diag(floats)).max()) + abs(value))
    total = round_up(Fraction(error_bound) + Fraction(diagonal_rounding) * 2)
    check = is_positive_definite_interval(shifted, total)
    logger.debug("interval check of %s: %s", "L I - G" if upper else "G - mu I", check.detail)
    return check.passed


def contraction_factor(step: Fraction, mu: Fraction, L: Fraction,
                       prox_lipschitz: Fraction = Fraction(1)) -> Fraction:
    r"""Return :math:`\kappa \max(|1 - \gamma\mu|, |1 - \gamma L|)`, a Lipschitz constant of the proximal gradient map."""
    return prox_lipschitz * max(abs(1 - step * mu), abs(1 - step * L))


def optimal_step(mu: Fraction, L: Fraction) -> Fraction:
    r"""Return the step that minimizes :math:`\max(|1 - \gamma\mu|, |1 - \gamma L|)`.

    It is :math:`\gamma^* = 2 / (\mu + L)`, where both terms equal
    :math:`(L - \mu)/(L + \mu)`. Without strong convexity (:math:`\mu = 0`)
    no step gives a positive rate and :math:`1/L` is returned, the classical
    step of proximal gradient descent. The elastic net's factor
    :math:`1/(1 + \gamma l_2)` does not move the optimum: the maximum falls
    for :math:`\gamma < \gamma^*` and rises after it. With :math:`L = 0`
    (f affine) the factor is 1 for every step, so any step is optimal and
    1 is returned.
    """
    if L < 0:
        raise ValueError(f"L must be nonnegative, got {L}")
    if L == 0:
        return Fraction(1)
    if mu <= 0:
        return 1 / L
    return 2 / (mu + L)
