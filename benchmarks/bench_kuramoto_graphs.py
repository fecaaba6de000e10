"""Time to compute and rigorously enclose a phase-locked state of a Kuramoto network on a graph.

Graphs, all with unit weights and a ring added so that they are connected:
Erdos-Renyi G(n, 0.5) with K = 3 / (mean degree), G(n, 10/n) with K = 0.3
(K = 1 above n = 2,000, where low-degree nodes get more likely),
and the bare ring (the worst-conditioned Laplacian here) with
K = 0.5 sqrt(n), because the flows a ring must carry grow like sqrt(n).
Frequencies are uniform on [-1, 1]. Newton is
ctdyn.oscillators._locking.find_locked_state. Up to n = 2,000 the proof is
the dense Krawczyk test (enclose_locked_state); above, the sparse M-matrix
test (enclose_cohesive_state), as ctdyn certify chooses them. BLAS runs on
one thread.

Run: python benchmarks/bench_kuramoto_graphs.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sps
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _record import record_section  # noqa: E402

from ctdyn.oscillators import KuramotoNetwork  # noqa: E402
from ctdyn.oscillators._locking import (  # noqa: E402
    KRAWCZYK_SIZE_LIMIT,
    enclose_cohesive_state,
    enclose_locked_state,
    find_locked_state,
)


def random_graph(n: int, mean_degree: float, rng: np.random.Generator) -> np.ndarray:
    upper = np.triu(rng.random((n, n)) < mean_degree / (n - 1), 1).astype(float)
    adjacency = upper + upper.T
    # Add a ring so that every instance is connected.
    ring = np.arange(n)
    adjacency[ring, (ring + 1) % n] = adjacency[(ring + 1) % n, ring] = 1.0
    return adjacency


def sparse_random_graph(n: int, mean_degree: float, rng: np.random.Generator) -> sps.csr_array:
    """Return a ring plus about n * mean_degree / 2 random chords, built sparse."""
    chords = int(n * mean_degree / 2)
    ends = rng.integers(0, n, (2, chords))
    ends = ends[:, ends[0] != ends[1]]
    nodes = np.arange(n)
    rows = np.concatenate([nodes, ends[0]])
    cols = np.concatenate([(nodes + 1) % n, ends[1]])
    upper = sps.coo_array((np.ones(rows.size), (np.minimum(rows, cols), np.maximum(rows, cols))),
                          shape=(n, n)).tocsr()
    upper.data[:] = 1.0
    return upper + upper.T


def ring_graph(n: int) -> sps.csr_array:
    return sparse_random_graph(n, 0.0, np.random.default_rng(0))


def measure(label: str, adjacency: np.ndarray, coupling: float, rng) -> str:
    n = adjacency.shape[0]
    network = KuramotoNetwork(rng.uniform(-1.0, 1.0, n), coupling=coupling, graph=adjacency)
    start = time.perf_counter()
    state = find_locked_state(network)
    newton_time = time.perf_counter() - start
    start = time.perf_counter()
    if n <= KRAWCZYK_SIZE_LIMIT:
        enclosure = enclose_locked_state(network, state)
    else:
        enclosure = enclose_cohesive_state(network, state)
    proof_time = time.perf_counter() - start
    if enclosure is None:
        outcome = "no enclosure"
        width = "-"
    else:
        outcome = "stable" if np.min(enclosure.cos_lower) > 0 else "enclosed"
        width = f"{enclosure.width:.1e}"
    test = "Krawczyk" if n <= KRAWCZYK_SIZE_LIMIT else "M-matrix"
    row = (f"| {label} | {n} | {network.graph.m} | {coupling:.3g} | {newton_time:.2f} | "
           f"{test} | {proof_time:.2f} | {width} | {outcome} |")
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 5,000 only")
    args = parser.parse_args()
    sizes = (250, 500) if args.quick else (250, 500, 1000, 2000)
    sparse_sizes = (5000,) if args.quick else (10000, 50000, 100000)
    rng = np.random.default_rng(0)
    header = ("| graph | n | edges | K | Newton (s) | test | test (s) | box width | result |\n"
              "|---|---|---|---|---|---|---|---|---|")
    print(header)
    rows = []
    with threadpool_limits(limits=1):
        for n in sizes:
            dense_degree = 0.5 * (n - 1)
            rows.append(measure("G(n, 0.5)", random_graph(n, dense_degree, rng),
                                3.0 / dense_degree, rng))
            rows.append(measure("G(n, 10/n)", random_graph(n, 10.0, rng), 0.3, rng))
            rows.append(measure("ring", ring_graph(n), 0.5 * np.sqrt(n), rng))
        for n in sparse_sizes:
            rows.append(measure("G(n, 10/n)", sparse_random_graph(n, 10.0, rng), 1.0, rng))
            rows.append(measure("ring", ring_graph(n), 0.5 * np.sqrt(n), rng))
    body = ("Time to compute a phase-locked state by Newton's method and to prove it by "
            "the dense Krawczyk test (n <= 2,000) or the sparse M-matrix test (above), on one "
            "BLAS thread. `stable` means every edge has "
            "cos(theta_i - theta_j) > 0 on the whole box, which certifies local stability; "
            "box width is 2 max_i r_i in radians.\n\n" + header + "\n" + "\n".join(rows) + "\n")
    command = "python benchmarks/bench_kuramoto_graphs.py" + (" --quick" if args.quick else "")
    record_section("kuramoto_graphs", "Kuramoto locked states on graphs", body, command=command)


if __name__ == "__main__":
    main()
