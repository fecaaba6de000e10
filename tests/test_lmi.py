"""Tests of the S-procedure LMI certificates and the vertex-enumeration ground truth."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdyn.certify._lmi import (
    AUTO_CLARABEL_LIMIT,
    _choose_solver,
    _exact_blocks,
    _factors,
    _float_blocks_with_bound,
    check_lmi_proposal,
    lmi_contraction,
)
from ctdyn.verify import rational_matrix
from ctdyn.certify._vertex import vertex_contraction_rate, vertex_rate_for_metric
from ctdyn.errors import InvalidModelError
from ctdyn.models import FiringRateNetwork, HopfieldNetwork, JacobianSet

# Solver-based reference values are quoted to 4 digits, so they match to 5e-5.
REFERENCE_DIGITS_TOLERANCE = 5e-5
# Closed-form values are compared to 1e-9.
CLOSED_FORM_TOLERANCE = 1e-9
# Float evaluation of an exactly certified rate may differ by rounding only.
FLOAT_EVALUATION_TOLERANCE = 1e-9
# A certified rate may not exceed the vertex ground truth of its metric class.
GROUND_TRUTH_TOLERANCE = 1e-6
# The vertex bisection used as ground truth runs to this bracket width.
VERTEX_RATE_TOLERANCE = 1e-7

# Computed independently by vertex LMIs and bisection: firing-rate network
# x' = -x + tanh(W x + u). The best full-P rate over the 4 vertex LMIs is
# 0.7141. At D = diag(1, 0) the Jacobian has eigenvalue -0.8, so no metric
# gives a rate above 0.8.
W_REFERENCE = np.array([[0.2, -0.5], [0.3, 0.1]])
REFERENCE_FULL_RATE = 0.7141
REFERENCE_RATE_CAP = 0.8
# Symmetric weights: the Euclidean rate 1 - lambda_max(W) = 0.4291796068 is
# achieved by P = I (closed form: lambda_max = (-0.2 + sqrt(1.8)) / 2).
W_SYMMETRIC = np.array([[0.2, 0.6], [0.6, -0.4]])
SYMMETRIC_RATE = 0.4291796068
# At x = 0 the Jacobian -I + W has eigenvalue 0: no positive rate exists.
W_SINGULAR = np.array([[0.5, 0.5], [0.5, 0.5]])
# Skew weights: every box Jacobian is stable, but the vertices
# [[-1, 3], [0, -1]] and [[-1, 0], [-3, -1]] share no contracting quadratic
# metric (a diagonal P would need p2 >= 9 p1 / 4 and p1 >= 9 p2 / 4).
W_SKEW = np.array([[0.0, 3.0], [-3.0, 0.0]])


def frn_set(weights, activation="tanh"):
    return FiringRateNetwork(weights, activation=activation).jacobian_set


def box_set(weights, slopes, side, leak=None):
    weights = np.asarray(weights, dtype=float)
    leak = np.ones(len(weights)) if leak is None else np.asarray(leak, dtype=float)
    return JacobianSet(weights=weights, leak=leak, side=side,
                       slope_min=Fraction(slopes[0]), slope_max=Fraction(slopes[1]))


@pytest.fixture(scope="module")
def reference_full():
    return lmi_contraction(frn_set(W_REFERENCE), metric="full")


# -- reference cases ----------------------------------------------------------------


def test_reference_vertex_rate_full():
    rate, P = vertex_contraction_rate(frn_set(W_REFERENCE), metric="full",
                                      rate_tolerance=VERTEX_RATE_TOLERANCE)
    assert abs(rate - REFERENCE_FULL_RATE) <= REFERENCE_DIGITS_TOLERANCE
    assert abs(vertex_rate_for_metric(frn_set(W_REFERENCE), P) - rate) <= FLOAT_EVALUATION_TOLERANCE


def test_reference_rate_cap_eigenvalue():
    eigenvalues = np.linalg.eigvals(frn_set(W_REFERENCE).at(np.array([1.0, 0.0])))
    assert np.min(np.abs(eigenvalues - (-REFERENCE_RATE_CAP))) <= CLOSED_FORM_TOLERANCE


def test_reference_lmi_full_certified(reference_full):
    assert reference_full.status == "certified"
    assert reference_full.method == "lmi_euclidean"
    assert reference_full.checked == "exact"
    assert reference_full.rate <= REFERENCE_RATE_CAP
    # The S-procedure is exact on this case up to the bisection and back-off.
    assert abs(reference_full.rate - REFERENCE_FULL_RATE) <= 1e-3


def test_reference_lmi_full_below_vertex(reference_full):
    vertex_rate, _ = vertex_contraction_rate(frn_set(W_REFERENCE), metric="full",
                                             rate_tolerance=VERTEX_RATE_TOLERANCE)
    assert reference_full.rate <= vertex_rate + GROUND_TRUTH_TOLERANCE


@pytest.mark.parametrize("metric", ["full", "diagonal"])
def test_reference_metric_rate_cap(metric):
    certificate = lmi_contraction(frn_set(W_REFERENCE), metric=metric)
    vertex_rate, _ = vertex_contraction_rate(frn_set(W_REFERENCE), metric=metric,
                                             rate_tolerance=VERTEX_RATE_TOLERANCE)
    assert certificate.status == "certified"
    assert certificate.rate <= vertex_rate + GROUND_TRUTH_TOLERANCE
    assert vertex_rate <= REFERENCE_RATE_CAP
    assert certificate.rate <= REFERENCE_RATE_CAP


def test_diagonal_metric_is_diagonal():
    certificate = lmi_contraction(frn_set(W_REFERENCE), metric="diagonal")
    P = np.array(certificate.metric["P"])
    assert certificate.method == "lmi_diagonal"
    assert np.count_nonzero(P - np.diag(np.diag(P))) == 0


@pytest.mark.parametrize("metric", ["full", "diagonal"])
def test_symmetric_rate_reached(metric):
    certificate = lmi_contraction(frn_set(W_SYMMETRIC), metric=metric)
    assert certificate.status == "certified"
    assert certificate.rate <= SYMMETRIC_RATE
    assert certificate.rate >= SYMMETRIC_RATE - 1e-3


def test_symmetric_identity_metric_rate():
    rate = vertex_rate_for_metric(frn_set(W_SYMMETRIC), np.eye(2))
    assert abs(rate - SYMMETRIC_RATE) <= CLOSED_FORM_TOLERANCE


@pytest.mark.parametrize("metric", ["full", "diagonal"])
@pytest.mark.parametrize("family", [FiringRateNetwork, HopfieldNetwork])
def test_singular_weights_no_rate(metric, family):
    certificate = lmi_contraction(family(W_SINGULAR).jacobian_set, metric=metric)
    assert certificate.status == "inconclusive"
    assert certificate.rate is None
    assert "no positive rate" in certificate.reason


@pytest.mark.parametrize("metric", ["full", "diagonal"])
def test_singular_weights_vertex_rate(metric):
    rate, _ = vertex_contraction_rate(frn_set(W_SINGULAR), metric=metric)
    assert rate <= GROUND_TRUTH_TOLERANCE


@pytest.mark.parametrize("metric", ["full", "diagonal"])
def test_skew_weights_best_rate_reported(metric):
    certificate = lmi_contraction(box_set(W_SKEW, (0, 1), "left"), metric=metric)
    vertex_rate, _ = vertex_contraction_rate(box_set(W_SKEW, (0, 1), "left"), metric=metric)
    assert certificate.status == "inconclusive"
    assert "best c = -" in certificate.reason
    assert vertex_rate < 0


# -- the certificate's evidence ---------------------------------------------------------


def test_certificate_evidence_fields(reference_full):
    evidence = reference_full.evidence
    rate_exact = Fraction(evidence["rate_exact"])
    assert reference_full.rate == float(rate_exact)
    assert Fraction(reference_full.rate) <= rate_exact
    assert np.array_equal(np.array(evidence["P"]), np.array(reference_full.metric["P"]))
    assert len(evidence["multipliers"]) == 2
    assert reference_full.margin > 0
    assert reference_full.details["solver"] == "CLARABEL"
    assert reference_full.details["bisection_steps"] >= 2


def test_certificate_json_round_trip(reference_full):
    record = json.loads(json.dumps(reference_full.to_dict()))
    assert record["status"] == "certified"
    assert record["metric"]["norm"] == "quadratic"
    assert Fraction(record["evidence"]["rate_exact"]) == Fraction(reference_full.evidence["rate_exact"])


def _negative_m_sympy(weights, side, slopes, P, multipliers, rate):
    """Build -M with sympy rationals from the module docstring's formula, independently of flint."""
    n = len(weights)
    W = sp.Matrix(n, n, lambda i, j: sp.Rational(Fraction(float(weights[i][j]))))
    identity = sp.eye(n)
    L, R = (identity, W) if side == "left" else (W, identity)
    P = sp.Matrix(n, n, lambda i, j: sp.Rational(Fraction(P[i][j])))
    Lam = sp.diag(*[sp.Rational(Fraction(value)) for value in multipliers])
    a, b = (sp.Rational(slope) for slope in slopes)
    c = sp.Rational(rate)
    top_left = -P - P + 2 * c * P - a * b * R.T * Lam * R
    coupling = P * L + (a + b) / 2 * R.T * Lam
    M = sp.BlockMatrix([[top_left, coupling], [coupling.T, -Lam]]).as_explicit()
    return -M


