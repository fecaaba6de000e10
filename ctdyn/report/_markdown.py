r"""Markdown report folder: ``report.md`` and PNG figures.

:func:`write_report` builds the whole report in a temporary folder next to
the target and renames it into place at the end, so the target folder is
either written completely or left as it was. A target that already exists
is replaced only when it is empty or contains a previous ctdyn report
(``report.md`` and PNG files and nothing else). :func:`check_report_folder`
rejects any other folder, so ctdyn never deletes files it did not write.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import InvalidModelError
from ._figures import (
    MAX_PLOTTED_TRAJECTORIES,
    energy_figure,
    log_distance_figure,
    plotted_coordinates,
    save_png,
    trajectory_figure,
)
from ._json import _current_umask, write_text_atomic
from ._summary import (
    describe_equilibrium,
    describe_metric,
    describe_model,
    describe_simulation,
    describe_witness,
    format_number,
)

__all__ = ["write_report", "check_report_folder", "report_markdown", "REPORT_FILE"]

REPORT_FILE = "report.md"
_TABLE_COLUMNS = ("method", "claim", "status", "rate", "checked", "margin", "reason")


def check_report_folder(folder: str | os.PathLike, *, field: str = "--report") -> Path:
    """Raise InvalidModelError unless ``folder`` can be written as a report folder.

    The parent folder must exist. The folder itself must not exist, or be
    empty, or contain only ``report.md`` and ``.png`` files from an earlier
    report (those are replaced).
    """
    folder = Path(folder)
    if folder.name in ("", ".", ".."):
        raise InvalidModelError(field, "a folder name", str(folder),
                                "Give a new folder such as out/report.")
    if not folder.parent.is_dir():
        raise InvalidModelError(field, "a folder whose parent folder exists", str(folder),
                                f"Create {str(folder.parent)!r} first or choose another path.")
    if folder.exists() and not folder.is_dir():
        raise InvalidModelError(field, "a folder, not a file", str(folder),
                                "Choose a path that is a folder or does not exist yet.")
    if folder.is_dir():
        foreign = sorted(entry.name for entry in folder.iterdir() if not _is_report_file(entry))
        if foreign:
            raise InvalidModelError(
                field, "a new folder, an empty one, or an earlier ctdyn report",
                f"a folder containing {', '.join(foreign[:3])}",
                f"Choose another folder than {str(folder)!r}; ctdyn replaces only folders "
                "holding report.md and PNG figures.")
    if not os.access(folder.parent, os.W_OK | os.X_OK):
        raise InvalidModelError(field, "a folder inside a writable folder", str(folder),
                                f"Make {str(folder.parent)!r} writable or choose another path.")
    return folder


def _is_report_file(entry: Path) -> bool:
    return entry.is_file() and (entry.name == REPORT_FILE or entry.suffix == ".png")


def write_report(analyses, folder: str | os.PathLike, *, require: Sequence[str] = (),
                 title: str | None = None, appendix: str | None = None) -> Path:
    """Write ``report.md`` and its figures into ``folder`` as one unit.

    Parameters
    ----------
    analyses : Analysis or mapping of str to Analysis
        One analysis, or several by section heading (figure files are then
        prefixed by the section number).
    folder : path-like
        Target folder, checked by :func:`check_report_folder`.
    require : sequence of str
        Claims the user requires.
    title : str, optional
        First heading of the report.
    appendix : str, optional
        Markdown appended at the end (the built-in example adds its
        retrieval table).

    Returns
    -------
    Path
        The report folder.
    """
    folder = check_report_folder(folder)
    sections = _as_sections(analyses)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".tmp"))
    try:
        os.chmod(staging, 0o777 & ~_current_umask())
        text = report_markdown(sections, require=require, title=title, appendix=appendix,
                               figure_folder=staging)
        write_text_atomic(staging / REPORT_FILE, text)
        _move_into_place(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _as_sections(analyses) -> list[tuple[str | None, object]]:
    if isinstance(analyses, Mapping):
        return list(analyses.items())
    return [(None, analyses)]


def _move_into_place(staging: Path, folder: Path) -> None:
    """Rename ``staging`` to ``folder``, swapping out an earlier report if present."""
    if not folder.exists():
        os.rename(staging, folder)
        return
    retired = folder.parent / f".{folder.name}.old-{uuid.uuid4().hex}"
    os.rename(folder, retired)
    try:
        os.rename(staging, folder)
    except BaseException:
        os.rename(retired, folder)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def report_markdown(sections, *, require: Sequence[str] = (), title: str | None = None,
                    appendix: str | None = None, figure_folder: Path | None = None) -> str:
    """Return the Markdown text; with ``figure_folder``, also write the figures there.

    Parameters
    ----------
    sections : list of (heading or None, Analysis)
    figure_folder : Path, optional
        Where the PNG files go; without it the text has no figures.
    """
    first = sections[0][1]
    version = first.to_dict(require)["ctdyn_version"]
    lines = [f"# {title or 'ctdyn report'}", "",
             f"Written by ctdyn {version}."
             + (f" Required claims: {', '.join(require)}." if require else ""), ""]
    figure_number = 1
    for index, (heading, analysis) in enumerate(sections, start=1):
        prefix = f"{index}-" if len(sections) > 1 else ""
        level = "###" if heading else "##"
        if heading:
            lines += [f"## {heading}", ""]
        section_lines, figure_number = _section_markdown(
            analysis, require=require, level=level, prefix=prefix, figure_number=figure_number,
            figure_folder=figure_folder)
        lines += section_lines
    if appendix:
        lines += [appendix.rstrip(), ""]
    return "\n".join(lines)


def _section_markdown(analysis, *, require, level, prefix, figure_number, figure_folder):
    record = analysis.to_dict(require)
    lines = [describe_model(record["model"]) + ".", "",
             f"Verdict: **{record['verdict']}**.", ""]

    lines += [f"{level} Certificates", "", _certificate_table(record["certificates"]), ""]
    witness = describe_witness(getattr(analysis, "witness", None))
    if witness:
        lines += [_escape_markdown("Refutation witness: " + witness + "."), ""]
    lines += [f"{level} Claims", "", "| claim | status |", "|---|---|"]
    lines += [f"| {claim}{' (required)' if claim in require else ''} | {status} |"
              for claim, status in record["claims"].items()]
    lines.append("")
    lines += [_escape_markdown(line) + "  " for line in getattr(analysis, "lines", ())]
    if getattr(analysis, "lines", ()):
        lines.append("")
    lines += [f"{level} Equilibrium", "", describe_equilibrium(record["equilibrium"],
                                                    [c["method"] for c in record["certificates"]]) + ".", ""]
    lines += [f"{level} Simulation", ""]
    lines += ["- " + _escape_markdown(line) for line in describe_simulation(record["simulation"])]
    lines.append("")

    if analysis.simulation is None or figure_folder is None \
            or getattr(analysis.simulation, "states", None) is None:
        lines += ["Simulation was not run, so this section has no figures.", ""]
        return lines, figure_number
    lines += [f"{level} Figures", ""]
    for name, figure, caption in _figures(analysis):
        file_name = f"{prefix}{name}.png"
        save_png(figure, figure_folder / file_name)
        lines += [f"![{name}]({file_name})", "", f"**Figure {figure_number}.** {caption}", ""]
        figure_number += 1
    return lines, figure_number


def _escape_cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _escape_markdown(text: str) -> str:
    return re.sub(r"([*_`])", r"\\\1", text)


def _certificate_table(certificates: list[dict]) -> str:
    if not certificates:
        return "No certificate methods were run."
    rows = ["| " + " | ".join(_TABLE_COLUMNS) + " |", "|" + "---|" * len(_TABLE_COLUMNS)]
    for record in certificates:
        cells = [record.get("method"), record.get("claim"), record.get("status"),
                 format_number(record.get("rate")), record.get("checked") or "-",
                 format_number(record.get("margin")), record.get("reason", "")]
        rows.append("| " + " | ".join(_escape_cell(cell) for cell in cells) + " |")
    return "\n".join(rows)


# -- figures and their captions ------------------------------------------------


def _figures(analysis):
    """Yield ``(file stem, Figure, caption)`` for each figure the simulation supports."""
    simulation = analysis.simulation
    times = np.asarray(simulation.times, dtype=float)
    states = np.asarray(simulation.states, dtype=float)
    yield "trajectories", trajectory_figure(times, states), _trajectory_caption(analysis)

    if simulation.log_distance_ratios is not None:
        figure = log_distance_figure(times, simulation.log_distance_ratios,
                                     rate=simulation.claimed_rate,
                                     metric_label=describe_metric(simulation.metric))
        yield "log-distance", figure, _distance_caption(analysis)
    if simulation.energies is not None:
        yield "energy", energy_figure(times, simulation.energies), _energy_caption(analysis)


def _trajectory_caption(analysis) -> str:
    simulation = analysis.simulation
    states = np.asarray(simulation.states, dtype=float)
    coordinate_names = ", ".join(f"x_{index}" for index in plotted_coordinates(states.shape[2]))
    batch = states.shape[1]
    text = (f"Coordinates {coordinate_names} of {min(batch, MAX_PLOTTED_TRAJECTORIES)} of {batch} "
            f"trajectories from spread initial states. ")
    best = analysis.best_contraction()
    if best is not None:
        text += (f"Certificate: {best.method} certifies contraction at rate c = "
                 f"{format_number(best.rate)} in {describe_metric(best.metric)}, so all "
                 "trajectories converge to one equilibrium, with distances shrinking at least "
                 "like exp(-c t). ")
    else:
        text += (f"No certificate claims contraction (combined status: "
                 f"{analysis.claim_status('contraction')}), so nothing is claimed about "
                 "convergence to a single point. ")
    final = states[-1]
    spread = float(np.max(np.abs(final[:, None, :] - final[None, :, :]))) if batch > 1 else 0.0
    text += (f"Observed: at t = {format_number(float(simulation.times[-1]))} the largest "
             f"distance between two trajectories is {format_number(spread)} (max norm).")
    return text


def _distance_caption(analysis) -> str:
    simulation = analysis.simulation
    metric = describe_metric(simulation.metric)
    observed = format_number(simulation.observed_rate)
    if simulation.claimed_rate is None:
        return ("log(d(t)/d(0)) for each pair of trajectories, d measured in "
                f"{metric}. No contraction rate is certified, so no bound is drawn. "
                f"Observed rate (smallest over pairs at the final time): {observed}.")
    verdict = "consistent" if simulation.consistent else "CONTRADICTED: this is a bug in ctdyn"
    return ("log(d(t)/d(0)) for each pair of trajectories, d measured in "
            f"{metric}. Claim: log(d(t)/d(0)) <= -c t for all t (not strict), with the "
            f"certified rate c = {format_number(simulation.claimed_rate)} (dashed line). "
            f"Observed rate: {observed}; the largest excess of any pair over the bound is "
            f"{format_number(simulation.worst_excess)} against the integration tolerance "
            f"{format_number(simulation.tolerance)}: {verdict}.")


def _energy_caption(analysis) -> str:
    simulation = analysis.simulation
    energy = [c for c in analysis.certificates if c.claim == "energy_decrease"]
    status = energy[0].status if energy else "not_checked"
    energies = np.asarray(simulation.energies, dtype=float)
    increase = float(np.max(np.diff(energies, axis=0))) if energies.shape[0] > 1 else 0.0
    text = (f"Energy E(x(t)) along each trajectory. Energy certificate: {status}; the claim is "
            "dE/dt <= 0 (not strict) at every state, so no curve may rise. ")
    observed = (f"Observed: the largest increase of E between consecutive output times is "
                f"{format_number(increase)}")
    if increase <= 0:
        observed += " (E fell at every step)"
    if simulation.energy_consistent is None:
        return text + observed + "."
    verdict = "consistent" if simulation.energy_consistent else "CONTRADICTED: this is a bug in ctdyn"
    return text + observed + f", judged against the integration tolerance: {verdict}."
