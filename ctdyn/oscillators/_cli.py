r"""The ``ctdyn maxcut GRAPH`` command: an oscillator Ising machine on a graph file.

It prints the best cut, the best-known value where one is known, and the
stability certificate of the returned binary state for the machine's final
gains. ``--json PATH`` writes ``cut``, ``spins`` (+1/-1 per node in file
order), ``best_known``, ``time_s`` and ``stability`` (``threshold``,
``gains``, ``status``).
"""

from __future__ import annotations

import csv
import logging
import sys
from pathlib import Path

from ..certify._certificate import to_json_value
from ..errors import InvalidModelError
from ._graph import read_graph
from ._maxcut import solve_maxcut
from ._stability import certify_binary_state

__all__ = ["add_command", "best_known_cut"]

logger = logging.getLogger(__name__)

# Best-known Gset cuts as tabulated for breakout local search (2013), the
# values every Gset best-known list agrees on for these instances. A
# best_known.csv next to the graph file takes precedence.
GSET_BEST_KNOWN = {"G1": 11624, "G2": 11620, "G3": 11622, "G11": 564, "G12": 556, "G13": 582,
                   "G14": 3064, "G15": 3050, "G22": 13359, "G43": 6660, "G48": 6000}


def best_known_cut(path: Path) -> tuple[float | None, str | None]:
    """Return the best-known cut of a graph file and where it came from.

    A ``best_known.csv`` next to the file (first column the instance name, a
    header row, then one or more numeric columns) takes precedence: the value
    most of its columns agree on, the largest among ties. Otherwise the
    built-in Gset table, keyed by the file name without suffix.
    """
    name = path.stem if path.suffix.lower() in (".txt", ".mtx", ".npy") else path.name
    table = path.parent / "best_known.csv"
    if table.is_file():
        with table.open(encoding="utf-8", newline="") as stream:
            for row in csv.reader(stream):
                if row and row[0].strip() == name:
                    values = []
                    for cell in row[1:]:
                        try:
                            values.append(float(cell))
                        except ValueError:
                            continue
                    if values:
                        best = max(values, key=lambda value: (values.count(value), value))
                        return best, str(table)
    if name in GSET_BEST_KNOWN:
        return float(GSET_BEST_KNOWN[name]), "built-in Gset table"
    return None, None


def add_command(commands, common) -> None:
    """Add ``maxcut`` to the ``ctdyn`` subcommands."""
    from ..cli import _positive_float, _positive_int, _seed

    command = commands.add_parser(
        "maxcut", parents=[common], help="find a large cut with an oscillator Ising machine",
        description="Search for a maximum cut of a graph (Gset/rudy text, Matrix Market .mtx "
                    "or NumPy .npy) with an oscillator Ising machine: annealed injection and "
                    "noise, many replicas integrated together, spins from the signs of "
                    "cos(phi). Prints the cut and the stability certificate of the returned "
                    "binary state for the machine's gains.")
    command.add_argument("graph", metavar="GRAPH", help="graph file")
    command.add_argument("--time-limit", type=_positive_float, default=10.0, metavar="S",
                         dest="time_limit", help="wall-clock budget in seconds (default 10)")
    command.add_argument("--seed", type=_seed, default=0, metavar="K",
                         help="seed of the initial phases and the noise (default 0)")
    command.add_argument("--replicas", type=_positive_int, default=16, metavar="R",
                         help="replicas integrated together (default 16)")
    command.add_argument("--polish", action="store_true",
                         help="improve the rounded states by greedy 1-flip local search "
                              "and then tabu search; the raw oscillator cut is reported "
                              "as well")
    command.add_argument("--json", metavar="PATH", help="write the result as JSON to PATH")
    command.set_defaults(handler=_run_maxcut)


# The "polish" entry of the maxcut JSON record.
POLISH_DESCRIPTION = (
    "greedy 1-flip local search on every rounded state, then 1-flip tabu search from the "
    "best of them; raw_cut is the best rounded oscillator state, polished_cut the best "
    "polished one. With polish on, warm restarts of the oscillators start near the best "
    "state so far, which may be a polished one.")


def _number_text(value: float) -> str:
    """Return a cut as printed: an integer without ".0", any other float in full."""
    if float(value).is_integer() and abs(value) < 2.0**53:
        return str(int(value))
    return repr(float(value))


def _run_maxcut(args) -> int:
    from ..cli import EXIT_OK, _ProgressBar
    from ..report import check_output_file, write_json

    json_path = check_output_file(args.json, field="--json") if args.json is not None else None
    path = Path(args.graph)
    graph = read_graph(path, field="GRAPH")
    if graph.m == 0:
        raise InvalidModelError("GRAPH", "a graph with at least one edge of nonzero weight",
                                f"{path} without one",
                                "Every cut of a graph without edges is 0.")
    best_known, source = best_known_cut(path)
    bar = _ProgressBar(sys.stderr, label="maxcut ")
    try:
        result = solve_maxcut(graph, time_limit=args.time_limit, seed=args.seed,
                              replicas=args.replicas, polish=args.polish, progress=bar)
    finally:
        bar.close()
    certificate = certify_binary_state(graph, result.spins, coupling=result.coupling,
                                       injection=result.injection)
    threshold = certificate.details["threshold"]
    record = {
        "graph": str(path), "nodes": graph.n, "edges": graph.m,
        "cut": result.cut, "spins": result.spins.tolist(),
        "raw_cut": result.raw_cut, "polished_cut": result.polished_cut,
        "cut_source": ("polish" if result.polished_cut is not None
                       and result.polished_cut > result.raw_cut else "oscillators"),
        "polish": POLISH_DESCRIPTION if args.polish else None,
        "best_known": best_known, "best_known_source": source,
        "gap": (None if best_known is None else (best_known - result.cut) / best_known),
        "time_s": result.time_s, "seed": args.seed, "replicas": result.replicas,
        "runs": result.runs,
        "stability": {"threshold": threshold["value"],
                      "threshold_bounds": [threshold["lower"], threshold["upper"]],
                      "gains": {"coupling": result.coupling, "injection": result.injection},
                      "status": certificate.status, "checked": certificate.checked,
                      "reason": certificate.reason},
    }
    if json_path is not None:
        write_json(to_json_value(record), json_path)

    print(f"{path}: {graph.n} nodes, {graph.m} edge{'' if graph.m == 1 else 's'}")
    known = "" if best_known is None else \
        f" (best known {_number_text(best_known)}, gap {100 * record['gap']:.3f}%)"
    runs = f"{result.runs} run{'' if result.runs == 1 else 's'}"
    print(f"cut {_number_text(result.cut)}{known} in {result.time_s:.2f} s, {runs} of "
          f"{result.replicas} replicas, seed {args.seed}")
    if args.polish:
        print("raw oscillator cut (rounded phases, no local search) "
              f"{_number_text(result.raw_cut)}; polished cut (greedy 1-flip, then tabu "
              f"search) {_number_text(result.polished_cut)}")
        print("warm restarts start near the best state so far, polished or not, so the raw "
              "cut is not from the oscillators alone; run without --polish for that")
    print(f"stability of the returned state at the final gains K = {result.coupling:.6g}, "
          f"K_s = {result.injection:.6g}: {certificate.status}; it is stable for K_s above "
          f"{threshold['value']:.6g}")
    if json_path is not None:
        print(f"JSON written to {json_path}")
    return EXIT_OK