def test_certificate_rechecked_by_sympy(reference_full):
    evidence = reference_full.evidence
    negative = _negative_m_sympy(W_REFERENCE, "left", ("0", "1"), evidence["P"],
                                 evidence["multipliers"], Fraction(evidence["rate_exact"]))
    minors = [negative[:k, :k].det() for k in range(1, 5)]
    assert all(minor > 0 for minor in minors)


def test_hopfield_certificate_rechecked_by_sympy():
    network = HopfieldNetwork(W_REFERENCE, activation="sigmoid")
    certificate = lmi_contraction(network.jacobian_set, metric="full")
    evidence = certificate.evidence
    assert certificate.status == "certified"
    negative = _negative_m_sympy(W_REFERENCE, "right", ("0", "1/4"), evidence["P"],
                                 evidence["multipliers"], Fraction(evidence["rate_exact"]))
    minors = [negative[:k, :k].det() for k in range(1, 5)]
    assert all(minor > 0 for minor in minors)


# -- the exact re-check ------------------------------------------------------------------


def test_recheck_accepts_proposal(reference_full):
    evidence = reference_full.evidence
    check = check_lmi_proposal(frn_set(W_REFERENCE), P=evidence["P"],
                               multipliers=evidence["multipliers"],
                               rate=Fraction(evidence["rate_exact"]))
    assert check.passed
    assert check.checked == "exact"


