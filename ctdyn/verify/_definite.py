r"""Exact and rigorous floating-point tests of positive definiteness.

Exact test
    A symmetric rational matrix is positive definite iff all its leading
    principal minors are positive (Sylvester's criterion). The minors are
    the pivots of fraction-free (Bareiss) elimination without row exchanges,
    computed by python-flint's ``fmpz_mat.fflu`` on the matrix scaled to
    integers. The LDL^T pivots are the ratios of consecutive minors.

Rigorous floating-point test
    If the floating Cholesky factorization of :math:`\tilde A = fl(A - sI)`
    runs to completion, then :math:`R^T R = \tilde A + \Delta A` with
    :math:`|\Delta A| \le \gamma_{n+1} |R^T||R|` (Demmel 1989; Higham,
    *Accuracy and Stability*, 2nd ed., Thm 10.3), hence
    :math:`\|\Delta A\|_2 \le \gamma_{n+1}\,\mathrm{tr}(R^T R) \le
    \frac{\gamma_{n+1}}{1-\gamma_{n+1}} \mathrm{tr}(\tilde A)`. Then
    :math:`\lambda_{\min}(A) \ge s - \|E_1\|_2 - \|\Delta A\|_2` where
    :math:`E_1` is the rounding of the shift. This is the idea of Rump,
    "Verification of positive definiteness", BIT 46 (2006) 433-452.
    NOTE: LAPACK's blocked Cholesky sums in another order than the textbook
    algorithm; the bound is used with :math:`\gamma_{2(n+1)}` in place of
    :math:`\gamma_{n+1}` to leave room for that, assuming a conventional
    (non-Strassen) BLAS.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from fractions import Fraction

import flint
import numpy as np

from ._rational import UNIT_ROUNDOFF, gamma, rational_matrix, round_up

__all__ = ["DefiniteCheck", "is_positive_definite_exact", "is_positive_definite_interval"]


@dataclass(frozen=True)
class DefiniteCheck:
    """Outcome of a positive definiteness test.

    Attributes
    ----------
    passed : bool
        True only when the matrix is proved positive definite.
    checked : {"exact", "interval"}
    margin : float
        Exact test: the smallest LDL^T pivot, rounded down. Interval test: a
        proven lower bound on the smallest eigenvalue. Meaningful only when
        ``passed``; otherwise the failing pivot or 0.
    failed_index : int or None
        Index of the first pivot that is not positive.
    detail : str
    """

    passed: bool
    checked: str
    margin: float
    failed_index: int | None = None
    detail: str = ""


def is_positive_definite_exact(matrix) -> DefiniteCheck:
    r"""Decide exactly whether a symmetric rational matrix is positive definite.

    Parameters
    ----------
    matrix : flint.fmpq_mat, float ndarray or nested Fractions
        Converted exactly by :func:`rational_matrix`.
    """
    matrix = rational_matrix(matrix)
    n = matrix.nrows()
    if n != matrix.ncols():
        raise ValueError(f"positive definiteness needs a square matrix, got {n} x {matrix.ncols()}")
    if matrix != matrix.transpose():
        return DefiniteCheck(False, "exact", 0.0, None, "matrix is not exactly symmetric")
    if n == 0:
        return DefiniteCheck(True, "exact", math.inf, None, "empty matrix")

    integers, _ = matrix.numer_denom()
    permutation, _, _, upper = integers.fflu()
    minors = [upper[k, k] for k in range(n)]
    if not _is_identity_permutation(permutation, n):
        # flint exchanges rows only at a zero pivot, i.e. a zero leading minor.
        first = next((k for k, minor in enumerate(minors) if minor <= 0), 0)
        return DefiniteCheck(False, "exact", 0.0, first, "a leading principal minor is zero")

    smallest_pivot = None
    previous = flint.fmpz(1)
    for index, minor in enumerate(minors):
        if minor <= 0:
            pivot = Fraction(int(minor), int(previous)) if previous != 0 else Fraction(0)
            return DefiniteCheck(False, "exact", _clipped_float(pivot), index,
                                 f"leading principal minor {index + 1} is not positive")
        pivot = Fraction(int(minor), int(previous))
        smallest_pivot = pivot if smallest_pivot is None else min(smallest_pivot, pivot)
        previous = minor
    # The pivots of the integer-scaled matrix are a positive multiple of the
    # true ones; rescale by the common denominator for the reported margin.
    _, denominator = matrix.numer_denom()
    margin = smallest_pivot / int(denominator)
    return DefiniteCheck(True, "exact", _round_down(margin), None,
                         "all leading principal minors positive")


def _is_identity_permutation(permutation: flint.fmpz_mat, n: int) -> bool:
    return all(permutation[i, i] == 1 for i in range(n))


def _clipped_float(value: Fraction) -> float:
    """Return ``float(value)``, or the largest finite float of its sign when it overflows."""
    try:
        return float(value)
    except OverflowError:
        return sys.float_info.max if value > 0 else -sys.float_info.max


def _round_down(value: Fraction) -> float:
    approximate = _clipped_float(value)
    if approximate == sys.float_info.max:
        # A pivot beyond the float range: the largest float is still below it.
        return approximate
    if Fraction(approximate) > value:
        approximate = float(np.nextafter(approximate, -np.inf))
    return approximate


def is_positive_definite_interval(matrix: np.ndarray, error_bound: float = 0.0, *,
                                  shift: float | None = None) -> DefiniteCheck:
    r"""Prove positive definiteness of every matrix near a float matrix.

    Returns ``passed=True`` only if :math:`\lambda_{\min}(A) > 0` for every
    symmetric :math:`A` with :math:`\|A - \texttt{matrix}\|_2 \le
    \texttt{error\_bound}`; ``margin`` is a proven lower bound on that
    :math:`\lambda_{\min}`.

    Parameters
    ----------
    matrix : ndarray, shape (n, n)
        Symmetric float matrix (it is symmetrized exactly if it is not; an
        asymmetric input fails).
    error_bound : float
        Bound on the 2-norm distance to the true matrix (for example the
        Frobenius norm of a :func:`matmul_error_bound` result).
    shift : float, optional
        The shift :math:`s`; by default ``error_bound`` plus twice the
        rounding bound of the factorization.
    """
    a = np.asarray(matrix, dtype=float)
    n = a.shape[0]
    if a.shape != (n, n) or not np.all(np.isfinite(a)):
        return DefiniteCheck(False, "interval", 0.0, None, "matrix is not square and finite")
    if not np.array_equal(a, a.T):
        return DefiniteCheck(False, "interval", 0.0, None, "matrix is not exactly symmetric")
    if error_bound < 0 or not math.isfinite(error_bound):
        raise ValueError(f"error_bound must be finite and nonnegative, got {error_bound}")

    g = Fraction(gamma(2 * (n + 1)))
    diagonal_sum = _upper_sum(np.abs(np.diag(a)))
    # Bounds before the shift, so the shift can be chosen to exceed them.
    rounding = g / (1 - g) * diagonal_sum + Fraction(n * (n + 2)) * Fraction(2.0**-1022)
    if shift is None:
        shift = round_up(Fraction(error_bound) + 2 * rounding
                         + Fraction(UNIT_ROUNDOFF) * diagonal_sum / max(n, 1))
    shifted = a - shift * np.eye(n)
    try:
        factor = np.linalg.cholesky(shifted)
    except np.linalg.LinAlgError:
        return DefiniteCheck(False, "interval", 0.0, None,
                             f"floating Cholesky of A - {shift:.3g} I failed")
    if not np.all(np.isfinite(factor)):
        return DefiniteCheck(False, "interval", 0.0, None, "floating Cholesky produced non-finite values")

    # ||E_1||: rounding of each diagonal entry a_ii - s.
    shift_rounding = Fraction(UNIT_ROUNDOFF) * Fraction(_upper_max(np.abs(np.diag(a)) + shift))
    shifted_trace = _upper_sum(np.abs(np.diag(shifted)))
    cholesky_error = g / (1 - g) * shifted_trace + Fraction(n * (n + 2)) * Fraction(2.0**-1022)
    lower = Fraction(shift) - shift_rounding - cholesky_error - Fraction(error_bound)
    if lower <= 0:
        return DefiniteCheck(False, "interval", 0.0, None,
                             "rounding bounds exceed the shift; the matrix is too close to singular")
    return DefiniteCheck(True, "interval", _round_down(lower), None,
                         f"floating Cholesky of A - {shift:.3g} I succeeded")


def _upper_sum(values: np.ndarray) -> Fraction:
    """Return an exact Fraction at least the sum of nonnegative floats."""
    # math.fsum is correctly rounded, so one ulp up bounds the exact sum.
    total = math.fsum(float(v) for v in np.ravel(values))
    return Fraction(float(np.nextafter(total, np.inf))) if total else Fraction(0)


def _upper_max(values: np.ndarray) -> float:
    return float(np.max(values)) if np.size(values) else 0.0
