"""Kuramoto networks on graphs: Krawczyk enclosures of locked states, stability, simulation."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sps

from ctdyn.certify._certificate import Certificate
from ctdyn.cli import EXIT_INVALID, EXIT_OK, main
from ctdyn.errors import InvalidModelError
from ctdyn.oscillators import (
    KuramotoNetwork,
    locked_state_certificate,
    simulate_kuramoto,
    synchronization_certificate,
)
from ctdyn.oscillators import _plugin
from ctdyn.oscillators._kuramoto import locked_phases, locked_state_on_graph
from ctdyn.oscillators._locking import (
    KRAWCZYK_SIZE_LIMIT,
    SPARSE_SIZE_LIMIT,
    LockedState,
    enclose_cohesive_state,
    enclose_locked_state,
    find_locked_state,
    unstable_direction,
)

EXIT_NOT_CERTIFIED = 1
EXIT_CONTRADICTION = 3


def path_graph(n: int, weight: float = 1.0) -> np.ndarray:
    adjacency = np.zeros((n, n))
    for i in range(n - 1):
        adjacency[i, i + 1] = adjacency[i + 1, i] = weight
    return adjacency


def ring_graph(n: int) -> np.ndarray:
    adjacency = path_graph(n)
    adjacency[0, n - 1] = adjacency[n - 1, 0] = 1.0
    return adjacency


def star_graph(leaves: int, weight: float) -> np.ndarray:
    adjacency = np.zeros((leaves + 1, leaves + 1))
    adjacency[0, 1:] = adjacency[1:, 0] = weight
    return adjacency


def mean_velocities(network: KuramotoNetwork, initial: np.ndarray, t_final: float) -> np.ndarray:
    """Return each oscillator's mean velocity over the second half of a simulation."""
    trajectory = simulate_kuramoto(network, t_final=t_final, dt=0.02, initial=initial,
                                   samples=200)
    half = len(trajectory.times) // 2
    elapsed = trajectory.times[-1] - trajectory.times[half]
    return (trajectory.phases[-1] - trajectory.phases[half]) / elapsed


# -- two oscillators: locked iff |nu| <= K a ------------------------------------------------
# theta_1' - theta_2' = (omega_1 - omega_2) - 2 K a sin(theta_1 - theta_2), so a
# locked state exists iff |omega_1 - omega_2| / 2 = |nu| <= K a; it is stable
# where cos(theta_1 - theta_2) > 0, which holds strictly below the threshold.


@pytest.mark.parametrize("offset", [0.0, 0.3, 0.999])
def test_two_nodes_below_threshold_certified(offset):
    network = KuramotoNetwork([offset, -offset], coupling=2.0, graph=path_graph(2, 0.5))
    synchronization = synchronization_certificate(network)
    stability = locked_state_certificate(network)
    assert synchronization.status == "certified"
    assert synchronization.checked == "interval"
    assert stability.status == "certified"
    phases = np.array(stability.evidence["phases"])
    # The exact locked difference is arcsin(nu / (K a)).
    assert abs((phases[0] - phases[1]) - math.asin(offset)) < 1e-12


def test_two_nodes_above_threshold_refuted():
    network = KuramotoNetwork([1.001, -1.001], coupling=1.0, graph=path_graph(2))
    certificate = synchronization_certificate(network)
    assert certificate.status == "refuted"
    assert certificate.witness["checked"] == "exact"
    assert locked_state_certificate(network).status != "certified"


def test_two_nodes_at_threshold_not_certified():
    # At |nu| = K a the locked state is a saddle-node with cos = 0: it exists
    # but is not hyperbolic, so neither claim may be certified as stable.
    network = KuramotoNetwork([1.0, -1.0], coupling=1.0, graph=path_graph(2))
    assert synchronization_certificate(network).status != "refuted"
    assert locked_state_certificate(network).status != "certified"


# -- trees: locked iff every edge carries a flow of at most K a_e ----------------------------
# On a tree, summing f_i = 0 over the subtree cut off by an edge e gives
# K a_e sin(theta_i - theta_j) = (sum of nu over that subtree), so a locked
# state exists iff that sum is at most K a_e in modulus for every edge.
# The path 0-1-2-3 with nu = w (1, 1, -1, -1) has flows w, 2w, w.


