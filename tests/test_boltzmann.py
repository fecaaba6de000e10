"""Tests of the Boltzmann-machine family: exact statistics, sampling, mean field, learning."""

from __future__ import annotations

import itertools
import pathlib
import json
import math

import numpy as np
import pytest

from ctdyn.boltzmann import (
    MAX_EXACT_UNITS,
    BoltzmannMachine,
    HopfieldParameters,
    RestrictedBoltzmannMachine,
    boltzmann_gradient,
    ep_gradient,
    exact_gradient,
    exact_statistics,
    fit_boltzmann,
    gibbs_sample,
    log_likelihood,
    mean_field_certificate,
    mean_field_network,
    parallel_tempering,
    pseudo_likelihood,
    rbm_from_sklearn,
    reconstruction_error,
    settle,
    train_rbm,
)
from ctdyn.boltzmann._equilibrium_propagation import cost
from ctdyn.certify._log_norm import log_norm_certificate
from ctdyn.cli import main
from ctdyn.errors import InvalidModelError
from ctdyn.simulate import integrate

# Gibbs and parallel-tempering marginals must lie within this many standard
# errors (from independent chains) of the exact ones, plus an absolute floor
# for the error of the standard-error estimate itself.
SAMPLING_STANDARD_ERRORS = 5.0
SAMPLING_FLOOR = 5e-3


def random_machine(n, *, scale=1.0, seed=0, states="pm1", temperature=1.0):
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, scale / math.sqrt(n), size=(n, n))
    weights = np.triu(weights, 1)
    weights = weights + weights.T
    return BoltzmannMachine(weights, bias=rng.normal(0.0, 0.3, size=n),
                            temperature=temperature, states=states)


def brute_force(model):
    values = (-1.0, 1.0) if model.states == "pm1" else (0.0, 1.0)
    states = np.array(list(itertools.product(values, repeat=model.n)))
    exponents = -model.energy(states) / model.temperature
    peak = exponents.max()
    weights = np.exp(exponents - peak)
    total = weights.sum()
    correlations = (states * weights[:, None]).T @ states / total
    return peak + math.log(total), weights @ states / total, correlations


def ring(n, coupling):
    weights = np.zeros((n, n))
    for i in range(n):
        weights[i, (i + 1) % n] = weights[(i + 1) % n, i] = coupling
    return weights


# -- exact enumeration -------------------------------------------------------------


def test_dimer_log_partition():
    # Two +-1 spins with coupling J: Z = 2 e^{J/T} + 2 e^{-J/T} = 4 cosh(J/T).
    model = BoltzmannMachine([[0.0, 0.8], [0.8, 0.0]], temperature=0.5)
    assert exact_statistics(model).log_partition == pytest.approx(math.log(4 * math.cosh(1.6)),
                                                                  rel=1e-14)


def test_ising_ring_transfer_matrix():
    # Periodic Ising chain at zero field, by the transfer matrix (Baxter,
    # Exactly Solved Models in Statistical Mechanics, 1982, section 2.1):
    # Z = (2 cosh K)^n + (2 sinh K)^n with K = J / T.
    n, coupling, temperature = 12, 0.7, 1.3
    model = BoltzmannMachine(ring(n, coupling), temperature=temperature)
    k = coupling / temperature
    expected = math.log((2 * math.cosh(k)) ** n + (2 * math.sinh(k)) ** n)
    result = exact_statistics(model)
    assert result.log_partition == pytest.approx(expected, rel=1e-13)
    assert np.allclose(result.marginals, 0.0, atol=1e-13)


@pytest.mark.parametrize("states", ["pm1", "01"])
def test_enumeration_matches_brute_force(states):
    model = random_machine(18, scale=2.0, seed=3, states=states, temperature=0.8)
    log_partition, marginals, correlations = brute_force(model)
    result = exact_statistics(model, correlations=True)
    assert result.log_partition == pytest.approx(log_partition, rel=1e-12)
    assert np.allclose(result.marginals, marginals, atol=1e-12)
    assert np.allclose(result.correlations, correlations, atol=1e-12)
    assert result.states_visited == 2**18


def test_enumeration_is_stable_at_low_temperature():
    # Exponents of order 1e4 overflow exp() without the running log-sum-exp.
    model = random_machine(10, scale=3.0, seed=4, temperature=1e-3)
    log_partition, marginals, _ = brute_force(model)
    result = exact_statistics(model)
    assert math.isfinite(result.log_partition)
    assert result.log_partition == pytest.approx(log_partition, rel=1e-12)
    assert np.allclose(result.marginals, marginals, atol=1e-9)


