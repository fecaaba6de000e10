"""Benchmark the oscillator Ising machine against dwave-neal and simulated-bifurcation on Gset.

Every solver gets the same wall-clock budget per seed on each graph and
restarts until the budget is spent; the table reports the best and median
cut over seeds and the median time to reach 99.5% and 100% of the best-known
cut (``-`` when a seed never reached it). The peers are benchmark extras:
``pip install dwave-neal simulated-bifurcation``; a missing peer is reported
as unavailable. The Gset folder comes from ``--data`` or the environment
variable CTDYN_DATA (the folder that holds ``gset/``).

    python benchmarks/bench_oscillators.py [--budget 10] [--seeds 3] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._record import record_section  # noqa: E402
from ctdyn.oscillators import cut_values, read_graph, solve_maxcut  # noqa: E402
from ctdyn.oscillators._cli import best_known_cut  # noqa: E402

GRAPHS = ("G1", "G2", "G11", "G14", "G22")


def run_ctdyn(graph, budget, seed):
    result = solve_maxcut(graph, time_limit=budget, seed=seed, polish=True)
    return result.history


def run_ctdyn_raw(graph, budget, seed):
    result = solve_maxcut(graph, time_limit=budget, seed=seed, replicas=64, polish=False)
    return result.history


def run_neal(graph, budget, seed):
    import neal

    sampler = neal.SimulatedAnnealingSampler()
    couplings = {(int(i), int(j)): float(w)
                 for i, j, w in zip(graph.rows, graph.cols, graph.weights)}
    start = time.perf_counter()
    history, best, call = [], -np.inf, 0
    while time.perf_counter() - start < budget:
        samples = sampler.sample_ising({}, couplings, num_reads=8, num_sweeps=1000,
                                       seed=seed * 1000 + call)
        call += 1
        spins = np.asarray(samples.record.sample, dtype=float)
        cut = float(np.max(cut_values(graph, spins)))
        if cut > best:
            best = cut
            history.append((time.perf_counter() - start, best))
    return history


def run_bifurcation(graph, budget, seed):
    import simulated_bifurcation as sb
    import torch

    torch.manual_seed(seed)
    matrix = torch.tensor(graph.dense(), dtype=torch.float32)
    start = time.perf_counter()
    history, best = [], -np.inf
    while time.perf_counter() - start < budget:
        spins, _ = sb.minimize(matrix, domain="spin", agents=128, max_steps=10000,
                               best_only=True, verbose=False,
                               timeout=max(budget - (time.perf_counter() - start), 0.1))
        cut = float(cut_values(graph, spins.numpy()[None, :].astype(float))[0])
        if cut > best:
            best = cut
            history.append((time.perf_counter() - start, best))
    return history


SOLVERS = {"ctdyn OIM (raw)": run_ctdyn_raw, "ctdyn OIM (polish)": run_ctdyn,
           "dwave-neal": run_neal,
           "simulated-bifurcation": run_bifurcation}


def time_to(history, target):
    for seconds, cut in history:
        if cut >= target:
            return seconds
    return None


def describe_time(times):
    reached = [t for t in times if t is not None]
    median = statistics.median(t if t is not None else np.inf for t in times)
    if not np.isfinite(median):
        # Half or more of the seeds never reached the target.
        return f"- ({len(reached)}/{len(times)})"
    return f"{median:.2f} s ({len(reached)}/{len(times)})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per seed and graph")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per solver and graph")
    parser.add_argument("--quick", action="store_true", help="G11 and G14, 3 s, 2 seeds")
    parser.add_argument("--data", default=os.environ.get("CTDYN_DATA"),
                        help="folder holding gset/ (default: CTDYN_DATA or ../shared/data)")
    args = parser.parse_args(argv)
    data = Path(args.data) if args.data else Path(__file__).resolve().parents[2] / "shared" / "data"
    graphs, budget, seeds = GRAPHS, args.budget, args.seeds
    if args.quick:
        graphs, budget, seeds = ("G11", "G14"), 3.0, 2

    available, missing = {}, []
    for name, solver in SOLVERS.items():
        module = {"dwave-neal": "neal", "simulated-bifurcation": "simulated_bifurcation"}.get(name)
        if module is not None:
            try:
                __import__(module)
            except ImportError:
                missing.append(name)
                continue
        available[name] = solver

    # One thread for every solver: dwave-neal is single-threaded, and BLAS and
    # PyTorch are held to one thread below.
    numba.set_num_threads(1)
    rows = ["| graph | n | best known | solver | best cut | median cut | time to 99.5% | "
            "time to 100% |", "|---|---|---|---|---|---|---|---|"]
    for graph_name in graphs:
        path = data / "gset" / f"{graph_name}.txt"
        graph = read_graph(path)
        best_known, _ = best_known_cut(path)
        for solver_name, solver in available.items():
            finals, near, exact = [], [], []
            for seed in range(seeds):
                with threadpool_limits(limits=1):
                    history = solver(graph, budget, seed)
                finals.append(history[-1][1] if history else float("nan"))
                near.append(time_to(history, 0.995 * best_known))
                exact.append(time_to(history, best_known))
            row = (f"| {graph_name} | {graph.n} | {best_known:g} | {solver_name} | "
                   f"{max(finals):g} | {statistics.median(finals):g} | {describe_time(near)} | "
                   f"{describe_time(exact)} |")
            rows.append(row)
            print(row, flush=True)

    body = (f"Each solver ran {seeds} seeds of {budget:g} s wall-clock each per graph, "
            "restarting until the budget was spent. Times are medians "
            "over seeds (seeds that reached the target / all seeds); `-` means that the "
            "median seed did not "
            "reach it. All solvers on one thread (Numba, BLAS and PyTorch limited to one). "
            "ctdyn raw: 64 replicas of 500 Euler-Maruyama steps per run, rounded oscillator "
            "states only, no local search. ctdyn polish: the defaults, 16 replicas, runs of 100 "
            "steps (30 in the first), warm restarts, greedy 1-flip search on every rounded "
            "state, then 500n tabu flips from the best 8 (compiled with Numba; the one-off "
            "compilation is done before the clock starts); the times count the polished cut. "
            "dwave-neal: 8 reads of 1000 sweeps per call. "
            "simulated-bifurcation: 128 agents per call (PyTorch, CPU).\n\n" + "\n".join(rows))
    if missing:
        body += "\n\nNot available here, so not run: " + ", ".join(missing) + "."
    record_section("oscillators", "Oscillator Ising machine on Gset MaxCut", body)


if __name__ == "__main__":
    main()
