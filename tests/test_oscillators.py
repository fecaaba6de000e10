"""Tests of the oscillator families: graphs, binary-state stability, MaxCut and Kuramoto."""

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sps

from ctdyn.cli import EXIT_INVALID, EXIT_OK, main
from ctdyn.errors import InvalidModelError, ModelFileError
from ctdyn.oscillators import (
    FrequencyDistribution,
    KuramotoNetwork,
    OscillatorIsingMachine,
    as_graph,
    binary_state_matrix,
    brute_force_max_cut,
    certify_binary_state,
    critical_coupling,
    cut_value,
    locked_state_certificate,
    read_graph,
    simulate_kuramoto,
    solve_maxcut,
    stability_ladder,
    stability_threshold,
    stationary_order_parameter,
    synchronization_certificate,
)
from ctdyn.oscillators._cli import best_known_cut
from ctdyn.oscillators._maxcut import Schedule, greedy_polish, tabu_search

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = Path(os.environ.get("CTDYN_DATA", ROOT.parent / "shared" / "data"))
GSET = DATA / "gset"
BIQMAC = DATA / "biqmac"
needs_gset = pytest.mark.skipif(not GSET.is_dir(), reason=f"Gset data folder {GSET} is absent "
                                "(set CTDYN_DATA to the folder that holds gset/ and biqmac/)")
needs_biqmac = pytest.mark.skipif(not BIQMAC.is_dir(), reason=f"BiqMac data folder {BIQMAC} is "
                                  "absent (set CTDYN_DATA to the folder that holds biqmac/)")

# (sqrt(17) - 3) / 4: with K = 1 every maximum cut of the Petersen graph is
# stable exactly above it (computed independently from the 10 x 10 Jacobians;
# the largest eigenvalue of M(s) is the root (sqrt(17) - 3) / 2 of x^2 + 3x - 2).
PETERSEN_THRESHOLD = (math.sqrt(17) - 3) / 4
CLOSED_FORM_TOLERANCE = 1e-9


def generalized_petersen(n: int, k: int):
    """Return the edges (0-based) of the generalized Petersen graph GP(n, k)."""
    edges = []
    for i in range(n):
        edges.append((i, (i + 1) % n))
        edges.append((i, n + i))
        edges.append((n + i, n + (i + k) % n))
    return edges


def graph_from_edges(n, edges, weights=None):
    adjacency = np.zeros((n, n))
    for index, (i, j) in enumerate(edges):
        weight = 1.0 if weights is None else weights[index]
        adjacency[i, j] = adjacency[j, i] = weight
    return as_graph(adjacency)


def complete(n):
    return graph_from_edges(n, [(i, j) for i in range(n) for j in range(i + 1, n)])


def petersen():
    return graph_from_edges(10, generalized_petersen(5, 2))


# -- graph input --------------------------------------------------------------------------


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_rudy_header_trailing_token(tmp_path):
    graph = read_graph(write(tmp_path, "g.txt", "3 2 J\n1 2 1\n2 3 -2.5\n"))
    assert graph.n == 3
    assert graph.m == 2
    assert graph.weights.tolist() == [1.0, -2.5]
    assert graph.name == "g"


@pytest.mark.parametrize("text, line, words", [
    ("3 3\n1 2 1\n2 3 1\n", 3, "3 edge lines"),
    ("3 1\n1 2 1\n2 3 1\n", 3, "1 edge lines"),
    ("3 1\n2 2 1\n", 2, "self-loop"),
    ("3 1\n1 4 1\n", 2, "node ids from 1 to n = 3"),
    ("3 1\n0 2 1\n", 2, "node ids from 1 to n = 3"),
    ("3 1\n1 2 x\n", 2, "numeric weight"),
    ("3 1\n1 2 nan\n", 2, "finite weight"),
    ("3 2\n1 2 1\n2 1 1\n", 3, "each edge listed once"),
    ("three 1\n1 2 1\n", 1, "header"),
])
def test_rudy_errors_name_line(tmp_path, text, line, words):
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(ModelFileError, match=f"line {line}") as error:
        read_graph(path)
    assert words in str(error.value)