@pytest.mark.parametrize("states,shape", [("pm1", (5, 3)), ("01", (3, 6))])
def test_rbm_matches_full_machine(states, shape):
    rng = np.random.default_rng(7)
    rbm = RestrictedBoltzmannMachine(rng.normal(size=shape), visible_bias=rng.normal(size=shape[0]),
                                     hidden_bias=rng.normal(size=shape[1]), temperature=0.7,
                                     states=states)
    summed = exact_statistics(rbm, correlations=True)
    full = exact_statistics(rbm.as_boltzmann_machine(), correlations=True)
    assert summed.log_partition == pytest.approx(full.log_partition, rel=1e-13)
    assert np.allclose(summed.marginals, full.marginals, atol=1e-13)
    assert np.allclose(summed.correlations, full.correlations[:shape[0], shape[0]:], atol=1e-13)


def test_log_likelihood_sums_to_one():
    model = random_machine(6, seed=5, states="01")
    states = np.array(list(itertools.product((0.0, 1.0), repeat=6)))
    probabilities = [math.exp(log_likelihood(model, row[None])) for row in states]
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-12)


def test_enumeration_limit_names_alternative():
    model = random_machine(MAX_EXACT_UNITS + 1, seed=0)
    with pytest.raises(InvalidModelError, match=r"at most 24 units.*gibbs_sample"):
        exact_statistics(model)


# -- bad input ------------------------------------------------------------------


@pytest.mark.parametrize("kwargs,pattern", [
    ({"weights": [[0.0, 1.0], [0.5, 0.0]]}, r"invalid weights: expected a symmetric"),
    ({"weights": [[1.0, 0.5], [0.5, 0.0]]}, r"invalid weights: expected a zero diagonal"),
    ({"weights": [[0.0, 1.0], [1.0, 0.0]], "temperature": 0.0}, r"invalid temperature"),
    ({"weights": [[0.0, 1.0], [1.0, 0.0]], "temperature": -1.0}, r"invalid temperature"),
    ({"weights": [[0.0, np.nan], [np.nan, 0.0]]}, r"invalid weights: expected finite"),
    ({"weights": [[0.0, 1.0], [1.0, 0.0]], "states": "ising"}, r"invalid states"),
    ({"weights": [[0.0, 1.0], [1.0, 0.0]], "bias": [1.0, 2.0, 3.0]}, r"invalid bias"),
])
def test_machine_rejects_bad_input(kwargs, pattern):
    weights = kwargs.pop("weights")
    with pytest.raises(InvalidModelError, match=pattern):
        BoltzmannMachine(weights, **kwargs)


# -- sampling ---------------------------------------------------------------------


def assert_marginals_agree(result, exact):
    error = np.abs(result.marginals - exact)
    allowed = SAMPLING_STANDARD_ERRORS * result.standard_error + SAMPLING_FLOOR
    assert np.all(error <= allowed), (error, allowed)


@pytest.mark.parametrize("states", ["pm1", "01"])
def test_gibbs_marginals_match_exact(states):
    model = random_machine(8, scale=1.5, seed=11, states=states)
    exact = exact_statistics(model).marginals
    result = gibbs_sample(model, sweeps=3000, chains=16, burn_in=200, seed=1)
    assert_marginals_agree(result, exact)


def test_block_gibbs_rbm_matches_exact():
    rng = np.random.default_rng(2)
    rbm = RestrictedBoltzmannMachine(rng.normal(0, 0.8, size=(6, 4)),
                                     visible_bias=rng.normal(0, 0.3, size=6),
                                     hidden_bias=rng.normal(0, 0.3, size=4))
    exact = exact_statistics(rbm).marginals
    result = gibbs_sample(rbm, sweeps=3000, chains=16, burn_in=200, seed=2)
    assert result.marginals.shape == (10,)
    assert_marginals_agree(result, exact)


def test_parallel_tempering_matches_exact_in_glassy_regime():
    # Strong random couplings at low T: single-site Gibbs mixes slowly here.
    model = random_machine(8, scale=3.0, seed=13, temperature=0.5)
    exact = exact_statistics(model).marginals
    result = parallel_tempering(model, sweeps=3000, chains=8, burn_in=300, seed=3)
    assert_marginals_agree(result, exact)
    assert np.all(result.acceptance > 0.0)