def tree_network(w: float) -> KuramotoNetwork:
    return KuramotoNetwork([w, w, -w, -w], coupling=1.0, graph=path_graph(4))


def test_path_below_flow_threshold_certified():
    network = tree_network(0.49)
    assert synchronization_certificate(network).status == "certified"
    stability = locked_state_certificate(network)
    assert stability.status == "certified"
    phases = np.array(stability.evidence["phases"])
    assert abs(math.sin(phases[1] - phases[2]) - 0.98) < 1e-12
    assert abs(math.sin(phases[0] - phases[1]) - 0.49) < 1e-12


def test_path_above_flow_threshold_drifts():
    # The necessary condition |nu_i| <= K sum_j a_ij is met at every node
    # (0.6 <= 1 at the ends, 0.6 <= 2 inside), but the middle edge would have
    # to carry a flow of 1.2 > 1: no locked state exists.
    network = tree_network(0.6)
    synchronization = synchronization_certificate(network)
    assert synchronization.status == "inconclusive"
    assert "necessary condition is met" in synchronization.reason
    assert locked_state_certificate(network).status == "inconclusive"
    velocities = mean_velocities(network, np.zeros(4), t_final=300.0)
    # The two halves slip against each other: their mean velocities differ.
    assert abs(velocities[1] - velocities[2]) > 0.1


def test_star_leaf_flows_certified():
    # A star is a tree: edge (0, leaf) carries nu_leaf, so all leaves below
    # K a = 0.8 lock, and the center's offset balances them.
    leaves = np.array([0.5, -0.3, 0.7, -0.75, 0.2])
    frequencies = np.concatenate([[-leaves.sum()], leaves])
    network = KuramotoNetwork(frequencies, coupling=2.0, graph=star_graph(5, 0.4))
    stability = locked_state_certificate(network)
    assert stability.status == "certified"
    phases = np.array(stability.evidence["phases"])
    offsets = frequencies - frequencies.mean()
    for leaf in range(1, 6):
        assert abs(0.8 * math.sin(phases[leaf] - phases[0]) - offsets[leaf]) < 1e-12


# -- rings and other graphs ---------------------------------------------------------------


def test_ring_small_frequencies_locks():
    rng = np.random.default_rng(3)
    frequencies = rng.uniform(-0.2, 0.2, 12)
    network = KuramotoNetwork(frequencies, coupling=1.0, graph=ring_graph(12))
    stability = locked_state_certificate(network)
    assert synchronization_certificate(network).status == "certified"
    assert stability.status == "certified"
    assert stability.margin > 0
    velocities = mean_velocities(network, np.zeros(12), t_final=200.0)
    assert np.ptp(velocities) < 1e-6


def test_complete_graph_matches_all_to_all():
    # a_ij = 1/n on the complete graph is the all-to-all model, whose locked
    # phases arcsin(nu_i / u*) come from a scalar root; the two routes must agree.
    n = 6
    frequencies = np.array([-0.9, -0.4, 0.1, 0.3, 0.35, 0.55])
    complete = (np.ones((n, n)) - np.eye(n)) / n
    graph_network = KuramotoNetwork(frequencies, coupling=2.5, graph=complete)
    mean_field = KuramotoNetwork(frequencies, coupling=2.5)
    stability = locked_state_certificate(graph_network)
    assert stability.status == "certified"
    u0 = locked_state_certificate(mean_field).evidence["u0"]
    expected = locked_phases(mean_field, _plugin._locked_root(mean_field, u0))
    phases = np.array(stability.evidence["phases"])
    assert np.max(np.abs(np.diff(phases) - np.diff(expected))) < 1e-9


def test_sparse_random_graph_certified():
    rng = np.random.default_rng(5)
    n = 300
    adjacency = ring_graph(n)
    for _ in range(600):
        i, j = rng.integers(0, n, 2)
        if i != j:
            adjacency[i, j] = adjacency[j, i] = rng.uniform(0.5, 1.5)
    network = KuramotoNetwork(rng.uniform(-0.5, 0.5, n), coupling=1.0, graph=adjacency)
    stability = locked_state_certificate(network)
    assert stability.status == "certified"
    assert stability.details["locked_state"]["enclosure"]["width"] < 1e-8