def test_matrix_market_and_npy(tmp_path):
    import scipy.io
    import scipy.sparse as sps

    adjacency = petersen().dense()
    scipy.io.mmwrite(tmp_path / "p.mtx", sps.coo_array(adjacency), symmetry="symmetric")
    np.save(tmp_path / "p.npy", adjacency)
    for name in ("p.mtx", "p.npy"):
        graph = read_graph(tmp_path / name)
        assert graph.m == 15
        assert np.array_equal(graph.dense(), adjacency)


def test_matrix_self_loop_rejected(tmp_path):
    adjacency = np.eye(3)
    np.save(tmp_path / "loop.npy", adjacency)
    with pytest.raises(ModelFileError, match="self-loop"):
        read_graph(tmp_path / "loop.npy")
    with pytest.raises(InvalidModelError, match="symmetric"):
        as_graph(np.array([[0.0, 1.0], [2.0, 0.0]]))


def test_networkx_graph():
    networkx = pytest.importorskip("networkx")
    graph = as_graph(networkx.petersen_graph())
    assert graph.m == 15
    assert brute_force_max_cut(graph)[0] == 12


# -- cuts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("graph, expected", [
    # Brute-force maximum cuts of small graphs (odd cycle C5: 4; K_n: floor(n/2) ceil(n/2)).
    (graph_from_edges(5, [(i, (i + 1) % 5) for i in range(5)]), 4),
    (complete(4), 4),
    (complete(5), 6),
    # Moebius-Kantor graph GP(8, 3) and dodecahedral graph GP(10, 2), brute force.
    (graph_from_edges(16, generalized_petersen(8, 3)), 24),
    (graph_from_edges(20, generalized_petersen(10, 2)), 24),
    (petersen(), 12),
], ids=["C5", "K4", "K5", "moebius_kantor", "dodecahedral", "petersen"])
def test_brute_force_cuts(graph, expected):
    best, spins = brute_force_max_cut(graph)
    assert best == expected
    assert cut_value(graph, spins) == expected


def test_solver_finds_small_optimum():
    graph = graph_from_edges(20, generalized_petersen(10, 2))
    result = solve_maxcut(graph, time_limit=30, seed=3, replicas=16, max_runs=2,
                          schedule=Schedule(steps=300))
    assert result.cut == 24
    assert cut_value(graph, result.spins) == result.cut
    assert result.polished_cut is None


def random_weighted_graph(n, density, weights, seed):
    """Return a random graph whose edge weights are drawn from ``weights``."""
    rng = np.random.default_rng(seed)
    edges = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < density]
    return graph_from_edges(n, edges, rng.choice(weights, size=len(edges)))


@pytest.mark.parametrize("weights", [(1.0,), (1.0, -1.0), (0.3, -1.7, 2.25)],
                         ids=["unit", "signed", "fractional"])
def test_polish_never_lowers_cut(weights):
    graph = random_weighted_graph(60, 0.15, weights, seed=5)
    rng = np.random.default_rng(2)
    starts = rng.choice([-1.0, 1.0], size=(12, graph.n))
    start_cuts = np.array([cut_value(graph, row) for row in starts])

    greedy, greedy_cuts = greedy_polish(graph, starts)
    searched, searched_cuts = tabu_search(graph, greedy, iterations=400, seed=3)

    assert np.all(greedy_cuts >= start_cuts)
    assert np.all(searched_cuts >= greedy_cuts)
    for row, cut in zip(searched, searched_cuts):
        assert set(np.unique(row)) <= {-1.0, 1.0}
        assert cut_value(graph, row) == pytest.approx(cut, abs=1e-9)


def test_greedy_polish_reaches_local_optimum():
    graph = random_weighted_graph(50, 0.2, (1.0, -1.0, 2.0), seed=8)
    starts = np.random.default_rng(4).choice([-1.0, 1.0], size=(6, graph.n))
    polished, _ = greedy_polish(graph, starts)
    fields = (graph.adjacency() @ polished.T).T
    # Flipping spin i changes the cut by s_i (A s)_i: no flip may gain.
    assert np.all(polished * fields <= 1e-9)


@pytest.mark.parametrize("graph, expected", [
    (petersen(), 12),
    (graph_from_edges(20, generalized_petersen(10, 2)), 24),
], ids=["petersen", "dodecahedral"])
def test_tabu_search_finds_optimum(graph, expected):
    # Expected values: brute force (test_brute_force_cuts).
    starts = np.ones((4, graph.n))
    spins, cuts = tabu_search(graph, starts, iterations=50 * graph.n, seed=0)
    assert cuts.max() == expected
    assert cut_value(graph, spins[int(np.argmax(cuts))]) == expected