def test_sampling_detects_wrong_reference():
    # The tolerance is tight enough to reject marginals of a different model.
    model = random_machine(8, scale=1.5, seed=11)
    other = random_machine(8, scale=1.5, seed=12)
    result = gibbs_sample(model, sweeps=3000, chains=16, burn_in=200, seed=1)
    error = np.abs(result.marginals - exact_statistics(other).marginals)
    allowed = SAMPLING_STANDARD_ERRORS * result.standard_error + SAMPLING_FLOOR
    assert np.any(error > allowed)


def test_parallel_tempering_rejects_bad_ladder():
    model = random_machine(4, seed=0)
    with pytest.raises(InvalidModelError, match="temperatures"):
        parallel_tempering(model, temperatures=[2.0, 1.0])


# -- mean field -------------------------------------------------------------------


def test_mean_field_certified_above_spectral_norm():
    weights = ring(6, 1.0)  # eigenvalues 2 cos(2 pi k / 6): ||W||_2 = 2
    model = BoltzmannMachine(weights, bias=0.2, temperature=2.5)
    certificate = mean_field_certificate(model)
    assert certificate.status == "certified"
    assert certificate.checked == "exact"
    assert certificate.rate == pytest.approx(1 - 2 / 2.5, rel=1e-8)
    assert certificate.rate <= 1 - 2 / 2.5


def test_mean_field_refuted_below_critical_temperature():
    # Curie-Weiss-like ring at zero field: below T = lambda_max(W) = 2 the
    # paramagnetic point m = 0 splits into +m* and -m*.
    model = BoltzmannMachine(ring(6, 1.0), temperature=1.5)
    certificate = mean_field_certificate(model)
    assert certificate.status == "refuted"
    witness = certificate.witness
    assert witness["kind"] == "two_equilibria"
    assert witness["checked"] == "interval"
    first, second = (np.array(state) for state in witness["states"])
    for state in (first, second):
        residual = -state + np.tanh((model.weights @ state + model.bias) / model.temperature)
        assert np.max(np.abs(residual)) < 1e-10
    assert np.max(np.abs(first - second)) > 0.1


def test_mean_field_sigmoid_threshold_is_quarter_norm():
    # {0,1} states: slope of the logistic <= 1/4, so the bound is ||W||_2 / 4.
    weights = 4.0 * ring(6, 1.0)  # ||W||_2 = 8
    hot = mean_field_certificate(BoltzmannMachine(weights, bias=-4.0, temperature=2.2, states="01"))
    assert hot.status == "certified"
    assert hot.rate == pytest.approx(1 - 2 / 2.2, abs=1e-8)
    assert hot.rate <= 1 - 2 / 2.2
    cold = mean_field_certificate(BoltzmannMachine(weights, bias=-4.0, temperature=1.0,
                                                   states="01"))
    assert cold.status == "refuted"


def test_mean_field_large_rbm_checked_by_interval():
    # 164 units exceed the exact limit; rho I +- W is then proved by the
    # rigorous floating-point test. Slope 1/4 for {0,1} units.
    rng = np.random.default_rng(8)
    rbm = RestrictedBoltzmannMachine(rng.normal(0.0, 0.1, size=(64, 100)))
    certificate = mean_field_certificate(rbm)
    singular = np.linalg.svd(rbm.weights, compute_uv=False)[0]
    assert certificate.status == "certified"
    assert certificate.checked == "interval"
    assert certificate.rate == pytest.approx(1 - singular / 4, abs=1e-8)
    assert certificate.rate <= 1 - singular / 4


def test_mean_field_lmi_below_euclidean_bound():
    # Antiferromagnetic triangle: eigenvalues -2, 1, 1, so ||W||_2 = 2 but
    # lambda_max(W) = 1. At T = 1.5 the Euclidean bound fails, and the core
    # LMI on the exact Jacobian set finds a metric with rate near 1 - 1/1.5.
    weights = -(np.ones((3, 3)) - np.eye(3))
    model = BoltzmannMachine(weights, temperature=1.5)
    certificate = mean_field_certificate(model)
    assert certificate.status == "certified"
    assert certificate.checked == "exact"
    assert certificate.metric["norm"] == "quadratic"
    assert 0.0 < certificate.rate <= 1 - 1 / 1.5 + 1e-9
    network = mean_field_network(model)
    x0 = np.array([[0.9, -0.9, 0.3], [-0.5, 0.8, -0.9]])
    result = integrate(network.vector_field, x0, t_final=5.0, rtol=1e-10, atol=1e-12,
                       t_eval=np.linspace(0, 5, 11))
    distances = metric_distances(certificate.metric, result.states[:, 0] - result.states[:, 1])
    assert np.all(distances <= distances[0] * np.exp(-certificate.rate * result.t) * (1 + 1e-6))


