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