def test_tabu_search_deadline_keeps_start():
    graph = random_weighted_graph(40, 0.2, (1.0,), seed=1)
    starts = np.random.default_rng(0).choice([-1.0, 1.0], size=(3, graph.n))
    start_cuts = np.array([cut_value(graph, row) for row in starts])
    # A deadline in the past stops the search after its first block of flips.
    spins, cuts = tabu_search(graph, starts, iterations=10 ** 6, seed=0, deadline=0.0)
    assert np.all(cuts >= start_cuts)
    assert np.all(np.isin(spins, (-1.0, 1.0)))


def test_tabu_search_large_ring():
    n = 5000
    graph = as_graph(sps.csr_array((np.ones(n), (np.arange(n), (np.arange(n) + 1) % n)),
                                   shape=(n, n)) + sps.csr_array(
        (np.ones(n), ((np.arange(n) + 1) % n, np.arange(n))), shape=(n, n)))
    starts = np.ones((2, n))
    spins, cuts = tabu_search(graph, starts, iterations=300, seed=0)
    # From the all-equal state every flip takes a node whose neighbors are both
    # unflipped (gain 2, the largest possible); 300 flips touch at most 900 of
    # the 5000 nodes, so such a node always remains and the cut is 600.
    assert np.all(cuts == 600)
    assert cut_value(graph, spins[0]) == cuts[0]


@pytest.mark.parametrize("weights", [(1.0, -1.0, 3.0), (0.5, -1.25, 2.75)],
                         ids=["integer_buckets", "fractional_scan"])
def test_tabu_first_move_is_largest_gain(weights):
    # Integer weights keep the gains in buckets, and other weights scan them.
    # The first move of both must flip the spin of largest gain s_i (A s)_i.
    graph = random_weighted_graph(40, 0.3, weights, seed=4)
    rng = np.random.default_rng(9)
    starts = rng.choice([-1.0, 1.0], size=(20, graph.n))
    gains = starts * (graph.adjacency() @ starts.T).T
    unique = [r for r in range(20) if np.sum(gains[r] == gains[r].max()) == 1]
    assert unique, "no start with a unique largest gain; change the seed"
    spins, cuts = tabu_search(graph, starts[unique], iterations=1, seed=0)
    for row, r in enumerate(unique):
        chosen = int(np.argmax(gains[r]))
        expected = starts[r].copy()
        if gains[r, chosen] > 0:
            expected[chosen] *= -1
        # A first move that lowers the cut is undone by keeping the start.
        assert np.array_equal(spins[row], expected)
        assert cuts[row] == pytest.approx(cut_value(graph, expected), abs=1e-9)


def test_solver_repeats_for_a_seed():
    graph = random_weighted_graph(60, 0.2, (1.0, -1.0), seed=2)
    first, second = (solve_maxcut(graph, time_limit=60, seed=5, replicas=8, polish=True,
                                  max_runs=3) for _ in range(2))
    assert np.array_equal(first.spins, second.spins)
    assert np.array_equal(first.raw_spins, second.raw_spins)


def test_greedy_polish_bad_spins():
    with pytest.raises(InvalidModelError) as error:
        greedy_polish(petersen(), np.zeros((2, 10)))
    assert error.value.field == "spins"


@pytest.mark.parametrize("spins, iterations, tenure, field", [
    (np.ones(10), 10, 0.1, "spins"),
    (np.ones((2, 9)), 10, 0.1, "spins"),
    (np.zeros((2, 10)), 10, 0.1, "spins"),
    (np.ones((2, 10)), -1, 0.1, "iterations"),
    (np.ones((2, 10)), 2.5, 0.1, "iterations"),
    (np.ones((2, 10)), 10, 0.0, "tenure"),
    (np.ones((2, 10)), 10, (0.3, 0.1), "tenure"),
], ids=["one_dimensional", "wrong_width", "zeros", "negative_iterations",
        "fractional_iterations", "zero_tenure", "reversed_range"])
def test_tabu_search_bad_input(spins, iterations, tenure, field):
    with pytest.raises(InvalidModelError) as error:
        tabu_search(petersen(), spins, iterations=iterations, tenure=tenure)
    assert error.value.field == field


