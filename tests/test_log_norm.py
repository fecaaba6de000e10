"""Tests of the weighted l_inf and l_1 contraction certificates."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sps
from hypothesis import given, settings
from hypothesis import strategies as st

from ctdyn.certify._log_norm import log_norm_certificate, worst_row_values
from ctdyn.models import FiringRateNetwork, HopfieldNetwork, JacobianSet

CLOSED_FORM = 1e-9


def frn(weights, **options):
    if not sps.issparse(weights):
        weights = np.array(weights, dtype=float)
    return FiringRateNetwork(weights, **options)


# Closed forms for x' = -x + tanh(W x + u): Metzler majorants and Perron values.
def test_reference_weighted_linf_rate():
    certificate = log_norm_certificate(frn([[0.2, -0.5], [0.3, 0.1]]).jacobian_set, norm="l_inf")
    assert certificate.status == "certified"
    assert certificate.checked == "exact"
    # 1 - alpha(Metzler majorant) = 1 - (0.3 + sqrt(0.61)) / 2 = 0.4594875162
    assert certificate.rate == pytest.approx(0.4594875162, abs=CLOSED_FORM)
    # mu_inf(W) = 0.7, so the unweighted l_inf rate is 0.3.
    assert certificate.details["unweighted_rate"] == pytest.approx(0.3, abs=CLOSED_FORM)


def test_reference_weighted_l1_rate_equals_linf():
    certificate = log_norm_certificate(frn([[0.2, -0.5], [0.3, 0.1]]).jacobian_set, norm="l_1")
    assert certificate.status == "certified"
    assert certificate.rate == pytest.approx(0.4594875162, abs=CLOSED_FORM)


def test_reference_weights_needed():
    certificate = log_norm_certificate(frn([[0, 2], [0.1, 0]]).jacobian_set, norm="l_inf")
    # mu_inf(W) = 2: unweighted fails; weighted rate 1 - sqrt(0.2).
    assert certificate.details["unweighted_rate"] == pytest.approx(-1.0, abs=CLOSED_FORM)
    assert certificate.rate == pytest.approx(0.5527864045, abs=CLOSED_FORM)
    weights = np.array(certificate.metric["weights"])
    # Weights proportional to (sqrt(20), 1) with |x| = max |x_i| / eta_i.
    assert weights[0] / weights[1] == pytest.approx(np.sqrt(20), rel=1e-9)


def test_reference_symmetric_rates():
    jacobian_set = frn([[0.2, 0.6], [0.6, -0.4]]).jacobian_set
    linf = log_norm_certificate(jacobian_set, norm="l_inf")
    l1 = log_norm_certificate(jacobian_set, norm="l_1")
    # 1 - lambda_max(W) = 0.4291796068, also the optimal weighted l_inf rate.
    assert linf.rate == pytest.approx(0.4291796068, abs=CLOSED_FORM)
    # The optimal weighted l_1 rate is only 0.2917 (reference, 4 digits).
    assert l1.rate == pytest.approx(0.2917, abs=5e-5)


def test_reference_not_contracting_never_certified():
    for norm in ("l_inf", "l_1"):
        certificate = log_norm_certificate(frn([[0.5, 0.5], [0.5, 0.5]]).jacobian_set, norm=norm)
        assert certificate.status == "inconclusive"
        assert certificate.rate is None
        assert "proves no positive rate" in certificate.reason


def test_sigmoid_slope_box_scales_rate():
    # Slopes in [0, 1/4]: the worst row of -I + D W is -1 + max(r_i, 0) / 4.
    network = frn([[0.2, -0.5], [0.3, 0.1]], activation="sigmoid")
    certificate = log_norm_certificate(network.jacobian_set, norm="l_inf")
    alpha = (0.3 + np.sqrt(0.61)) / 2
    assert certificate.rate == pytest.approx(1 - alpha / 4, abs=CLOSED_FORM)


def test_decreasing_activation_uses_its_interval():
    # -tanh has slopes in [-1, 0]; D W with d = -1 flips the sign of W.
    network = frn([[0.6, 0.0], [0.0, -0.6]], activation="-tanh(x)")
    certificate = log_norm_certificate(network.jacobian_set, norm="l_inf")
    # Row 2 with d = -1: -1 + 0.6; row 1 with d = 0: -1. Rate 0.4, not 1.6.
    assert certificate.rate == pytest.approx(0.4, abs=CLOSED_FORM)


def test_fixed_unit_weights_give_unweighted_rate():
    certificate = log_norm_certificate(frn([[0.2, -0.5], [0.3, 0.1]]).jacobian_set,
                                       weights=np.ones(2))
    assert certificate.rate == pytest.approx(0.3, abs=CLOSED_FORM)


def test_interval_check_agrees_with_exact():
    rng = np.random.default_rng(3)
    weights = rng.standard_normal((30, 30)) / 60
    jacobian_set = frn(weights).jacobian_set
    exact = log_norm_certificate(jacobian_set, exact_limit=10**9)
    interval = log_norm_certificate(jacobian_set, exact_limit=0)
    assert exact.checked == "exact"
    assert interval.checked == "interval"
    assert interval.rate <= exact.rate
    assert interval.rate == pytest.approx(exact.rate, rel=1e-12)


def test_sparse_matches_dense():
    rng = np.random.default_rng(4)
    dense = rng.standard_normal((40, 40)) * (rng.random((40, 40)) < 0.1) / 8
    for exact_limit in (10**9, 0):
        sparse_cert = log_norm_certificate(frn(sps.csr_array(dense)).jacobian_set, exact_limit=exact_limit)
        dense_cert = log_norm_certificate(frn(dense).jacobian_set, exact_limit=exact_limit)
        assert sparse_cert.rate == pytest.approx(dense_cert.rate, rel=1e-9)


def spectral_abscissa(matrix):
    return float(np.max(np.linalg.eigvals(matrix).real))


def vertex_truth(jacobian_set):
    """Return min over box vertices of -alpha(J(D)): no norm can certify more."""
    return min(-spectral_abscissa(jacobian_set.at(d)) for d in jacobian_set.vertices())


def brute_force_weighted_linf(jacobian_set):
    """Return the optimal weighted l_inf rate by enumerating Metzler row choices."""
    n = jacobian_set.n
    weights = jacobian_set.dense_weights()
    low, high = float(jacobian_set.slope_min), float(jacobian_set.slope_max)
    if jacobian_set.side == "right":
        scale = max(abs(low), abs(high))
        metzler = np.abs(weights) * scale
        np.fill_diagonal(metzler, -jacobian_set.leak + np.maximum(low * np.diag(weights),
                                                                  high * np.diag(weights)))
        return -spectral_abscissa(metzler)
    worst = -np.inf
    for choice in itertools.product((low, high), repeat=n):
        slopes = np.array(choice)
        metzler = np.abs(slopes[:, None] * weights)
        np.fill_diagonal(metzler, -jacobian_set.leak + slopes * np.diag(weights))
        worst = max(worst, spectral_abscissa(metzler))
    return -worst


def random_jacobian_set(seed, n, side, slopes, diagonal_shift=0.0):
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal((n, n)) * rng.uniform(0.1, 1.0)
    weights[np.diag_indices(n)] += diagonal_shift
    leak = rng.uniform(0.5, 2.0, n)
    return JacobianSet(weights, leak, side, Fraction(slopes[0]), Fraction(slopes[1]))


SLOPE_BOXES = [(0, 1), (0, Fraction(1, 4)), (-1, 0), (-1, 1), (Fraction(1, 10), 1)]


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("slopes", SLOPE_BOXES)
def test_soundness_against_vertex_truth(side, slopes):
    for seed in range(25):
        n = 2 + seed % 4
        jacobian_set = random_jacobian_set(seed, n, side, slopes, diagonal_shift=-(seed % 3) * 0.5)
        truth = vertex_truth(jacobian_set)
        for norm in ("l_inf", "l_1"):
            certificate = log_norm_certificate(jacobian_set, norm=norm)
            if certificate.status == "certified":
                assert certificate.rate <= truth + 1e-12, (seed, norm)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("slopes", SLOPE_BOXES)
def test_weights_optimal_against_brute_force(side, slopes):
    for seed in range(15):
        n = 2 + seed % 4
        jacobian_set = random_jacobian_set(seed, n, side, slopes)
        best = brute_force_weighted_linf(jacobian_set)
        certificate = log_norm_certificate(jacobian_set, norm="l_inf")
        if best > 1e-6:
            assert certificate.status == "certified", seed
            assert certificate.rate == pytest.approx(best, abs=1e-7), seed
        else:
            assert certificate.status == "inconclusive", seed


def test_claimed_rate_matches_its_weights():
    rng = np.random.default_rng(7)
    jacobian_set = JacobianSet(rng.standard_normal((5, 5)) / 6, np.ones(5), "left", Fraction(0), Fraction(1))
    certificate = log_norm_certificate(jacobian_set, norm="l_inf")
    assert certificate.status == "certified"
    rows = worst_row_values(jacobian_set, np.array(certificate.metric["weights"]))
    assert -np.max(rows) >= certificate.rate - 1e-15


@settings(max_examples=60, deadline=None)
@given(
    entries=st.lists(st.floats(-2, 2, allow_nan=False), min_size=9, max_size=9),
    side=st.sampled_from(["left", "right"]),
    slopes=st.sampled_from(SLOPE_BOXES),
)
def test_hypothesis_never_above_spectral_truth(entries, side, slopes):
    weights = np.array(entries).reshape(3, 3)
    jacobian_set = JacobianSet(weights, np.ones(3), side, Fraction(slopes[0]), Fraction(slopes[1]))
    truth = vertex_truth(jacobian_set)
    for norm in ("l_inf", "l_1"):
        certificate = log_norm_certificate(jacobian_set, norm=norm)
        if certificate.status == "certified":
            assert certificate.rate > 0
            assert certificate.rate <= truth + 1e-12


def test_boundary_mu_equal_one_not_certified():
    # mu_inf(W) = 1 exactly: the worst row is exactly 0, so no positive rate.
    certificate = log_norm_certificate(frn([[0.5, 0.5], [0.25, 0.75]]).jacobian_set,
                                       weights=np.ones(2))
    assert certificate.status == "inconclusive"
    assert certificate.margin == 0.0


def test_reducible_majorant_gets_positive_weights():
    certificate = log_norm_certificate(frn([[0.5, 0.3], [0.0, 0.2]]).jacobian_set)
    weights = np.array(certificate.metric["weights"])
    assert np.all(weights > 0)
    assert certificate.status == "certified"
    # The infimum 1 - 0.5 is approached, not attained.
    assert 0.5 - 1e-6 < certificate.rate < 0.5


def test_hopfield_side_rate():
    # -I + W D with D in [0, 1]: Metzler matrix diag -1 + max(0, w_ii), off |w_ij|.
    network = HopfieldNetwork(np.array([[0.2, -0.5], [0.3, 0.1]]))
    certificate = log_norm_certificate(network.jacobian_set)
    assert certificate.rate == pytest.approx(1 - (0.3 + np.sqrt(0.61)) / 2, abs=CLOSED_FORM)


def test_weights_near_float_range_inconclusive():
    # 1e308 overflows the Perron vector computation; no certificate follows.
    certificate = log_norm_certificate(frn([[0.0, 1e308], [1e308, 0.0]]).jacobian_set)
    assert certificate.status == "inconclusive"
    assert "could not be computed" in certificate.reason
