"""Tests of the analysis pipeline's handling of diverging simulations."""

from ctdyn.analysis import analyze
from ctdyn.models import FiringRateNetwork


def test_diverging_network_is_an_observation():
    # x' = -x + tanh(3.4 x) + 1.7 x grows without bound: the energy is certified
    # (symmetric W, increasing activation) but overflows along trajectories.
    network = FiringRateNetwork([[3.4]], activation="tanh(x)+0.5*x")
    analysis = analyze(network, methods=["energy"])
    assert analysis.claim_status("energy_decrease") == "certified"
    assert analysis.exit_status() == 0
    assert any("energy not evaluated" in note for note in analysis.simulation.notes)
    assert analysis.simulation.energy_consistent is None


# -- repeated checks before a contradiction ------------------------------------------

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ctdyn.analysis import Analysis, _simulate  # noqa: E402
from ctdyn.certify._certificate import Certificate  # noqa: E402


def _claimed(rate: float) -> Certificate:
    return Certificate(method="log_norm_inf", claim="contraction", status="certified", rate=rate,
                       metric={"norm": "l_inf", "weights": [1.0, 1.0]}, checked="exact",
                       margin=rate)


@pytest.mark.parametrize("claimed", [3.0, 0.6])
def test_false_rate_stays_contradicted_after_refinement(claimed):
    # x' = -x + tanh(W x) with W = 0.5 I has Jacobian -I + 0.5 diag(tanh'), so
    # near x = 0 two trajectories approach at rate 0.5, never faster than 1: a
    # claimed rate of 3 or 0.6 must be caught even after the offending pair is
    # integrated again at tighter tolerances.
    network = FiringRateNetwork(0.5 * np.eye(2))
    analysis = Analysis(network, [_claimed(claimed)])
    analysis.simulation = _simulate(analysis, trajectories=4, t_final=10.0, seed=0)
    assert analysis.simulation.consistent is False
    assert analysis.simulation.worst_excess > analysis.simulation.tolerance
    assert analysis.exit_status() == 3


def test_true_rate_at_kinks_is_consistent():
    # hardtanh has kinks at +-1; with W = [[-1.19, -0.44], [-0.85, -3.17]] and the
    # input below, the trajectories cross them. The exactly checked weighted
    # l_1 rate must survive the simulation (the first run may need the refined
    # repetition, which then adds a note).
    weights = [[-1.1935395655411423, -0.4410367958970066],
               [-0.8479445975129292, -3.1652873465928915]]
    network = FiringRateNetwork(weights, input=[-0.9961982252587098, 0.6211746977751504],
                                activation="hardtanh")
    for seed in (3, 47, 91):
        analysis = analyze(network, methods=["log_norm_1"], trajectories=6, seed=seed)
        assert analysis.claim_status("contraction") == "certified"
        assert analysis.simulation.consistent, analysis.simulation.notes


def test_energy_with_cancelling_primitive_is_consistent():
    # phi(s) = s - tanh(s) has G(s) = s**2/2 - s tanh(s) + s - log(1 + tanh(s)),
    # whose terms of order s cancel to G ~ s**4 / 4 near 0. Evaluated in that
    # closed form the energy of this network rose by rounding noise and gave a
    # false contradiction; G must come from quadrature instead.
    network = FiringRateNetwork([[-0.01685]], activation="x-tanh(x)", leak=0.8422)
    analysis = analyze(network, methods=["energy"])
    assert analysis.claim_status("energy_decrease") == "certified"
    assert analysis.simulation.energy_consistent is True
    from ctdyn.symbolic import energy_function

    primitive = energy_function(network).primitive
    s = np.array([1e-3, -2e-3])
    # G(s) = s^2 * int_0^1 t tanh(s t)^2 dt = s^4/4 - s^6/9 + ... near 0.
    expected = s**4 / 4 - s**6 / 9
    assert np.allclose(primitive.numeric(s), expected, rtol=1e-6, atol=0)


def test_certify_and_simulate_start_from_the_same_states():
    from ctdyn.analysis import initial_states

    network = FiringRateNetwork([[0.2, -0.5], [0.3, 0.1]], input=[0.5, -1.0])
    analysis = analyze(network, methods=["log_norm_inf", "linearization"], trajectories=5,
                       seed=11)
    assert np.array_equal(analysis.simulation.states[0], initial_states(network, 5, seed=11))
    assert not np.array_equal(initial_states(network, 5, seed=11),
                              initial_states(network, 5, seed=12))
