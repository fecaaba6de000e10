r"""The ``ctdyn`` command line: ``certify``, ``energy``, ``simulate``, ``capacity``, ``sample``, ``maxcut``.

Exit status
-----------
0
    Done, and every claim named by ``--require`` (or the model file's
    ``require``) is certified.
1
    A required claim is refuted or inconclusive.
2
    Invalid input: a bad option, model file, weights file or output path.
    The message goes to standard error as ``ctdyn: error: ...`` and no
    output file is written, because every input and output path is checked
    before any work starts and files are written last, atomically. An output
    file that cannot be written after all (a full disk) also gives status 2;
    an output written before it stays complete.
3
    Simulation contradicted a certified claim. That is a bug in ctdyn or in
    a solver it trusted, never a property of the model; it is reported
    loudly on standard error. The JSON and report are still written, for
    the bug report.
141
    Standard output was closed early, as by ``ctdyn energy MODEL | head``.
    ``certify`` writes its files before it prints, so they are complete.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from . import __version__
from ._argument_types import _positive_float, _positive_int, _seed
from ._builtin import (
    BUILTIN_METHODS,
    build_digits_example,
    describe_example,
    example_record,
    format_images,
    format_retrieval_table,
)
from ._families import CORE_CLAIMS, CORE_METHODS, PLUGIN_FAMILIES, all_claims, all_methods
from .analysis import analyze, initial_states
from .boltzmann._cli import add_command as add_boltzmann_sample
from .errors import InvalidModelError, SimulationContradiction
from .memory._cli import add_command as add_capacity_command
from .models import load_model
from .oscillators._cli import add_command as add_maxcut_command
from .report import (
    check_output_file,
    check_report_folder,
    format_summary,
    save_png,
    trajectory_figure,
    write_json,
    write_report,
)
from .report._summary import SUMMARY_WIDTH, describe_model, describe_simulation, format_number
from .simulate import integrate
from .symbolic import energy_function

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_NOT_CERTIFIED", "EXIT_INVALID",
           "EXIT_CONTRADICTION", "EXIT_BROKEN_PIPE"]

EXIT_OK = 0
EXIT_NOT_CERTIFIED = 1
EXIT_INVALID = 2
EXIT_CONTRADICTION = 3
# 128 + SIGPIPE, the status of a Unix tool stopped by a closed pipe.
EXIT_BROKEN_PIPE = 141

# Horizon of `ctdyn simulate` when neither the option nor the model file sets one.
DEFAULT_SIMULATE_T_FINAL = 20.0
_PROGRESS_WIDTH = 30


class _UsageError(Exception):
    """An argparse error, turned into exit status 2 by :func:`main`."""


class _OutputError(Exception):
    """An output file that could not be written; exit status 2."""


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's hook for every usage error
        raise _UsageError(f"{message} (see '{self.prog} --help')")


# -- parser -------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``ctdyn`` and its subcommands."""
    common = _ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true",
                        help="log progress of the ctdyn modules (INFO level) to standard error")

    parser = _ArgumentParser(
        prog="ctdyn",
        description="Certify, derive and confirm the convergence of energy-based neural "
                    "dynamical systems.",
        epilog="Exit status: 0 done and every required claim certified; 1 a required claim "
               "refuted or inconclusive; 2 invalid input; 3 simulation contradicted a "
               "certificate (a bug in ctdyn).")
    parser.add_argument("--version", action="version", version=f"ctdyn {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_certify(commands, common)
    _add_energy(commands, common)
    _add_simulate(commands, common)
    add_capacity_command(commands, common)
    add_boltzmann_sample(commands, common)
    add_maxcut_command(commands, common)
    return parser


def _add_simulation_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--trajectories", type=_positive_int, metavar="K",
                         help="number of simulated trajectories (default: the model file's "
                              "[simulate] trajectories, else 8)")
    command.add_argument("--t-final", type=_positive_float, metavar="T", dest="t_final",
                         help="simulation horizon in model time units (default: the model "
                              "file's [simulate] t_final, else chosen from the certified rate)")
    command.add_argument("--seed", type=_seed, metavar="S",
                         help="seed of the random initial states, a nonnegative integer "
                              "(default: the model file's [simulate] seed, else 0)")