def test_solver_polish_reported_apart():
    graph = random_weighted_graph(80, 0.1, (1.0, -1.0), seed=11)
    result = solve_maxcut(graph, time_limit=30, seed=0, replicas=16, polish=True, max_runs=2,
                          schedule=Schedule(steps=200, tabu_iterations=5))
    assert result.polished_cut is not None
    assert result.polished_cut >= result.raw_cut
    assert result.cut == max(result.raw_cut, result.polished_cut)
    assert cut_value(graph, result.raw_spins) == result.raw_cut
    assert cut_value(graph, result.spins) == result.cut
    times = [seconds for seconds, _ in result.history]
    cuts = [cut for _, cut in result.history]
    assert times == sorted(times)
    assert all(later > earlier for earlier, later in zip(cuts, cuts[1:]))
    assert cuts[-1] == result.cut


@needs_gset
@pytest.mark.parametrize("name, expected", [("G1", 11624), ("G2", 11620)])
def test_gset_bitstream_cut(name, expected):
    # The bitstreams are assignments with the best-known cuts 11624 and 11620
    # (breakout local search, 2013). Bit k of the n-bit number, most
    # significant first, is node k + 1.
    graph = read_graph(GSET / f"{name}.txt")
    number = int((GSET / f"{name}.bitstream.txt").read_text().strip(), 16)
    bits = bin(number)[2:].zfill(graph.n)
    spins = np.array([1 if bit == "1" else -1 for bit in bits])
    assert cut_value(graph, spins) == expected
    assert best_known_cut(GSET / f"{name}.txt")[0] == expected


@needs_biqmac
@pytest.mark.slow
@pytest.mark.parametrize("name, optimum", [("g05_60.0", 536), ("pm1s_80.0", 79)])
def test_biqmac_optimum(name, optimum):
    # Proven optima of the BiqMac library (rudy_optimal_energy.txt of the instance set).
    graph = read_graph(BIQMAC / f"rudy_{name}")
    result = solve_maxcut(graph, time_limit=20, seed=1, replicas=64, polish=True, max_runs=8)
    assert result.cut == optimum


# -- binary-state stability -----------------------------------------------------------------


def optimal_states(graph):
    best, _ = brute_force_max_cut(graph)
    states = []
    for code in range(2 ** graph.n):
        spins = np.array([1 if (code >> k) & 1 else -1 for k in range(graph.n)])
        if cut_value(graph, spins) == best:
            states.append(spins)
    return states


def test_petersen_threshold_exact():
    graph = petersen()
    states = optimal_states(graph)
    assert len(states) == 10
    thresholds = [stability_threshold(graph, spins) for spins in states]
    worst = max(thresholds, key=lambda threshold: threshold.value)
    assert abs(worst.value - PETERSEN_THRESHOLD) < CLOSED_FORM_TOLERANCE
    assert worst.lower <= PETERSEN_THRESHOLD <= worst.upper
    # 2 t^2 + 3 t - 1 = 0 has the root t = (sqrt(17) - 3) / 4.
    assert worst.polynomial == [-1, 3, 2]


def test_petersen_certificates_at_threshold():
    graph = petersen()
    states = optimal_states(graph)
    above = [certify_binary_state(graph, s, injection=PETERSEN_THRESHOLD + 1e-8) for s in states]
    below = [certify_binary_state(graph, s, injection=PETERSEN_THRESHOLD - 1e-8) for s in states]
    assert all(c.status == "certified" and c.checked == "exact" for c in above)
    assert any(c.status == "refuted" for c in below)
    refuted = next(c for c in below if c.status == "refuted")
    assert refuted.witness["checked"] == "exact"
    assert refuted.witness["jacobian_rayleigh_quotient"] > 0


def test_ladder_petersen():
    ladder = stability_ladder(petersen())
    assert ladder["max_cut"] == 12
    assert ladder["optimal_states"] == 10
    assert abs(ladder["optimal_stable_above"] - PETERSEN_THRESHOLD) < CLOSED_FORM_TOLERANCE
    assert ladder["suboptimal_stable_above"] > ladder["optimal_stable_above"]


def jacobian(graph, spins, coupling, injection):
    return coupling * binary_state_matrix(graph, spins).toarray() - 2 * injection * np.eye(graph.n)


