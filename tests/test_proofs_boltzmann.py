"""Symbolic checks of the steps in proofs/boltzmann.md."""

from __future__ import annotations

import itertools

import sympy as sp


def test_learning_rule_two_units():
    # d log p(x) / d theta = (x-statistic - model average) / T for two +-1 units.
    w, b1, b2 = sp.symbols("w b1 b2", real=True)
    temperature = sp.symbols("T", positive=True)

    def energy(s1, s2):
        return -w * s1 * s2 - b1 * s1 - b2 * s2

    states = list(itertools.product((-1, 1), repeat=2))
    partition = sum(sp.exp(-energy(*s) / temperature) for s in states)

    def average(statistic):
        return sum(statistic(*s) * sp.exp(-energy(*s) / temperature) for s in states) / partition

    x = (1, -1)
    log_p = -energy(*x) / temperature - sp.log(partition)
    weight_rule = (x[0] * x[1] - average(lambda s1, s2: s1 * s2)) / temperature
    bias_rule = (x[0] - average(lambda s1, s2: s1)) / temperature
    assert sp.simplify(sp.diff(log_p, w) - weight_rule) == 0
    assert sp.simplify(sp.diff(log_p, b1) - bias_rule) == 0


def test_log_norm_bound_two_units():
    # mu_2(-I + D W / T) <= -1 + s ||W||_2 / T for D = diag(d1, d2) in [0, s].
    w = sp.symbols("w", real=True)
    d1, d2, slope = sp.symbols("d1 d2 s", nonnegative=True)
    weights = sp.Matrix([[0, w], [w, 0]])
    product = sp.diag(d1, d2) * weights
    symmetric = (product + product.T) / 2
    # The eigenvalues are +-w (d1 + d2) / 2, so the largest is |w| (d1 + d2) / 2.
    assert set(symmetric.eigenvals()) == {w * (d1 + d2) / 2, -w * (d1 + d2) / 2}
    largest = sp.Abs(w) * (d1 + d2) / 2
    # |w| (d1 + d2) / 2 <= s |w| when d1, d2 <= s: the slack is |w| ((s - d1) + (s - d2)) / 2.
    slack = slope * sp.Abs(w) - largest
    assert sp.simplify(slack - sp.Abs(w) * ((slope - d1) + (slope - d2)) / 2) == 0
    # ||W||_2 = |w| (eigenvalues +-w).
    assert set(weights.eigenvals()) == {w, -w}


def test_free_energy_hessian():
    m = sp.symbols("m", real=True)
    # {-1, 1}: psi' = artanh, psi'' = 1 / (1 - m^2) = 1 / tanh'(artanh m) >= 1.
    psi = (1 + m) / 2 * sp.log((1 + m) / 2) + (1 - m) / 2 * sp.log((1 - m) / 2)
    assert sp.simplify(sp.diff(psi, m) - sp.atanh(m).rewrite(sp.log)) == 0
    second = sp.simplify(sp.diff(psi, m, 2))
    assert sp.simplify(second * (1 - m**2)) == 1
    x = sp.symbols("x", real=True)
    assert sp.simplify(sp.diff(sp.tanh(x), x).subs(x, sp.atanh(m)) - (1 - m**2)) == 0
    # {0, 1}: psi' = logit, psi'' = 1 / (m (1 - m)) >= 4, attained at m = 1/2.
    psi01 = m * sp.log(m) + (1 - m) * sp.log(1 - m)
    second01 = sp.simplify(sp.diff(psi01, m, 2))
    assert sp.simplify(second01 * m * (1 - m)) == 1
    assert sp.simplify(second01.subs(m, sp.Rational(1, 2))) == 4
    assert sp.simplify(sp.diff(second01, m).subs(m, sp.Rational(1, 2))) == 0
    sigmoid = 1 / (1 + sp.exp(-x))
    assert sp.simplify(sp.diff(sigmoid, x) - sigmoid * (1 - sigmoid)) == 0


def test_equilibrium_propagation_identity():
    # One unit: E = a s^2 / 2 - theta x s, C = (s - y)^2 / 2, F = E + beta C.
    a, x, y, theta, beta, s = sp.symbols("a x y theta beta s", real=True)
    energy = a * s**2 / 2 - theta * x * s
    cost = (s - y) ** 2 / 2
    nudged = sp.solve(sp.diff(energy + beta * cost, s), s)[0]
    free = nudged.subs(beta, 0)
    left = sp.diff(cost.subs(s, free), theta)
    right = sp.diff(sp.diff(energy, theta).subs(s, nudged), beta).subs(beta, 0)
    assert sp.simplify(left - right) == 0
    # The implicit-differentiation form: -lambda * d(grad_s E)/d theta, lambda = C'(s) / E''(s).
    adjoint = sp.diff(cost, s).subs(s, free) / sp.diff(energy, s, 2)
    implicit = -adjoint * sp.diff(sp.diff(energy, s), theta)
    assert sp.simplify(left - implicit) == 0
