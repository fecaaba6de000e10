"""Regression tests of the oscillator families: simulation challenges, thresholds, messages."""

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from ctdyn.certify._certificate import Certificate
from ctdyn.cli import EXIT_INVALID, EXIT_OK, main
from ctdyn.errors import InvalidModelError, ModelFileError
from ctdyn.oscillators import (
    KuramotoNetwork,
    OscillatorIsingMachine,
    as_graph,
    certify_binary_state,
    locked_state_certificate,
    read_graph,
    stability_threshold,
)
from ctdyn.oscillators import _plugin
from ctdyn.oscillators._kuramoto import locked_phases

ROOT = Path(__file__).resolve().parent.parent
PETERSEN_FILE = ROOT / "examples" / "data" / "petersen.txt"
EXIT_CONTRADICTION = 3

# Four oscillators, all-to-all, just above the locking threshold, from a
# reported false contradiction. Both claims are certified. The root of
# F(u) = K mean_i sqrt(1 - (nu_i/u)^2) - u is u* = 1.88626 (found by the
# reporter with a root finder, and checked below as an equilibrium), while
# the proved bound is u0 = 1.88476.
NEAR_THRESHOLD_COUPLING = 2.163
NEAR_THRESHOLD_FREQUENCIES = [-1.004, -0.78, 1.269, -0.196]
NEAR_THRESHOLD_ROOT = 1.88626


def certify(tmp_path, body: str, *extra: str) -> tuple[int, dict]:
    model = tmp_path / "model.toml"
    model.write_text("[model]\n" + body)
    out = tmp_path / "out.json"
    status = main(["certify", str(model), "--json", str(out), *extra])
    return status, json.loads(out.read_text()) if out.exists() else {}


def plant_wrong_certificate(monkeypatch):
    # Certify a state as stable whatever its true status, so that only the
    # simulation can catch the contradiction.
    def wrong_certificate(graph, spins, *, coupling, injection):
        genuine = certify_binary_state(graph, spins, coupling=coupling, injection=injection)
        return Certificate(method="binary_stability", claim="local_stability",
                           status="certified", checked="exact", margin=1.0,
                           reason="planted wrong certificate", details=genuine.details)

    monkeypatch.setattr(_plugin, "certify_binary_state", wrong_certificate)


# -- oscillator_ising: the RK4 step follows the stability bound ---------------------------


def test_ising_small_injection_no_contradiction(tmp_path):
    status, record = certify(tmp_path, f'family = "oscillator_ising"\n'
                                       f'graph_file = "{PETERSEN_FILE}"\ninjection = 0.01\n')
    assert status == EXIT_OK
    assert record["stability"]["status"] == "refuted"
    assert record["simulation"]["energy_consistent"] is True
    assert record["simulation"]["consistent"] is True


def test_ising_tiny_injection_certified(tmp_path):
    status, record = certify(tmp_path, 'family = "oscillator_ising"\n'
                                       'adjacency = [[0.0, 0.5], [0.5, 0.0]]\ncoupling = 2.0\n'
                                       'injection = 1e-12\nspins = [-1, 1]\n')
    assert status == EXIT_OK
    assert record["stability"]["status"] == "certified"
    assert record["simulation"]["consistent"] is True
    assert record["simulation"]["energy_consistent"] is True
    assert "horizon shortened" in " ".join(record["simulation"]["notes"])


def test_ising_planted_certificate_default_horizon(tmp_path, monkeypatch):
    plant_wrong_certificate(monkeypatch)
    status, _ = certify(tmp_path, f'family = "oscillator_ising"\n'
                                  f'graph_file = "{PETERSEN_FILE}"\ninjection = 0.05\n')
    assert status == EXIT_CONTRADICTION


def test_ising_unresolvable_horizon_skipped(tmp_path, monkeypatch):
    # Even a planted wrong certificate gives no contradiction when the step
    # budget cannot cover the requested horizon: the challenge is skipped.
    plant_wrong_certificate(monkeypatch)
    status, record = certify(tmp_path, f'family = "oscillator_ising"\n'
                                       f'graph_file = "{PETERSEN_FILE}"\ninjection = 0.05\n'
                                       '[simulate]\nt_final = 1e7\n')
    assert status == EXIT_OK
    notes = " ".join(record["simulation"]["notes"])
    assert "simulation skipped" in notes
    assert "t_final" in notes