def _add_certify(commands, common) -> None:
    command = commands.add_parser(
        "certify", parents=[common], help="certify, refute and simulate a model",
        description="Run certificate methods on a model, look for refutations, simulate, and "
                    "print a summary. Options override the model file's [certify] and "
                    "[simulate] tables. Without MODEL, runs the built-in example: a Hopfield "
                    "memory of handwritten digits beside a contracting copy of it.",
        epilog="Put MODEL before --methods and --require, which take several values. The "
               "built-in example runs " + ", ".join(BUILTIN_METHODS) + " unless --methods "
               "names others (the LMI methods take minutes at its size n = 64). Its exit "
               "status follows the memory network, or is 3 if simulation contradicts either "
               "network's certificates.")
    command.add_argument("model", nargs="?", metavar="MODEL",
                         help="model file (TOML); omit it to run the built-in example")
    command.add_argument("--methods", nargs="+", choices=all_methods(), metavar="M",
                         help="certificate methods to run, any of: " + ", ".join(all_methods())
                              + "; each family accepts its own (default: the model file's "
                              "methods, else all of the family's)")
    command.add_argument("--require", nargs="+", choices=all_claims(), metavar="CLAIM",
                         help="claims that must be certified for exit status 0, any of: "
                              + ", ".join(all_claims()) + " (default: the model file's require)")
    command.add_argument("--json", metavar="PATH",
                         help="write the JSON report to PATH (its folder must exist)")
    command.add_argument("--report", metavar="DIR",
                         help="write report.md and PNG figures into the folder DIR (new, empty, "
                              "or an earlier ctdyn report)")
    command.add_argument("--no-simulate", action="store_false", dest="simulate",
                         help="skip the simulation that challenges the certificates")
    _add_simulation_options(command)
    command.set_defaults(handler=_run_certify)


def _add_energy(commands, common) -> None:
    command = commands.add_parser(
        "energy", parents=[common], help="print the energy, its gradient and dE/dt",
        description="Print the energy E of a model with symmetric weights, its gradient and "
                    "its time derivative dE/dt along the flow, derived by sympy.")
    command.add_argument("model", metavar="MODEL", help="model file (TOML)")
    command.add_argument("--latex", action="store_true", help="print LaTeX instead of plain text")
    command.set_defaults(handler=_run_energy)


def _add_simulate(commands, common) -> None:
    command = commands.add_parser(
        "simulate", parents=[common], help="integrate trajectories and plot them",
        description="Integrate a batch of trajectories from spread initial states and save a "
                    "plot of a few coordinates against time.")
    command.add_argument("model", metavar="MODEL", help="model file (TOML)")
    command.add_argument("--plot", required=True, metavar="PATH",
                         help="PNG file to write the trajectory plot to (its folder must exist)")
    _add_simulation_options(command)
    command.set_defaults(handler=_run_simulate)


# -- entry point --------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        return _report_invalid(str(error))
    except SystemExit as stop:  # --help and --version print and stop
        return stop.code if isinstance(stop.code, int) else EXIT_OK

    with _verbose_logging(args.verbose):
        try:
            return args.handler(args)
        except InvalidModelError as error:
            return _report_invalid(str(error))
        except SimulationContradiction as error:
            _report_bug([str(error)])
            return EXIT_CONTRADICTION
        except _OutputError as error:
            return _report_invalid(str(error))
        except BrokenPipeError:
            return _close_broken_stdout()


def _close_broken_stdout() -> int:
    """Stop quietly when the reader of standard output has gone (``ctdyn ... | head``).

    Standard output is pointed at ``os.devnull`` so that Python's flush at
    exit raises no second BrokenPipeError (the recipe of the Python
    documentation of the ``signal`` module, "Note on SIGPIPE").
    """
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def _report_invalid(message: str) -> int:
    print(f"ctdyn: error: {message}", file=sys.stderr)
    return EXIT_INVALID


def _report_bug(lines: Sequence[str]) -> None:
    banner = "=" * 72
    text = [banner, "ctdyn: BUG: simulation contradicted a certified claim", banner, *lines,
            "A certified bound that simulation beats is a bug in ctdyn or in a solver it",
            "trusted, not a property of the model. Please report it together with the model",
            "file and the JSON output (--json PATH).", banner]
    print("\n".join(text), file=sys.stderr)


@contextlib.contextmanager
def _verbose_logging(verbose: bool):
    """Send INFO records of the ``ctdyn`` loggers to standard error while active."""
    if not verbose:
        yield
        return
    package_logger = logging.getLogger("ctdyn")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    previous = package_logger.level
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        package_logger.removeHandler(handler)
        package_logger.setLevel(previous)


