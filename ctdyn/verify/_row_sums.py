r"""Exact and outward-rounded row sums :math:`\sum_j |w_{ij}| \eta_j`.

Weighted log-norm certificates reduce to one such sum per row. The exact
version works in integers (floats scaled by a common power of two), through
python-flint for dense matrices and Python integers for sparse ones. The
rigorous floating-point version bounds the rounding error a priori: for
nonnegative terms, :math:`fl(\sum_j t_j) \le (1 + \gamma_{n+1}) \sum_j t_j`
and :math:`\sum_j t_j \le fl(\cdot)/(1 - \gamma_{n+1})` (Higham, Lemma 3.1,
applied to the products and the sum together).
"""

from __future__ import annotations

from fractions import Fraction

import flint
import numpy as np
import scipy.sparse as sps

from ._rational import _integer_scaled, gamma

__all__ = ["exact_abs_row_sums", "upper_abs_row_sums"]


def exact_abs_row_sums(weights, eta: np.ndarray) -> list[Fraction]:
    r"""Return :math:`\sum_j |w_{ij}|\,\eta_j` exactly for every row ``i``.

    Parameters
    ----------
    weights : ndarray or scipy sparse matrix, shape (n, n)
    eta : ndarray, shape (n,)
        Finite floats.
    """
    eta = np.asarray(eta, dtype=float)
    (eta_integers,), eta_shift = _integer_scaled(eta.reshape(1, -1))
    if sps.issparse(weights):
        return _sparse_row_sums(sps.csr_array(weights), eta_integers, eta_shift)

    magnitudes = np.abs(np.asarray(weights, dtype=float))
    weight_integers, weight_shift = _integer_scaled(magnitudes)
    product = flint.fmpz_mat(weight_integers) * flint.fmpz_mat([[value] for value in eta_integers])
    # A negative shift (entries above 2**53) makes the scale a multiplier.
    denominator = Fraction(2) ** (weight_shift + eta_shift)
    return [Fraction(int(product[i, 0])) / denominator for i in range(product.nrows())]


def _sparse_row_sums(weights: sps.csr_array, eta_integers: list[int], eta_shift: int) -> list[Fraction]:
    magnitudes = np.abs(weights.data)
    if magnitudes.size == 0:
        return [Fraction(0)] * weights.shape[0]
    (data_integers,), data_shift = _integer_scaled(magnitudes.reshape(1, -1))
    denominator = Fraction(2) ** (data_shift + eta_shift)
    sums = []
    indptr, indices = weights.indptr, weights.indices
    for row in range(weights.shape[0]):
        total = 0
        for position in range(indptr[row], indptr[row + 1]):
            total += data_integers[position] * eta_integers[indices[position]]
        sums.append(Fraction(total) / denominator)
    return sums


def upper_abs_row_sums(weights, eta: np.ndarray) -> tuple[np.ndarray, float, float]:
    r"""Return floats ``s`` and bounds ``(g, e)`` with :math:`|S_i - s_i| \le g s_i + e`.

    :math:`S_i` is the exact row sum. With ``k`` the largest number of terms
    in a row, :math:`g = \gamma_{k+1}/(1-\gamma_{k+1})` rounded up covers the
    rounding of the products and of the sum, and :math:`e = 2k\eta` (with
    :math:`\eta` the smallest subnormal) covers underflow in the products.
    """
    eta = np.asarray(eta, dtype=float)
    if sps.issparse(weights):
        csr = sps.csr_array(weights)
        magnitudes = csr.copy()
        magnitudes.data = np.abs(magnitudes.data)
        sums = magnitudes @ eta
        terms = int(np.max(np.diff(csr.indptr))) if csr.shape[0] else 0
    else:
        sums = np.abs(weights) @ eta
        terms = weights.shape[1]
    g = gamma(terms + 1)
    # g / (1 - g) bounds both directions; one more step up covers forming it.
    relative = float(np.nextafter(g / (1.0 - g), np.inf))
    absolute = 2.0 * max(terms, 1) * 2.0**-1074
    return sums, relative, absolute