@pytest.mark.parametrize("exact_limit", [60, 0])
def test_recheck_rejects_raised_rate(reference_full, exact_limit):
    evidence = reference_full.evidence
    # 1/8 is dyadic, so with exact_limit = 0 the interval path runs.
    for raise_by in (Fraction(1, 10), Fraction(1, 8)):
        check = check_lmi_proposal(frn_set(W_REFERENCE), P=evidence["P"],
                                   multipliers=evidence["multipliers"],
                                   rate=Fraction(evidence["rate_exact"]) + raise_by,
                                   exact_limit=exact_limit)
        assert not check.passed


def test_recheck_rejects_negative_multiplier(reference_full):
    evidence = reference_full.evidence
    multipliers = list(evidence["multipliers"])
    multipliers[0] = -multipliers[0]
    check = check_lmi_proposal(frn_set(W_REFERENCE), P=evidence["P"], multipliers=multipliers,
                               rate=Fraction(evidence["rate_exact"]))
    assert not check.passed


def test_recheck_rejects_indefinite_metric(reference_full):
    evidence = reference_full.evidence
    P = -np.array(evidence["P"])
    check = check_lmi_proposal(frn_set(W_REFERENCE), P=P, multipliers=evidence["multipliers"],
                               rate=Fraction(evidence["rate_exact"]))
    assert not check.passed
    assert "P is not positive definite" in check.detail