class _ProgressBar:
    """A one-line progress bar on a terminal stream; silent on anything else."""

    def __init__(self, stream: TextIO, *, label: str = ""):
        self.stream = stream
        self.label = label
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self._drawn = 0

    def __call__(self, stage: str, fraction: float) -> None:
        if not self.enabled:
            return
        fraction = min(max(float(fraction), 0.0), 1.0)
        filled = round(fraction * _PROGRESS_WIDTH)
        line = (f"{self.label}[{'#' * filled}{' ' * (_PROGRESS_WIDTH - filled)}] "
                f"{round(fraction * 100):3d}% {stage}")
        self.stream.write("\r" + line.ljust(self._drawn))
        self.stream.flush()
        self._drawn = max(self._drawn, len(line))

    def close(self) -> None:
        """Erase the bar so the summary starts on a clean line."""
        if self.enabled and self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
        self._drawn = 0


def _use_color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _summary_width() -> int:
    """Use the terminal's width when it is wider than the fixed default."""
    if not sys.stdout.isatty():
        return SUMMARY_WIDTH
    return max(SUMMARY_WIDTH, shutil.get_terminal_size((SUMMARY_WIDTH, 24)).columns - 1)


# -- certify ----------------------------------------------------------------------


@dataclass(frozen=True)
class _CertifyOptions:
    methods: tuple[str, ...] | None
    require: tuple[str, ...]
    simulate: bool
    trajectories: int
    t_final: float | None
    seed: int
    json_path: Path | None
    report_folder: Path | None


def _certify_options(args, spec) -> _CertifyOptions:
    """Merge the options over the model file's tables and check the output paths."""
    json_path = check_output_file(args.json, field="--json") if args.json is not None else None
    report_folder = check_report_folder(args.report, field="--report") if args.report else None
    if json_path is not None and report_folder is not None:
        resolved_folder = report_folder.resolve()
        if resolved_folder in (json_path.resolve(), json_path.parent.resolve()):
            raise InvalidModelError("--json", "a file outside the --report folder",
                                    str(json_path), "The report folder is replaced as a whole; "
                                    "write the JSON elsewhere.")
    if json_path is not None and args.model is not None \
            and json_path.resolve() == Path(args.model).resolve():
        raise InvalidModelError("--json", "a file other than the model file", str(json_path),
                                "Choose another path for the JSON output.")

    # Without a model file (the built-in example) the example's methods and the
    # defaults of analyze() apply.
    methods, require, trajectories, t_final, seed = BUILTIN_METHODS, (), 8, None, 0
    if spec is not None:
        methods, require = spec.methods, spec.require
        trajectories, t_final, seed = spec.trajectories, spec.t_final, spec.seed
    if spec is not None:
        _check_family_names(spec.network, args.methods, args.require)
    return _CertifyOptions(
        methods=tuple(args.methods) if args.methods else methods,
        require=tuple(args.require) if args.require else require,
        simulate=args.simulate,
        trajectories=args.trajectories or trajectories,
        t_final=args.t_final if args.t_final is not None else t_final,
        seed=args.seed if args.seed is not None else seed,
        json_path=json_path,
        report_folder=report_folder,
    )


def _check_family_names(network, methods, require) -> None:
    """Reject --methods and --require names that belong to another family."""
    family = getattr(network, "family", None)
    plugin = PLUGIN_FAMILIES.get(family)
    allowed_methods = plugin.methods if plugin else CORE_METHODS
    allowed_claims = plugin.claims if plugin else CORE_CLAIMS
    for option, names, allowed in (("--methods", methods, allowed_methods),
                                   ("--require", require, allowed_claims)):
        for name in names or ():
            if name not in allowed:
                raise InvalidModelError(option, f"for a {family} model one of "
                                        + ", ".join(allowed), name,
                                        f"{name} belongs to another family; choose from the "
                                        "names listed.")


def _analyze(network, options: _CertifyOptions, *, label: str = ""):
    bar = _ProgressBar(sys.stderr, label=label)
    try:
        return analyze(network, methods=options.methods, simulate=options.simulate,
                       trajectories=options.trajectories, t_final=options.t_final,
                       seed=options.seed, progress=bar)
    finally:
        bar.close()


def _run_certify(args) -> int:
    if args.model is None:
        return _run_builtin(args)

    spec = load_model(args.model)
    options = _certify_options(args, spec)
    analysis = _analyze(spec.network, options)

    def json_record():
        record = analysis.to_dict(options.require)
        record["source"] = spec.source
        return record

    # Files first, so a reader that closes standard output early loses none of them.
    written = _write_outputs(options, analysis, json_record,
                             title=f"ctdyn report: {Path(spec.source).name}")
    title = f"{spec.source}: {describe_model(analysis.network.to_dict())}"
    print(format_summary(analysis, require=options.require, title=title, color=_use_color(),
                         width=_summary_width()))
    for line in written:
        print(line)
    return _exit_status([analysis], options.require, primary=analysis)