def test_certificates_against_eigenvalues_and_simulation():
    rng = np.random.default_rng(7)
    seen = set()
    for trial in range(40):
        n = int(rng.integers(3, 9))
        upper = np.triu(rng.choice([0.0, 1.0, -1.0, 0.5], size=(n, n)), 1)
        graph = as_graph(upper + upper.T)
        if graph.m == 0:
            continue
        spins = rng.choice([-1, 1], size=n)
        coupling = float(rng.uniform(0.5, 2.0))
        injection = float(rng.uniform(0.0, 2.0))
        certificate = certify_binary_state(graph, spins, coupling=coupling, injection=injection)
        largest = np.linalg.eigvalsh(jacobian(graph, spins, coupling, injection))[-1]
        seen.add(certificate.status)
        if certificate.status == "certified":
            assert largest < 0
            machine = OscillatorIsingMachine(graph, coupling=coupling, injection=injection)
            center = np.where(spins > 0, 0.0, math.pi)
            phases = center + 1e-3 * rng.standard_normal(n)
            start = np.max(np.abs(phases - center))
            for _ in range(4000):
                phases = phases + 0.01 * machine.vector_field(phases)
            assert np.max(np.abs(phases - center)) <= start
        elif certificate.status == "refuted":
            assert largest > 0
            direction = np.asarray(certificate.witness["direction"])
            value = direction @ jacobian(graph, spins, coupling, injection) @ direction
            assert value > 0
    assert seen >= {"certified", "refuted"}


def test_threshold_matches_eigenvalue_interval_path():
    # Above the exact size limit the interval Cholesky decides.
    rng = np.random.default_rng(2)
    n = 150
    upper = np.triu(rng.random((n, n)) < 0.05, 1).astype(float)
    graph = as_graph(upper + upper.T)
    spins = rng.choice([-1, 1], size=n)
    threshold = stability_threshold(graph, spins)
    largest = np.linalg.eigvalsh(binary_state_matrix(graph, spins).toarray())[-1] / 2
    assert threshold.lower <= largest + 1e-12
    assert largest <= threshold.upper
    assert threshold.checked == "interval"
    above = certify_binary_state(graph, spins, injection=threshold.upper * 1.01 + 1e-9)
    below = certify_binary_state(graph, spins, injection=threshold.lower * 0.99)
    assert above.status == "certified"
    assert above.checked == "interval"
    assert below.status == "refuted"


def test_energy_is_lyapunov():
    graph = petersen()
    machine = OscillatorIsingMachine(graph, coupling=1.0, injection=0.5)
    rng = np.random.default_rng(0)
    phases = rng.uniform(-math.pi, math.pi, (10, 4))
    energies = [machine.energy(phases)]
    for _ in range(500):
        phases = phases + 0.005 * machine.vector_field(phases)
        energies.append(machine.energy(phases))
    assert np.all(np.diff(np.array(energies), axis=0) <= 1e-12)


def test_invalid_gains():
    with pytest.raises(InvalidModelError, match="injection"):
        certify_binary_state(petersen(), np.ones(10), injection=-1.0)
    with pytest.raises(InvalidModelError, match="spins"):
        certify_binary_state(petersen(), np.zeros(10), injection=1.0)


# -- Kuramoto ----------------------------------------------------------------------------------


def test_critical_couplings():
    # K_c = 2 / (pi g(0)): Lorentzian half-width 1 gives 2, standard normal sqrt(8/pi),
    # uniform on [-1, 1] gives 4/pi.
    assert abs(critical_coupling(FrequencyDistribution("lorentzian", 1.0)) - 2) < 1e-12
    assert abs(critical_coupling(FrequencyDistribution("gaussian", 1.0)) - 1.5957691) < 1e-7
    assert abs(critical_coupling(FrequencyDistribution("uniform", 1.0)) - 4 / math.pi) < 1e-12


@pytest.mark.parametrize("kind, coupling, expected, tolerance", [
    # Lorentzian gamma = 1: r = sqrt(1 - 2/K), closed form.
    ("lorentzian", 2.5, 0.4472136, 1e-7),
    ("lorentzian", 3.0, 0.5773503, 1e-7),
    ("lorentzian", 4.0, 0.7071068, 1e-7),
    # Standard normal, self-consistency equation solved to the digits given.
    ("gaussian", 2.0, 0.715174, 1e-6),
    ("gaussian", 2.5, 0.869720, 1e-6),
    ("gaussian", 1.5, 0.0, 0.0),
])
def test_stationary_order_parameter(kind, coupling, expected, tolerance):
    value = stationary_order_parameter(coupling, FrequencyDistribution(kind, 1.0))
    assert abs(value - expected) <= tolerance


