"""Time ctdyn's certificates, checks and simulation against n, beside naive baselines.

Run ``python benchmarks/run.py`` (about 10 minutes on 2 cores) to print the
table and rewrite its section of docs/benchmarks.md with it and a description of the
machine. ``--quick`` runs the small sizes only. BLAS runs on one thread, as
in ``ctdyn.analyze``: several OpenBLAS copies contending for two cores slow
some solves 30-130x.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sps
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _record import record_section  # noqa: E402

from ctdyn.certify._log_norm import log_norm_certificate  # noqa: E402
from ctdyn.models import FiringRateNetwork  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# A row is skipped once a smaller size of the same task took longer than this.
SKIP_AFTER_SECONDS = 120.0


def contracting_weights(n: int, seed: int = 0) -> np.ndarray:
    """Return a dense random W whose absolute row sums are about 0.64."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n)) * (0.8 / n)


def sparse_weights(n: int, per_row: int = 5, seed: int = 0) -> sps.csr_array:
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), per_row)
    columns = rng.integers(0, n, n * per_row)
    values = rng.standard_normal(n * per_row) * (0.8 / per_row)
    return sps.csr_array((values, (rows, columns)), shape=(n, n))


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def bench_log_norm(quick: bool) -> list[dict]:
    rows = []
    dense_sizes = [100, 1000, 2000] if quick else [100, 1000, 2000, 5000, 10000]
    for n in dense_sizes:
        network = FiringRateNetwork(contracting_weights(n))
        seconds, certificate = timed(log_norm_certificate, network.jacobian_set)
        rows.append({"task": "log_norm_inf + check, dense", "n": n, "seconds": seconds,
                     "result": f"{certificate.status}, rate {certificate.rate:.4f}, {certificate.checked}",
                     "baseline": "", "baseline_seconds": None})
    sparse_sizes = [10_000] if quick else [10_000, 100_000]
    for n in sparse_sizes:
        network = FiringRateNetwork(sparse_weights(n))
        seconds, certificate = timed(log_norm_certificate, network.jacobian_set)
        rows.append({"task": "log_norm_inf + check, sparse (5 per row)", "n": n, "seconds": seconds,
                     "result": f"{certificate.status}, rate {certificate.rate:.4f}, {certificate.checked}",
                     "baseline": "", "baseline_seconds": None})
    return rows


def bench_exact_check(quick: bool) -> list[dict]:
    """Exact rational re-check of the log-norm against the interval bound."""
    rows = []
    sizes = [100, 300] if quick else [100, 300, 1000, 2000]
    for n in sizes:
        jacobian_set = FiringRateNetwork(contracting_weights(n)).jacobian_set
        exact_seconds, exact = timed(log_norm_certificate, jacobian_set, exact_limit=10**12)
        interval_seconds, interval = timed(log_norm_certificate, jacobian_set, exact_limit=0)
        rows.append({"task": "log_norm_inf, exact check (interval beside)", "n": n,
                     "seconds": exact.details["check_time_s"],
                     "result": f"rates exact {exact.rate:.6f} / interval {interval.rate:.6f}",
                     "baseline": "interval check", "baseline_seconds": interval.details["check_time_s"]})
    return rows


def bench_symbolic_baseline(quick: bool) -> list[dict]:
    """Time a full sympy Jacobian (the naive route) against ctdyn's structured form."""
    rows = []
    sizes = [10, 20] if quick else [10, 20, 30]
    for n in sizes:
        network = FiringRateNetwork(contracting_weights(n))
        structured_seconds, _ = timed(network.structured_jacobian)
        naive_seconds, _ = timed(network.symbolic_jacobian, max_size=n)
        rows.append({"task": "Jacobian: structured -C + D W", "n": n, "seconds": structured_seconds,
                     "result": "", "baseline": "dense sympy Jacobian", "baseline_seconds": naive_seconds})
    return rows


def format_table(rows: list[dict]) -> str:
    lines = ["| task | n | ctdyn (s) | result | baseline | baseline (s) |",
             "|---|---:|---:|---|---|---:|"]
    for row in rows:
        baseline_seconds = "" if row["baseline_seconds"] is None else f"{row['baseline_seconds']:.3f}"
        lines.append(f"| {row['task']} | {row['n']:,} | {row['seconds']:.3f} | {row['result']} | "
                     f"{row['baseline']} | {baseline_seconds} |")
    return "\n".join(lines)