def test_twisted_ring_state_unstable():
    # The twisted state theta_k = 2 pi k / 3 of a 3-ring with equal frequencies
    # is locked with every cos(theta_i - theta_j) = -1/2, so L(w) = -K/2 times
    # the ring's Laplacian and every non-constant direction is unstable.
    network = KuramotoNetwork([0.0, 0.0, 0.0], coupling=1.0, graph=ring_graph(3))
    twisted = LockedState(phases=np.array([0.0, 2 * math.pi / 3, 4 * math.pi / 3]), ground=0,
                          residual=0.0, converged=True, method="given")
    enclosure = enclose_locked_state(network, twisted)
    assert enclosure is not None
    assert np.all(enclosure.cos_upper < 0)
    witness = unstable_direction(network, enclosure)
    assert witness is not None
    assert witness["quadratic_form_upper"] < 0
    direction = np.array(witness["direction"])
    assert np.ptp(direction) > 0
    # Independent check with the exact weights -1/2.
    differences = [direction[0] - direction[1], direction[1] - direction[2],
                   direction[2] - direction[0]]
    assert -0.5 * sum(int(d) ** 2 for d in differences) < 0


def test_newton_prefers_cohesive_branch():
    # With nu = (0.5, -0.5) there are two locked differences, pi/6 (stable)
    # and 5 pi/6 (unstable); the linearized start leads to the stable one.
    network = KuramotoNetwork([0.5, -0.5], coupling=1.0, graph=path_graph(2))
    state = find_locked_state(network)
    difference = state.phases[0] - state.phases[1]
    assert abs(difference - math.pi / 6) < 1e-12


# -- what stays inconclusive or is refuted -------------------------------------------------


def test_signed_graph_inconclusive():
    adjacency = ring_graph(4)
    adjacency[0, 1] = adjacency[1, 0] = -0.5
    network = KuramotoNetwork([0.1, -0.1, 0.05, -0.05], coupling=1.0, graph=adjacency)
    synchronization = synchronization_certificate(network)
    assert synchronization.status == "inconclusive"
    assert "negative couplings" in synchronization.reason
    assert locked_state_certificate(network).status == "inconclusive"


def test_disconnected_unbalanced_refuted():
    # Components {0, 1} and {2, 3}: the offsets of {0, 1} sum to 0.4, not 0.
    adjacency = np.zeros((4, 4))
    adjacency[0, 1] = adjacency[1, 0] = adjacency[2, 3] = adjacency[3, 2] = 1.0
    network = KuramotoNetwork([0.3, 0.1, -0.1, -0.3], coupling=1.0, graph=adjacency)
    certificate = synchronization_certificate(network)
    assert certificate.status == "refuted"
    assert certificate.witness["kind"] == "component_frequency_sum"
    assert certificate.witness["component"] == [0, 1]


def test_disconnected_balanced_inconclusive():
    adjacency = np.zeros((4, 4))
    adjacency[0, 1] = adjacency[1, 0] = adjacency[2, 3] = adjacency[3, 2] = 1.0
    network = KuramotoNetwork([0.1, -0.1, 0.2, -0.2], coupling=1.0, graph=adjacency)
    certificate = synchronization_certificate(network)
    assert certificate.status == "inconclusive"
    assert "connected components" in certificate.reason


def sparse_ring(n: int, chords: int, rng: np.random.Generator) -> sps.csr_array:
    """Return a ring of n nodes plus random chords, all of weight 1."""
    nodes = np.arange(n)
    ends = rng.integers(0, n, (2, chords))
    ends = ends[:, ends[0] != ends[1]]
    rows = np.concatenate([nodes, ends[0]])
    cols = np.concatenate([(nodes + 1) % n, ends[1]])
    upper = sps.coo_array((np.ones(rows.size), (np.minimum(rows, cols), np.maximum(rows, cols))),
                          shape=(n, n)).tocsr()
    upper.data[:] = 1.0  # repeated chords were summed
    return upper + upper.T


def test_above_sparse_limit_inconclusive():
    n = SPARSE_SIZE_LIMIT + 1
    network = KuramotoNetwork(np.zeros(n), coupling=1.0,
                              graph=sparse_ring(n, 0, np.random.default_rng(0)))
    certificate = locked_state_certificate(network)
    assert certificate.status == "inconclusive"
    assert str(SPARSE_SIZE_LIMIT) in certificate.reason


