"""The ``ctdyn sample`` command: Gibbs sampling or parallel tempering of a Boltzmann machine."""

from __future__ import annotations

import sys

import numpy as np

from ..errors import InvalidModelError
from ._enumerate import exact_statistics
from ._model import MAX_EXACT_UNITS, BoltzmannMachine, RestrictedBoltzmannMachine
from ._sampling import gibbs_sample, parallel_tempering

__all__ = ["add_command"]

# Units printed in the terminal table. The JSON file contains all of them.
_PRINTED_UNITS = 12


def add_command(commands, common) -> None:
    """Add ``ctdyn sample`` to the command-line subparsers."""
    from ..cli import _positive_int, _seed

    command = commands.add_parser(
        "sample", parents=[common], help="sample a Boltzmann machine (family boltzmann)",
        description="Estimate the marginals of a Boltzmann machine by Gibbs sampling or "
                    "parallel tempering, with standard errors over independent chains, and "
                    "compare them with the exact marginals when the machine is small enough "
                    f"to enumerate (at most {MAX_EXACT_UNITS} units).")
    command.add_argument("model", metavar="MODEL", help="model file (TOML) of family boltzmann")
    command.add_argument("--method", choices=("gibbs", "tempering"), default="gibbs",
                         help="sequential (block for an RBM) Gibbs sampling, or parallel "
                              "tempering on 8 temperatures from T to 10 T (default: gibbs)")
    command.add_argument("--sweeps", type=_positive_int, default=2000, metavar="N",
                         help="sweeps averaged after the burn-in (default: 2000)")
    command.add_argument("--burn-in", type=_positive_int, default=200, metavar="B",
                         dest="burn_in", help="sweeps discarded first (default: 200)")
    command.add_argument("--chains", type=_positive_int, default=16, metavar="C",
                         help="independent chains (default: 16)")
    command.add_argument("--seed", type=_seed, default=0, metavar="S",
                         help="seed of the random generator (default: 0)")
    command.add_argument("--json", metavar="PATH", help="write the marginals as JSON to PATH")
    command.set_defaults(handler=_run_sample)


def _run_sample(args) -> int:
    from ..cli import _OutputError, _ProgressBar
    from ..models import load_model
    from ..report import check_output_file, write_json

    json_path = check_output_file(args.json, field="--json") if args.json is not None else None
    model = load_model(args.model).network
    if not isinstance(model, (BoltzmannMachine, RestrictedBoltzmannMachine)):
        raise InvalidModelError("model.family", "\"boltzmann\"", model.family,
                                "ctdyn sample runs only on Boltzmann machines; use ctdyn "
                                "simulate for other families.")
    sampler = gibbs_sample if args.method == "gibbs" else parallel_tempering
    bar = _ProgressBar(sys.stderr, label="sampling ")
    try:
        result = sampler(model, sweeps=args.sweeps, chains=args.chains, burn_in=args.burn_in,
                         seed=args.seed, progress=bar)
    finally:
        bar.close()

    exact = None
    enumerated = (min(model.n_visible, model.n_hidden)
                  if isinstance(model, RestrictedBoltzmannMachine) else model.n)
    if enumerated <= MAX_EXACT_UNITS:
        exact = exact_statistics(model).marginals
    print(_format_table(result, exact))
    if json_path is not None:
        record = {"method": args.method, "sweeps": args.sweeps, "chains": args.chains,
                  "burn_in": args.burn_in, "seed": args.seed, "marginals": result.marginals,
                  "standard_error": result.standard_error, "exact_marginals": exact,
                  "swap_acceptance": result.acceptance}
        # check_output_file cannot foresee every failure (a folder such as /proc
        # passes the access check for root), so a failed write still exits 2.
        try:
            write_json(record, json_path)
        except OSError as error:
            raise _OutputError(f"cannot write {json_path}: {error.strerror or error}. Check the "
                               "path, its permissions and the free disk space.") from error
        print(f"JSON written to {json_path}")
    return 0


def _format_table(result, exact) -> str:
    lines = ["unit  sampled    std. error" + ("  exact      |error|/std. error" if exact is not None
                                               else "")]
    for i in range(min(len(result.marginals), _PRINTED_UNITS)):
        line = f"{i:4d}  {result.marginals[i]: .6f}  {result.standard_error[i]:.2e}"
        if exact is not None:
            ratio = abs(result.marginals[i] - exact[i]) / max(result.standard_error[i], 1e-300)
            line += f"   {exact[i]: .6f}  {ratio:.2f}"
        lines.append(line)
    if len(result.marginals) > _PRINTED_UNITS:
        lines.append(f"... {len(result.marginals) - _PRINTED_UNITS} more units in the JSON file")
    if exact is not None:
        worst = float(np.max(np.abs(result.marginals - exact)))
        lines.append(f"max |sampled - exact| = {worst:.4g}")
    return "\n".join(lines)
