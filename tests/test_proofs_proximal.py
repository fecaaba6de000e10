"""Checks of the symbolic steps stated in proofs/proximal_gradient.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sympy as sp

from ctdyn.proximal import make_regularizer

PROOF = Path(__file__).resolve().parent.parent / "proofs" / "proximal_gradient.md"


def test_proof_file_names_sources():
    text = PROOF.read_text(encoding="utf-8")
    assert "## Sources" in text
    assert "## Checked by" in text
    assert "tests/test_proofs_proximal.py" in text


def test_gradient_step_norm_at_end_points():
    # |1 - gamma lambda| is convex in lambda: on [mu, L] its maximum is at an end point.
    gamma, lam = sp.symbols("gamma lambda", positive=True)
    expression = sp.Abs(1 - gamma * lam)
    for values in ({gamma: sp.Rational(2, 5)}, {gamma: sp.Rational(1, 3)}):
        curve = expression.subs(values)
        grid = [sp.Rational(1) + sp.Rational(3 * k, 50) for k in range(51)]
        top = max(curve.subs(lam, point) for point in grid)
        assert top == max(curve.subs(lam, 1), curve.subs(lam, 4))


def test_rate_optimal_step():
    gamma, mu, L = sp.symbols("gamma mu L", positive=True)
    best = sp.solve(sp.Eq(1 - gamma * mu, gamma * L - 1), gamma)
    assert best == [2 / (L + mu)]
    value = sp.simplify((1 - best[0] * mu))
    assert sp.simplify(value - (L - mu) / (L + mu)) == 0
    assert sp.simplify(1 - value - 2 * mu / (mu + L)) == 0
    # Reference LASSO: mu = 1, L = 4 gives step 2/5 and rate 2/5.
    assert best[0].subs({mu: 1, L: 4}) == sp.Rational(2, 5)
    assert (1 - value).subs({mu: 1, L: 4}) == sp.Rational(2, 5)


def test_cost_decrease_algebra():
    # With d = p - x and s = (x - gamma grad - p) / gamma:
    # <grad, d> + (-<s, x - p>) == -|d|^2 / gamma exactly.
    gamma = sp.Symbol("gamma", positive=True)
    x = sp.Matrix(sp.symbols("x0:3"))
    p = sp.Matrix(sp.symbols("p0:3"))
    grad = sp.Matrix(sp.symbols("g0:3"))
    d = p - x
    s = (x - gamma * grad - p) / gamma
    bound = (grad.T * d)[0] - (s.T * (x - p))[0]
    assert sp.simplify(bound + (d.T * d)[0] / gamma) == 0


def test_lca_identity_and_reference_state():
    Phi = sp.Matrix([[1, 0], [0, 2]])
    y = sp.Matrix([3, 1])
    a = sp.Matrix(sp.symbols("a0:2"))
    gradient = Phi.T * (Phi * a - y)
    lca_form = Phi.T * y - (Phi.T * Phi - sp.eye(2)) * a
    assert sp.simplify(a - gradient - lca_form) == sp.zeros(2, 1)
    x_star = sp.Matrix([2, sp.Rational(1, 4)])
    u_star = x_star - gradient.subs({a[0]: x_star[0], a[1]: x_star[1]})
    assert u_star == sp.Matrix([3, sp.Rational(5, 4)])
    # Optimality of x* = (2, 1/4): the gradient is -lambda sign(x*) = (-1, -1).
    assert gradient.subs({a[0]: 2, a[1]: sp.Rational(1, 4)}) == sp.Matrix([-1, -1])


def test_competitive_network_is_prox_step():
    rng = np.random.default_rng(0)
    Phi = rng.normal(size=(4, 6))
    y = rng.normal(size=4)
    lam = 0.3
    regularizer = make_regularizer("nonnegative_l1", 6, lam=lam)
    for x in rng.normal(size=(5, 6)):
        step = x - Phi.T @ (Phi @ x - y)
        network = np.maximum((np.eye(6) - Phi.T @ Phi) @ x + Phi.T @ y - lam, 0.0)
        assert np.allclose(regularizer.prox(step, 1.0), network, atol=1e-12)


def test_contraction_inequality_and_residual_bound():
    # d/dt |e|^2 / 2 = -|e|^2 + <T(x) - T(y), e> <= -(1 - l)|e|^2 when |T(x) - T(y)| <= l |e|.
    e_norm, ell = sp.symbols("e ell", nonnegative=True)
    inner_max = ell * e_norm**2
    assert sp.simplify(-e_norm**2 + inner_max - (-(1 - ell) * e_norm**2)) == 0
    # Residual bound: r + l D >= D solves to D <= r / (1 - l) for l < 1.
    r, D = sp.symbols("r D", nonnegative=True)
    solution = sp.solve(sp.Eq(D, r + ell * D), D)
    assert sp.simplify(solution[0] - r / (1 - ell)) == 0


def test_elastic_net_prox_factor():
    regularizer = make_regularizer("elastic_net", 3, lam=0.5, l2=2.0)
    assert regularizer.prox_lipschitz(0.5) == sp.Rational(1, 2)
    v = np.array([3.0, -0.1, -2.0])
    # soft(v, 0.25) / (1 + 1) = (1.375, 0, -0.875)
    assert np.allclose(regularizer.prox(v, 0.5), [1.375, 0.0, -0.875], atol=1e-15)