def test_above_dense_limit_m_matrix():
    rng = np.random.default_rng(8)
    n = KRAWCZYK_SIZE_LIMIT + 500
    network = KuramotoNetwork(rng.uniform(-0.5, 0.5, n), coupling=1.0,
                              graph=sparse_ring(n, 3 * n, rng))
    synchronization = synchronization_certificate(network)
    stability = locked_state_certificate(network)
    assert synchronization.status == "certified"
    assert "M-matrix" in synchronization.reason
    assert stability.status == "certified"
    enclosure = stability.details["locked_state"]["enclosure"]
    assert enclosure["method"] == "m_matrix"
    assert enclosure["width"] < 1e-8
    rotating = np.array(stability.evidence["phases"])
    offsets = network.frequencies - network.frequencies.mean()
    residual = offsets - network.coupling * network.coupling_terms(rotating)
    assert np.max(np.abs(residual)) < 1e-10


def test_long_ring_m_matrix_fails_honestly():
    # A ring of 10,000 nodes: its grounded Laplacian has condition number near
    # 10**8 and the phases reach about 1,900 rad, so the float residual (about
    # 2e-11) needs a box wider than the M-matrix test can handle.
    rng = np.random.default_rng(1)
    n = 10000
    network = KuramotoNetwork(rng.uniform(-1.0, 1.0, n), coupling=50.0,
                              graph=sparse_ring(n, 0, rng))
    certificate = synchronization_certificate(network)
    assert certificate.status == "inconclusive"
    assert "M-matrix test" in certificate.reason


@pytest.mark.parametrize("seed", range(6))
def test_m_matrix_box_meets_krawczyk_box(seed):
    # Both boxes contain the same unique locked state, so they must overlap.
    rng = np.random.default_rng(seed)
    n = 12
    network = KuramotoNetwork(rng.uniform(-0.4, 0.4, n), coupling=1.0,
                              graph=sparse_ring(n, 10, rng))
    state = find_locked_state(network)
    dense = enclose_locked_state(network, state)
    sparse = enclose_cohesive_state(network, state)
    assert dense is not None
    assert sparse is not None
    gap = np.abs(dense.center - sparse.center) - dense.radii - sparse.radii
    assert np.all(gap <= 0)
    assert np.all(sparse.cos_lower > 0)


def test_m_matrix_rejects_twisted_state():
    network = KuramotoNetwork([0.0, 0.0, 0.0], coupling=1.0, graph=ring_graph(3))
    twisted = LockedState(phases=np.array([0.0, 2 * math.pi / 3, 4 * math.pi / 3]), ground=0,
                          residual=0.0, converged=True, method="given")
    assert enclose_cohesive_state(network, twisted) is None


def test_locked_state_cache_follows_coupling():
    network = tree_network(0.45)
    assert locked_state_on_graph(network)["enclosure"] is not None
    network.coupling = 0.5
    assert locked_state_on_graph(network)["enclosure"] is None


def test_ground_phase_must_be_zero():
    network = tree_network(0.3)
    state = find_locked_state(network)
    shifted = LockedState(phases=state.phases + 1.0, ground=state.ground, residual=0.0,
                          converged=True, method="given")
    with pytest.raises(ValueError, match="ground"):
        enclose_locked_state(network, shifted)


# -- soundness: every certificate against simulation ----------------------------------------


def random_network(rng: np.random.Generator) -> KuramotoNetwork:
    n = int(rng.integers(3, 9))
    upper = np.triu(rng.random((n, n)) < 0.5, 1) * rng.uniform(0.2, 1.5, (n, n))
    adjacency = upper + upper.T
    frequencies = rng.normal(0.0, rng.uniform(0.1, 1.0), n)
    return KuramotoNetwork(frequencies, coupling=float(rng.uniform(0.3, 2.0)), graph=adjacency)