def test_recheck_rejects_asymmetric_metric(reference_full):
    evidence = reference_full.evidence
    P = np.array(evidence["P"])
    P[0, 1] += 2.0**-30
    check = check_lmi_proposal(frn_set(W_REFERENCE), P=P, multipliers=evidence["multipliers"],
                               rate=Fraction(evidence["rate_exact"]))
    assert not check.passed


def test_recheck_rejects_wrong_size(reference_full):
    with pytest.raises(InvalidModelError, match="P and multipliers"):
        check_lmi_proposal(frn_set(W_REFERENCE), P=np.eye(3), multipliers=[1.0, 1.0], rate=0.1)


def test_interval_check_certifies():
    certificate = lmi_contraction(frn_set(W_REFERENCE), metric="full", exact_limit=0)
    assert certificate.status == "certified"
    assert certificate.checked == "interval"
    assert certificate.margin > 0


def _dyadic_down(value: float) -> Fraction:
    return Fraction(int(np.floor(value * 2.0**30)), 2**30)


@pytest.mark.parametrize("exact_limit", [60, 0])
def test_recheck_threshold_tight(exact_limit):
    # With P = I, Lambda = I, slopes [0, 1] and symmetric W, the Schur
    # complement of -M gives the threshold c* = 1 - (1 + lambda_max(W) / 2)**2 / 2.
    largest = (-0.2 + np.sqrt(1.8)) / 2
    threshold = 1 - (1 + largest / 2) ** 2 / 2
    jacobian_set = frn_set(W_SYMMETRIC)
    below = check_lmi_proposal(jacobian_set, P=np.eye(2), multipliers=[1.0, 1.0],
                               rate=_dyadic_down(threshold - 2.0**-20), exact_limit=exact_limit)
    above = check_lmi_proposal(jacobian_set, P=np.eye(2), multipliers=[1.0, 1.0],
                               rate=_dyadic_down(threshold + 2.0**-20), exact_limit=exact_limit)
    assert below.passed
    assert not above.passed
    assert below.checked == ("exact" if exact_limit else "interval")


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 6), side=st.sampled_from(["left", "right"]),
       slopes=st.sampled_from([(0, 1), (Fraction(1, 3), Fraction(7, 5)), (Fraction(-2, 3), 0)]))
@settings(max_examples=20, deadline=None, derandomize=True)
def test_interval_rounding_bound_holds(seed, n, side, slopes):
    # The float matrix -M differs from the exact one by at most the claimed 2-norm bound.
    rng = np.random.default_rng(seed)
    jacobian_set = box_set(rng.normal(size=(n, n)) * 10.0 ** rng.uniform(-3, 3),
                           slopes, side, rng.uniform(0.1, 5.0, n))
    factor = rng.normal(size=(n, n))
    P = factor @ factor.T + np.eye(n)
    P = (P + P.T) / 2
    multipliers = rng.uniform(0.01, 100.0, n)
    rate = float(rng.normal())
    factors = _factors(jacobian_set)
    matrix, bound = _float_blocks_with_bound(factors, P, multipliers, rate)
    exact = _exact_blocks(factors, rational_matrix(P), [Fraction(value) for value in multipliers],
                          Fraction(rate))
    difference = rational_matrix(matrix) - exact
    error = np.array([[float(difference[i, j]) for j in range(2 * n)] for i in range(2 * n)])
    assert np.linalg.norm(error, 2) <= bound
    assert bound > 0


# -- solver trouble ----------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["CLARABEL", "SCS"])
def test_tiny_time_limit_inconclusive(solver):
    # A solve cut short by the time limit may still return a metric (SCS
    # returns its last iterate as optimal_inaccurate). Only the exact check
    # can make that a certificate; otherwise the result names the statuses.
    certificate = lmi_contraction(frn_set(W_REFERENCE), solver=solver, max_time=1e-9)
    if certificate.status == "certified":
        assert certificate.checked == "exact"
        assert certificate.rate <= REFERENCE_RATE_CAP
        assert "optimal x" not in str(certificate.details)
    else:
        assert certificate.status == "inconclusive"
        assert "solver statuses" in certificate.reason
        assert "optimal x" not in certificate.reason


