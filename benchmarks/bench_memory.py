r"""Time dense associative memories: retrieval throughput, capacity sweeps, modern Hopfield updates.

Rows:

* retrieval throughput: queries per second of the asynchronous rule (F = x^3)
  with all queries updated together, against the same rule run on one query
  at a time;
* capacity sweep: wall time and result of :func:`ctdyn.memory.measure_capacity`
  (10% corruption, 1% bit errors) for the classical, cubic and exponential
  energies against N;
* modern Hopfield update :math:`X \operatorname{softmax}(\beta X^T \xi)`
  for a batch of queries, against a plain numpy softmax written out.

Run ``python benchmarks/bench_memory.py`` for the full table or ``--quick``
for small sizes. Both rewrite the ``memory`` section of docs/benchmarks.md.
The full run also writes the figures docs/memory_capacity.png and
docs/memory_digits.png.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._record import record_section  # noqa: E402
from ctdyn.memory import (  # noqa: E402
    DenseAssociativeMemory,
    ModernHopfield,
    corrupt,
    digits_retrieval,
    krotov_hopfield_capacity,
    measure_capacity,
)
from ctdyn.memory._digits import digits_figure  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"


def best_of(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def retrieval_rows(sizes, queries: int) -> list[str]:
    rows = ["| N | K | queries | batched (queries/s) | one at a time (queries/s) | speed-up |",
            "|---|---|---|---|---|---|"]
    for neurons, patterns in sizes:
        generator = np.random.default_rng(0)
        stored = generator.choice([-1, 1], size=(patterns, neurons))
        memory = DenseAssociativeMemory(stored, energy="polynomial", degree=3)
        targets = stored[generator.integers(0, patterns, size=queries)].astype(float)
        probes = corrupt(targets, 0.1, generator)
        batched = best_of(lambda: memory.retrieve(probes))
        single_count = min(queries, 16)
        single = best_of(lambda: [memory.retrieve(probes[q]) for q in range(single_count)], 1)
        batched_rate = queries / batched
        single_rate = single_count / single
        rows.append(f"| {neurons} | {patterns} | {queries} | {batched_rate:,.0f} | "
                    f"{single_rate:,.0f} | {batched_rate / single_rate:.1f}x |")
        print(rows[-1], flush=True)
    return rows


def capacity_rows(plan, trials: int) -> tuple[list[str], dict]:
    rows = ["| energy | N | capacity | theory | evaluations | wall time (s) |",
            "|---|---|---|---|---|---|"]
    curves: dict = {}
    for energy, degree, neurons, max_patterns in plan:
        start = time.perf_counter()
        result = measure_capacity(energy, neurons, degree=degree, trials=trials,
                                  max_patterns=max_patterns)
        seconds = time.perf_counter() - start
        theory = result.theory
        if "amit_gutfreund_sompolinsky" in theory:
            theory_text = f"0.138 N = {theory['amit_gutfreund_sompolinsky']:.1f}"
        elif "krotov_hopfield_no_errors" in theory:
            theory_text = f"K_max = {theory['krotov_hopfield_no_errors']:.1f}"
        else:
            theory_text = "exponential in N"
        capacity = str(result.capacity) if result.bounded else f">= {result.capacity}"
        label = energy if degree is None else f"{energy} n={degree}"
        rows.append(f"| {label} | {neurons} | {capacity} | {theory_text} | {len(result.curve)} | "
                    f"{seconds:.1f} |")
        curves.setdefault(label, []).append((neurons, result.capacity, result.bounded))
        print(rows[-1], flush=True)
    return rows, curves


def modern_rows(sizes) -> list[str]:
    rows = ["| d | K | queries | ctdyn update (ms) | numpy softmax (ms) | max difference |",
            "|---|---|---|---|---|---|"]
    for dimension, patterns, queries in sizes:
        generator = np.random.default_rng(1)
        stored = generator.normal(size=(patterns, dimension))
        network = ModernHopfield(stored, beta=0.5)
        states = generator.normal(size=(queries, dimension))

        def plain():
            scores = 0.5 * states @ stored.T
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            return (weights / weights.sum(axis=1, keepdims=True)) @ stored

        ours = best_of(lambda: network.update(states), 5)
        baseline = best_of(plain, 5)
        difference = float(np.max(np.abs(network.update(states) - plain())))
        rows.append(f"| {dimension} | {patterns} | {queries} | {1000 * ours:.2f} | "
                    f"{1000 * baseline:.2f} | {difference:.1e} |")
        print(rows[-1], flush=True)
    return rows


def capacity_figure(curves: dict) -> None:
    """Save docs/memory_capacity.png: polynomial energies against theory, and the exponential."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for label, points in curves.items():
        axis = right if label == "exponential" else left
        sizes = [point[0] for point in points]
        values = [point[1] for point in points]
        axis.plot(sizes, values, "o-", label=f"{label}, measured")
    grid = np.linspace(50, 400, 50)
    left.plot(grid, 0.138 * grid, "--", label="0.138 N (AGS 1985)")
    left.plot(grid, [krotov_hopfield_capacity(int(n), 3) for n in grid], ":",
              label="N^2 / (6 ln N) (Krotov-Hopfield 2016)")
    right.set_title("exponential F: growth exponential in N")
    for axis in (left, right):
        axis.set_xlabel("neurons N")
        axis.set_ylabel("patterns retrieved with <= 1% bit errors")
        axis.set_yscale("log")
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(DOCS / "memory_capacity.png", dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (about 30 s)")
    args = parser.parse_args()

    with threadpool_limits(limits=1, user_api="blas"):
        if args.quick:
            retrieval = retrieval_rows([(100, 50), (200, 100)], queries=64)
            capacity, curves = capacity_rows([("classical", None, 50, 1000),
                                              ("classical", None, 100, 1000),
                                              ("polynomial", 3, 50, 2000)], trials=2)
            modern = modern_rows([(64, 100, 256)])
        else:
            retrieval = retrieval_rows([(100, 50), (100, 300), (200, 100), (200, 1000),
                                        (400, 200), (400, 2000)], queries=256)
            plan = [("classical", None, n, 2000) for n in (50, 100, 200, 400)]
            plan += [("polynomial", 3, n, 20000) for n in (50, 100, 200, 400)]
            plan += [("exponential", None, n, 20000) for n in (10, 15, 20, 25, 30)]
            capacity, curves = capacity_rows(plan, trials=2)
            modern = modern_rows([(64, 100, 1000), (256, 1000, 1000), (1024, 4096, 256)])
            capacity_figure(curves)
            digits = digits_retrieval(trials=20)
            digits_figure(digits, "exponential").savefig(DOCS / "memory_digits.png", dpi=100)
            digits_table = digits.table()

    body = ["Retrieval throughput: the asynchronous rule with F = x^3, 10% of bits "
            "flipped, until no neuron changes. Batched updates all queries with one matrix "
            "operation per neuron; one at a time runs the same code on single queries.", "",
            *retrieval, "",
            "Capacity sweep: K doubles until the mean bit error rate exceeds 1% and is then "
            "bisected; 2 pattern sets of up to 20 queries per K, 10% corruption. \">=\" marks "
            "a capacity that reached the largest K tried.", "", *capacity, ""]
    if not args.quick:
        body += ["Figure: docs/memory_capacity.png (measured against 0.138 N and "
                 "N^2 / (6 ln N), and the exponential on its own axis).", ""]
    body += ["Modern Hopfield update X softmax(beta X^T xi) for a batch of queries (beta 0.5), "
             "against softmax written out in numpy.", "", *modern]
    if not args.quick:
        body += ["", "Binarized scikit-learn digits (first image of each digit, pixel > 7), "
                 "exact-retrieval accuracy over 20 corruptions per digit; figure "
                 "docs/memory_digits.png.", "", digits_table]
    record_section("memory", "Dense associative memories", "\n".join(body))


if __name__ == "__main__":
    main()