def test_mean_field_refuted_below_largest_eigenvalue():
    # The same triangle at T = 0.9 < lambda_max(W) = 1 has several fixed points.
    weights = -(np.ones((3, 3)) - np.eye(3))
    certificate = mean_field_certificate(BoltzmannMachine(weights, temperature=0.9))
    assert certificate.status == "refuted"
    assert certificate.witness["kind"] == "two_equilibria"


def test_mean_field_beats_core_log_norm():
    # For symmetric W, ||W||_2 <= rho(|W|), the best weighted l_inf bound.
    model = random_machine(10, scale=1.0, seed=21, temperature=3.0)
    ours = mean_field_certificate(model)
    core = log_norm_certificate(mean_field_network(model).jacobian_set, norm="l_inf")
    assert ours.certified
    if core.certified:
        assert ours.rate >= core.rate - 1e-12


@pytest.mark.parametrize("seed", range(10))
def test_mean_field_certificate_against_simulation(seed):
    rng = np.random.default_rng(seed)
    states = "pm1" if seed % 2 == 0 else "01"
    base = random_machine(5, scale=2.0, seed=seed, states=states)
    norm = np.max(np.abs(np.linalg.eigvalsh(base.weights)))
    slope = 1.0 if states == "pm1" else 0.25
    temperature = slope * norm * rng.uniform(0.5, 1.5)
    model = BoltzmannMachine(base.weights, bias=base.bias, temperature=temperature, states=states)
    certificate = mean_field_certificate(model, seed=seed)
    network = mean_field_network(model)
    if certificate.certified:
        x0 = rng.uniform(-1, 1, size=(2, 5))
        result = integrate(network.vector_field, x0, t_final=5.0, rtol=1e-10, atol=1e-12,
                           t_eval=np.linspace(0, 5, 11))
        distances = metric_distances(certificate.metric, result.states[:, 0] - result.states[:, 1])
        bound = distances[0] * np.exp(-certificate.rate * result.t)
        assert np.all(distances <= bound * (1 + 1e-6) + 1e-9)
    elif certificate.status == "refuted" and certificate.witness["kind"] == "two_equilibria":
        first, second = (np.array(state) for state in certificate.witness["states"])
        assert np.max(np.abs(network.vector_field(first))) < 1e-9
        assert np.max(np.abs(network.vector_field(second))) < 1e-9
        assert not np.allclose(first, second)
    elif certificate.status == "refuted" and certificate.witness.get("state") is not None:
        jacobian = network.jacobian(np.array(certificate.witness["state"]))
        assert np.max(np.linalg.eigvals(jacobian).real) >= -1e-9
    # A Euclidean certificate requires T above the float bound too.
    if certificate.certified and certificate.metric["norm"] == "l_2":
        assert temperature > slope * norm


def metric_distances(metric, differences):
    if metric["norm"] == "l_2":
        return np.linalg.norm(differences, axis=-1)
    matrix = np.array(metric["P"])
    return np.sqrt(np.einsum("ti,ij,tj->t", differences, matrix, differences))


# -- learning ---------------------------------------------------------------------


@pytest.mark.parametrize("states", ["pm1", "01"])
def test_boltzmann_gradient_matches_finite_differences(states):
    model = random_machine(5, seed=31, states=states, temperature=1.3)
    rng = np.random.default_rng(0)
    values = (-1.0, 1.0) if states == "pm1" else (0.0, 1.0)
    data = rng.choice(values, size=(40, 5))
    weight_gradient, bias_gradient = boltzmann_gradient(model, data)
    step = 1e-6

    def shifted(i, j, delta):
        weights = model.weights.copy()
        weights[i, j] += delta
        weights[j, i] += delta
        return log_likelihood(BoltzmannMachine(weights, bias=model.bias, states=states,
                                               temperature=model.temperature), data)

    for i, j in [(0, 1), (2, 4), (3, 1)]:
        numeric = (shifted(i, j, step) - shifted(i, j, -step)) / (2 * step)
        assert weight_gradient[i, j] == pytest.approx(numeric, abs=1e-7)
    for i in range(5):
        bias = model.bias.copy()
        bias[i] += step
        high = log_likelihood(BoltzmannMachine(model.weights, bias=bias, states=states,
                                               temperature=model.temperature), data)
        bias[i] -= 2 * step
        low = log_likelihood(BoltzmannMachine(model.weights, bias=bias, states=states,
                                              temperature=model.temperature), data)
        assert bias_gradient[i] == pytest.approx((high - low) / (2 * step), abs=1e-7)


