"""Tests of the refutation witnesses for contraction."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdyn.certify._witness import (
    contraction_witness,
    extreme_slope_point,
    is_hurwitz,
    routh_hurwitz,
)
from ctdyn.errors import InvalidModelError
from ctdyn.models import FiringRateNetwork, HopfieldNetwork, make_activation
from ctdyn.verify import rational_matrix

EIGENVALUE_TOLERANCE = 1e-9
# Float spectral abscissae closer than this to zero are not compared with
# the exact Routh-Hurwitz result.
AXIS_MARGIN = 1e-6


def hebbian_network(n: int, *, patterns: int = 3, seed: int = 0):
    """Hebbian Hopfield memory W = (1/n) sum xi xi^T, zero diagonal, tanh(4x)."""
    rng = np.random.default_rng(seed)
    stored = rng.choice([-1.0, 1.0], size=(patterns, n))
    weights = stored.T @ stored / n
    np.fill_diagonal(weights, 0.0)
    return HopfieldNetwork(weights, activation="tanh(4*x)"), stored


# -- Routh-Hurwitz -------------------------------------------------------------


@pytest.mark.parametrize("coefficients, hurwitz", [
    ([1, 6, 11, 6], True),      # (s + 1)(s + 2)(s + 3)
    ([1, 1, 0], False),         # s (s + 1): a root at 0
    ([1, 1, 1, 1], False),      # (s + 1)(s^2 + 1): roots +-i, a zero in the first column
    ([1, -1, 2], False),        # roots 1/2 +- i sqrt(7)/2
    ([1, 2, 3, 4, 5], False),   # Routh column 1, 2, 1, -6, 5: two roots with Re > 0
    ([1, 3, 3, 1], True),       # (s + 1)^3
])
def test_routh_hurwitz_known_polynomials(coefficients, hurwitz):
    column = routh_hurwitz([Fraction(c) for c in coefficients])
    passed = len(column) == len(coefficients) and all(entry > 0 for entry in column)
    assert passed == hurwitz


def test_routh_column_values():
    # s^4 + 2 s^3 + 3 s^2 + 4 s + 5: first column 1, 2, 1, -6, 5 (textbook example).
    column = routh_hurwitz([Fraction(c) for c in (1, 2, 3, 4, 5)])
    assert column == [1, 2, 1, -6]


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 6), seed=st.integers(0, 2**31 - 1))
def test_is_hurwitz_matches_eigenvalues(n, seed):
    rng = np.random.default_rng(seed)
    matrix = rng.integers(-4, 5, size=(n, n)).astype(float) - rng.integers(0, 4) * np.eye(n)
    abscissa = float(np.max(np.linalg.eigvals(matrix).real))
    if abs(abscissa) < AXIS_MARGIN:
        return
    assert is_hurwitz(rational_matrix(matrix)) == (abscissa < 0)


# -- maximal-slope points ----------------------------------------------------------


@pytest.mark.parametrize("name, slope, point", [
    ("tanh", 1, 0),
    ("sigmoid", Fraction(1, 4), 0),
    ("tanh(4*x)", 4, 0),
    ("-tanh(x)", -1, 0),
    ("hardtanh", 1, 0),
    ("relu", 1, 1),
    ("relu", 0, -1),
    ("x/(1+abs(x))", 1, 0),   # differentiable at the break point 0
])
def test_extreme_slope_point(name, slope, point):
    activation = make_activation(name)
    found = extreme_slope_point(activation.expression, sp.Rational(slope))
    assert found == point
    assert activation.derivative(np.array([float(found)]))[0] == float(slope)


def test_extreme_slope_point_absent():
    activation = make_activation("tanh")
    assert extreme_slope_point(activation.expression, sp.Integer(0)) is None


# -- unstable Jacobian witnesses -------------------------------------------------------


def test_reference_singular_jacobian_witness():
    # W = [[0.5, 0.5], [0.5, 0.5]], u = 0: at x = 0 the Jacobian -I + W has
    # the eigenvalue 0 (closed form).
    network = FiringRateNetwork([[0.5, 0.5], [0.5, 0.5]])
    witness = contraction_witness(network)
    assert witness["kind"] == "unstable_jacobian"
    assert witness["checked"] == "exact"
    assert witness["state"] == [0.0, 0.0]
    assert abs(witness["eigenvalue"][0]) < EIGENVALUE_TOLERANCE
    assert witness["slopes_exact"] == ["1", "1"]


def test_singular_weights_consistent_input():
    # W x + u = 0 is consistent for u = (0.25, 0.25) although W is singular.
    network = FiringRateNetwork([[0.5, 0.5], [0.5, 0.5]], input=[0.25, 0.25])
    witness = contraction_witness(network, kinds=["unstable_jacobian"])
    assert witness["checked"] == "exact"
    state = [Fraction(value) for value in witness["state_exact"]]
    for row, offset in zip([[0.5, 0.5], [0.5, 0.5]], [0.25, 0.25]):
        assert sum(Fraction(w) * x for w, x in zip(row, state)) + Fraction(offset) == 0


@pytest.mark.parametrize("n", [16, 64])
def test_hebbian_unstable_origin(n):
    network, _ = hebbian_network(n)
    witness = contraction_witness(network)
    assert witness["kind"] == "unstable_jacobian"
    assert witness["checked"] == "exact"
    assert witness["state"] == [0.0] * n
    # At x = 0 every slope is 4, so J = -I + 4 W and Re lambda_max = -1 + 4 lambda_max(W).
    expected = -1.0 + 4.0 * float(np.max(np.linalg.eigvalsh(network.weights)))
    assert abs(witness["eigenvalue"][0] - expected) < EIGENVALUE_TOLERANCE
    assert witness["eigenvalue"][0] > 0


def test_hebbian_witness_independent_check():
    # The witness Jacobian W D - I is symmetric here (D = 4 I), so a rational
    # vector v with v^T J v >= 0 proves lambda_max(J) >= 0 independently.
    network, stored = hebbian_network(16)
    witness = contraction_witness(network)
    slopes = [sp.Rational(value) for value in witness["slopes_exact"]]
    weights = sp.Matrix(16, 16, lambda i, j: sp.Rational(float(network.weights[i, j])))
    jacobian = weights * sp.diag(*slopes) - sp.eye(16)
    assert jacobian == jacobian.T
    pattern = sp.Matrix([int(value) for value in stored[0]])
    assert (pattern.T * jacobian * pattern)[0, 0] >= 0


@pytest.mark.parametrize("n", [16, 64])
def test_hebbian_two_equilibria(n):
    network, stored = hebbian_network(n)
    pattern = stored[0]
    witness = contraction_witness(network, equilibria=[pattern, -pattern],
                                  kinds=["two_equilibria"])
    assert witness["kind"] == "two_equilibria"
    assert witness["checked"] == "interval"
    first, second = (np.array(state) for state in witness["states"])
    assert np.array_equal(np.sign(first), pattern)
    assert np.array_equal(np.sign(second), -pattern)
    assert max(witness["residuals"]) < 1e-12
    assert max(witness["enclosure_radii"]) < 1e-9


def test_decreasing_activation_witness():
    # -tanh has slopes in [-1, 0]; at x = 0 the slope is -1 and J = -I - W
    # has the eigenvalue -1 + 2 = 1 for W = [[0, 2], [2, 0]].
    network = FiringRateNetwork([[0.0, 2.0], [2.0, 0.0]], activation="-tanh(x)")
    witness = contraction_witness(network)
    assert witness["checked"] == "exact"
    assert witness["slopes_exact"] == ["-1", "-1"]
    assert abs(witness["eigenvalue"][0] - 1.0) < EIGENVALUE_TOLERANCE


def test_vertex_witness_is_approached():
    # -I + W and -I are Hurwitz, but at slopes (1, 0) the Jacobian
    # [[1, -3], [0, -1]] has the eigenvalue 1 (W invertible, so the box is exact).
    network = FiringRateNetwork([[2.0, -3.0], [3.0, -2.0]])
    witness = contraction_witness(network, kinds=["unstable_jacobian"])
    assert witness["checked"] == "exact"
    assert witness["approached"] is True
    assert witness["state"] is None
    assert witness["slopes_exact"] == ["1", "0"]
    assert abs(witness["eigenvalue"][0] - 1.0) < EIGENVALUE_TOLERANCE


def test_float_witness_above_exact_limit():
    network = FiringRateNetwork([[0.0, 2.0], [2.0, 0.0]])
    witness = contraction_witness(network, exact_limit=1, kinds=["unstable_jacobian"])
    assert witness["checked"] == "float"
    assert abs(witness["eigenvalue"][0] - 1.0) < EIGENVALUE_TOLERANCE


# -- soundness: contracting networks have no witness --------------------------------------


@pytest.mark.parametrize("weights", [
    [[0.2, -0.5], [0.3, 0.1]],    # rate 0.7141 with a quadratic metric (vertex LMIs)
    [[0.2, 0.6], [0.6, -0.4]],    # symmetric, Euclidean rate 0.4291796068
])
def test_reference_contracting_networks_have_no_witness(weights):
    network = FiringRateNetwork(weights, input=[0.5, -1.0])
    assert contraction_witness(network) is None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 5), seed=st.integers(0, 2**31 - 1), hopfield=st.booleans(),
       activation=st.sampled_from(["tanh", "sigmoid", "-tanh(x)", "relu"]))
def test_euclidean_contracting_networks_have_no_witness(n, seed, hopfield, activation):
    # |slope| <= 1 and ||W||_2 < 1 give mu_2(-I + D W) <= -1 + ||W||_2 < 0 (and
    # likewise for -I + W D): contraction in the Euclidean norm.
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(n, n))
    weights *= 0.95 / np.linalg.norm(weights, 2)
    family = HopfieldNetwork if hopfield else FiringRateNetwork
    network = family(weights, input=rng.normal(size=n), activation=activation)
    assert contraction_witness(network, seed=seed) is None


# -- options -----------------------------------------------------------------------------


def test_unknown_kind_rejected():
    network = FiringRateNetwork([[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(InvalidModelError, match="kinds"):
        contraction_witness(network, kinds=["trajectory_pair"])


def test_random_witness_reproducible():
    # W = p q^T with p = (1, 10), q = (3, -0.25) is singular (no exact box).
    # J = -I + D p q^T has the eigenvalue -1 + sum_i q_i p_i phi'(p_i t),
    # t = q.x: -0.5 at t = 0 (so the extreme-slope state is stable) but
    # 3 phi'(t) - 2.5 phi'(10 t) > 1 near t = 0.3, found by the random search.
    network = FiringRateNetwork([[3.0, -0.25], [30.0, -2.5]])
    first = contraction_witness(network, seed=7, kinds=["unstable_jacobian"])
    second = contraction_witness(network, seed=7, kinds=["unstable_jacobian"])
    assert first is not None
    assert first["checked"] == "float"
    assert first["eigenvalue"][0] > 0
    assert first == second
