"""Proximal dynamics on real inputs: the diabetes LASSO path, digit sparse coding, compressed sensing."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.linear_model import Lasso

from ctdyn.proximal import analyze, lca, minimize, proximal_gradient

SOLVER_RELATIVE = 1e-6


def diabetes_problem():
    """Return scikit-learn's standardized diabetes columns and the centered target."""
    X, y = load_diabetes(return_X_y=True)
    return X, y - y.mean()


def lasso_path_alphas(X, y, count=10):
    # Above alpha_max = |X^T y|_inf / n_samples the LASSO solution is zero.
    alpha_max = np.max(np.abs(X.T @ y)) / X.shape[0]
    return np.geomspace(0.9 * alpha_max, 1e-3 * alpha_max, count)


def test_diabetes_lasso_path_matches_sklearn_and_cvxpy():
    X, y = diabetes_problem()
    samples = X.shape[0]
    # scikit-learn's Lasso minimizes 1/(2 n_samples) |y - X w|^2 + alpha |w|_1, which is
    # 1/2 |A w - b|^2 + alpha |w|_1 with A = X / sqrt(n_samples) and b = y / sqrt(n_samples).
    A, b = X / np.sqrt(samples), y / np.sqrt(samples)
    alphas = lasso_path_alphas(X, y)
    assert len(alphas) >= 10
    supports = []
    for alpha in alphas:
        analysis = analyze(proximal_gradient(A, b, lam=alpha), simulate=False)
        for certificate in analysis.certificates:
            assert certificate.certified, certificate.reason
        x = np.asarray(analysis.equilibrium["x"])

        sklearn = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=10**6).fit(X, y)
        assert np.linalg.norm(x - sklearn.coef_) <= SOLVER_RELATIVE * np.linalg.norm(sklearn.coef_)

        w = cp.Variable(X.shape[1])
        cp.Problem(cp.Minimize(cp.sum_squares(X @ w - y) / (2 * samples)
                               + alpha * cp.norm1(w))).solve(
            solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
        assert np.linalg.norm(x - w.value) <= SOLVER_RELATIVE * np.linalg.norm(w.value)
        supports.append(np.count_nonzero(x))
    # The path runs from a sparse solution to (nearly) all ten features.
    assert supports[0] <= 3
    assert supports[-1] >= 9


def test_digit_sparse_coding_by_lca():
    digits = load_digits()
    images = digits.data / 16.0
    rng = np.random.default_rng(0)
    # 128 unit-norm atoms drawn from the other digits: twice overcomplete in 64 pixels.
    atoms = images[rng.choice(np.arange(1, len(images)), 128, replace=False)].T
    atoms = atoms / np.linalg.norm(atoms, axis=0)
    target = images[0]
    analysis = analyze(lca(atoms, target, lam=0.05), trajectories=4)

    code = np.asarray(analysis.equilibrium["x"])
    error = np.linalg.norm(atoms @ code - target) / np.linalg.norm(target)
    nonzeros = np.count_nonzero(code)
    assert error < 0.25
    assert nonzeros < 32
    optimality = next(c for c in analysis.certificates if c.method == "optimality")
    assert optimality.certified
    assert optimality.checked == "exact"
    assert analysis.simulation.energy_consistent

    w = cp.Variable(128)
    cp.Problem(cp.Minimize(cp.sum_squares(atoms @ w - target) / 2 + 0.05 * cp.norm1(w))).solve(
        solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    objective = 0.5 * np.sum((atoms @ code - target) ** 2) + 0.05 * np.abs(code).sum()
    assert objective <= w.value @ np.zeros(128) + (0.5 * np.sum((atoms @ w.value - target) ** 2)
                                                   + 0.05 * np.abs(w.value).sum()) + 1e-9


def recovered(n_rows, sparsity, seed, columns=200):
    """Return whether the LASSO equilibrium with a tiny lambda recovers a sparse Gaussian vector."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n_rows, columns)) / np.sqrt(n_rows)
    signal = np.zeros(columns)
    signal[rng.choice(columns, sparsity, replace=False)] = rng.normal(size=sparsity)
    x = minimize(proximal_gradient(A, A @ signal, lam=1e-5), tol=1e-10).x
    return np.linalg.norm(x - signal) <= 1e-2 * np.linalg.norm(signal)


@pytest.mark.slow
def test_phase_transition_brackets_donoho_tanner():
    # Donoho-Tanner phase transition of basis pursuit for Gaussian matrices:
    # rho*(delta = 0.5) = 0.3857 (Donoho and Tanner, "Counting faces of randomly
    # projected polytopes when the projection radically lowers dimension", JAMS 2009).
    n_rows = 100  # delta = n / N = 0.5 at N = 200
    threshold = 0.3857 * n_rows
    below = [recovered(n_rows, int(0.6 * threshold), seed) for seed in range(5)]
    above = [recovered(n_rows, int(1.4 * threshold), seed) for seed in range(5)]
    assert np.mean(below) >= 0.8
    assert np.mean(above) <= 0.2
