"""End-to-end soundness: every certified claim against brute force and simulation.

A certified contraction rate c means |x(t) - y(t)| <= exp(-c t) |x(0) - y(0)|
in the certificate's metric, for every activation with the model's slope
bounds. Two independent challenges:

- brute force: no norm can certify more than min over the slope-box vertices
  of -alpha(J(D)) (alpha the spectral abscissa), because mu(J) >= alpha(J)
  in every norm and the box vertices are limits of attained Jacobians for
  Hopfield networks and for firing-rate networks with invertible W;
- simulation: trajectories of the actual network never beat the bound
  (ctdyn.analysis reports a contradiction, exit status 3, if they do).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdyn.analysis import analyze
from ctdyn.models import FiringRateNetwork, HopfieldNetwork

FAMILIES = {"firing_rate": FiringRateNetwork, "hopfield": HopfieldNetwork}
ACTIVATIONS = ["tanh", "sigmoid", "relu", "hardtanh", "-tanh(x)", "x/(1+abs(x))", "softplus"]


def vertex_truth(network):
    jacobian_set = network.jacobian_set
    return min(-float(np.max(np.linalg.eigvals(jacobian_set.at(d)).real))
               for d in jacobian_set.vertices())


def adversarial_weights(kind, n, rng):
    if kind == "boundary":
        # mu_inf(W) = 1 exactly: the unweighted l_inf bound is exactly 0.
        weights = rng.random((n, n))
        return weights / weights.sum(axis=1, keepdims=True)
    if kind == "negative_diagonal":
        weights = rng.standard_normal((n, n)) * 0.4
        weights[np.diag_indices(n)] = -rng.uniform(1, 3, n)
        return weights
    if kind == "reducible":
        return np.triu(rng.standard_normal((n, n)) * 0.6)
    if kind == "symmetric":
        weights = rng.standard_normal((n, n)) * 0.4
        return (weights + weights.T) / 2
    return rng.standard_normal((n, n)) * rng.uniform(0.1, 0.8)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(2, 4),
    family=st.sampled_from(sorted(FAMILIES)),
    activation=st.sampled_from(ACTIVATIONS),
    kind=st.sampled_from(["random", "boundary", "negative_diagonal", "reducible", "symmetric"]),
)
def test_certified_rates_survive_brute_force_and_simulation(seed, n, family, activation, kind):
    rng = np.random.default_rng(seed)
    weights = adversarial_weights(kind, n, rng)
    network = FAMILIES[family](weights, input=rng.standard_normal(n) * 0.5, activation=activation)
    analysis = analyze(network, methods=("log_norm_inf", "log_norm_1", "linearization"),
                       trajectories=6, seed=seed % 1000)
    truth = vertex_truth(network)
    for certificate in analysis.certificates:
        if certificate.claim == "contraction" and certificate.status == "certified":
            assert 0 < certificate.rate <= truth + 1e-9, certificate.method
        if certificate.claim == "contraction" and certificate.status == "refuted":
            assert certificate.witness is not None
    assert analysis.simulation.consistent, analysis.simulation.notes
    assert analysis.exit_status() != 3


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_refuted_and_certified_never_both(family):
    rng = np.random.default_rng(11)
    for _ in range(10):
        network = FAMILIES[family](rng.standard_normal((3, 3)), activation="tanh")
        analysis = analyze(network, methods=("log_norm_inf", "log_norm_1"), simulate=False)
        statuses = {c.status for c in analysis.certificates if c.claim == "contraction"}
        assert not {"certified", "refuted"} <= statuses