def test_jacobian_bound_covers_spectrum():
    rng = np.random.default_rng(1)
    graph = read_graph(PETERSEN_FILE)
    model = OscillatorIsingMachine(graph, coupling=1.3, injection=0.4)
    bound = _plugin._jacobian_norm_bound(model)
    step = 1e-6
    for _ in range(5):
        phases = rng.uniform(-np.pi, np.pi, graph.n)
        jacobian = np.column_stack([
            (model.vector_field(phases + step * unit) - model.vector_field(phases - step * unit))
            / (2 * step) for unit in np.eye(graph.n)])
        radius = float(np.max(np.abs(np.linalg.eigvals(jacobian))))
        assert radius <= bound * (1 + 1e-6)


# -- kuramoto: the challenge is centred at the root u* ------------------------------------


def near_threshold_network() -> KuramotoNetwork:
    return KuramotoNetwork(np.array(NEAR_THRESHOLD_FREQUENCIES),
                           coupling=NEAR_THRESHOLD_COUPLING)


def test_kuramoto_locked_root_is_equilibrium():
    network = near_threshold_network()
    u0 = locked_state_certificate(network).evidence["u0"]
    root = _plugin._locked_root(network, u0)
    assert abs(root - NEAR_THRESHOLD_ROOT) < 1e-5
    assert root > u0
    mean = float(np.mean(network.frequencies))
    residual_root = network.vector_field(locked_phases(network, root)) - mean
    residual_bound = network.vector_field(locked_phases(network, u0)) - mean
    assert np.max(np.abs(residual_root - residual_root.mean())) < 1e-9
    assert np.max(np.abs(residual_bound - residual_bound.mean())) > 1e-4


def test_kuramoto_near_threshold_no_contradiction(tmp_path):
    frequencies = ", ".join(str(value) for value in NEAR_THRESHOLD_FREQUENCIES)
    status, record = certify(tmp_path, 'family = "kuramoto"\nadjacency = "all_to_all"\n'
                                       f'coupling = {NEAR_THRESHOLD_COUPLING}\n'
                                       f'frequencies = [{frequencies}]\n')
    assert status == EXIT_OK
    assert record["claims"]["synchronization"] == "certified"
    assert record["claims"]["local_stability"] == "certified"
    assert record["simulation"]["consistent"] is True


# -- thresholds stay inside their proved bounds --------------------------------------------


@pytest.mark.parametrize("weight, spins", [(-1.0, [1, 1]), (-1.0, [1, -1]), (0.5, [-1, 1]),
                                           (1.0, [1, 1])])
def test_threshold_within_bounds(weight, spins):
    graph = as_graph(np.array([[0.0, weight], [weight, 0.0]]))
    for coupling in (1.0, 2.0, 0.3):
        threshold = stability_threshold(graph, spins, coupling=coupling)
        assert threshold.lower <= threshold.value
        assert threshold.value <= threshold.upper


def test_threshold_zero_not_negative():
    # spins [1, 1] on a single edge of weight -1: M(s) = [[-1, 1], [1, -1]],
    # whose largest eigenvalue is exactly 0.
    graph = as_graph(np.array([[0.0, -1.0], [-1.0, 0.0]]))
    threshold = stability_threshold(graph, [1, 1])
    assert threshold.lower <= 0.0 <= threshold.upper
    assert threshold.value >= 0.0


# -- messages -------------------------------------------------------------------------------


def test_spin_message_plain_number():
    graph = read_graph(PETERSEN_FILE)
    spins = np.ones(graph.n)
    spins[3] = 0.0
    with pytest.raises(InvalidModelError) as caught:
        certify_binary_state(graph, spins, injection=1.0)
    assert "np." not in str(caught.value)
    assert "0.0" in str(caught.value)


def test_gain_message_plain_number():
    graph = read_graph(PETERSEN_FILE)
    with pytest.raises(InvalidModelError) as caught:
        certify_binary_state(graph, np.ones(graph.n), coupling=np.float64(-1.0), injection=1.0)
    assert "np." not in str(caught.value)
    assert "-1.0" in str(caught.value)