def test_simulated_order_parameter_large_n():
    distribution = FrequencyDistribution("gaussian", 1.0)
    network = KuramotoNetwork(distribution.sample(2000, seed=5), coupling=2.5,
                              distribution=distribution)
    trajectory = simulate_kuramoto(network, t_final=60.0, dt=0.05, seed=1)
    observed = float(np.mean(trajectory.order[-20:]))
    assert abs(observed - 0.869720) < 0.03


def test_synchronization_refuted_and_certified():
    frequencies = np.linspace(-1.0, 1.0, 20)
    weak = KuramotoNetwork(frequencies, coupling=0.5)
    refuted = synchronization_certificate(weak)
    assert refuted.status == "refuted"
    assert refuted.witness["checked"] == "exact"
    strong = KuramotoNetwork(frequencies, coupling=3.0)
    assert synchronization_certificate(strong).status == "certified"
    stable = locked_state_certificate(strong)
    assert stable.status == "certified"
    # A certified locked state is reached: frequencies lock and r settles.
    trajectory = simulate_kuramoto(strong, t_final=40.0, dt=0.02, seed=0)
    rates = strong.vector_field(trajectory.phases[-1])
    assert np.ptp(rates) < 1e-6


def test_kuramoto_energy_decreases():
    rng = np.random.default_rng(1)
    adjacency = np.triu(rng.random((12, 12)) < 0.4, 1).astype(float)
    network = KuramotoNetwork(rng.standard_normal(12), coupling=1.5,
                              graph=adjacency + adjacency.T)
    trajectory = simulate_kuramoto(network, t_final=10.0, dt=0.01, seed=0)
    assert np.all(np.diff(trajectory.energies) <= 1e-9)


# -- model files and the command line -----------------------------------------------------------


def test_certify_petersen_example(tmp_path):
    out = tmp_path / "out.json"
    status = main(["certify", str(EXAMPLES / "oscillator_ising_petersen.toml"),
                   "--json", str(out)])
    assert status == EXIT_OK
    record = json.loads(out.read_text())
    assert record["verdict"] == "certified"
    stability = record["stability"]
    assert abs(stability["threshold"] - PETERSEN_THRESHOLD) < CLOSED_FORM_TOLERANCE
    assert stability["gains"] == {"coupling": 1.0, "injection": 0.3}
    assert stability["status"] == "certified"
    assert record["simulation"]["consistent"] is True


def test_certify_below_threshold_refuted(tmp_path):
    model = tmp_path / "m.toml"
    model.write_text(f"""
[model]
family = "oscillator_ising"
graph_file = "{EXAMPLES / 'data' / 'petersen.txt'}"
injection = 0.25

[certify]
require = ["local_stability"]
""")
    assert main(["certify", str(model), "--no-simulate"]) == 1


