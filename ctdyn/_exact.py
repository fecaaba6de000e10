r"""Exact rational matrices from floats, and a priori floating-point bounds.

A foundation module like ``errors``: every layer may import it.

Every float is a dyadic rational :math:`m 2^e`, so a float matrix converts to
an exact python-flint ``fmpq_mat`` without loss: exact checks then speak
about the user's actual numbers.

The bounds use the unit roundoff :math:`u = 2^{-53}` and
:math:`\gamma_k = k u / (1 - k u)` (Higham, *Accuracy and Stability of
Numerical Algorithms*, 2nd ed., Lemma 3.1): a sum or dot product of ``k``
terms computed in any order satisfies
:math:`|fl(\sum a_i) - \sum a_i| \le \gamma_{k-1} \sum |a_i|`, valid for
round-to-nearest without underflow; the bounds below add an underflow term.
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm

import flint
import numpy as np

__all__ = [
    "UNIT_ROUNDOFF",
    "gamma",
    "rational_matrix",
    "rational_vector",
    "float_to_fraction_matrix",
    "matmul_error_bound",
    "round_up",
]

UNIT_ROUNDOFF = 2.0**-53
# Smallest positive subnormal; each product may lose up to this much to underflow.
_ETA = 2.0**-1074


def gamma(k: int) -> float:
    r"""Return an upper bound on :math:`\gamma_k = k u / (1 - k u)`, rounded up."""
    if k * UNIT_ROUNDOFF >= 0.5:
        raise ValueError(f"gamma_{k} is undefined or useless: k u >= 1/2")
    exact = Fraction(k) * Fraction(UNIT_ROUNDOFF) / (1 - Fraction(k) * Fraction(UNIT_ROUNDOFF))
    return round_up(exact)


def round_up(value: Fraction | float) -> float:
    """Return the smallest float that is at least ``value``."""
    approximate = float(value)
    if Fraction(approximate) < Fraction(value):
        approximate = float(np.nextafter(approximate, np.inf))
    return approximate


def _integer_scaled(values: np.ndarray) -> tuple[list[list[int]], int]:
    """Return integers ``M`` and a shift ``k`` with ``values == M / 2**k`` exactly."""
    values = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError("exact conversion needs finite values")
    mantissas, exponents = np.frexp(values)
    # mantissa * 2**53 is an exact integer for every float, subnormals included.
    integers = (mantissas * 2.0**53).astype(np.int64)
    exponents = exponents.astype(np.int64) - 53
    nonzero = integers != 0
    shift = int(-exponents[nonzero].min()) if np.any(nonzero) else 0
    shifts = exponents + shift
    rows = []
    for row_integers, row_shifts in zip(integers.tolist(), shifts.tolist()):
        rows.append([value << s if value else 0 for value, s in zip(row_integers, row_shifts)])
    return rows, shift


def rational_matrix(values) -> flint.fmpq_mat:
    """Convert a float array, or nested Fractions and integers, to an exact ``fmpq_mat``."""
    if isinstance(values, flint.fmpq_mat):
        return values
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        matrix = np.atleast_2d(values)
        rows, shift = _integer_scaled(matrix)
        if shift >= 0:
            return flint.fmpq_mat(flint.fmpz_mat(rows)) / (flint.fmpz(2) ** shift)
        return flint.fmpq_mat(flint.fmpz_mat(rows)) * (flint.fmpz(2) ** (-shift))
    rows = [[_to_fmpq(entry) for entry in row] for row in values]
    return flint.fmpq_mat(rows)


def rational_vector(values) -> flint.fmpq_mat:
    """Convert a vector to an exact column ``fmpq_mat`` of shape (n, 1)."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return rational_matrix(np.asarray(values, dtype=float).reshape(-1, 1))
    return flint.fmpq_mat([[_to_fmpq(entry)] for entry in values])


def float_to_fraction_matrix(values: np.ndarray) -> list[list[Fraction]]:
    """Convert a float array to nested exact Fractions (small matrices only)."""
    return [[Fraction(float(entry)) for entry in row] for row in np.atleast_2d(values)]


def _to_fmpq(entry) -> flint.fmpq:
    if isinstance(entry, flint.fmpq):
        return entry
    if isinstance(entry, Fraction):
        return flint.fmpq(entry.numerator, entry.denominator)
    if isinstance(entry, (int, np.integer)):
        return flint.fmpq(int(entry))
    fraction = Fraction(float(entry))
    return flint.fmpq(fraction.numerator, fraction.denominator)


def fmpq_to_fraction(value: flint.fmpq) -> Fraction:
    return Fraction(int(value.p), int(value.q))


def common_denominator(fractions: list[Fraction]) -> int:
    denominator = 1
    for fraction in fractions:
        denominator = lcm(denominator, fraction.denominator)
    return denominator


def matmul_error_bound(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r"""Return a componentwise bound on :math:`|fl(AB) - AB|`.

    With :math:`k` the inner dimension, :math:`|fl(AB) - AB| \le
    \gamma_k |A||B|` (Higham, eq. 3.13) plus :math:`k \eta` for underflow.
    :math:`|A||B|` is itself computed in floating point, so it is inflated by
    :math:`1 + \gamma_{k+2}` before use; the result is safe to add to other
    bounds after one more upward rounding by the caller.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    inner = a.shape[-1]
    magnitude = np.abs(a) @ np.abs(b)
    factor = gamma(inner + 2) * (1.0 + gamma(inner + 2)) * (1.0 + 4 * UNIT_ROUNDOFF)
    return magnitude * factor + (inner + 1) * _ETA * 4