def test_certificates_confirmed_by_simulation():
    rng = np.random.default_rng(2026)
    counts = {"certified": 0, "refuted": 0, "inconclusive": 0}
    for _ in range(50):
        network = random_network(rng)
        rotating = KuramotoNetwork(network.frequencies - network.frequencies.mean(),
                                   coupling=network.coupling, graph=network.graph)
        synchronization = synchronization_certificate(network)
        stability = locked_state_certificate(network)
        counts[stability.status] += 1
        if synchronization.certified:
            # The enclosed phases are a zero of the rotating-frame field.
            center = np.array(synchronization.evidence["phases"])
            assert np.max(np.abs(rotating.vector_field(center))) < 1e-9
        if stability.certified:
            assert synchronization.certified
            center = np.array(stability.evidence["phases"])
            start = center + 1e-2 * rng.standard_normal(network.n)
            trajectory = simulate_kuramoto(rotating, t_final=80.0, dt=0.02, initial=start,
                                           samples=50)
            final = trajectory.phases[-1]
            # The trajectory settles at a rotation of the certified state.
            offset = final - center
            assert np.ptp(offset) < 1e-6
            assert np.max(np.abs(rotating.vector_field(final))) < 1e-6
    # The sweep must exercise the certified path, not only the other two.
    assert counts["certified"] >= 15
    assert counts["certified"] < 50


# -- the command line ------------------------------------------------------------------------


def write_model(tmp_path, body: str):
    model = tmp_path / "model.toml"
    model.write_text("[model]\n" + body)
    return model


RING_FILE = "5 5\n1 2 1\n2 3 1\n3 4 1\n4 5 1\n5 1 1\n"


def test_cli_graph_file_certified(tmp_path):
    (tmp_path / "ring.txt").write_text(RING_FILE)
    model = write_model(tmp_path, 'family = "kuramoto"\ngraph_file = "ring.txt"\n'
                                  'coupling = 1.0\nfrequencies = [0.1, -0.2, 0.3, 0.05, -0.1]\n')
    out = tmp_path / "out.json"
    status = main(["certify", str(model), "--json", str(out)])
    assert status == EXIT_OK
    record = json.loads(out.read_text())
    assert record["claims"] == {"synchronization": "certified", "local_stability": "certified"}
    assert record["equilibrium"]["kind"] == "phase_locked"
    assert len(record["equilibrium"]["x"]) == 5
    assert record["equilibrium"]["enclosure_width"] < 1e-10
    assert record["simulation"]["consistent"] is True
    assert record["simulation"]["energy_consistent"] is True


def test_cli_path_above_threshold(tmp_path):
    model = write_model(tmp_path, 'family = "kuramoto"\n'
                                  'adjacency = [[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], '
                                  '[0, 0, 1, 0]]\n'
                                  'coupling = 1.0\nfrequencies = [0.6, 0.6, -0.6, -0.6]\n')
    out = tmp_path / "out.json"
    status = main(["certify", str(model), "--json", str(out), "--require", "synchronization"])
    assert status == EXIT_NOT_CERTIFIED
    record = json.loads(out.read_text())
    assert record["claims"]["synchronization"] == "inconclusive"
    assert record["equilibrium"] is None


def test_cli_wrong_certificate_contradicted(tmp_path, monkeypatch):
    # Certify the unstable locked difference 5 pi/6 of two oscillators as
    # stable; only the simulation can catch it, and it must (exit 3).
    def wrong_certificate(network):
        return Certificate(method="phase_locked_stability", claim="local_stability",
                           status="certified", checked="interval", margin=1.0,
                           reason="planted wrong certificate",
                           evidence={"phases": [0.0, -5 * math.pi / 6], "radii": [0.0, 0.0]})

    monkeypatch.setattr(_plugin, "locked_state_certificate", wrong_certificate)
    model = write_model(tmp_path, 'family = "kuramoto"\nadjacency = [[0, 1], [1, 0]]\n'
                                  'coupling = 1.0\nfrequencies = [0.5, -0.5]\n')
    status = main(["certify", str(model)])
    assert status == EXIT_CONTRADICTION


@pytest.mark.parametrize("body, field", [
    ('family = "kuramoto"\nadjacency = [[0, 1], [1, 0]]\ncoupling = 1.0\n'
     'frequencies = [0.1, 0.2, 0.3]\n', "model.frequencies"),
    ('family = "kuramoto"\nadjacency = [[0, 1], [2, 0]]\ncoupling = 1.0\n'
     'frequencies = [0.1, 0.2]\n', "adjacency"),
    ('family = "kuramoto"\nadjacency = [[0, 1], [1, 0]]\ncoupling = -1.0\n'
     'frequencies = [0.1, 0.2]\n', "model.coupling"),
    ('family = "kuramoto"\nadjacency = [[0, 1], [1, 0]]\ncoupling = 1.0\n'
     'frequencies = [0.1, nan]\n', "model.frequencies[1]"),
])
def test_cli_bad_input(tmp_path, capsys, body, field):
    status = main(["certify", str(write_model(tmp_path, body))])
    assert status == EXIT_INVALID
    assert field in capsys.readouterr().err


