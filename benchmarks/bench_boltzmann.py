"""Benchmarks of the Boltzmann-machine family: Gibbs sweeps, exact enumeration, RBM training.

Run ``python benchmarks/bench_boltzmann.py`` (about 3 minutes on 2 cores) or
``--quick`` for small sizes only; either rewrites the ``boltzmann`` section
of docs/benchmarks.md. Timings are the best of a few repeats with BLAS
limited to one thread.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _record import record_section  # noqa: E402

from ctdyn.boltzmann import BoltzmannMachine, exact_statistics, gibbs_sample  # noqa: E402
from ctdyn.boltzmann._learning import pseudo_likelihood, train_rbm  # noqa: E402


def random_machine(n: int, seed: int = 0) -> BoltzmannMachine:
    rng = np.random.default_rng(seed)
    weights = np.triu(rng.normal(0.0, 1.0 / np.sqrt(n), size=(n, n)), 1)
    return BoltzmannMachine(weights + weights.T, bias=rng.normal(0.0, 0.1, size=n))


def best_time(run, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def gibbs_table(sizes, chains: int, sweeps: int) -> str:
    rows = ["| n | chains | sweeps | time (s) | sweeps/s (all chains) | unit updates/s |",
            "|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        model = random_machine(n)
        seconds = best_time(lambda: gibbs_sample(model, sweeps=sweeps, chains=chains, burn_in=0),
                            3)
        rate = sweeps / seconds
        rows.append(f"| {n} | {chains} | {sweeps} | {seconds:.3f} | {rate:,.0f} | "
                    f"{rate * chains * n:,.0f} |")
        print(rows[-1], flush=True)
    return "\n".join(rows)


def exact_table(sizes) -> str:
    rows = ["| n | states | time (s) | states/s |", "|---:|---:|---:|---:|"]
    for n in sizes:
        model = random_machine(n)
        seconds = best_time(lambda: exact_statistics(model), 2 if n < 24 else 1)
        rows.append(f"| {n} | {2**n:,} | {seconds:.4f} | {2**n / seconds:,.0f} |")
        print(rows[-1], flush=True)
    return "\n".join(rows)


def rbm_table(hidden_sizes, epochs: int) -> str:
    from sklearn.datasets import load_digits
    from sklearn.neural_network import BernoulliRBM

    from ctdyn.boltzmann._learning import rbm_from_sklearn

    data = (load_digits().data / 16.0 > 0.5).astype(float)
    rows = ["| hidden | epochs | ctdyn PCD s/epoch | sklearn s/epoch | ctdyn pseudo-LL | "
            "sklearn pseudo-LL |", "|---:|---:|---:|---:|---:|---:|"]
    for hidden in hidden_sizes:
        start = time.perf_counter()
        ours, _ = train_rbm(data, hidden, method="pcd", epochs=epochs, learning_rate=0.05,
                            batch_size=10, seed=0, score=False)
        ours_seconds = time.perf_counter() - start
        start = time.perf_counter()
        reference = BernoulliRBM(n_components=hidden, learning_rate=0.05, batch_size=10,
                                 n_iter=epochs, random_state=0).fit(data)
        theirs_seconds = time.perf_counter() - start
        theirs = rbm_from_sklearn(reference)
        rows.append(f"| {hidden} | {epochs} | {ours_seconds / epochs:.3f} | "
                    f"{theirs_seconds / epochs:.3f} | {pseudo_likelihood(ours, data):.2f} | "
                    f"{pseudo_likelihood(theirs, data):.2f} |")
        print(rows[-1], flush=True)
    return "\n".join(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (under a minute)")
    args = parser.parse_args(argv)
    if args.quick:
        gibbs_sizes, exact_sizes, hidden_sizes, epochs = (8, 32), (12, 16, 20), (16,), 2
    else:
        gibbs_sizes, exact_sizes = (8, 32, 128, 512), (12, 16, 20, 22, 24)
        hidden_sizes, epochs = (16, 64, 256), 10
    with threadpool_limits(limits=1):
        gibbs = gibbs_table(gibbs_sizes, chains=32, sweeps=200)
        exact = exact_table(exact_sizes)
        rbm = rbm_table(hidden_sizes, epochs)
    body = f"""
Random couplings N(0, 1/n), symmetric with zero diagonal, +-1 states, T = 1.
Each time is the best of a few runs with BLAS on one thread. The machine's
cores were shared with other jobs during this run, so single times can be
off by a factor of about 2.

### Gibbs sampling (sequential sweeps, all chains updated together)

{gibbs}

### Exact enumeration (log Z and marginals)

Up to n = 16 all states form one block of 2**n rows, and building that
block dominates the time. Above n = 16 each configuration of the other
units costs one matrix-vector product over the 2**16-row block, so the
throughput rises.

{exact}

### RBM training on binarized scikit-learn digits (1797 x 64, threshold 8/16)

Both trained with persistent contrastive divergence, one Gibbs step,
learning rate 0.05, batches of 10. Pseudo-log-likelihood: mean over the
data of the sum over all 64 bits of log p(v_i | v_-i), the same function
for both models.

{rbm}
"""
    record_section("boltzmann", "Boltzmann machines", body)


if __name__ == "__main__":
    main()
