"""Checks of the symbolic steps stated in proofs/dense_memory.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sympy as sp

from ctdyn.memory import DenseAssociativeMemory, ModernHopfield, TwoLayerMemory, corrupt
from ctdyn.memory import lagrangian
from ctdyn.symbolic import vanishes

PROOF = Path(__file__).resolve().parent.parent / "proofs" / "dense_memory.md"
PATTERNS = [[1, -1, 1], [1, 1, -1]]


def test_proof_file_names_sources():
    text = PROOF.read_text(encoding="utf-8")
    assert "## Sources" in text
    assert "## Checked by" in text
    assert "tests/test_proofs_memory.py" in text


# -- section 1: asynchronous update ----------------------------------------------------


def test_flip_bracket_is_energy_difference():
    # Generic F, two patterns, neuron i = 0 of three: bracket = E(x^-) - E(x^+).
    F = sp.Function("F")
    x1, x2 = sp.symbols("x1 x2")
    xi = sp.Matrix(PATTERNS)
    rest = [xi[mu, 1] * x1 + xi[mu, 2] * x2 for mu in range(2)]

    def energy(x0):
        return -sum(F(xi[mu, 0] * x0 + rest[mu]) for mu in range(2))

    bracket = sum(F(rest[mu] + xi[mu, 0]) - F(rest[mu] - xi[mu, 0]) for mu in range(2))
    assert sp.simplify(bracket - (energy(-1) - energy(1))) == 0


def test_classical_bracket_is_hebbian_field():
    a, s = sp.symbols("a s")
    bracket = (a + s) ** 2 / 2 - (a - s) ** 2 / 2
    assert sp.expand(bracket - 2 * a * s) == 0


def test_local_field_split():
    # sum_mu xi_i G(m - s) = 1/2 xi_i [G(m-1) + G(m+1)] + 1/2 x_i [G(m-1) - G(m+1)]
    # for s = x_i xi_i in {-1, 1}, with an undefined G.
    G = sp.Function("G")
    m = sp.Symbol("m")
    for x_i in (-1, 1):
        for xi_i in (-1, 1):
            s = x_i * xi_i
            left = xi_i * G(m - s)
            right = (sp.Rational(1, 2) * xi_i * (G(m - 1) + G(m + 1))
                     + sp.Rational(1, 2) * x_i * (G(m - 1) - G(m + 1)))
            assert sp.simplify(left - right) == 0


def test_asynchronous_step_equals_energy_minimum():
    memory = DenseAssociativeMemory(np.random.default_rng(0).choice([-1, 1], size=(4, 7)),
                                    energy="exponential", beta=0.7)
    states = np.random.default_rng(1).choice([-1.0, 1.0], size=(16, 7))
    new, _ = memory.asynchronous_sweep(states, order=[3])
    plus, minus = states.copy(), states.copy()
    plus[:, 3], minus[:, 3] = 1.0, -1.0
    lowest = np.minimum(memory.energy(plus), memory.energy(minus))
    assert np.allclose(memory.energy(new), lowest, rtol=1e-12)


# -- section 3: Lagrangian energy theorem ----------------------------------------------


def test_lagrangian_identity_general():
    feature, memory, v, h = lagrangian.general_lagrangians(3, 2)
    derivation = lagrangian.derive(feature, memory, v, h, PATTERNS)
    proof = lagrangian.prove_energy_decrease(derivation)
    assert proof.proved, proof.detail


def test_lagrangian_identity_special_choices():
    choices = {
        "classical": lagrangian.classical_lagrangians(3, 2),
        "dense": lagrangian.dense_lagrangians(3, 2, lambda x: x**4 / 4),
        "modern": lagrangian.modern_lagrangians(3, 2),
    }
    for name, (feature, memory, v, h) in choices.items():
        derivation = lagrangian.derive(feature, memory, v, h, PATTERNS)
        proof = lagrangian.prove_energy_decrease(derivation)
        assert proof.proved, f"{name}: {proof.detail}"


def test_lagrangian_identity_fails_without_symmetric_coupling():
    # The energy needs the same Xi in both layers: with Xi^T replaced by another matrix
    # in the feature equation the identity is no longer shown.
    feature, memory, v, h = lagrangian.classical_lagrangians(3, 2)
    derivation = lagrangian.derive(feature, memory, v, h, PATTERNS)
    other = sp.Matrix([[1, 0], [0, 1], [1, 1]])
    derivation.v_dot = (other * derivation.f - sp.Matrix(v)) / derivation.tau_feature
    proof = lagrangian.prove_energy_decrease(derivation)
    assert not proof.proved


def test_adiabatic_classical_is_hopfield():
    feature, memory, v, h = lagrangian.classical_lagrangians(3, 2)
    derivation = lagrangian.derive(feature, memory, v, h, PATTERNS)
    field, energy = lagrangian.adiabatic_feature_dynamics(derivation)
    xi = sp.Matrix(PATTERNS)
    weights = xi.T * xi
    g = sp.Matrix([sp.tanh(variable) for variable in v])
    expected_field = weights * g - sp.Matrix(v)
    for component in range(3):
        assert vanishes(field[component] - expected_field[component])[0]
    hopfield_energy = (sum(variable * sp.tanh(variable) - sp.log(sp.cosh(variable)) for variable in v)
                       - (g.T * weights * g)[0] / 2)
    assert vanishes(energy - hopfield_energy)[0]


def test_adiabatic_dense_energy():
    feature, memory, v, h = lagrangian.dense_lagrangians(3, 2, lambda x: x**4 / 4)
    derivation = lagrangian.derive(feature, memory, v, h, PATTERNS)
    _, energy = lagrangian.adiabatic_feature_dynamics(derivation)
    xi = sp.Matrix(PATTERNS)
    g = sp.Matrix([sp.tanh(variable) for variable in v])
    dense_energy = (sum(variable * sp.tanh(variable) - sp.log(sp.cosh(variable)) for variable in v)
                    - sum((xi[mu, :] * g)[0] ** 4 / 4 for mu in range(2)))
    assert vanishes(energy - dense_energy)[0]


def test_adiabatic_modern_is_softmax_update():
    beta = sp.Symbol("beta", positive=True)
    feature, memory, v, h = lagrangian.modern_lagrangians(3, 2, beta)
    derivation = lagrangian.derive(feature, memory, v, h, PATTERNS)
    field, _ = lagrangian.adiabatic_feature_dynamics(derivation)
    xi = sp.Matrix(PATTERNS)
    scores = xi * sp.Matrix(v) * beta
    weights = sp.Matrix([sp.exp(score) for score in scores])
    update = xi.T * weights / sum(weights)
    for component in range(3):
        assert vanishes(field[component] - (update[component] - v[component]))[0]


def test_log_sum_exp_hessian_is_psd():
    beta = sp.Symbol("beta", positive=True)
    h1, h2 = sp.symbols("h1 h2", real=True)
    memory = sp.log(sp.exp(beta * h1) + sp.exp(beta * h2)) / beta
    hessian = sp.hessian(memory, (h1, h2))
    # 2 x 2: PSD iff trace >= 0 and determinant >= 0; here det = 0 (the all-ones null vector).
    assert sp.simplify(hessian.det()) == 0
    a, b = sp.symbols("a b", positive=True)
    trace = sp.factor(hessian.trace().subs({sp.exp(beta * h1): a, sp.exp(beta * h2): b}))
    assert sp.simplify(trace - 2 * beta * a * b / (a + b) ** 2) == 0
    assert trace.is_positive
    assert sp.simplify(hessian * sp.Matrix([1, 1])) == sp.zeros(2, 1)


# -- section 4: Jacobian at a saturated pattern ----------------------------------------


def test_jacobian_block_triangular_at_pattern():
    model = TwoLayerMemory(np.random.default_rng(2).choice([-1, 1], size=(3, 10)),
                           energy="rectified_polynomial", tau_feature=2.0, tau_memory=0.5)
    state = model.pattern_state(0)
    step = 1e-6
    jacobian = np.empty((model.n, model.n))
    for k in range(model.n):
        shift = np.zeros(model.n)
        shift[k] = step
        jacobian[:, k] = (model.vector_field(state + shift) - model.vector_field(state - shift))[0] \
            / (2 * step)
    assert np.allclose(jacobian[10:, :10], 0.0)
    eigenvalues = np.sort(np.linalg.eigvals(jacobian).real)
    assert np.allclose(eigenvalues[:3], -2.0)
    assert np.allclose(eigenvalues[3:], -0.5)


# -- section 5: one-step bound ----------------------------------------------------------


def test_one_step_bound_holds_for_random_queries():
    rng = np.random.default_rng(3)
    patterns = rng.choice([-1.0, 1.0], size=(6, 40))
    network = ModernHopfield(patterns, beta=0.3)
    for fraction in (0.0, 0.025, 0.05):
        queries = corrupt(patterns, fraction, rng)
        errors = np.linalg.norm(network.update(queries) - patterns, axis=1)
        for mu in range(6):
            assert errors[mu] <= network.one_step_retrieval_bound(queries[mu], mu)[0]