def test_boltzmann_learning_increases_likelihood():
    teacher = random_machine(6, scale=2.0, seed=41)
    samples = gibbs_sample(teacher, sweeps=1, chains=300, burn_in=500, seed=1).last_states
    student = BoltzmannMachine(np.zeros((6, 6)))
    trained, history = fit_boltzmann(student, samples, epochs=60, learning_rate=0.2)
    assert history[-1] > log_likelihood(student, samples) + 0.1
    assert all(later >= earlier - 1e-9 for earlier, later in zip(history, history[1:]))


# PCD diverges at the CD learning rate here: its persistent chains lag behind
# fast weight changes (Tieleman, ICML 2008, recommends small rates).
@pytest.mark.parametrize("method,k,learning_rate", [("cd", 1, 0.5), ("cd", 3, 0.5),
                                                   ("pcd", 1, 0.2)])
def test_rbm_training_improves_exact_likelihood(method, k, learning_rate):
    # Bars-and-stripes 3x3 patterns (MacKay, Information Theory, Inference,
    # and Learning Algorithms, 2003, ch. 43 uses the 4x4 version).
    patterns = []
    for bits in itertools.product((0.0, 1.0), repeat=3):
        rows = np.repeat(np.array(bits)[:, None], 3, axis=1)
        patterns += [rows.ravel(), rows.T.ravel()]
    data = np.unique(np.array(patterns), axis=0)
    data = np.repeat(data, 20, axis=0)
    rbm, history = train_rbm(data, 8, method=method, k=k, epochs=60,
                             learning_rate=learning_rate,
                             batch_size=10, seed=0)
    untrained = RestrictedBoltzmannMachine(np.zeros((9, 8)))
    # Untrained: -9 log 2 = -6.24; the 14 patterns uniformly: -log 14 = -2.64.
    assert log_likelihood(rbm, data) > log_likelihood(untrained, data) + 1.0
    assert history.reconstruction_error[-1] < history.reconstruction_error[0]
    assert pseudo_likelihood(rbm, data) > pseudo_likelihood(untrained, data)


def test_train_rbm_rejects_unknown_method():
    with pytest.raises(InvalidModelError, match="method"):
        train_rbm(np.zeros((4, 3)), 2, method="gradient")


@pytest.mark.slow
def test_rbm_on_digits_close_to_sklearn():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.neural_network import BernoulliRBM

    digits = sklearn_datasets.load_digits().data
    data = (digits / 16.0 > 0.5).astype(float)
    epochs = 10
    ours, _ = train_rbm(data, 64, method="pcd", epochs=epochs, learning_rate=0.05,
                        batch_size=10, seed=0, score=False)
    reference = BernoulliRBM(n_components=64, learning_rate=0.05, batch_size=10, n_iter=epochs,
                             random_state=0).fit(data)
    theirs = rbm_from_sklearn(reference)
    untrained = RestrictedBoltzmannMachine(np.zeros((64, 64)))
    assert pseudo_likelihood(ours, data) > pseudo_likelihood(untrained, data) + 10
    assert pseudo_likelihood(ours, data) > pseudo_likelihood(theirs, data) - 3.0
    assert reconstruction_error(ours, data) < reconstruction_error(theirs, data) + 0.02


def small_hopfield(seed=1):
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, 0.5, size=(5, 5))
    weights = np.triu(weights, 1)
    weights = weights + weights.T
    return HopfieldParameters(weights, rng.normal(0, 1, size=(5, 3)), rng.normal(0, 0.5, size=5),
                              n_output=2)


