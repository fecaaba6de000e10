"""Tests of equilibria, their enclosures and the linearization certificate."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdyn.certify._certificate import Certificate
from ctdyn.certify._equilibrium import (
    Equilibrium,
    enclose_equilibrium,
    find_equilibria,
    find_equilibrium,
)
from ctdyn.certify._linearization import (
    _check_lyapunov_inequality,
    linearization_certificate,
    solve_lyapunov,
)
from ctdyn.errors import CtdynWarning, InvalidModelError
from ctdyn.models import FiringRateNetwork, HopfieldNetwork

REFERENCE_WEIGHTS = [[0.2, -0.5], [0.3, 0.1]]
REFERENCE_INPUT = [0.5, -1.0]
# Equilibrium of x' = -x + tanh(W x + u) for the weights and input above,
# computed with mpmath.findroot at 30 significant digits (mp.dps = 30).
REFERENCE_EQUILIBRIUM = np.array([0.759489486723259404, -0.686219384065527831])
# An earlier hand-made table gave (0.7594894900, -0.6862193800): eight correct
# digits padded with zeros, so they are compared at 1e-8.
TABLE_EQUILIBRIUM = np.array([0.7594894900, -0.6862193800])
# Eigenvalues of J(x*) = -I + diag(1 - tanh(W x* + u)^2) W at the mpmath
# equilibrium: -0.9312272802 +- 0.1825757691 i (numpy.linalg.eigvals).
REFERENCE_DECAY_RATE = 0.9312272802

NEWTON_TOLERANCE = 1e-12
EIGENVALUE_TOLERANCE = 1e-9
LYAPUNOV_RESIDUAL_TOLERANCE = 1e-10


def reference_network() -> FiringRateNetwork:
    return FiringRateNetwork(REFERENCE_WEIGHTS, input=REFERENCE_INPUT)


def hebbian_network(n: int, *, patterns: int = 3, seed: int = 0):
    """Hebbian Hopfield memory W = (1/n) sum xi xi^T, zero diagonal, tanh(4x)."""
    rng = np.random.default_rng(seed)
    stored = rng.choice([-1.0, 1.0], size=(patterns, n))
    weights = stored.T @ stored / n
    np.fill_diagonal(weights, 0.0)
    return HopfieldNetwork(weights, activation="tanh(4*x)"), stored


# -- equilibria ----------------------------------------------------------------


def test_reference_equilibrium_newton():
    point = find_equilibrium(reference_network())
    assert point.converged
    assert point.residual <= NEWTON_TOLERANCE
    np.testing.assert_allclose(point.x, REFERENCE_EQUILIBRIUM, atol=1e-12, rtol=0)
    np.testing.assert_allclose(point.x, TABLE_EQUILIBRIUM, atol=1e-8, rtol=0)


def test_reference_equilibrium_from_far_start():
    point = find_equilibrium(reference_network(), x0=[25.0, -40.0])
    assert point.converged
    np.testing.assert_allclose(point.x, REFERENCE_EQUILIBRIUM, atol=1e-12, rtol=0)


def test_find_equilibria_merges_duplicates():
    starts = [[0.0, 0.0], [1.0, 1.0], [-3.0, 2.0]]
    found = find_equilibria(reference_network(), starts)
    assert len(found) == 1


def test_find_equilibrium_rejects_bad_start():
    with pytest.raises(InvalidModelError, match="x0"):
        find_equilibrium(reference_network(), x0=[1.0, 2.0, 3.0])


def test_find_equilibrium_rejects_bad_tolerance():
    with pytest.raises(InvalidModelError, match="tol"):
        find_equilibrium(reference_network(), tol=-1.0)


@pytest.mark.parametrize("n", [16, 64])
def test_hebbian_equilibria_near_patterns(n):
    network, stored = hebbian_network(n)
    pattern = stored[0]
    found = find_equilibria(network, [pattern, -pattern])
    assert len(found) == 2
    assert np.array_equal(np.sign(found[0].x), pattern)
    assert np.array_equal(np.sign(found[1].x), -pattern)
    assert found[0].x @ pattern / n > 0.9


def test_sparse_weights_use_newton_krylov():
    import scipy.sparse as sps

    dense = FiringRateNetwork(REFERENCE_WEIGHTS, input=REFERENCE_INPUT)
    sparse = FiringRateNetwork(sps.csr_array(np.array(REFERENCE_WEIGHTS)), input=REFERENCE_INPUT)
    point = find_equilibrium(sparse)
    assert point.method == "newton-krylov"
    assert point.converged
    np.testing.assert_allclose(point.x, find_equilibrium(dense).x, atol=1e-11, rtol=0)


# -- enclosures ------------------------------------------------------------------


def test_enclosure_contains_reference_equilibrium():
    network = reference_network()
    point = find_equilibrium(network)
    enclosure = enclose_equilibrium(network, point)
    assert enclosure is not None
    assert enclosure.contains(point.x)
    assert enclosure.contains(REFERENCE_EQUILIBRIUM)
    assert enclosure.radius < 1e-12


def test_enclosure_slopes_contain_true_slopes():
    network = reference_network()
    enclosure = enclose_equilibrium(network, REFERENCE_EQUILIBRIUM)
    preactivation = np.array(REFERENCE_WEIGHTS) @ REFERENCE_EQUILIBRIUM + REFERENCE_INPUT
    true_slopes = 1.0 - np.tanh(preactivation) ** 2
    assert np.all(enclosure.slopes_low <= true_slopes)
    assert np.all(true_slopes <= enclosure.slopes_high)
    assert np.all(enclosure.slopes_high - enclosure.slopes_low < 1e-12)


@pytest.mark.parametrize("offset", [1e-3, 0.1, 2.0])
def test_tampered_point_not_enclosed(offset):
    network = reference_network()
    assert enclose_equilibrium(network, REFERENCE_EQUILIBRIUM + offset) is None


def test_enclosure_of_hebbian_patterns_disjoint():
    network, stored = hebbian_network(64)
    found = find_equilibria(network, [stored[0], -stored[0]])
    boxes = [enclose_equilibrium(network, point) for point in found]
    assert all(box is not None for box in boxes)
    assert all(box.contains(point.x) for box, point in zip(boxes, found))
    gap = np.abs(boxes[0].center - boxes[1].center)
    assert np.max(gap - boxes[0].radii - boxes[1].radii) > 1.0


@pytest.mark.parametrize("activation", ["relu", "hardtanh", "sigmoid", "softplus", "-tanh(x)",
                                        "x/(1+abs(x))"])
def test_enclosure_for_activation(activation):
    network = FiringRateNetwork(REFERENCE_WEIGHTS, input=REFERENCE_INPUT, activation=activation)
    point = find_equilibrium(network)
    enclosure = enclose_equilibrium(network, point)
    assert enclosure is not None
    assert enclosure.contains(point.x)
    low, high = network.activation.slope_bounds.outward()
    assert np.all(enclosure.slopes_low >= float(low))
    assert np.all(enclosure.slopes_high <= float(high))


def _mpmath_equilibrium(weights, inputs, side, x0):
    """Solve the tanh network equations at 40 digits, an independent reference."""
    mpmath.mp.dps = 40
    n = len(x0)
    w = [[mpmath.mpf(float(value)) for value in row] for row in weights]
    u = [mpmath.mpf(float(value)) for value in inputs]

    def field(*x):
        if side == "left":
            return [-x[i] + mpmath.tanh(mpmath.fsum(w[i][j] * x[j] for j in range(n)) + u[i])
                    for i in range(n)]
        return [-x[i] + mpmath.fsum(w[i][j] * mpmath.tanh(x[j]) for j in range(n)) + u[i]
                for i in range(n)]

    root = mpmath.findroot(field, [mpmath.mpf(float(value)) for value in x0])
    return [root[i] for i in range(n)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 4), seed=st.integers(0, 2**31 - 1), hopfield=st.booleans())
def test_enclosure_contains_high_precision_root(n, seed, hopfield):
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(n, n)) * 0.6 / np.sqrt(n)
    inputs = rng.normal(size=n)
    family = HopfieldNetwork if hopfield else FiringRateNetwork
    network = family(weights, input=inputs)
    point = find_equilibrium(network)
    assert point.converged
    enclosure = enclose_equilibrium(network, point)
    assert enclosure is not None
    root = _mpmath_equilibrium(weights, inputs, network.side, point.x)
    for i in range(n):
        distance = abs(root[i] - mpmath.mpf(float(enclosure.center[i])))
        assert distance <= mpmath.mpf(float(enclosure.radii[i]))


# -- Lyapunov equation -------------------------------------------------------------


def test_lyapunov_convention_residual():
    # python-control's own tests check A X + X A^T + Q = 0 for lyap(A, Q);
    # solve_lyapunov passes A^T so that A^T P + P A + Q = 0 instead.
    a = np.array([[-1.0, 4.0, 0.0], [0.0, -2.0, 1.0], [0.5, 0.0, -3.0]])
    q = np.diag([1.0, 2.0, 3.0])
    solution = solve_lyapunov(a, q)
    p = solution.solution
    assert solution.solver == "control.lyap"
    assert np.max(np.abs(a.T @ p + p @ a + q)) < LYAPUNOV_RESIDUAL_TOLERANCE
    assert np.max(np.abs(a @ p + p @ a.T + q)) > 0.1
    assert np.all(np.linalg.eigvalsh(p) > 0)


# -- linearization certificate ------------------------------------------------------


def test_reference_linearization_certified():
    certificate = linearization_certificate(reference_network())
    assert certificate.status == "certified"
    assert certificate.method == "linearization"
    assert certificate.claim == "local_stability"
    assert certificate.checked == "interval"
    decay_rate = certificate.details["local_decay_rate"]
    assert abs(decay_rate - REFERENCE_DECAY_RATE) < EIGENVALUE_TOLERANCE
    assert certificate.rate > 0.8
    assert certificate.rate <= REFERENCE_DECAY_RATE
    assert Fraction(certificate.evidence["rate_exact"]) == Fraction(certificate.rate)
    record = certificate.evidence["equilibrium"]
    np.testing.assert_allclose(record["x"], REFERENCE_EQUILIBRIUM, atol=1e-12, rtol=0)
    assert record["enclosure_radius"] < 1e-12


def test_reference_lyapunov_residual_small():
    certificate = linearization_certificate(reference_network())
    p = np.array(certificate.evidence["P"])
    a = np.array(certificate.evidence["jacobian"])
    shifted = a + certificate.evidence["lyapunov_shift"] * np.eye(2)
    residual = shifted.T @ p + p @ shifted + np.eye(2)
    assert np.max(np.abs(residual)) < LYAPUNOV_RESIDUAL_TOLERANCE * max(1.0, np.max(np.abs(p)))
    assert certificate.details["lyapunov"]["solver"] == "control.lyap"


def test_certified_rate_holds_at_high_precision_jacobian():
    certificate = linearization_certificate(reference_network())
    p = np.array(certificate.evidence["P"])
    rate = certificate.rate
    mpmath.mp.dps = 40
    root = _mpmath_equilibrium(REFERENCE_WEIGHTS, REFERENCE_INPUT, "left", REFERENCE_EQUILIBRIUM)
    weights = mpmath.matrix(REFERENCE_WEIGHTS)
    x = mpmath.matrix(root)
    z = weights * x + mpmath.matrix(REFERENCE_INPUT)
    slopes = mpmath.diag([1 - mpmath.tanh(z[i]) ** 2 for i in range(2)])
    jacobian = -mpmath.eye(2) + slopes * weights
    pm = mpmath.matrix(p.tolist())
    matrix = -(jacobian.T * pm + pm * jacobian) - 2 * mpmath.mpf(rate) * pm
    assert min(mpmath.eigsy(matrix)[0]) > 0


def test_interval_path_agrees_with_exact_path():
    exact = linearization_certificate(reference_network())
    interval = linearization_certificate(reference_network(), exact_limit=0)
    assert exact.evidence["inequality_checked"] == "exact"
    assert interval.evidence["inequality_checked"] == "interval"
    assert interval.status == "certified"
    assert abs(interval.rate - exact.rate) < 1e-6


def test_tampered_rate_fails_exact_check():
    certificate = linearization_certificate(reference_network())
    evidence = certificate.evidence
    arguments = dict(sign=-1, offset=evidence["offset"], exact=True)
    jacobian = np.array(evidence["jacobian"])
    p = np.array(evidence["P"])
    honest = _check_lyapunov_inequality(jacobian, p, rate=certificate.rate, **arguments)
    tampered = _check_lyapunov_inequality(jacobian, p, rate=certificate.rate + 0.1, **arguments)
    assert honest.passed
    assert not tampered.passed


def test_singular_jacobian_inconclusive():
    # W = [[0.5, 0.5], [0.5, 0.5]]: -I + W has the eigenvalue 0 at x = 0 (closed form).
    network = FiringRateNetwork([[0.5, 0.5], [0.5, 0.5]])
    certificate = linearization_certificate(network)
    assert certificate.status == "inconclusive"
    assert "imaginary axis" in certificate.reason


def test_unstable_equilibrium_refuted():
    # At x = 0, -I + W has eigenvalues 1 and -3.
    network = FiringRateNetwork([[0.0, 2.0], [2.0, 0.0]])
    certificate = linearization_certificate(network)
    assert certificate.status == "refuted"
    assert certificate.checked == "interval"
    assert certificate.witness["kind"] == "unstable_jacobian"
    assert abs(certificate.witness["eigenvalue"][0] - 1.0) < EIGENVALUE_TOLERANCE
    assert certificate.witness["state"] == [0.0, 0.0]


def test_decreasing_activation_refuted_and_certified():
    # -tanh has slopes in [-1, 0]; at x = 0 the Jacobian is -I - W.
    unstable = FiringRateNetwork([[0.0, 2.0], [2.0, 0.0]], activation="-tanh(x)")
    assert unstable.activation.slope_bounds.lower == -1
    refuted = linearization_certificate(unstable)
    assert refuted.status == "refuted"
    assert refuted.checked == "interval"
    assert abs(refuted.witness["eigenvalue"][0] - 1.0) < EIGENVALUE_TOLERANCE

    stable = FiringRateNetwork(REFERENCE_WEIGHTS, input=REFERENCE_INPUT, activation="-tanh(x)")
    certified = linearization_certificate(stable)
    assert certified.status == "certified"
    assert 0 < certified.rate <= certified.details["local_decay_rate"]


def test_hopfield_memory_state_certified():
    network, stored = hebbian_network(16)
    point = find_equilibrium(network, stored[0])
    certificate = linearization_certificate(network, point)
    assert certificate.status == "certified"
    assert certificate.rate <= certificate.details["local_decay_rate"]


def test_hopfield_origin_refuted():
    network, _ = hebbian_network(16)
    certificate = linearization_certificate(network, np.zeros(16))
    assert certificate.status == "refuted"
    assert certificate.checked == "interval"
    assert certificate.witness["eigenvalue"][0] > 1.0


def test_unconverged_equilibrium_inconclusive():
    stale = Equilibrium(x=np.array([3.0, 3.0]), residual=0.5, converged=False, iterations=100)
    certificate = linearization_certificate(reference_network(), stale)
    assert certificate.status == "inconclusive"
    assert "did not converge" in certificate.reason
    assert certificate.evidence["equilibrium"]["x"] == [3.0, 3.0]


def test_contraction_certificate_gives_global_note():
    contraction = Certificate(method="lmi_euclidean", claim="contraction", status="certified",
                              rate=0.7, checked="exact")
    certificate = linearization_certificate(reference_network(), contraction=contraction)
    assert "globally exponentially stable" in certificate.details["global_stability"]


def test_contraction_argument_rejects_other_claims():
    energy = Certificate(method="energy", claim="energy_decrease", status="certified",
                         checked="exact")
    with pytest.raises(InvalidModelError, match="contraction"):
        linearization_certificate(reference_network(), contraction=energy)


def test_certificate_serializes():
    record = linearization_certificate(reference_network()).to_dict()
    assert record["status"] == "certified"
    assert record["metric"]["norm"] == "quadratic"
    assert len(record["evidence"]["P"]) == 2


def test_contradicting_contraction_warns():
    # A (wrongly) certified contraction beside an unstable equilibrium is a bug signal.
    contraction = Certificate(method="lmi_euclidean", claim="contraction", status="certified",
                              rate=0.1, checked="exact")
    network = FiringRateNetwork([[0.0, 2.0], [2.0, 0.0]])
    with pytest.warns(CtdynWarning, match="contradiction"):
        certificate = linearization_certificate(network, contraction=contraction)
    assert certificate.status == "refuted"


def test_unstable_with_symmetric_shift_pair_refuted():
    # At x = 0 the Jacobian is diag(2, 1). The first shift tried, half of the
    # abscissa, gives A - I = diag(1, 0), whose Lyapunov operator is singular
    # (eigenvalue pair 0 + 0 = 0), so another shift must be used.
    network = FiringRateNetwork([[3.0, 0.0], [0.0, 2.0]])
    certificate = linearization_certificate(network)
    assert certificate.status == "refuted"
    assert certificate.checked == "interval"
    assert certificate.details["lyapunov"]["shift"] != -1.0