def test_ising_all_to_all_rejected(tmp_path, capsys):
    model = tmp_path / "model.toml"
    model.write_text('[model]\nfamily = "oscillator_ising"\nadjacency = "all_to_all"\n'
                     'injection = 0.5\n')
    assert main(["certify", str(model)]) == EXIT_INVALID
    error = capsys.readouterr().err
    assert "model.adjacency" in error
    assert "kuramoto" in error
    assert "shape" not in error


def test_matrix_self_loop_one_based(tmp_path):
    import scipy.io
    import scipy.sparse as sps

    adjacency = np.zeros((3, 3))
    adjacency[0, 0] = 1.0
    np.save(tmp_path / "loop.npy", adjacency)
    scipy.io.mmwrite(tmp_path / "loop.mtx", sps.coo_array(adjacency), symmetry="symmetric")
    for name in ("loop.npy", "loop.mtx"):
        with pytest.raises(ModelFileError) as caught:
            read_graph(tmp_path / name)
        assert "self-loop at node 1 " in str(caught.value)
    with pytest.raises(InvalidModelError) as caught:
        as_graph(adjacency)
    assert "self-loop at node 0" in str(caught.value)


def test_read_graph_log_singular_edge(tmp_path, caplog):
    path = tmp_path / "edge.txt"
    path.write_text("2 1\n1 2 1\n")
    with caplog.at_level(logging.INFO, logger="ctdyn.oscillators._graph"):
        read_graph(path)
    assert "2 nodes, 1 edge" in caplog.text
    assert "1 edges" not in caplog.text


def test_maxcut_rejects_more_phases_than_memory_allows():
    # 10**6 replicas of an 800-node graph would be 3.2 GB per float32 array.
    from ctdyn.errors import InvalidModelError
    from ctdyn.oscillators import solve_maxcut
    from ctdyn.oscillators._graph import from_matrix

    graph = from_matrix(np.ones((800, 800)) - np.eye(800))
    with pytest.raises(InvalidModelError) as caught:
        solve_maxcut(graph, time_limit=1.0, replicas=10**6)
    assert caught.value.field == "replicas"


# -- weights at the ends of the float range ---------------------------------------------


def write_rudy(tmp_path, edges, name="graph.txt") -> Path:
    path = tmp_path / name
    lines = [f"{max(max(i, j) for i, j, _ in edges)} {len(edges)}"]
    lines += [f"{i} {j} {w!r}" for i, j, w in edges]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_tiny_weight_beside_unit_weights_certifies(tmp_path, capsys):
    # The exact LDL^T of this state has a pivot beyond the float range; it
    # used to raise OverflowError when converted for the report.
    path = write_rudy(tmp_path, [(1, 2, 1.0), (2, 3, 1e-300), (3, 4, 1.0), (4, 5, -1.0),
                                 (1, 5, 0.7), (1, 3, 1.0)])
    assert main(["maxcut", str(path), "--time-limit", "0.2"]) == EXIT_OK
    assert "stability of the returned state" in capsys.readouterr().out


def test_overflowing_weighted_degree_exits_2(tmp_path, capsys):
    path = write_rudy(tmp_path, [(1, 2, 1e308), (2, 3, 1e308), (3, 4, 1e308), (1, 4, 1e308)])
    assert main(["maxcut", str(path), "--polish", "--time-limit", "0.2"]) == EXIT_INVALID
    assert "weighted degrees" in capsys.readouterr().err


def test_weighted_degree_limit_names_node():
    matrix = np.zeros((3, 3))
    matrix[0, 1] = matrix[1, 0] = 1e151
    with pytest.raises(InvalidModelError) as error:
        as_graph(matrix)
    assert "node 0" in str(error.value)


def test_huge_rationals_skip_threshold_polynomial():
    # Weights 1e100 and 1e-300 give characteristic polynomial coefficients of
    # thousands of bits; the threshold is still bracketed, without the polynomial.
    matrix = np.zeros((5, 5))
    for i, j, weight in [(0, 1, 1e100), (1, 2, 1e-300), (2, 3, 1.0), (3, 4, -1e100),
                         (0, 4, 1e-300), (0, 2, 1.0)]:
        matrix[i, j] = matrix[j, i] = weight
    graph = as_graph(matrix)
    threshold = stability_threshold(graph, np.array([1, -1, 1, -1, 1]))
    assert threshold.polynomial is None
    assert threshold.lower <= threshold.value <= threshold.upper