def test_equilibrium_propagation_matches_exact_gradient():
    parameters = small_hopfield()
    x, y = np.array([0.5, -1.0, 0.3]), np.array([0.2, 0.9])
    exact = exact_gradient(parameters, x, y)
    estimate = ep_gradient(parameters, x, y, beta=1e-3)
    for name in exact:
        scale = np.max(np.abs(exact[name]))
        assert scale > 1e-3
        assert np.max(np.abs(estimate[name] - exact[name])) < 1e-4 * scale


def test_exact_gradient_matches_finite_differences():
    parameters = small_hopfield()
    x, y = np.array([0.5, -1.0, 0.3]), np.array([0.2, 0.9])
    exact = exact_gradient(parameters, x, y)
    step = 1e-6

    def loss(weights=None, bias=None):
        shifted = HopfieldParameters(parameters.weights if weights is None else weights,
                                     parameters.input_weights,
                                     parameters.bias if bias is None else bias, n_output=2)
        return cost(shifted, settle(shifted, x), y)

    for i, j in [(0, 1), (2, 4), (3, 0)]:
        high, low = parameters.weights.copy(), parameters.weights.copy()
        high[i, j] += step
        high[j, i] += step
        low[i, j] -= step
        low[j, i] -= step
        assert exact["weights"][i, j] == pytest.approx((loss(high) - loss(low)) / (2 * step),
                                                       abs=1e-8)
    for i in range(5):
        high, low = parameters.bias.copy(), parameters.bias.copy()
        high[i] += step
        low[i] -= step
        assert exact["bias"][i] == pytest.approx((loss(bias=high) - loss(bias=low)) / (2 * step),
                                                 abs=1e-8)


# -- model file and CLI -------------------------------------------------------------


def write_model(tmp_path, body, name="model.toml"):
    path = tmp_path / name
    path.write_text(body)
    return path


def test_cli_reports_exact_and_certificate(tmp_path):
    path = write_model(tmp_path, """
[model]
family = "boltzmann"
weights = [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
bias = [0.1, -0.2, 0.3]
temperature = 3.0
states = "pm1"
""")
    output = tmp_path / "out.json"
    assert main(["certify", str(path), "--json", str(output), "--require", "contraction"]) == 0
    record = json.loads(output.read_text())
    model = BoltzmannMachine(np.ones((3, 3)) - np.eye(3), bias=[0.1, -0.2, 0.3], temperature=3.0)
    log_partition, marginals, _ = brute_force(model)
    assert record["exact"]["log_partition"] == pytest.approx(log_partition, rel=1e-13)
    assert np.allclose(record["exact"]["marginals"], marginals, atol=1e-13)
    certificate = record["certificates"][0]
    assert certificate["method"] == "mean_field"
    assert certificate["status"] == "certified"
    assert certificate["rate"] == pytest.approx(1 - 2 / 3, rel=1e-8)
    assert record["simulation"]["consistent"] is True
    assert record["sampling"]["consistent"] is True
    assert record["verdict"] == "certified"


def test_cli_refutes_cold_ferromagnet(tmp_path):
    path = write_model(tmp_path, """
[model]
family = "boltzmann"
weights = [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
temperature = 1.0
""")
    output = tmp_path / "out.json"
    assert main(["certify", str(path), "--json", str(output), "--require", "contraction"]) == 1
    record = json.loads(output.read_text())
    certificate = record["certificates"][0]
    assert certificate["status"] == "refuted"
    assert len(certificate["witness"]["states"]) == 2


def test_cli_rbm_model_file(tmp_path):
    path = write_model(tmp_path, """
[model]
family = "boltzmann"
visible = 3
hidden = 2
weights = [[0.5, -0.2], [0.1, 0.3], [-0.4, 0.2]]
visible_bias = [0.1, 0.0, -0.1]
hidden_bias = 0.2
""")
    output = tmp_path / "out.json"
    assert main(["certify", str(path), "--json", str(output), "--no-simulate"]) == 0
    record = json.loads(output.read_text())
    rbm = RestrictedBoltzmannMachine([[0.5, -0.2], [0.1, 0.3], [-0.4, 0.2]],
                                     visible_bias=[0.1, 0.0, -0.1], hidden_bias=0.2)
    log_partition, marginals, _ = brute_force(rbm.as_boltzmann_machine())
    assert record["exact"]["log_partition"] == pytest.approx(log_partition, rel=1e-13)
    assert len(record["exact"]["marginals"]) == 5
    assert record["model"]["kind"] == "restricted_boltzmann_machine"