def test_auto_solver_choice():
    assert _choose_solver("auto", AUTO_CLARABEL_LIMIT) == "CLARABEL"
    assert _choose_solver("auto", AUTO_CLARABEL_LIMIT + 1) == "SCS"
    assert _choose_solver("scs", 2) == "SCS"


def test_scs_certifies_reference():
    certificate = lmi_contraction(frn_set(W_REFERENCE), solver="SCS")
    assert certificate.status == "certified"
    assert certificate.rate <= REFERENCE_RATE_CAP
    assert certificate.details["solver"] == "SCS"


# -- options -----------------------------------------------------------------------------


@pytest.mark.parametrize(("option", "value", "field"), [
    ("metric", "cholesky", "metric"),
    ("solver", "OSQP", "solver"),
    ("rate_tolerance", 0.0, "rate_tolerance"),
    ("exact_limit", -1, "exact_limit"),
    ("max_time", -1.0, "max_time"),
])
def test_invalid_option_rejected(option, value, field):
    with pytest.raises(InvalidModelError, match=f"invalid {field}"):
        lmi_contraction(frn_set(W_REFERENCE), **{option: value})


def test_vertex_size_limit():
    with pytest.raises(InvalidModelError, match="at most 12 neurons"):
        vertex_contraction_rate(frn_set(0.01 * np.ones((13, 13))))


@pytest.mark.parametrize("P", [np.array([[1.0, 0.5], [0.0, 1.0]]), -np.eye(2)])
def test_vertex_rate_rejects_bad_metric(P):
    with pytest.raises(InvalidModelError, match="invalid P"):
        vertex_rate_for_metric(frn_set(W_REFERENCE), P)


# -- vertex ground truth ------------------------------------------------------------------


def test_vertex_rate_diagonal_weights():
    # J = diag(-1 + d_i w_i) with P = I: the worst vertex gives 1 - max(0.5, 0) = 0.5.
    jacobian_set = frn_set(np.diag([0.5, -0.3]))
    assert abs(vertex_rate_for_metric(jacobian_set, np.eye(2)) - 0.5) <= CLOSED_FORM_TOLERANCE


@given(seed=st.integers(0, 2**32 - 1), side=st.sampled_from(["left", "right"]),
       slopes=st.sampled_from([(0, 1), (0, Fraction(1, 4)), (-1, 0), (Fraction(1, 2), 1)]))
@settings(max_examples=25, deadline=None, derandomize=True)
def test_vertex_worst_case_at_vertices(seed, side, slopes):
    # For a fixed P the rate at any D inside the box is at least the vertex minimum.
    rng = np.random.default_rng(seed)
    n = 3
    jacobian_set = box_set(rng.normal(size=(n, n)), slopes, side, leak=rng.uniform(0.5, 2, n))
    factor = rng.normal(size=(n, n))
    P = factor @ factor.T + 0.1 * np.eye(n)
    vertex_rate = vertex_rate_for_metric(jacobian_set, P)
    low, high = float(slopes[0]), float(slopes[1])
    for slopes_inside in rng.uniform(low, high, size=(20, n)):
        jacobian = jacobian_set.at(slopes_inside)
        values = np.linalg.eigvals(np.linalg.solve(P, jacobian.T @ P + P @ jacobian))
        assert -np.max(values.real) / 2 >= vertex_rate - FLOAT_EVALUATION_TOLERANCE


# -- soundness against the ground truth -----------------------------------------------------