def test_certify_kuramoto_example(tmp_path):
    out = tmp_path / "k.json"
    assert main(["certify", str(EXAMPLES / "kuramoto_gaussian.toml"), "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["claims"]["synchronization"] == "certified"
    assert record["claims"]["local_stability"] == "certified"
    assert record["simulation"]["consistent"] is True
    assert record["simulation"]["energy_consistent"] is True
    assert abs(record["kuramoto"]["critical_coupling"] - 1.5957691) < 1e-7


@pytest.mark.parametrize("body, field", [
    ('family = "oscillator_ising"\ngraph_file = "data/petersen.txt"\n', "model.injection"),
    ('family = "oscillator_ising"\ngraph_file = "data/petersen.txt"\ninjection = -1\n',
     "model.injection"),
    ('family = "oscillator_ising"\ngraph_file = "data/petersen.txt"\ninjection = 1\n'
     'spins = [1, 2]\n', "model.spins"),
    ('family = "oscillator_ising"\ngraph_file = "data/missing.txt"\ninjection = 1\n',
     "graph_file"),
    ('family = "kuramoto"\ncoupling = 1.0\nfrequencies = [0.1, "x"]\n', "model.frequencies[1]"),
    ('family = "kuramoto"\ncoupling = 1.0\nfrequencies = { distribution = "cauchy" }\n',
     "model.frequencies.distribution"),
    ('family = "kuramoto"\ncoupling = 1.0\nfrequency = [0.1, 0.2]\n', "model.frequency"),
])
def test_model_file_errors(tmp_path, capsys, body, field):
    model = EXAMPLES / f"_test_{abs(hash(body))}.toml"
    model.write_text("[model]\n" + body)
    try:
        assert main(["certify", str(model)]) == EXIT_INVALID
    finally:
        model.unlink()
    assert field in capsys.readouterr().err


def test_maxcut_command(tmp_path, capsys):
    graph_file = write(tmp_path, "dodecahedral.txt", "20 30\n" + "".join(
        f"{i + 1} {j + 1} 1\n" for i, j in generalized_petersen(10, 2)))
    out = tmp_path / "cut.json"
    status = main(["maxcut", str(graph_file), "--time-limit", "1", "--replicas", "16",
                   "--polish", "--json", str(out)])
    assert status == EXIT_OK
    record = json.loads(out.read_text())
    for key in ("cut", "spins", "best_known", "time_s", "stability"):
        assert key in record
    assert record["cut"] == 24
    assert sorted(set(record["spins"])) == [-1, 1]
    assert record["best_known"] is None
    assert set(record["stability"]) >= {"threshold", "gains", "status"}
    assert record["stability"]["status"] in ("certified", "refuted", "inconclusive")
    assert record["polished_cut"] >= record["raw_cut"]
    assert record["cut"] == max(record["raw_cut"], record["polished_cut"])
    assert record["cut_source"] in ("oscillators", "polish")
    assert "tabu search" in record["polish"]
    summary = capsys.readouterr().out
    assert f"raw oscillator cut (rounded phases, no local search) {record['raw_cut']:g}" in summary
    assert f"polished cut (greedy 1-flip, then tabu search) {record['polished_cut']:g}" in summary
    assert "run without --polish" in summary


def test_contradiction_gives_exit_3(tmp_path, monkeypatch):
    # A certificate that simulation beats must surface as exit status 3: certify a
    # state that is unstable by claiming it stable, and let the simulation catch it.
    from ctdyn.certify._certificate import Certificate
    from ctdyn.oscillators import _plugin

    def wrong_certificate(graph, spins, *, coupling, injection):
        genuine = certify_binary_state(graph, spins, coupling=coupling, injection=injection)
        return Certificate(method="binary_stability", claim="local_stability",
                           status="certified", checked="exact", margin=1.0,
                           reason="planted wrong certificate", details=genuine.details)

    monkeypatch.setattr(_plugin, "certify_binary_state", wrong_certificate)
    model = tmp_path / "m.toml"
    model.write_text(f"""
[model]
family = "oscillator_ising"
graph_file = "{EXAMPLES / 'data' / 'petersen.txt'}"
injection = 0.05

[simulate]
t_final = 200.0
""")
    assert main(["certify", str(model)]) == 3


def test_maxcut_bad_graph_exit_2(tmp_path, capsys):
    graph_file = write(tmp_path, "bad.txt", "3 1\n1 5 1\n")
    assert main(["maxcut", str(graph_file), "--time-limit", "1"]) == EXIT_INVALID
    assert "line 2" in capsys.readouterr().err


def test_heavy_edge_does_not_weaken_the_rest():
    # An even ring of 200 nodes with one edge of weight 10^4: the maximum cut
    # takes every edge, 10^4 + 199. With K = 1/mean degree the heavy edge cut
    # the coupling of every other node by 50 and one run reached 10^4 + 143;
    # with K = 1/median degree and steps scaled by max(1, K d_i) it reached
    # 10^4 + 193 (both measured).
    n = 200
    weights = np.ones(n)
    weights[0] = 1e4
    matrix = sps.csr_array((weights, (np.arange(n), (np.arange(n) + 1) % n)), shape=(n, n))
    graph = as_graph(matrix + matrix.T)
    result = solve_maxcut(graph, time_limit=30, seed=0, replicas=4, max_runs=1)
    assert result.coupling == 0.5
    assert result.raw_cut - 1e4 >= 185