@pytest.mark.parametrize("body,pattern", [
    ("weights = [[0, 1], [0.5, 0]]", "model.weights"),
    ("weights = [[1, 0.5], [0.5, 0]]", "zero diagonal"),
    ("weights = [[0, 1], [1, 0]]\ntemperature = 0", "model.temperature"),
    ("weights = [[0, 1], [1, 0]]\ntemperature = -2.0", "model.temperature"),
    ("weights = [[0, 1], [1, 0]]\nstates = \"spin\"", "model.states"),
    ("weights = [[0, 1], [1, 0]]\ninput = 1.0", "model.input"),
])
def test_cli_bad_input_exits_2(tmp_path, capsys, body, pattern):
    path = write_model(tmp_path, f"[model]\nfamily = \"boltzmann\"\n{body}\n")
    assert main(["certify", str(path)]) == 2
    assert pattern in capsys.readouterr().err


def test_cli_too_large_for_enumeration_exits_2(tmp_path, capsys):
    n = MAX_EXACT_UNITS + 1
    rows = ", ".join("[" + ", ".join("0" if i == j else "0.01" for j in range(n)) + "]"
                     for i in range(n))
    path = write_model(tmp_path, f"[model]\nfamily = \"boltzmann\"\nweights = [{rows}]\n")
    # Asked for by name, enumeration of too many units is invalid input.
    assert main(["certify", str(path), "--methods", "exact", "--no-simulate"]) == 2
    message = capsys.readouterr().err
    assert "at most 24 units" in message
    assert "mean_field" in message
    # By default it is skipped, and a summary line reports the skip.
    assert main(["certify", str(path), "--no-simulate"]) == 0
    assert "exact: skipped" in capsys.readouterr().out


EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("name,status", [("boltzmann_ring_hot.toml", "certified"),
                                         ("boltzmann_ring_cold.toml", "refuted"),
                                         ("boltzmann_rbm.toml", "certified")])
def test_examples_give_documented_status(tmp_path, name, status):
    output = tmp_path / "out.json"
    main(["certify", str(EXAMPLES / name), "--json", str(output), "--no-simulate"])
    record = json.loads(output.read_text())
    assert record["claims"]["contraction"] == status
    assert "log_partition" in record["exact"]


@pytest.mark.parametrize("method", ["gibbs", "tempering"])
def test_cli_sample_matches_exact(tmp_path, method):
    output = tmp_path / "sample.json"
    arguments = ["sample", str(EXAMPLES / "boltzmann_ring_hot.toml"), "--method", method,
                 "--sweeps", "1000", "--seed", "3", "--json", str(output)]
    assert main(arguments) == 0
    record = json.loads(output.read_text())
    sampled = np.array(record["marginals"])
    exact = np.array(record["exact_marginals"])
    allowed = SAMPLING_STANDARD_ERRORS * np.array(record["standard_error"]) + SAMPLING_FLOOR
    assert np.all(np.abs(sampled - exact) <= allowed)


def test_cli_sample_rejects_other_family(capsys):
    assert main(["sample", str(EXAMPLES / "frn_sigmoid.toml")]) == 2
    assert "model.family" in capsys.readouterr().err


def test_sampling_reports_progress():
    stages = []
    gibbs_sample(random_machine(4), sweeps=300, chains=2, burn_in=0,
                 progress=lambda stage, fraction: stages.append((stage, fraction)))
    assert stages
    assert all(0.0 <= fraction <= 1.0 for _, fraction in stages)
    assert [fraction for _, fraction in stages] == sorted(fraction for _, fraction in stages)


def test_default_methods_skip_enumeration_above_the_limit():
    # 30 units: exact enumeration (2**30 states) is out of reach, so by default
    # only the mean-field certificate runs; naming "exact" is an error.
    from ctdyn.analysis import analyze
    from ctdyn.boltzmann import BoltzmannMachine
    from ctdyn.errors import InvalidModelError

    rng = np.random.default_rng(0)
    weights = rng.normal(size=(30, 30)) * 0.05
    weights = np.triu(weights, 1) + np.triu(weights, 1).T
    machine = BoltzmannMachine(weights, temperature=2.0)
    analysis = analyze(machine, simulate=False)
    assert [c.method for c in analysis.certificates] == ["mean_field"]
    assert "exact" not in analysis.to_dict()
    assert any("exact: skipped" in line for line in analysis.lines)
    with pytest.raises(InvalidModelError):
        analyze(machine, methods=["exact"], simulate=False)