def test_integer_greedy_counts_unit_gain_beside_large_weight():
    # With integer weights any gain of 1 counts, however large the other weights.
    matrix = np.zeros((4, 4))
    matrix[0, 1] = matrix[1, 0] = 1e10
    matrix[2, 3] = matrix[3, 2] = 1.0
    from ctdyn.oscillators import greedy_polish

    _, cuts = greedy_polish(as_graph(matrix), np.array([[1.0, -1.0, 1.0, 1.0]]))
    assert cuts[0] == 1e10 + 1


def test_polished_cut_recomputed_and_source_consistent(tmp_path):
    # A star with weights 0.3: summed float gains drift in the last digit.
    edges = [(1, leaf, 0.3) for leaf in range(2, 102)]
    path = write_rudy(tmp_path, edges)
    output = tmp_path / "cut.json"
    assert main(["maxcut", str(path), "--polish", "--time-limit", "0.3",
                 "--json", str(output)]) == EXIT_OK
    record = json.loads(output.read_text())
    graph = read_graph(path)
    spins = np.array(record["spins"], dtype=float)
    from ctdyn.oscillators import cut_value

    assert record["cut"] == cut_value(graph, spins)
    assert record["polished_cut"] <= record["cut"]
    assert record["raw_cut"] <= record["cut"]
    expected_source = "polish" if record["polished_cut"] > record["raw_cut"] else "oscillators"
    assert record["cut_source"] == expected_source


def test_cut_printed_with_all_digits(tmp_path, capsys):
    path = write_rudy(tmp_path, [(1, 2, 1048576.0)])
    assert main(["maxcut", str(path), "--time-limit", "0.1"]) == EXIT_OK
    output = capsys.readouterr().out
    assert "cut 1048576 " in output
    assert "1 run of" in output or "runs of" in output


def test_kuramoto_near_saddle_not_contradicted(tmp_path):
    # Two nodes lock iff |omega_1 - omega_2| <= 2 K a; here 1.999999 < 2. The
    # saddle lies about 0.002 away in the phase difference, so a start 1e-3
    # away per oscillator used to leave the basin (false exit 3).
    status, _ = certify(tmp_path, """
family = "kuramoto"
adjacency = [[0, 0.5], [0.5, 0]]
coupling = 2.0
frequencies = [1.2999995, -0.6999995000000001]
""")
    assert status == EXIT_OK


def test_weight_range_limits_name_file_node(tmp_path, capsys):
    # A hub of 7.4e149 beside leaves of 1e-300 made K = 1e300 overflow; node
    # ids are named as the rudy file counts them, from 1.
    path = write_rudy(tmp_path, [(1, 2, 7.4e149), (1, 3, 1e-300), (1, 4, 1e-300)])
    assert main(["maxcut", str(path), "--time-limit", "0.1"]) == EXIT_INVALID
    assert "1e-300 at node 3" in capsys.readouterr().err


def test_mixed_scale_weights_skip_exact_ldl():
    # Weights of 1e100 beside 1e-300 are 1,000-bit fractions: the exact LDL^T
    # took minutes at 120 nodes, the rounding-bounded Cholesky decides at once.
    from ctdyn.oscillators._stability import EXACT_BIT_LIMIT, _exact_weight_bits

    rng = np.random.default_rng(1)
    n = 60
    matrix = np.zeros((n, n))
    for i in range(n):
        matrix[i, (i + 1) % n] = matrix[(i + 1) % n, i] = 1.0
        j = int(rng.integers(n))
        if j not in (i, (i + 1) % n, (i - 1) % n):
            matrix[i, j] = matrix[j, i] = float(rng.choice([1e100, 1e-300, -1e100]))
    graph = as_graph(matrix)
    assert _exact_weight_bits(graph) > EXACT_BIT_LIMIT
    spins = np.where(np.arange(n) % 2 == 0, 1, -1)
    from fractions import Fraction

    from ctdyn.oscillators._stability import _definite_shifted

    check = _definite_shifted(graph, spins, Fraction(1e101), Fraction(1))
    assert check.checked == "interval"
