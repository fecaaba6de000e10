"""Dense associative memories: update rules, certificates, capacity, digits and the CLI."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from ctdyn.analysis import analyze
from ctdyn.cli import main
from ctdyn.errors import InvalidModelError
from ctdyn.memory import (
    DenseAssociativeMemory,
    ModernHopfield,
    TwoLayerMemory,
    amit_gutfreund_sompolinsky_capacity,
    check_patterns,
    corrupt,
    digits_retrieval,
    krotov_hopfield_capacity,
    measure_capacity,
    synchronous_two_cycle,
)
from ctdyn.simulate import integrate

ENERGY_OPTIONS = [
    ("classical", None, None),
    ("polynomial", 3, None),
    ("polynomial", 4, None),
    ("rectified_polynomial", 3, None),
    ("exponential", None, 1.0),
    ("exponential", None, 0.3),
]
CONVEX_OPTIONS = [option for option in ENERGY_OPTIONS if option[:2] != ("polynomial", 3)]


def random_patterns(count: int, neurons: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).choice([-1, 1], size=(count, neurons))


# -- theory values ---------------------------------------------------------------------


def test_krotov_hopfield_capacity_closed_form():
    # K_max = N^(n-1) / (2 (2n-3)!! ln N), Krotov and Hopfield, NeurIPS 2016,
    # against the closed forms with (2n-3)!! = 1, 3, 15 written out.
    log_n = math.log(100)
    expected = {2: 100 / (2 * log_n), 3: 100**2 / (2 * 3 * log_n), 4: 100**3 / (2 * 15 * log_n)}
    for degree, value in expected.items():
        assert krotov_hopfield_capacity(100, degree) == pytest.approx(value, rel=1e-9)


def test_krotov_hopfield_capacity_published_digits():
    # The Krotov-Hopfield estimate at N = 100, rounded to four significant digits:
    # 10.86 (n = 2), 361.9 (n = 3), 7238 (n = 4).
    assert float(f"{krotov_hopfield_capacity(100, 2):.4g}") == 10.86
    assert float(f"{krotov_hopfield_capacity(100, 3):.4g}") == 361.9
    assert float(f"{krotov_hopfield_capacity(100, 4):.4g}") == 7238


def test_amit_gutfreund_sompolinsky_ratio():
    # 0.138 N (Amit, Gutfreund, Sompolinsky, Phys. Rev. Lett. 55, 1530 (1985)).
    assert amit_gutfreund_sompolinsky_capacity(400) == pytest.approx(55.2, rel=1e-12)


# -- discrete update rules -------------------------------------------------------------


@pytest.mark.parametrize("energy, degree, beta", ENERGY_OPTIONS)
def test_local_fields_match_energy_differences(energy, degree, beta):
    memory = DenseAssociativeMemory(random_patterns(5, 9, seed=1), energy=energy, degree=degree,
                                    beta=beta)
    states = random_patterns(7, 9, seed=2).astype(float)
    fields = memory.local_fields(states)
    for q, i in itertools.product(range(7), range(9)):
        plus, minus = states[q].copy(), states[q].copy()
        plus[i], minus[i] = 1.0, -1.0
        difference = memory.energy(minus)[0] - memory.energy(plus)[0]
        if abs(difference) > 1e-9 * (1 + abs(memory.energy(plus)[0])):
            assert np.sign(fields[q, i]) == np.sign(difference)


@pytest.mark.parametrize("energy, degree, beta", ENERGY_OPTIONS)
def test_asynchronous_energy_never_increases(energy, degree, beta):
    memory = DenseAssociativeMemory(random_patterns(6, 20, seed=3), energy=energy, degree=degree,
                                    beta=beta)
    states = random_patterns(10, 20, seed=4).astype(float)
    rng = np.random.default_rng(5)
    for _ in range(4):
        before = memory.energy(states)
        for i in rng.permutation(20):
            states, _ = memory.asynchronous_sweep(states, order=[i])
            after = memory.energy(states)
            assert np.all(after <= before + 1e-9 * np.abs(before) + 1e-12)
            before = after


def test_asynchronous_reaches_fixed_points():
    memory = DenseAssociativeMemory(random_patterns(8, 30, seed=6), energy="polynomial", degree=3)
    result = memory.retrieve(random_patterns(12, 30, seed=7), max_sweeps=100)
    assert np.all(result.converged)
    assert np.all(memory.is_fixed_point(result.states))


def test_synchronous_rule_cycles():
    cycle = synchronous_two_cycle()
    start, first, second = cycle["states"]
    assert np.array_equal(first, -start)
    assert np.array_equal(second, start)
    assert cycle["energies"] == [0.0, 0.0, 0.0]
    assert cycle["asynchronous_energy"] == -2.0


@pytest.mark.parametrize("energy, degree", [("polynomial", 3), ("polynomial", 4),
                                            ("rectified_polynomial", 3), ("exponential", None)])
def test_synchronous_rule_can_raise_energy(energy, degree):
    # Brute force over all 32 states of a 5-neuron memory: one synchronous step raises E.
    patterns = [[1, 1, 1, -1, -1], [-1, -1, -1, -1, 1], [1, 1, 1, 1, 1]]
    memory = DenseAssociativeMemory(patterns, energy=energy, degree=degree)
    states = np.array(list(itertools.product([-1.0, 1.0], repeat=5)))
    new = memory.synchronous_step(states)
    assert np.any(memory.energy(new) > memory.energy(states) + 1e-9)


def test_dense_energy_retrieves_beyond_classical():
    patterns = random_patterns(30, 60, seed=8)
    queries = corrupt(patterns.astype(float), 0.1, np.random.default_rng(9))
    classical = DenseAssociativeMemory(patterns, energy="classical").retrieve(queries).states
    cubic = DenseAssociativeMemory(patterns, energy="polynomial", degree=3).retrieve(queries).states
    assert np.mean(cubic != patterns) < 0.01
    assert np.mean(classical != patterns) > 0.05


def test_corrupt_flips_exact_count():
    patterns = random_patterns(4, 50, seed=10).astype(float)
    corrupted = corrupt(patterns, 0.2, np.random.default_rng(0))
    assert np.all(np.sum(corrupted != patterns, axis=1) == 10)


# -- modern Hopfield -------------------------------------------------------------------


def test_modern_update_decreases_energy():
    network = ModernHopfield(np.random.default_rng(11).normal(size=(6, 8)), beta=2.0)
    states = np.random.default_rng(12).normal(size=(20, 8))
    for _ in range(5):
        new = network.update(states)
        assert np.all(network.energy(new) <= network.energy(states) + 1e-10)
        states = new


def test_modern_one_step_retrieval_within_bound():
    patterns = random_patterns(10, 64, seed=13).astype(float)
    network = ModernHopfield(patterns, beta=0.5)
    # One flipped bit: the bound 2 (K - 1) M exp(-beta (Delta - 2 r M)) is below 1 here.
    queries = corrupt(patterns, 0.02, np.random.default_rng(14))
    errors = np.linalg.norm(network.update(queries) - patterns, axis=1)
    for mu in range(10):
        bound = network.one_step_retrieval_bound(queries[mu], mu)[0]
        assert bound < 1.0
        assert errors[mu] <= bound
    # With 10% flipped the bound is vacuous, but one step still lands within 1e-4 of each
    # stored pattern (1.1e-6 at most with these seeds).
    queries = corrupt(patterns, 0.1, np.random.default_rng(14))
    errors = np.linalg.norm(network.update(queries) - patterns, axis=1)
    assert np.max(errors) < 1e-4


def test_modern_fixed_points_near_patterns():
    patterns = random_patterns(5, 32, seed=15).astype(float)
    network = ModernHopfield(patterns, beta=1.0)
    result = network.retrieve(patterns)
    assert np.all(result.converged)
    assert np.max(np.abs(result.states - patterns)) < 1e-9
    assert np.allclose(network.update(result.states), result.states, atol=1e-12)


# -- continuous model and certificates -------------------------------------------------


@pytest.mark.parametrize("energy, degree, beta", CONVEX_OPTIONS)
def test_continuous_energy_decreases_along_flow(energy, degree, beta):
    model = TwoLayerMemory(random_patterns(4, 12, seed=16), energy=energy, degree=degree, beta=beta)
    x0 = np.random.default_rng(17).normal(scale=3.0, size=(5, model.n))
    result = integrate(model.vector_field, x0, t_final=10.0, t_eval=np.linspace(0, 10, 201))
    energies = np.array([model.energy(states) for states in result.states])
    increase = np.diff(energies, axis=0)
    assert np.all(increase <= 1e-6 * (1 + np.abs(energies[:-1])))


def test_certified_pattern_is_equilibrium():
    model = TwoLayerMemory(random_patterns(3, 16, seed=18), energy="rectified_polynomial")
    analysis = analyze(model, simulate=False)
    assert analysis.claim_status("local_stability") == "certified"
    for mu in range(3):
        state = model.pattern_state(mu)
        assert np.max(np.abs(model.vector_field(state))) < 1e-9
        assert np.array_equal(np.clip(state[:16], -1, 1), model.patterns[mu])


def test_certificates_against_brute_force():
    # Exact margins against float margins and against the vector field at the candidate
    # state, over many random memories of every convex energy.
    outcomes = set()
    for seed, (energy, degree, beta) in itertools.product(range(6), CONVEX_OPTIONS):
        model = TwoLayerMemory(random_patterns(3 + 2 * seed, 12, seed=100 + seed), energy=energy,
                               degree=degree, beta=beta)
        for check in check_patterns(model):
            state = model.pattern_state(check.index)
            aligned = model.patterns[check.index] * state[:12]
            assert check.margin_float == pytest.approx(aligned.min() - 1.0, rel=1e-9, abs=1e-9)
            residual = np.max(np.abs(model.vector_field(state)))
            if check.sign == 1:
                assert residual < 1e-9 * (1 + np.max(np.abs(state)))
            elif check.sign == -1:
                assert residual > 1e-3
            outcomes.add(check.sign)
    assert {1, -1} <= outcomes


def test_refuted_pattern_is_not_retrieved():
    model = TwoLayerMemory(random_patterns(12, 16, seed=19), energy="classical")
    analysis = analyze(model, simulate=False)
    certificate = analysis.certificates[0]
    assert certificate.status == "refuted"
    witness = certificate.witness
    state = np.array(witness["state"])
    # The candidate is not an equilibrium: its memory layer moves.
    assert np.max(np.abs(model.vector_field(state))) > 0.5
    result = integrate(model.vector_field, state, t_final=30.0)
    final = np.clip(result.final_states[0, :16], -1, 1)
    assert not np.array_equal(final, model.patterns[witness["pattern"]])


@pytest.mark.parametrize("energy, degree, beta", CONVEX_OPTIONS)
def test_basin_survives_simulation(energy, degree, beta):
    model = TwoLayerMemory(random_patterns(4, 20, seed=20), energy=energy, degree=degree, beta=beta)
    analysis = analyze(model, trajectories=6, seed=1)
    basin = next(c for c in analysis.certificates if c.method == "basin")
    assert basin.status == "certified"
    assert basin.rate > 0
    assert analysis.simulation is not None
    assert analysis.simulation.consistent
    assert analysis.exit_status() == 0


def test_basin_rate_checked_against_log_norm():
    # Recompute the weighted log-norm bound of one certified ball in floating point.
    model = TwoLayerMemory(random_patterns(4, 20, seed=21), energy="rectified_polynomial")
    analysis = analyze(model, simulate=False)
    ball = analysis.certificates[1].evidence["balls"][0]
    centers = model.patterns.astype(float) @ model.patterns[0]
    weights = np.array(ball["memory_weights"])
    high = centers + ball["radius"] * weights
    second = 2 * np.maximum(high, 0) / model.neurons
    assert np.sum(weights * second) < 1.0
    assert ball["rate"] <= 1.0 - np.sum(weights * second) + 1e-12
    assert ball["radius"] < min(model.patterns[0] * model.pattern_state(0)[:20]) - 1


# -- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, field", [
    ({"patterns": [[1, 0, 1]]}, "patterns[0][1]"),
    ({"patterns": [[1, -1, 1]], "energy": "exponential", "beta": -1.0}, "beta"),
    ({"patterns": [[1, -1, 1]], "energy": "exponential", "beta": 0.0}, "beta"),
    ({"patterns": [[1, -1, 1]], "energy": "polynomial", "degree": 3}, "degree"),
    ({"patterns": [[1, -1, 1]], "energy": "cubic"}, "energy"),
    ({"patterns": [[1, -1, 1]], "tau_feature": 0.0}, "tau_feature"),
    ({"patterns": [1, -1, 1]}, "patterns"),
])
def test_invalid_models_raise(kwargs, field):
    with pytest.raises(InvalidModelError) as raised:
        TwoLayerMemory(**kwargs)
    assert raised.value.field == field


def write_model(tmp_path, body: str):
    path = tmp_path / "model.toml"
    path.write_text("[model]\nfamily = \"dense_memory\"\n" + body, encoding="utf-8")
    return path


@pytest.mark.parametrize("body, field", [
    ("energy = \"classical\"\npatterns = [[1, -1, 1], [1, 1]]\n", "model.patterns[1]"),
    ("energy = \"classical\"\npatterns = [[1, -1, 2]]\n", "model.patterns[0][2]"),
    ("energy = \"exponential\"\nbeta = -2.0\npatterns = [[1, -1, 1]]\n", "model.beta"),
    ("energy = \"polynomial\"\ndegree = 5\npatterns = [[1, -1, 1]]\n", "model.degree"),
    ("energy = \"classical\"\n", "model.patterns"),
    ("energy = \"classical\"\npatterns_file = \"missing.npy\"\n", "model.patterns_file"),
    ("energy = \"classical\"\npatterns = [[1, -1]]\nweights = [[0, 1], [1, 0]]\n",
     "model.weights"),
])
def test_bad_model_file_exits_2(tmp_path, capsys, body, field):
    status = main(["certify", str(write_model(tmp_path, body))])
    assert status == 2
    assert f"invalid {field}" in capsys.readouterr().err


# -- command line ----------------------------------------------------------------------


def test_certify_json_keys(tmp_path):
    model = write_model(tmp_path, "energy = \"rectified_polynomial\"\ndegree = 3\npatterns = "
                        + json.dumps(random_patterns(3, 12, seed=22).tolist()) + "\n")
    output = tmp_path / "out.json"
    status = main(["certify", str(model), "--json", str(output), "--require", "local_stability",
                   "retrieval"])
    assert status == 0
    record = json.loads(output.read_text())
    assert record["model"]["family"] == "dense_memory"
    assert record["model"]["dimension"] == 15
    assert record["claims"] == {"local_stability": "certified", "retrieval": "certified"}
    assert record["verdict"] == "certified"
    assert len(record["memory"]["patterns"]) == 3
    assert record["simulation"]["consistent"] is True


def test_certify_refuted_exit_1(tmp_path):
    model = write_model(tmp_path, "energy = \"classical\"\npatterns = "
                        + json.dumps(random_patterns(12, 16, seed=19).tolist()) + "\n")
    assert main(["certify", str(model), "--require", "local_stability"]) == 1


def test_capacity_command_json(tmp_path):
    output = tmp_path / "capacity.json"
    status = main(["capacity", "--energy", "classical", "--neurons", "50", "--trials", "2",
                   "--json", str(output)])
    assert status == 0
    record = json.loads(output.read_text())
    assert set(record) >= {"capacity", "curve", "theory"}
    assert record["theory"]["amit_gutfreund_sompolinsky"] == pytest.approx(6.9)
    passing = [point["patterns"] for point in record["curve"] if point["bit_error_rate"] <= 0.01]
    assert record["capacity"] == max(passing)


@pytest.mark.parametrize("arguments", [
    ["--energy", "classical", "--neurons", "50", "--degree", "3"],
    ["--energy", "cubic", "--neurons", "50"],
    ["--energy", "polynomial", "--neurons", "1"],
    ["--energy", "exponential", "--neurons", "50", "--beta", "0"],
    ["--energy", "classical", "--neurons", "50", "--corruption", "0.7"],
])
def test_capacity_bad_options_exit_2(arguments):
    assert main(["capacity", *arguments]) == 2


# -- measurements ----------------------------------------------------------------------


def test_classical_capacity_near_theory():
    # Measured, not assumed: at N = 100 and 10% corruption the 1% criterion lands a little
    # below 0.138 N = 13.8.
    result = measure_capacity("classical", 100, trials=3)
    assert result.bounded
    assert 8 <= result.capacity <= 16


def test_cubic_capacity_exceeds_classical():
    cubic = measure_capacity("polynomial", 50, degree=3, trials=2)
    classical = measure_capacity("classical", 50, trials=2)
    assert cubic.capacity > 5 * classical.capacity


def test_digits_dense_energies_beat_classical():
    result = digits_retrieval(corruptions=(0.1, 0.3), trials=5)
    assert result.accuracy["classical"][0.1] < 0.5
    for label in ("rectified n=5", "exponential", "modern Hopfield"):
        assert result.accuracy[label][0.1] >= 0.9
        assert result.accuracy[label][0.3] >= result.accuracy["classical"][0.3]
    assert "| classical |" in result.table()


def test_basin_challenge_catches_false_rate():
    # A ball whose rate is inflated tenfold must be caught by the simulation challenge.
    from ctdyn.memory import basin_certificate
    from ctdyn.memory._family import challenge_basins

    model = TwoLayerMemory(random_patterns(3, 12, seed=23), energy="rectified_polynomial")
    checks = check_patterns(model)
    assert basin_certificate(model, checks).certified
    honest = challenge_basins(model, checks, trajectories=4, t_final=None, seed=0)
    assert honest.consistent
    for check in checks:
        check.basin["rate"] *= 10.0
    inflated = challenge_basins(model, checks, trajectories=4, t_final=None, seed=0)
    assert not inflated.consistent
    assert inflated.notes


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_patterns_file_loads(tmp_path, suffix):
    patterns = random_patterns(3, 10, seed=24)
    target = tmp_path / f"patterns{suffix}"
    if suffix == ".npy":
        np.save(target, patterns)
    else:
        np.savetxt(target, patterns, delimiter=",", fmt="%d")
    model = write_model(tmp_path, f"energy = \"exponential\"\npatterns_file = \"{target.name}\"\n")
    output = tmp_path / "out.json"
    assert main(["certify", str(model), "--json", str(output), "--methods", "pattern_stability",
                 "--no-simulate"]) == 0
    record = json.loads(output.read_text())
    assert record["model"]["neurons"] == 10
    assert [c["method"] for c in record["certificates"]] == ["pattern_stability"]


def test_patterns_file_object_dtype_rejected(tmp_path, capsys):
    target = tmp_path / "patterns.npy"
    np.save(target, np.array([[1, "a"]], dtype=object), allow_pickle=True)
    model = write_model(tmp_path, "energy = \"classical\"\npatterns_file = \"patterns.npy\"\n")
    assert main(["certify", str(model)]) == 2
    assert "model.patterns_file" in capsys.readouterr().err
