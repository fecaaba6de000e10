"""Tests of ctdyn.simulate: the batch integrator, observed rates and energy traces."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from ctdyn.errors import CtdynWarning, InvalidModelError, SolverError
from ctdyn.models import FiringRateNetwork, HopfieldNetwork
from ctdyn.simulate import (
    ERROR_SAFETY,
    check_contraction_bound,
    check_energy_decrease,
    energy_traces,
    integrate,
    norm_distances,
    observed_contraction,
    spread_initial_states,
)
from ctdyn.simulate._integrate import _dense_output, _dormand_prince_step

RTOL = 1e-8
ATOL = 1e-10
# Global error allowed against an exact solution, in units of rtol. The linear
# systems below show about 0.2 rtol, and the rest is headroom for the
# accumulation of local errors over t_final.
GLOBAL_ERROR_FACTOR = 100.0
# The reference equilibrium digits below differ from a 30-digit root found by
# mpmath.findroot, (0.759489486723, -0.686219384066), by up to 4.1e-9, and the
# simulated state at rtol = 1e-8 adds an error of order rtol.
EQUILIBRIUM_TOLERANCE = 1e-8
# The same root, for the run at rtol = 1e-12.
EQUILIBRIUM_30_DIGITS = np.array([0.75948948672325940412, -0.68621938406552783051])

# Rotation with decay: x' = A x has |x(t)|_2 = e^{-t/2} |x(0)|_2 exactly, since
# A = -I/2 + skew-symmetric part.
DECAYING_ROTATION = np.array([[-0.5, 1.0], [-1.0, -0.5]])
# Non-normal 3x3 example with eigenvalues -0.3, -1, -2.
NON_NORMAL = np.array([[-0.3, 2.0, 0.0], [0.0, -1.0, 3.0], [0.0, 0.0, -2.0]])

# Reference firing-rate network x' = -x + tanh(W x + u) with mu_inf(W) = 0.7. Row i
# of -I + D W has measure -1 + d_i (w_ii + sum_{j != i} |w_ij|), so over slopes
# d_i in [0, 1] the worst l_inf log-norm is -1 + max(mu_inf(W), 0) and the
# unweighted l_inf contraction rate is 0.3.
REFERENCE_WEIGHTS = [[0.2, -0.5], [0.3, 0.1]]
REFERENCE_INPUT = [0.5, -1.0]
REFERENCE_RATE = 0.3
# Unique equilibrium of the reference network, given to 10 decimals but accurate
# to about 4e-9 (see EQUILIBRIUM_TOLERANCE).
REFERENCE_EQUILIBRIUM = np.array([0.7594894900, -0.6862193800])


def linear_field(matrix):
    return lambda states: states @ matrix.T


def exact_linear(matrix, x0, times):
    return np.stack([x0 @ expm(matrix * time).T for time in times])


def reference_network():
    return FiringRateNetwork(REFERENCE_WEIGHTS, input=REFERENCE_INPUT, activation="tanh")


def mu_inf(matrix):
    matrix = np.asarray(matrix)
    off_diagonal = np.abs(matrix).sum(axis=1) - np.abs(np.diag(matrix))
    return float(np.max(np.diag(matrix) + off_diagonal))


# -- integrator ----------------------------------------------------------------

@pytest.mark.parametrize("matrix", [DECAYING_ROTATION, NON_NORMAL], ids=["rotation", "non_normal"])
def test_linear_system_matches_expm(matrix):
    n = matrix.shape[0]
    x0 = spread_initial_states(n, 5, scale=2.0, seed=1)
    times = np.linspace(0.0, 10.0, 41)
    result = integrate(linear_field(matrix), x0, t_final=10.0, rtol=RTOL, atol=ATOL, t_eval=times)
    exact = exact_linear(matrix, x0, times)
    assert result.states.shape == (41, 5, n)
    np.testing.assert_array_equal(result.t, times)
    scale = ATOL + RTOL * np.abs(exact).max()
    assert np.max(np.abs(result.states - exact)) <= GLOBAL_ERROR_FACTOR * scale


def test_step_ends_match_expm_without_t_eval():
    x0 = np.array([[1.0, 0.0], [0.3, -2.0]])
    result = integrate(linear_field(DECAYING_ROTATION), x0, t_final=10.0)
    assert result.t[0] == 0.0
    assert result.t[-1] == 10.0
    assert len(result.t) == result.steps + 1
    exact = exact_linear(DECAYING_ROTATION, x0, result.t)
    assert np.max(np.abs(result.states - exact)) <= GLOBAL_ERROR_FACTOR * RTOL * 2


def test_agrees_with_solve_ivp_rk45():
    network = reference_network()
    times = np.linspace(0.0, 20.0, 101)
    x0 = np.array([1.0, -2.0])
    ours = integrate(network.vector_field, x0, t_final=20.0, rtol=RTOL, atol=ATOL, t_eval=times)
    scipy_result = solve_ivp(lambda t, y: network.vector_field(y), (0.0, 20.0), x0,
                             method="RK45", rtol=RTOL, atol=ATOL, t_eval=times)
    assert scipy_result.success
    np.testing.assert_allclose(ours.states[:, 0, :], scipy_result.y.T, rtol=0, atol=1e-9)


def test_step_counts_match_solve_ivp_rk45():
    # Same tableau, error norm, controller and starting step, so a batch of one
    # takes the steps of scipy's RK45 (observed: identical counts, scipy 1.17).
    network = reference_network()
    x0 = np.array([1.0, 1.0])
    ours = integrate(network.vector_field, x0, t_final=20.0, rtol=RTOL, atol=ATOL)
    scipy_result = solve_ivp(lambda t, y: network.vector_field(y), (0.0, 20.0), x0,
                             method="RK45", rtol=RTOL, atol=ATOL)
    assert abs(ours.steps - (len(scipy_result.t) - 1)) <= 2
    assert abs(ours.evaluations - scipy_result.nfev) <= 12


def test_error_decreases_with_rtol():
    x0 = spread_initial_states(3, 4, seed=2)
    times = np.linspace(0.0, 8.0, 17)
    exact = exact_linear(NON_NORMAL, x0, times)
    errors = []
    for rtol in (1e-4, 1e-6, 1e-8, 1e-10):
        result = integrate(linear_field(NON_NORMAL), x0, t_final=8.0, rtol=rtol,
                           atol=rtol * 1e-2, t_eval=times)
        errors.append(np.max(np.abs(result.states - exact)))
        assert errors[-1] <= GLOBAL_ERROR_FACTOR * rtol * np.abs(exact).max()
    assert all(later < earlier for earlier, later in zip(errors, errors[1:]))
    # Tolerance proportionality: 6 decades of rtol buy at least 4 decades of error.
    assert errors[0] / errors[-1] >= 1e4


def test_step_and_dense_output_orders():
    # Local error of the 5th-order step is O(h^6), of the 4th-order continuous
    # extension O(h^5): halving h divides them by about 64 and 32.
    x = np.array([[1.0, 0.5]])
    field = linear_field(DECAYING_ROTATION)
    step_errors, dense_errors = [], []
    for step in (0.2, 0.1, 0.05):
        stages, new_states, _ = _dormand_prince_step(field, x, field(x), step)
        middle = _dense_output(np.array([0.5]), x, new_states, stages, step)[0]
        step_errors.append(np.max(np.abs(new_states - x @ expm(DECAYING_ROTATION * step).T)))
        dense_errors.append(np.max(np.abs(middle - x @ expm(DECAYING_ROTATION * step / 2).T)))
    step_order = np.log2(step_errors[1] / step_errors[2]) - 1
    dense_order = np.log2(dense_errors[0] / dense_errors[1]) - 1
    assert step_order == pytest.approx(5.0, abs=0.3)
    assert dense_order == pytest.approx(4.0, abs=0.3)


def test_dense_output_matches_step_ends():
    x = np.array([[1.0, 0.5], [-0.2, 0.7]])
    field = linear_field(DECAYING_ROTATION)
    stages, new_states, _ = _dormand_prince_step(field, x, field(x), 0.3)
    ends = _dense_output(np.array([0.0, 1.0]), x, new_states, stages, 0.3)
    np.testing.assert_allclose(ends[0], x, rtol=0, atol=1e-15)
    np.testing.assert_allclose(ends[1], new_states, rtol=0, atol=1e-15)


def test_batch_of_copies_matches_single_trajectory():
    network = reference_network()
    x0 = np.array([-1.5, 2.0])
    times = np.linspace(0.0, 15.0, 31)
    single = integrate(network.vector_field, x0, t_final=15.0, t_eval=times)
    copies = integrate(network.vector_field, np.tile(x0, (6, 1)), t_final=15.0, t_eval=times)
    assert single.states.shape == (31, 1, 2)
    for index in range(6):
        np.testing.assert_allclose(copies.states[:, index], single.states[:, 0], rtol=0, atol=1e-12)


def test_batch_matches_trajectories_integrated_alone():
    network = reference_network()
    x0 = spread_initial_states(2, 6, scale=3.0, seed=4)
    times = np.linspace(0.0, 15.0, 31)
    batch = integrate(network.vector_field, x0, t_final=15.0, t_eval=times)
    for index in range(6):
        alone = integrate(network.vector_field, x0[index], t_final=15.0, t_eval=times)
        np.testing.assert_allclose(batch.states[:, index], alone.states[:, 0], rtol=0,
                                   atol=GLOBAL_ERROR_FACTOR * (ATOL + RTOL * 3.0))


def test_statistics_and_error_sums():
    result = integrate(linear_field(NON_NORMAL), spread_initial_states(3, 3), t_final=5.0)
    assert result.stats == {"steps": result.steps, "rejected": result.rejected,
                            "evaluations": result.evaluations}
    # FSAL: six new evaluations per attempted step, plus f(x0) and the starting-step probe.
    assert result.evaluations == 6 * (result.steps + result.rejected) + 2
    assert result.rtol == RTOL
    assert result.atol == ATOL
    assert result.local_error_sums.shape == (len(result.t), 3, 3)
    np.testing.assert_array_equal(result.local_error_sums[0], 0.0)
    assert np.all(np.diff(result.local_error_sums, axis=0) >= 0)
    # l_inf <= l_2 <= l_1 holds for each step's norms, so for their sums too.
    sums = result.local_error_sums[-1]
    assert np.all(sums[:, 2] <= sums[:, 1])
    assert np.all(sums[:, 1] <= sums[:, 0])


def test_t_eval_inside_interval_only():
    times = np.array([0.5, 1.0, 2.5])
    result = integrate(linear_field(DECAYING_ROTATION), [[1.0, 0.0]], t_final=3.0, t_eval=times)
    np.testing.assert_array_equal(result.t, times)
    exact = exact_linear(DECAYING_ROTATION, np.array([[1.0, 0.0]]), times)
    assert np.max(np.abs(result.states - exact)) <= GLOBAL_ERROR_FACTOR * RTOL


def test_progress_reports_fractions():
    fractions = []
    integrate(linear_field(NON_NORMAL), spread_initial_states(3, 2), t_final=200.0,
              progress=fractions.append)
    assert len(fractions) >= 2
    assert fractions[-1] == 1.0
    assert all(0.0 <= value <= 1.0 for value in fractions)
    assert all(later >= earlier for earlier, later in zip(fractions, fractions[1:]))


def test_progress_logged_at_debug(caplog):
    with caplog.at_level(logging.DEBUG, logger="ctdyn.simulate._integrate"):
        integrate(linear_field(NON_NORMAL), spread_initial_states(3, 2), t_final=200.0)
    messages = [record.getMessage() for record in caplog.records]
    assert any("of 200" in message for message in messages)
    assert any("integration done" in message for message in messages)


@pytest.mark.parametrize("x0, pattern", [
    ([[1.0, np.nan]], "invalid x0: expected finite numbers"),
    ([[[1.0]]], r"invalid x0: expected a non-empty array of shape \(batch, n\)"),
    (np.zeros((0, 2)), "invalid x0"),
    ("abc", "invalid x0"),
])
def test_invalid_initial_states_rejected(x0, pattern):
    with pytest.raises(InvalidModelError, match=pattern):
        integrate(linear_field(DECAYING_ROTATION), x0, t_final=1.0)


@pytest.mark.parametrize("options, pattern", [
    ({"t_final": 0.0}, "invalid t_final"),
    ({"t_final": -1.0}, "invalid t_final"),
    ({"t_final": math.inf}, "invalid t_final"),
    ({"t_final": math.nan}, "invalid t_final"),
    ({"t_final": 1.0, "rtol": 0.0}, "invalid rtol"),
    ({"t_final": 1.0, "rtol": 1e-20}, "invalid rtol"),
    ({"t_final": 1.0, "atol": -1.0}, "invalid atol"),
    ({"t_final": 1.0, "max_steps": 0}, "invalid max_steps"),
    ({"t_final": 1.0, "max_steps": 2.5}, "invalid max_steps"),
    ({"t_final": 1.0, "t_eval": [0.0, 2.0]}, "invalid t_eval"),
    ({"t_final": 1.0, "t_eval": [0.5, 0.2]}, "invalid t_eval: expected strictly increasing"),
    ({"t_final": 1.0, "t_eval": []}, "invalid t_eval"),
])
def test_invalid_options_rejected(options, pattern):
    with pytest.raises(InvalidModelError, match=pattern):
        integrate(linear_field(DECAYING_ROTATION), [[1.0, 0.0]], **options)


def test_vector_field_shape_checked():
    with pytest.raises(InvalidModelError, match=r"invalid vector_field.*shape \(1, 2\)"):
        integrate(lambda states: states[:, :1], [[1.0, 0.0]], t_final=1.0)


def test_blow_up_names_time():
    # x' = x^2, x(0) = 1 has x(t) = 1 / (1 - t), which blows up at t = 1.
    with pytest.raises(SolverError, match=r"step size fell .* at t = (1|0\.99)"):
        integrate(lambda states: states**2, [[1.0]], t_final=2.0)


def test_non_finite_state_names_time():
    # x' = 1 from 0 reaches x = 2 at t = 2, where the field turns NaN.
    def field(states):
        return np.where(states > 2.0, np.nan, np.ones_like(states))

    with pytest.raises(SolverError, match=r"non-finite just after t = (2|1\.99)"):
        integrate(field, [[0.0]], t_final=5.0)


def test_non_finite_initial_derivative_rejected():
    with pytest.raises(SolverError, match="non-finite values at t = 0"):
        integrate(lambda states: np.full_like(states, np.nan), [[-1.0]], t_final=1.0)


def test_max_steps_exhausted():
    with pytest.raises(SolverError, match="max_steps = 10"):
        integrate(linear_field(NON_NORMAL), spread_initial_states(3, 2), t_final=100.0,
                  max_steps=10)


# -- initial states --------------------------------------------------------------

def test_spread_initial_states_layout():
    states = spread_initial_states(4, 10, scale=2.0, seed=3, center=[1.0, 0.0, -1.0, 0.5])
    center = np.array([1.0, 0.0, -1.0, 0.5])
    assert states.shape == (10, 4)
    np.testing.assert_array_equal(states[0], center + 2.0)
    np.testing.assert_array_equal(states[1], center - 2.0)
    assert np.all(np.abs(states - center) <= 2.0)
    assert len({tuple(row) for row in states}) == 10


def test_spread_initial_states_deterministic():
    first = spread_initial_states(5, 20, seed=7)
    np.testing.assert_array_equal(first, spread_initial_states(5, 20, seed=7))
    assert not np.array_equal(first[2:], spread_initial_states(5, 20, seed=8)[2:])


def test_spread_initial_states_cover_orthants():
    states = spread_initial_states(2, 400, seed=0)[2:]
    orthants = {tuple(np.sign(row)) for row in states}
    assert orthants == {(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)}


@pytest.mark.parametrize("arguments, pattern", [
    ({"n": 0, "count": 3}, "invalid n"),
    ({"n": 2, "count": 0}, "invalid count"),
    ({"n": 2, "count": 3, "scale": -1.0}, "invalid scale"),
    ({"n": 2, "count": 3, "center": [0.0]}, "invalid center"),
])
def test_spread_initial_states_invalid(arguments, pattern):
    with pytest.raises(InvalidModelError, match=pattern):
        spread_initial_states(**arguments)


# -- distances -------------------------------------------------------------------

@pytest.mark.parametrize("metric, expected", [
    ({"norm": "l_inf", "weights": [2.0, 1.0, 4.0]}, 3.0),      # max(3/2, 2/1, 12/4)
    ({"norm": "l_1", "weights": [2.0, 1.0, 4.0]}, 6.5),        # 3/2 + 2 + 3
    ({"norm": "l_inf"}, 12.0),
    ({"norm": "l_2"}, math.sqrt(9 + 4 + 144)),
    ({"norm": "quadratic", "P": [[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.25]]},
     math.sqrt(2 * 9 + 4 + 0.25 * 144)),
])
def test_norm_distances_by_hand(metric, expected):
    a = np.array([3.0, 0.0, 12.0])
    b = np.array([0.0, 2.0, 0.0])
    assert norm_distances(a, b, metric) == pytest.approx(expected, rel=1e-15)


def test_norm_distances_broadcast():
    states = np.arange(12.0).reshape(2, 3, 2)
    distances = norm_distances(states, np.zeros(2), {"norm": "l_1"})
    assert distances.shape == (2, 3)
    np.testing.assert_array_equal(distances, np.abs(states).sum(axis=-1))


def test_norm_distances_quadratic_off_diagonal():
    matrix = np.array([[2.0, 1.0], [1.0, 3.0]])
    vector = np.array([1.0, -2.0])
    expected = math.sqrt(vector @ matrix @ vector)
    assert norm_distances(vector, np.zeros(2), {"norm": "quadratic", "P": matrix}) == \
        pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("metric, pattern", [
    ({"norm": "l_3"}, "invalid metric.norm"),
    ("l_2", "invalid metric.norm"),
    ({"norm": "l_inf", "weights": [1.0, -1.0]}, "invalid metric.weights"),
    ({"norm": "l_1", "weights": [1.0]}, "invalid metric.weights"),
    ({"norm": "quadratic"}, "invalid metric.P"),
    ({"norm": "quadratic", "P": [[1.0, 0.5], [0.0, 1.0]]}, "expected a symmetric matrix"),
    ({"norm": "quadratic", "P": [[1.0, 2.0], [2.0, 1.0]]}, "expected a positive definite"),
])
def test_invalid_metric_rejected(metric, pattern):
    with pytest.raises(InvalidModelError, match=pattern):
        norm_distances(np.ones(2), np.zeros(2), metric)


# -- contraction -----------------------------------------------------------------

@pytest.fixture(scope="module")
def reference_trajectories():
    x0 = spread_initial_states(2, 8, scale=2.0, seed=0)
    return integrate(reference_network().vector_field, x0, t_final=20.0)


def test_reference_network_observed_rate(reference_trajectories):
    observation = observed_contraction(reference_trajectories, {"norm": "l_inf", "weights": [1, 1]})
    assert len(observation.pairs) == 28
    assert observation.skipped_pairs == 0
    assert observation.rate >= REFERENCE_RATE
    assert observation.fitted_rate >= REFERENCE_RATE
    check = check_contraction_bound(observation, REFERENCE_RATE)
    assert check.consistent
    assert check.points_checked > 1000


def test_reference_network_converges_to_equilibrium():
    x0 = spread_initial_states(2, 8, scale=2.0, seed=0)
    result = integrate(reference_network().vector_field, x0, t_final=40.0,
                       t_eval=np.linspace(0.0, 40.0, 81))
    np.testing.assert_allclose(result.final_states, np.tile(REFERENCE_EQUILIBRIUM, (8, 1)),
                               rtol=0, atol=EQUILIBRIUM_TOLERANCE)
    # The equilibrium is a trajectory too, so the certified rate bounds the
    # approach to it: |x(t) - x*| <= e^{-0.3 t} |x(0) - x*| in l_inf.
    distances = norm_distances(result.states, REFERENCE_EQUILIBRIUM, {"norm": "l_inf"})
    bound = np.exp(-REFERENCE_RATE * result.t)[:, None] * distances[0][None, :]
    assert np.all(distances <= bound + EQUILIBRIUM_TOLERANCE)


def test_reference_equilibrium_at_tight_tolerance():
    x0 = spread_initial_states(2, 4, scale=2.0, seed=0)
    result = integrate(reference_network().vector_field, x0, t_final=40.0, rtol=1e-12,
                       atol=1e-14)
    np.testing.assert_allclose(result.final_states, np.tile(EQUILIBRIUM_30_DIGITS, (4, 1)),
                               rtol=0, atol=1e-11)


def test_reference_network_false_claim_detected(reference_trajectories):
    observation = observed_contraction(reference_trajectories, {"norm": "l_inf"})
    # Twice the certified rate is false for this network: with these initial
    # states some pair contracts slower than 0.6 in l_inf early on (near t = 0.13).
    assert not check_contraction_bound(observation, 2 * REFERENCE_RATE).consistent
    # Twice the observed final-time rate is beaten by the pair that attains it.
    check = check_contraction_bound(observation, 2 * observation.rate)
    assert not check.consistent
    assert check.worst_excess > check.tolerance


def test_exact_rate_consistent_and_larger_rejected():
    # |x(t) - y(t)|_2 = e^{-t/2} |x(0) - y(0)|_2 exactly: the claim c = 0.5 is
    # tight, so only the error allowance keeps it consistent.
    x0 = spread_initial_states(2, 6, seed=3)
    result = integrate(linear_field(DECAYING_ROTATION), x0, t_final=30.0)
    observation = observed_contraction(result, {"norm": "l_2"})
    assert observation.rate == pytest.approx(0.5, abs=1e-6)
    assert observation.fitted_rate == pytest.approx(0.5, abs=1e-6)
    assert check_contraction_bound(observation, 0.5).consistent
    assert not check_contraction_bound(observation, 0.51).consistent
    assert not check_contraction_bound(observation, 1.0).consistent


def test_quadratic_metric_exact_rate():
    # x' = T^{-1} A T x with A the decaying rotation: |T x(t)|_2 = e^{-t/2} |T x(0)|_2,
    # so in the metric P = T^T T the rate is exactly 0.5.
    transform = np.array([[2.0, 1.0], [0.0, 0.5]])
    matrix = np.linalg.solve(transform, DECAYING_ROTATION @ transform)
    metric = {"norm": "quadratic", "P": (transform.T @ transform).tolist()}
    result = integrate(linear_field(matrix), spread_initial_states(2, 5, seed=5), t_final=25.0)
    observation = observed_contraction(result, metric)
    assert observation.rate == pytest.approx(0.5, abs=1e-6)
    assert check_contraction_bound(observation, 0.5).consistent
    assert not check_contraction_bound(observation, 0.55).consistent
    # In the plain Euclidean norm the same flow is not contracting at rate 0.5.
    assert not check_contraction_bound(observed_contraction(result, {"norm": "l_2"}), 0.5).consistent


def test_floor_skips_pairs_that_start_together():
    x0 = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    result = integrate(linear_field(DECAYING_ROTATION), x0, t_final=5.0)
    observation = observed_contraction(result, {"norm": "l_2"})
    assert observation.skipped_pairs == 1
    assert not observation.valid[:, 0].any()
    assert np.isnan(observation.log_ratios[:, 0]).all()
    assert check_contraction_bound(observation, 0.5).consistent


def test_floor_cuts_off_converged_pairs():
    # Distances shrink like e^{-t/2} from about 1, so by t = 60 (e^{-30} = 1e-13)
    # every pair is below its floor, which is of order atol.
    result = integrate(linear_field(DECAYING_ROTATION), spread_initial_states(2, 4, seed=1),
                       t_final=60.0)
    observation = observed_contraction(result, {"norm": "l_2"})
    assert not observation.valid[-1].any()
    assert observation.valid[0].all()
    assert observation.rate_time < 60.0
    assert observation.rate == pytest.approx(0.5, abs=1e-4)


@pytest.mark.parametrize("metric", [
    {"norm": "l_inf", "weights": [0.5, 2.0]},
    {"norm": "l_1", "weights": [0.5, 2.0]},
    {"norm": "quadratic", "P": [[4.0, 1.0], [1.0, 1.0]]},
])
def test_error_bounds_follow_documented_formula(metric):
    # epsilon_b(t) = ERROR_SAFETY * beta(S_b(t)) + |atol + rtol |x_b(t)||, with beta
    # the l_inf (l_1) sum over the smallest weight, or sqrt(lambda_max(P)) times
    # the l_2 sum.
    result = integrate(linear_field(NON_NORMAL[:2, :2]), spread_initial_states(2, 3, seed=6),
                       t_final=10.0)
    observation = observed_contraction(result, metric)
    sums = result.local_error_sums
    if metric["norm"] == "quadratic":
        factor = math.sqrt(np.linalg.eigvalsh(np.array(metric["P"]))[-1])
        accumulated = factor * sums[..., 1]
        scale = factor * np.linalg.norm(RTOL * np.abs(result.states) + ATOL, axis=-1)
    else:
        column = 2 if metric["norm"] == "l_inf" else 0
        accumulated = sums[..., column] / 0.5
        scale = norm_distances(RTOL * np.abs(result.states) + ATOL, 0.0, metric)
    per_state = ERROR_SAFETY * accumulated + scale
    for index, (first, second) in enumerate(observation.pairs):
        np.testing.assert_allclose(observation.error_bounds[:, index],
                                   per_state[:, first] + per_state[:, second], rtol=1e-12)


def test_vacuous_check_warns():
    x0 = np.array([[1.0, 0.0], [1.0, 0.0]])
    result = integrate(linear_field(DECAYING_ROTATION), x0, t_final=1.0)
    observation = observed_contraction(result, {"norm": "l_2"})
    with pytest.warns(CtdynWarning, match="vacuous"):
        check = check_contraction_bound(observation, 0.5)
    assert check.points_checked == 0
    assert math.isnan(observation.rate)


def test_pair_sample_is_seeded_subset():
    x0 = spread_initial_states(2, 70, seed=2)
    result = integrate(linear_field(DECAYING_ROTATION), x0, t_final=2.0)
    first = observed_contraction(result, {"norm": "l_2"}, max_pairs=100, seed=4)
    again = observed_contraction(result, {"norm": "l_2"}, max_pairs=100, seed=4)
    other = observed_contraction(result, {"norm": "l_2"}, max_pairs=100, seed=5)
    assert first.pairs.shape == (100, 2)
    assert len({tuple(pair) for pair in first.pairs}) == 100
    assert np.all(first.pairs[:, 0] < first.pairs[:, 1])
    assert np.all(first.pairs[:, 1] < 70)
    np.testing.assert_array_equal(first.pairs, again.pairs)
    assert not np.array_equal(first.pairs, other.pairs)
    expected = norm_distances(x0[first.pairs[:, 0]], x0[first.pairs[:, 1]], {"norm": "l_2"})
    np.testing.assert_allclose(first.distances[0], expected, rtol=1e-15)


def test_check_rejects_invalid_arguments(reference_trajectories):
    observation = observed_contraction(reference_trajectories, {"norm": "l_inf"})
    with pytest.raises(InvalidModelError, match="invalid rate"):
        check_contraction_bound(observation, math.nan)
    with pytest.raises(InvalidModelError, match="invalid tolerance"):
        check_contraction_bound(observation, 0.3, tolerance=-1.0)
    with pytest.raises(InvalidModelError, match="invalid trajectories"):
        observed_contraction(integrate(linear_field(DECAYING_ROTATION), [[1.0, 0.0]],
                                       t_final=1.0), {"norm": "l_2"})


def test_check_result_serializes(reference_trajectories):
    observation = observed_contraction(reference_trajectories, {"norm": "l_inf"})
    record = check_contraction_bound(observation, REFERENCE_RATE).to_dict()
    assert record["consistent"] is True
    assert record["rate"] == REFERENCE_RATE
    assert isinstance(record["pair"], list)
    assert observation.to_dict()["observed_rate"] == observation.rate


@st.composite
def contracting_weights(draw):
    """3x3 weights scaled so that mu_inf(W) < 1, with inputs and a spread."""
    weights = draw(hnp.arrays(np.float64, (3, 3), elements=st.floats(-2.0, 2.0)))
    target = draw(st.floats(0.05, 0.98))
    measure = mu_inf(weights)
    if measure > target:
        weights = weights * (target / measure)
    inputs = draw(hnp.arrays(np.float64, (3,), elements=st.floats(-2.0, 2.0)))
    scale = draw(st.floats(0.1, 4.0))
    seed = draw(st.integers(0, 2**16))
    return weights, inputs, scale, seed


@settings(max_examples=40, deadline=None)
@given(contracting_weights())
def test_certified_unweighted_rate_never_beaten(case):
    weights, inputs, scale, seed = case
    network = FiringRateNetwork(weights, input=inputs, activation="tanh")
    rate = 1.0 - max(mu_inf(weights), 0.0)
    x0 = spread_initial_states(3, 6, scale=scale, seed=seed)
    result = integrate(network.vector_field, x0, t_final=15.0)
    check = check_contraction_bound(observed_contraction(result, {"norm": "l_inf"}), rate)
    assert check.consistent, check


# -- energy ----------------------------------------------------------------------

def hopfield_energy(weights, inputs):
    r"""Return the graded-response Hopfield energy in the states x of x' = -x + W tanh(x) + u.

    With V = tanh(x): E = -V^T W V / 2 - u^T V + sum_i int_0^{V_i} artanh(v) dv,
    and int_0^V artanh = V artanh(V) + log(1 - V^2) / 2 = x tanh(x) - log cosh(x).
    For symmetric W, dE/dt = -sum_i tanh'(x_i) (x_i')^2 <= 0.
    """
    def energy(states):
        rates = np.tanh(states)
        log_cosh = np.logaddexp(states, -states) - math.log(2.0)
        quadratic = np.einsum("bi,ij,bj->b", rates, weights, rates)
        return -0.5 * quadratic - rates @ inputs + np.sum(states * rates - log_cosh, axis=1)

    return energy


@pytest.fixture(scope="module")
def hopfield_case():
    generator = np.random.default_rng(12)
    patterns = np.sign(generator.normal(size=(3, 12)))
    weights = patterns.T @ patterns / 12
    np.fill_diagonal(weights, 0.0)
    inputs = 0.1 * generator.normal(size=12)
    network = HopfieldNetwork(weights, input=inputs, activation="tanh")
    x0 = spread_initial_states(12, 6, scale=2.0, seed=9)
    result = integrate(network.vector_field, x0, t_final=20.0, t_eval=np.linspace(0, 20, 401))
    return result, hopfield_energy(weights, inputs)


def test_hopfield_energy_decreases(hopfield_case):
    result, energy = hopfield_case
    trace = energy_traces(result, energy)
    assert trace.energies.shape == (401, 6)
    np.testing.assert_allclose(trace.energies[0], energy(result.states[0]), rtol=1e-15)
    check = check_energy_decrease(trace)
    assert check.consistent
    assert check.max_increase <= check.allowed
    # The energy really moves: the first and last values differ by far more
    # than the allowance.
    assert np.all(trace.energies[0] - trace.energies[-1] > 1e3 * check.allowed)


def test_increasing_energy_detected(hopfield_case):
    result, energy = hopfield_case
    check = check_energy_decrease(energy_traces(result, lambda states: -energy(states)))
    assert not check.consistent
    assert check.max_increase > check.allowed
    assert 0 <= check.trajectory < 6
    assert check.to_dict()["consistent"] is False


def test_energy_value_shape_checked(hopfield_case):
    result, _ = hopfield_case
    with pytest.raises(InvalidModelError, match="invalid energy_value"):
        energy_traces(result, lambda states: states)
    with pytest.raises(InvalidModelError, match="finite energies"):
        energy_traces(result, lambda states: np.full(len(states), np.inf))