def bench_lmi(quick: bool) -> list[dict]:
    """Whole LMI certificates (bisection and exact check) by solver and metric."""
    from ctdyn.certify._lmi import lmi_contraction
    from ctdyn.certify._vertex import vertex_contraction_rate

    rows = []
    sizes = [5, 10] if quick else [5, 10, 20, 30, 50]
    for metric, solver in [("full", "CLARABEL"), ("full", "SCS"), ("diagonal", "CLARABEL"),
                           ("diagonal", "SCS")]:
        for n in sizes:
            jacobian_set = FiringRateNetwork(contracting_weights(n)).jacobian_set
            seconds, certificate = timed(lmi_contraction, jacobian_set, metric=metric, solver=solver)
            rate = f"rate {certificate.rate:.4f}" if certificate.rate is not None else ""
            rows.append({"task": f"LMI {metric} P, {solver}", "n": n, "seconds": seconds,
                         "result": f"{certificate.status} {rate}, {certificate.checked}",
                         "baseline": "", "baseline_seconds": None})
            if seconds > SKIP_AFTER_SECONDS:
                break
    # The unstructured SDP: one LMI per slope-box vertex, 2**n of them.
    for n in ([3, 5] if quick else [3, 5, 7, 8]):
        jacobian_set = FiringRateNetwork(contracting_weights(n)).jacobian_set
        structured, certificate = timed(lmi_contraction, jacobian_set, metric="full")
        naive, (rate, _) = timed(vertex_contraction_rate, jacobian_set, metric="full")
        rows.append({"task": "LMI full P (multipliers, 2n x 2n)", "n": n, "seconds": structured,
                     "result": f"rate {certificate.rate:.4f} (vertex truth {rate:.4f})",
                     "baseline": f"vertex SDP, {2**n} LMIs", "baseline_seconds": naive})
    return rows


def bench_simulation(quick: bool) -> list[dict]:
    from bench_simulate import time_simulation

    sizes = [100, 1000] if quick else [100, 1000, 2000, 5000]
    rows = []
    for timing in time_simulation(sizes, batch=8, t_final=20.0):
        rows.append({"task": "simulate 8 trajectories to t = 20 (batched RK45)", "n": timing.n,
                     "seconds": timing.seconds_ctdyn, "result": "",
                     "baseline": "scipy RK45, one trajectory x 8",
                     "baseline_seconds": timing.seconds_scipy})
    return rows


SECTIONS = [bench_log_norm, bench_exact_check, bench_symbolic_baseline, bench_lmi,
            bench_simulation]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--no-write", action="store_true", help="print only; keep docs/benchmarks.md")
    options = parser.parse_args(argv)

    rows: list[dict] = []
    with threadpool_limits(limits=1, user_api="blas"):
        for section in SECTIONS:
            print(f"running {section.__name__} ...", file=sys.stderr, flush=True)
            rows.extend(section(options.quick))
    table = format_table(rows)
    print(table)
    if not options.no_write:
        write_record(table, options.quick)
    return 0


NOTES = """\
BLAS limited to 1 thread. What the rows measure (one run each, wall-clock seconds):

- log_norm_inf + check: optimal weights (Perron vectors) and the re-check of
  every row, exact up to 250,000 stored weights and with a priori rounding
  bounds above. Random W with absolute row sums near 0.64, tanh slopes.
- exact check: the same re-check forced to exact integers (python-flint),
  beside the rigorous floating-point bound.
- Jacobian: ctdyn's structured -C + D W against a dense sympy Jacobian (the
  naive route; its cost grows roughly as n^3).
- LMI: a whole certificate, bisection on the rate and the exact re-check of
  the rounded proposal included. `lmi_contraction(solver="auto")` uses
  Clarabel up to n = 20 and SCS above. The vertex SDP (one LMI per slope-box
  vertex, 2^n of them) is the unstructured baseline and the ground truth.
- simulate: one batched Dormand-Prince integration of 8 trajectories against
  8 sequential scipy RK45 runs (one run timed, times 8).
"""


def write_record(table: str, quick: bool) -> None:
    command = "python benchmarks/run.py" + (" --quick" if quick else "")
    record_section("core", "Core: certificates, checks and simulation", NOTES + "\n" + table,
                   command=command)


if __name__ == "__main__":
    raise SystemExit(main())