def _write_outputs(options: _CertifyOptions, analyses, json_record, *, title: str,
                   appendix: str | None = None) -> list[str]:
    """Write the report folder and then the JSON file, as the options request.

    Returns one line per file written, for the caller to print.
    """
    written = []
    target = options.report_folder
    try:
        if options.report_folder is not None:
            write_report(analyses, options.report_folder, require=options.require, title=title,
                         appendix=appendix)
            written.append(f"report written to {options.report_folder}")
        target = options.json_path
        if options.json_path is not None:
            write_json(json_record(), options.json_path)
            written.append(f"JSON written to {options.json_path}")
    except OSError as error:
        raise _OutputError(f"cannot write {target}: {error.strerror or error}. Check the path, "
                           "its permissions and the free disk space.") from error
    return written


def _exit_status(analyses, require: Sequence[str], *, primary) -> int:
    contradicted = [analysis for analysis in analyses if analysis.exit_status(require) == 3]
    if contradicted:
        lines = []
        for analysis in contradicted:
            lines.append(describe_model(analysis.network.to_dict()))
            lines += ["  " + line for line in describe_simulation(analysis.simulation.to_dict())]
        _report_bug(lines)
        return EXIT_CONTRADICTION
    return primary.exit_status(require)


def _run_builtin(args) -> int:
    options = _certify_options(args, None)
    example = build_digits_example(seed=options.seed)
    analyses = {}
    for name, network in (("memory network", example.memory),
                          ("contracting network", example.contracting)):
        analyses[name] = _analyze(network, options, label=f"{name} ")
    memory, contracting = analyses.values()
    retrieval = format_retrieval_table(example)
    images = format_images(example)

    def json_record():
        record = memory.to_dict(options.require)
        record["source"] = "built-in example: digits memory"
        record["builtin"] = example_record(example)
        record["builtin"]["contracting_network"] = contracting.to_dict(options.require)
        return record

    sections = {f"{name[0].upper()}{name[1:]}, gain {_gain_text(analysis.network)}": analysis
                for name, analysis in analyses.items()}
    written = _write_outputs(
        options, sections, json_record,
        title="ctdyn built-in example: a Hopfield memory of handwritten digits",
        appendix="\n".join(["## Retrieval", "", "```", retrieval, "", images, "```"]))

    print(describe_example(example))
    print()
    for name, analysis in analyses.items():
        title = f"{name}: {describe_model(analysis.network.to_dict())}"
        print(format_summary(analysis, require=options.require, title=title,
                             color=_use_color(), width=_summary_width()))
        print()
    print(retrieval)
    print()
    print(images)
    for line in written:
        print(line)
    return _exit_status([memory, contracting], options.require, primary=memory)


def _gain_text(network) -> str:
    name = network.activation.name
    return name[len("tanh("):-len("*x)")] if name.startswith("tanh(") else name


# -- energy and simulate --------------------------------------------------------------


def _run_energy(args) -> int:
    spec = load_model(args.model)
    energy = energy_function(spec.network)
    if args.latex:
        print(energy.latex())
    else:
        print(f"{spec.source}: {describe_model(spec.network.to_dict())}")
        print(energy.plain())
    return EXIT_OK


def _run_simulate(args) -> int:
    plot_path = check_output_file(args.plot, field="--plot")
    if plot_path.suffix.lower() != ".png":
        raise InvalidModelError("--plot", "a file name ending in .png", str(plot_path),
                                "ctdyn writes the plot as PNG; name the file for example "
                                "trajectories.png.")
    spec = load_model(args.model)
    trajectories = args.trajectories or spec.trajectories
    t_final = args.t_final or spec.t_final or DEFAULT_SIMULATE_T_FINAL
    seed = args.seed if args.seed is not None else spec.seed
    network = spec.network

    # The same states as `ctdyn certify` with this seed.
    states = initial_states(network, trajectories, seed=seed)
    bar = _ProgressBar(sys.stderr)
    try:
        result = integrate(network.vector_field, states, t_final=t_final,
                           progress=lambda fraction: bar("integration", fraction))
    finally:
        bar.close()
    figure = trajectory_figure(result.t, result.states,
                               title=f"{Path(spec.source).name}: {trajectories} trajectories")
    save_png(figure, plot_path)

    final = result.final_states
    spread = float(abs(final[:, None, :] - final[None, :, :]).max())
    print(f"{spec.source}: {describe_model(network.to_dict())}")
    print(f"integrated {trajectories} trajectories to t = {format_number(t_final)} "
          f"(seed {seed}): {result.steps} steps, {result.rejected} rejected, "
          f"{result.evaluations} evaluations")
    print(f"largest distance between two final states: {format_number(spread)} (max norm)")
    print(f"plot written to {plot_path}")
    return EXIT_OK