def test_self_loop_file_rejected(tmp_path, capsys):
    (tmp_path / "loop.txt").write_text("2 2\n1 2 1\n2 2 1\n")
    model = write_model(tmp_path, 'family = "kuramoto"\ngraph_file = "loop.txt"\n'
                                  'coupling = 1.0\nfrequencies = [0.1, -0.1]\n')
    assert main(["certify", str(model)]) == EXIT_INVALID
    assert "line 3" in capsys.readouterr().err


def test_network_frequency_count_mismatch():
    with pytest.raises(InvalidModelError) as caught:
        KuramotoNetwork([0.1, 0.2, 0.3], coupling=1.0, graph=path_graph(2))
    assert caught.value.field == "frequencies"


# -- proof steps (proofs/oscillator_networks.md, section 5) ---------------------------------


def symbolic_network(n: int):
    import sympy as sp

    theta = sp.symbols(f"theta0:{n}", real=True)
    nu = sp.symbols(f"nu0:{n}", real=True)
    coupling = sp.Symbol("K", positive=True)
    a = sp.Matrix(n, n, lambda i, j: 0 if i == j else sp.Symbol(f"a{min(i, j)}{max(i, j)}"))
    field = sp.Matrix([nu[i] - coupling * sum(a[i, j] * sp.sin(theta[i] - theta[j])
                                              for j in range(n)) for i in range(n)])
    return sp, theta, nu, coupling, a, field


def test_proof_field_sums_to_offsets():
    sp, theta, nu, coupling, a, field = symbolic_network(4)
    assert sp.simplify(sum(field) - sum(nu)) == 0


def test_proof_jacobian_is_minus_laplacian():
    sp, theta, nu, coupling, a, field = symbolic_network(4)
    weights = sp.Matrix(4, 4, lambda i, j: coupling * a[i, j] * sp.cos(theta[i] - theta[j]))
    laplacian = sp.diag(*[sum(weights.row(i)) for i in range(4)]) - weights
    assert sp.simplify(field.jacobian(theta) + laplacian) == sp.zeros(4, 4)


def test_proof_laplacian_quadratic_form():
    import sympy as sp

    n = 4
    v = sp.symbols(f"v0:{n}", real=True)
    w = sp.Matrix(n, n, lambda i, j: 0 if i == j else sp.Symbol(f"w{min(i, j)}{max(i, j)}"))
    laplacian = sp.diag(*[sum(w.row(i)) for i in range(n)]) - w
    vector = sp.Matrix(v)
    quadratic = (vector.T * laplacian * vector)[0, 0]
    edges = sum(w[i, j] * (v[i] - v[j]) ** 2 for i in range(n) for j in range(i + 1, n))
    assert sp.expand(quadratic - edges) == 0


def test_proof_sine_difference_split():
    import sympy as sp

    x, y = sp.symbols("x y", real=True)
    split = sp.sin(x) * sp.cos(y) - sp.cos(x) * sp.sin(y)
    assert sp.simplify(sp.expand_trig(sp.sin(x - y)) - split) == 0


# -- examples --------------------------------------------------------------------------------


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_ring_example_certified(tmp_path):
    out = tmp_path / "out.json"
    assert main(["certify", str(EXAMPLES / "kuramoto_ring.toml"), "--json", str(out)]) == EXIT_OK
    record = json.loads(out.read_text())
    assert record["verdict"] == "certified"
    assert record["simulation"]["consistent"] is True
    # The mean-field K_c is not reported for a ring.
    assert "critical_coupling" not in record["kuramoto"]


def test_path_drift_example_inconclusive(tmp_path):
    out = tmp_path / "out.json"
    model = EXAMPLES / "kuramoto_path_drift.toml"
    assert main(["certify", str(model), "--json", str(out), "--no-simulate"]) == EXIT_OK
    record = json.loads(out.read_text())
    assert record["claims"]["synchronization"] == "inconclusive"
    assert record["claims"]["local_stability"] == "inconclusive"
