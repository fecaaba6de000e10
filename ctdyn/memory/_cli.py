"""The ``ctdyn capacity`` command: measured storage capacity of a dense associative memory."""

from __future__ import annotations

import sys

from .._argument_types import _bounded_int, _convert_argument, _positive_float
from ._capacity import (
    DEFAULT_CORRUPTION,
    DEFAULT_MAX_PATTERNS,
    DEFAULT_QUERIES,
    DEFAULT_TRIALS,
    measure_capacity,
)

__all__ = ["add_command"]

CAPACITY_ENERGIES = ("classical", "polynomial", "rectified_polynomial", "exponential")
MAX_NEURONS = 100000


def _fraction(text: str) -> float:
    return _convert_argument(text, float, "a fraction", lambda value: 0 <= value < 0.5,
                             "a fraction in [0, 0.5) of bits to flip")


def add_command(commands, common) -> None:
    """Add ``ctdyn capacity`` to the subcommands of ``ctdyn``."""
    command = commands.add_parser(
        "capacity", parents=[common], help="measure how many random patterns a memory retrieves",
        description="Store K random +-1 patterns of N neurons, corrupt stored patterns, retrieve "
                    "them with the asynchronous update rule, and report the largest K with a mean "
                    "bit error rate of at most 1%, the error curve and the theory value.",
        epilog="K doubles until retrieval fails and is then bisected. Time grows with N times "
               "the capacity: the polynomial of degree 3 at N = 400 takes minutes.")

    command.add_argument("--energy", required=True, choices=CAPACITY_ENERGIES,
                         help="separation function F: classical (x^2/2), polynomial (x^n), "
                              "rectified_polynomial (max(x,0)^n) or exponential")
    command.add_argument("--degree", type=_bounded_int(2, 20), metavar="n",
                         help="power n of the polynomial energies (default 3)")
    command.add_argument("--beta", type=_positive_float, metavar="B",
                         help="inverse temperature of the exponential energy (default 1)")

    command.add_argument("--neurons", type=_bounded_int(2, MAX_NEURONS), required=True,
                         metavar="N", help="number of neurons N")
    command.add_argument("--corruption", type=_fraction, default=DEFAULT_CORRUPTION, metavar="f",
                         help=f"fraction of bits flipped in each query (default "
                              f"{DEFAULT_CORRUPTION})")
    command.add_argument("--trials", type=_bounded_int(1, 10000), default=DEFAULT_TRIALS,
                         metavar="t", help=f"independent pattern sets per K (default "
                                           f"{DEFAULT_TRIALS})")
    command.add_argument("--queries", type=_bounded_int(1, 100000), default=DEFAULT_QUERIES,
                         metavar="Q", help=f"corrupted patterns retrieved per set (default "
                                           f"{DEFAULT_QUERIES})")
    command.add_argument("--max-patterns", type=_bounded_int(1, 10**7),
                         default=DEFAULT_MAX_PATTERNS, dest="max_patterns", metavar="K",
                         help=f"largest K tried (default {DEFAULT_MAX_PATTERNS}); a capacity "
                              "at this limit is reported as a lower bound")

    command.add_argument("--seed", type=_bounded_int(0, 2**63 - 1), default=0, metavar="S",
                         help="seed of the patterns and corruptions (default 0)")
    command.add_argument("--json", metavar="PATH",
                         help="write capacity, curve and theory as JSON to PATH")
    command.set_defaults(handler=_run_capacity)


def _run_capacity(args) -> int:
    from ..cli import _OutputError, _ProgressBar
    from ..errors import InvalidModelError
    from ..report import check_output_file, write_json

    json_path = check_output_file(args.json, field="--json") if args.json is not None else None
    if args.energy in ("classical", "exponential") and args.degree is not None:
        raise InvalidModelError("--degree", f"no degree with --energy {args.energy}", args.degree,
                                "Remove --degree, or use --energy polynomial.")
    if args.energy != "exponential" and args.beta is not None:
        raise InvalidModelError("--beta", f"no beta with --energy {args.energy}", args.beta,
                                "Remove --beta; it applies to --energy exponential.")
    degree = args.degree if args.energy in ("polynomial", "rectified_polynomial") else None
    if degree is None and args.energy in ("polynomial", "rectified_polynomial"):
        degree = 3

    bar = _ProgressBar(sys.stderr, label="capacity ")
    try:
        result = measure_capacity(args.energy, args.neurons, degree=degree, beta=args.beta,
                                  corruption=args.corruption, trials=args.trials,
                                  queries=args.queries, seed=args.seed,
                                  max_patterns=args.max_patterns, progress=bar)
    finally:
        bar.close()
    if json_path is not None:
        # check_output_file cannot foresee every failure (a folder such as /proc
        # passes the access check for root), so a failed write still exits 2.
        try:
            write_json(result.to_dict(), json_path)
        except OSError as error:
            raise _OutputError(f"cannot write {json_path}: {error.strerror or error}. Check the "
                               "path, its permissions and the free disk space.") from error
    _print_result(result)
    return 0


def _print_result(result) -> None:
    settings = result.settings
    bound = "" if result.bounded else " (at least; every K tried passed)"
    print(f"energy {settings['energy']}, N = {settings['neurons']}, "
          f"{round(100 * settings['corruption'])}% of bits flipped: capacity "
          f"{result.capacity} patterns{bound}")
    for key, value in result.theory.items():
        if key != "source":
            print(f"  theory {key}: {value:.4g}" if isinstance(value, float)
                  else f"  theory {key}: {value}")
    print(f"  ({result.theory['source']})")
    print("  patterns  bit error rate")
    for point in result.curve:
        print(f"  {point['patterns']:8d}  {point['bit_error_rate']:.4f}")