def _assert_sound(jacobian_set, metric):
    certificate = lmi_contraction(jacobian_set, metric=metric)
    if certificate.status != "certified":
        assert certificate.status == "inconclusive"
        assert certificate.reason
        return certificate
    vertex_rate, _ = vertex_contraction_rate(jacobian_set, metric=metric,
                                             rate_tolerance=VERTEX_RATE_TOLERANCE)
    assert certificate.rate > 0
    assert certificate.rate <= vertex_rate + GROUND_TRUTH_TOLERANCE
    P = np.array(certificate.metric["P"])
    assert vertex_rate_for_metric(jacobian_set, P) >= certificate.rate - FLOAT_EVALUATION_TOLERANCE
    return certificate


ADVERSARIAL_CASES = {
    # mu_inf(W) = 1 exactly, complex eigenvalues 0.6 +- 0.4i.
    "boundary_mu_one": (np.array([[0.6, -0.4], [0.4, 0.6]]), (0, 1), "left", None),
    "boundary_mu_one_hopfield": (np.array([[0.6, -0.4], [0.4, 0.6]]), (0, 1), "right", None),
    "negative_diagonal": (np.array([[-2.0, 1.0, 0.3], [0.5, -3.0, 1.0], [0.2, -0.7, -1.0]]),
                          (0, 1), "left", None),
    "sigmoid_large_weights": (3.0 * np.array([[0.4, -1.0, 0.5], [1.2, 0.3, -0.8], [-0.2, 0.9, 0.1]]),
                              (0, Fraction(1, 4)), "right", None),
    "decreasing_activation": (np.array([[0.3, 0.8], [-0.6, 0.2]]), (-1, 0), "left", None),
    "decreasing_hopfield": (np.array([[0.9, 0.2, 0.0], [0.1, -0.5, 0.7], [0.4, 0.3, 0.2]]),
                            (-1, 0), "right", None),
    "positive_lower_slope": (np.array([[-0.5, 0.9], [-0.4, -0.2]]), (Fraction(1, 2), 1), "left", None),
    "uneven_leak": (np.array([[0.1, 2.0], [-0.3, 0.4]]), (0, 1), "right", [0.5, 3.0]),
    "zero_weights": (np.zeros((3, 3)), (0, 1), "left", [1.0, 2.0, 3.0]),
    "near_singular_rate": (np.array([[0.49, 0.5], [0.5, 0.49]]), (0, 1), "left", None),
}


@pytest.mark.parametrize("metric", ["full", "diagonal"])
@pytest.mark.parametrize("case", sorted(ADVERSARIAL_CASES))
def test_adversarial_rate_sound(case, metric):
    weights, slopes, side, leak = ADVERSARIAL_CASES[case]
    _assert_sound(box_set(weights, slopes, side, leak), metric)


def test_zero_weights_rate_is_smallest_leak():
    certificate = lmi_contraction(box_set(np.zeros((3, 3)), (0, 1), "left", [1.0, 2.0, 3.0]))
    assert certificate.status == "certified"
    assert 1.0 - 1e-3 <= certificate.rate <= 1.0


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5), side=st.sampled_from(["left", "right"]),
       slopes=st.sampled_from([(0, 1), (0, Fraction(1, 4)), (-1, 0), (Fraction(-1, 2), 1)]),
       scale=st.sampled_from([0.3, 0.7, 1.2]), metric=st.sampled_from(["full", "diagonal"]))
@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
def test_random_rate_sound(seed, n, side, slopes, scale, metric):
    rng = np.random.default_rng(seed)
    weights = scale * rng.normal(size=(n, n)) / np.sqrt(n)
    leak = rng.uniform(0.5, 2.0, n)
    _assert_sound(box_set(weights, slopes, side, leak), metric)


@pytest.mark.slow
@pytest.mark.parametrize(("n", "side", "slopes"), [
    (6, "left", (0, 1)),
    (7, "right", (-1, 0)),
    (8, "left", (0, Fraction(1, 4))),
])
@pytest.mark.parametrize("metric", ["full", "diagonal"])
def test_larger_rate_sound(n, side, slopes, metric):
    rng = np.random.default_rng(100 + n)
    weights = 0.5 * rng.normal(size=(n, n)) / np.sqrt(n)
    certificate = _assert_sound(box_set(weights, slopes, side, rng.uniform(0.5, 2.0, n)), metric)
    assert certificate.status == "certified"
