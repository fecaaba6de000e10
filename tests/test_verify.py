"""Tests of the exact and rigorous floating-point checks."""

from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sps

from ctdyn.verify import (
    gamma,
    is_positive_definite_exact,
    is_positive_definite_interval,
    matmul_error_bound,
    rational_matrix,
)
from ctdyn.verify._row_sums import exact_abs_row_sums, upper_abs_row_sums


def test_rational_matrix_is_exact():
    values = np.array([[0.1, 3e-300], [1e300, -2.5]])
    matrix = rational_matrix(values)
    for i in range(2):
        for j in range(2):
            exact = Fraction(values[i, j])
            assert Fraction(int(matrix[i, j].p), int(matrix[i, j].q)) == exact


def test_exact_definite_reference_matrices():
    assert is_positive_definite_exact(np.array([[2.0, 1.0], [1.0, 2.0]])).passed
    indefinite = is_positive_definite_exact(np.array([[1.0, 2.0], [2.0, 1.0]]))
    assert not indefinite.passed
    assert indefinite.failed_index == 1
    assert not is_positive_definite_exact(np.array([[0.0, 0.0], [0.0, 1.0]])).passed
    assert not is_positive_definite_exact(np.array([[1.0, 0.5], [0.4, 1.0]])).passed


def test_exact_definite_margin_is_smallest_pivot():
    # LDL^T of [[4, 2], [2, 3]]: pivots 4 and 3 - 1 = 2.
    check = is_positive_definite_exact([[Fraction(4), Fraction(2)], [Fraction(2), Fraction(3)]])
    assert check.passed
    assert check.margin == 2.0


def test_exact_detects_tiny_negative_eigenvalue():
    # [[1, 1], [1, 1 - 2**-60]] has determinant -2**-60: floats cannot see it.
    matrix = [[Fraction(1), Fraction(1)], [Fraction(1), 1 - Fraction(1, 2**60)]]
    assert not is_positive_definite_exact(matrix).passed


def test_interval_definite_reference():
    rng = np.random.default_rng(0)
    basis = rng.standard_normal((40, 40))
    matrix = basis @ basis.T / 40 + 0.01 * np.eye(40)
    check = is_positive_definite_interval(matrix)
    assert check.passed
    assert 0 < check.margin <= np.linalg.eigvalsh(matrix).min()


def test_interval_rejects_singular_and_near_singular():
    assert not is_positive_definite_interval(np.array([[1.0, 1.0], [1.0, 1.0]])).passed
    assert not is_positive_definite_interval(np.diag([1.0, 1e-20])).passed
    # An error bound larger than the smallest eigenvalue defeats the proof.
    assert not is_positive_definite_interval(np.diag([1.0, 0.1]), error_bound=0.2).passed
    assert is_positive_definite_interval(np.diag([1.0, 0.1]), error_bound=0.05).passed


def test_interval_agrees_with_exact_on_random_matrices():
    rng = np.random.default_rng(1)
    for _ in range(30):
        basis = rng.standard_normal((6, 6))
        matrix = basis + basis.T
        interval = is_positive_definite_interval(matrix)
        exact = is_positive_definite_exact(matrix)
        # Soundness: the interval test never passes what exact arithmetic rejects.
        if interval.passed:
            assert exact.passed


def test_gamma_matches_definition():
    u = 2.0**-53
    assert gamma(10) >= 10 * u / (1 - 10 * u)
    assert gamma(10) <= 10 * u / (1 - 10 * u) * (1 + 1e-15)


def test_matmul_error_bound_covers_true_error():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((20, 30))
    b = rng.standard_normal((30, 10))
    exact = rational_matrix(a) * rational_matrix(b)
    computed = a @ b
    bound = matmul_error_bound(a, b)
    for i in range(20):
        for j in range(10):
            error = abs(Fraction(computed[i, j]) - Fraction(int(exact[i, j].p), int(exact[i, j].q)))
            assert error <= Fraction(bound[i, j])


def test_exact_row_sums_dense_and_sparse():
    weights = np.array([[0.1, -0.2, 0.0], [0.3, 0.0, -1e-300], [0.0, 0.0, 0.0]])
    eta = np.array([1.0, 0.3, 1e-10])
    expected = [sum(abs(Fraction(weights[i, j])) * Fraction(eta[j]) for j in range(3)) for i in range(3)]
    assert exact_abs_row_sums(weights, eta) == expected
    assert exact_abs_row_sums(sps.csr_array(weights), eta) == expected


def test_upper_row_sums_bound_exact_ones():
    rng = np.random.default_rng(5)
    weights = rng.standard_normal((50, 50))
    eta = rng.random(50)
    sums, relative, absolute = upper_abs_row_sums(weights, eta)
    exact = exact_abs_row_sums(weights, eta)
    for value, truth in zip(sums, exact):
        assert abs(Fraction(value) - truth) <= Fraction(relative) * Fraction(value) + Fraction(absolute)


@pytest.mark.parametrize("n", [8, 50, 120])
def test_lapack_cholesky_meets_backward_error_bound(n):
    # The interval test relies on |R R^T - A| <= gamma_{n+1} |R||R^T|
    # (Demmel 1989; Higham, Thm 10.3) for numpy's blocked LAPACK Cholesky;
    # check it with the exact rational residual.
    rng = np.random.default_rng(n)
    basis = rng.standard_normal((n, n))
    matrix = basis @ basis.T / n + 1e-6 * np.eye(n)
    factor = np.linalg.cholesky(matrix)
    exact_factor = rational_matrix(factor)
    residual = exact_factor * exact_factor.transpose() - rational_matrix(matrix)
    bound = np.abs(factor) @ np.abs(factor).T
    allowed = Fraction(gamma(n + 1))
    for i in range(n):
        for j in range(n):
            error = abs(Fraction(int(residual[i, j].p), int(residual[i, j].q)))
            assert error <= allowed * Fraction(bound[i, j]) * (1 + Fraction(gamma(n + 2)))


def test_exact_row_sums_with_huge_entries():
    # Entries above 2**53 scale to integers with a negative shift.
    weights = np.array([[1e300, 3.0], [0.0, 2.0**60]])
    eta = np.array([1e10, 0.5])
    expected = [sum(abs(Fraction(weights[i, j])) * Fraction(eta[j]) for j in range(2)) for i in range(2)]
    assert exact_abs_row_sums(weights, eta) == expected
    assert exact_abs_row_sums(sps.csr_array(weights), eta) == expected
