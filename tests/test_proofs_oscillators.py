"""Checks of the symbolic steps stated in proofs/oscillator_networks.md."""

import itertools
import math

import numpy as np
import pytest
import scipy.integrate
import sympy as sp

from ctdyn.oscillators import as_graph, binary_state_matrix, derive_energy


def vanishes(expression):
    return sp.expand(sp.expand_trig(expression)) == 0


@pytest.mark.slow
def test_oim_energy_derived_and_identities():
    # Section 1: E = K sum_{i<j} J_ij (1 - cos(phi_i - phi_j)) + K_s/2 sum_i (1 - cos 2 phi_i).
    derivation = derive_energy("oscillator_ising", 3)
    assert derivation.identities == {"symmetric_jacobian": True, "gradient": True,
                                     "energy_rate": True, "binary_jacobian": True}
    phi = derivation.states
    K, K_s = sp.Symbol("K", positive=True), sp.Symbol("K_s", positive=True)
    stated = sum(K * sp.Symbol(f"J_{i + 1}{j + 1}", real=True) * (1 - sp.cos(phi[i] - phi[j]))
                 for i, j in itertools.combinations(range(3), 2))
    stated += K_s / 2 * sum(1 - sp.cos(2 * p) for p in phi)
    assert vanishes(derivation.energy - stated)


@pytest.mark.slow
def test_kuramoto_energy_derived_and_identities():
    derivation = derive_energy("kuramoto", 3)
    assert derivation.proved
    theta = derivation.states
    K = sp.Symbol("K", positive=True)
    omega = sp.symbols("omega_1:4", real=True)
    stated = -sum(w * t for w, t in zip(omega, theta))
    stated += sum(K * sp.Symbol(f"a_{i + 1}{j + 1}", real=True) * (1 - sp.cos(theta[i] - theta[j]))
                  for i, j in itertools.combinations(range(3), 2))
    assert vanishes(derivation.energy - stated)


def test_binary_energy_is_minus_twice_cut():
    # Section 1: at phi_i in {0, pi}, E = K sum_{i<j} J_ij (1 - s_i s_j) = -2 K cut(s).
    A = sp.Matrix(3, 3, lambda i, j: 0 if i == j else sp.Symbol(f"A_{min(i, j)}{max(i, j)}"))
    for spins in itertools.product((1, -1), repeat=3):
        energy = sum(-A[i, j] * (1 - spins[i] * spins[j]) for i, j in itertools.combinations(range(3), 2))
        cut = sum(A[i, j] * (1 - spins[i] * spins[j]) / 2 for i, j in itertools.combinations(range(3), 2))
        assert sp.expand(energy + 2 * cut) == 0


def test_quadratic_form_identity():
    # Section 2: v^T M(s) v = sum_{ij in E} s_i s_j A_ij (v_i - v_j)^2, with J = -A.
    n = 4
    A = sp.Matrix(n, n, lambda i, j: 0 if i == j else sp.Symbol(f"A_{min(i, j)}{max(i, j)}"))
    v = sp.Matrix(sp.symbols("v_0:4"))
    for spins in itertools.product((1, -1), repeat=n):
        S = sp.diag(*spins)
        SJS = S * (-A) * S
        M = SJS - sp.diag(*(SJS * sp.ones(n, 1)))
        form = sum(spins[i] * spins[j] * A[i, j] * (v[i] - v[j]) ** 2
                   for i, j in itertools.combinations(range(n), 2))
        assert sp.expand((v.T * M * v)[0] - form) == 0
        assert M * sp.ones(n, 1) == sp.zeros(n, 1)


def test_petersen_eigenvalue_polynomial():
    # Section 2 example: lambda* = (sqrt(17) - 3)/2 is a root of x^2 + 3x - 2 for
    # a maximum cut of the Petersen graph (outer 5-cycle 0..4, spokes, inner pentagram).
    edges = [(i, (i + 1) % 5) for i in range(5)] + [(i, i + 5) for i in range(5)] \
        + [(5 + i, 5 + (i + 2) % 5) for i in range(5)]
    adjacency = np.zeros((10, 10))
    for i, j in edges:
        adjacency[i, j] = adjacency[j, i] = 1
    graph = as_graph(adjacency)
    best = None
    for code in range(2 ** 10):
        spins = np.array([1 if (code >> k) & 1 else -1 for k in range(10)])
        cut = sum(1 for i, j in edges if spins[i] != spins[j])
        if cut == 12:
            best = spins
            break
    M = sp.Matrix(binary_state_matrix(graph, best).toarray().astype(int))
    x = sp.Symbol("x")
    characteristic = sp.factor_list(M.charpoly(x).as_expr())
    factors = [factor for factor, _ in characteristic[1]]
    assert x**2 + 3 * x - 2 in factors
    largest = np.linalg.eigvalsh(np.array(M.tolist(), dtype=float))[-1]
    assert abs(largest - (math.sqrt(17) - 3) / 2) < 1e-12


@pytest.mark.parametrize("coupling", [2.5, 3.0, 4.0])
def test_lorentzian_self_consistency(coupling):
    # Section 4: r = sqrt(1 - 2/K) solves 1 = K int cos^2 g(K r sin) for gamma = 1.
    r = math.sqrt(1 - 2 / coupling)
    density = lambda w: 1 / (math.pi * (1 + w * w))  # noqa: E731
    value, _ = scipy.integrate.quad(lambda t: math.cos(t) ** 2 * density(coupling * r * math.sin(t)),
                                    -math.pi / 2, math.pi / 2, epsabs=1e-13)
    assert abs(coupling * value - 1) < 1e-9
