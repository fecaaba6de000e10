r"""Plain-text summary of an analysis for the terminal.

One row per certificate (method, claim, status, rate, how it was checked,
margin and a shortened reason), then the combined status of each claim, the
equilibrium, what simulation observed, and the verdict. Columns have fixed
widths. ANSI colors are added only on request, and the command line requests
them only when standard output is a terminal and ``NO_COLOR`` is unset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._families import CORE_METHODS
from ..certify._certificate import CLAIMS, Certificate

__all__ = [
    "format_summary",
    "format_certificate_table",
    "describe_metric",
    "describe_equilibrium",
    "describe_simulation",
    "describe_model",
    "describe_vector",
    "describe_witness",
    "format_number",
    "SUMMARY_WIDTH",
]

# Width of the table in characters. The reason column takes what is left.
SUMMARY_WIDTH = 110
_COLUMNS = (("method", 13), ("claim", 16), ("status", 12), ("rate", 10), ("checked", 8),
            ("margin", 10))
_MIN_REASON_WIDTH = 20
_VECTOR_ENTRIES_SHOWN = 6

_COLORS = {"certified": "\x1b[32m", "refuted": "\x1b[31m", "inconclusive": "\x1b[33m",
           "contradicted": "\x1b[1;31m", "not_checked": "\x1b[2m"}
_RESET = "\x1b[0m"


def format_number(value: Any) -> str:
    """Return a float in 6 significant digits, ``-`` for None, other values as text."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return f"{value:.6g}"
    return str(value)


def _fit_number(value: Any, width: int) -> str:
    """Format a number in as many of 6 significant digits as fit in ``width`` characters."""
    text = format_number(value)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return text
    digits = 6
    while len(text) > width and digits > 1:
        digits -= 1
        text = f"{value:.{digits}g}"
    return text


def _paint(text: str, status: str, color: bool) -> str:
    """Color a padded status word, so the escape codes do not shift the columns."""
    if not color or status not in _COLORS:
        return text
    return _COLORS[status] + text + _RESET


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def format_certificate_table(certificates: Sequence[Certificate], *, color: bool = False,
                             width: int = SUMMARY_WIDTH) -> str:
    """Return the certificate table: a header, a rule and one row per certificate."""
    used = sum(column_width + 1 for _, column_width in _COLUMNS)
    reason_width = max(_MIN_REASON_WIDTH, width - used)
    header = " ".join(name.ljust(column_width) for name, column_width in _COLUMNS) + " reason"
    rule = " ".join("-" * column_width for _, column_width in _COLUMNS) + " " + "-" * reason_width
    lines = [header, rule]
    for certificate in certificates:
        cells = [certificate.method, certificate.claim, certificate.status,
                 _fit_number(certificate.rate, _COLUMNS[3][1]), certificate.checked or "-",
                 _fit_number(certificate.margin, _COLUMNS[5][1])]
        padded = [_shorten(cell, column_width).ljust(column_width)
                  for cell, (_, column_width) in zip(cells, _COLUMNS)]
        padded[2] = _paint(padded[2], certificate.status, color)
        lines.append(" ".join(padded) + " " + _shorten(certificate.reason or "", reason_width))
    if not certificates:
        lines.append("(no certificate methods were run)")
    return "\n".join(lines)


def describe_metric(metric: dict | None) -> str:
    """Return a short name of a certificate metric, such as ``weighted l_inf``."""
    if not metric:
        return "an unspecified norm"
    norm = metric.get("norm", "?")
    if norm == "quadratic":
        return "the quadratic norm sqrt(x^T P x)"
    weights = metric.get("weights")
    if weights is not None and any(weight != weights[0] for weight in weights):
        return f"weighted {norm}"
    return str(norm)


def describe_vector(values: Sequence[float]) -> str:
    """Return a vector in 10 significant digits, shortened to the first entries when long."""
    values = list(values)
    entries = ", ".join(format(float(value), ".10g") for value in values[:_VECTOR_ENTRIES_SHOWN])
    if len(values) > _VECTOR_ENTRIES_SHOWN:
        entries += f", ... ({len(values)} entries)"
    return "[" + entries + "]"


def describe_witness(witness: dict | None) -> str | None:
    """Return one line on a refutation witness, or None without one."""
    if not witness:
        return None
    kind = witness.get("kind", "witness")
    text = str(kind).replace("_", " ")
    if witness.get("state") is not None:
        text += " at x = " + describe_vector(witness["state"])
    eigenvalue = witness.get("eigenvalue")
    if eigenvalue is not None and len(eigenvalue) == 2:
        text += f", eigenvalue {format_number(eigenvalue[0])} {'+-'[eigenvalue[1] < 0]} " \
                f"{format_number(abs(eigenvalue[1]))}i"
    if witness.get("checked"):
        text += f" (checked {witness['checked']})"
    if witness.get("note"):
        text += f": {witness['note']}"
    return text


def describe_equilibrium(equilibrium: dict | None, methods: Sequence[str] = ()) -> str:
    """Return one line on the equilibrium found, or why there is none.

    ``methods`` are the methods that ran, which decide the explanation.
    """
    if not equilibrium:
        if "linearization" in methods:
            return "not computed (the linearization row says why)"
        if methods and not set(methods) & set(CORE_METHODS):
            return "none reported by this family's methods"
        return "not computed (run the linearization method to compute one)"
    parts = []
    if equilibrium.get("x") is not None:
        parts.append("x* = " + describe_vector(equilibrium["x"]))
    if equilibrium.get("residual") is not None:
        parts.append(f"residual max|f(x*)| = {format_number(equilibrium['residual'])}")
    radius = equilibrium.get("enclosure_radius", equilibrium.get("radius"))
    if radius is not None:
        parts.append(f"a true equilibrium lies within {format_number(radius)} (max norm)")
    unique = equilibrium.get("unique")
    if unique is True:
        parts.append("unique and globally exponentially stable (contraction certified)")
    elif unique is False:
        parts.append("uniqueness not certified")
    return ", ".join(parts) if parts else "computed (no details recorded)"


def describe_simulation(simulation: dict | None) -> list[str]:
    """Return lines on what simulation observed against the certified claims."""
    if simulation is None:
        return ["not run"]
    rtol, atol = simulation.get("rtol"), simulation.get("atol")
    # Fixed-step integrators (the oscillator families' RK4) record zero tolerances.
    steps = "fixed step" if rtol == 0 and atol == 0 else \
        f"rtol {format_number(rtol)}, atol {format_number(atol)}"
    lines = [f"{simulation.get('trajectories', '?')} trajectories to t = "
             f"{format_number(simulation.get('t_final'))} ({steps})"]
    claimed = simulation.get("claimed_rate")
    observed = simulation.get("observed_rate")
    metric = describe_metric(simulation.get("metric"))
    if claimed is not None:
        verdict = "consistent" if simulation.get("consistent") else "CONTRADICTED"
        lines.append(f"contraction: observed rate {format_number(observed)}, certified "
                     f"{format_number(claimed)} in {metric}; worst excess over the bound "
                     f"{format_number(simulation.get('worst_excess'))} (tolerance "
                     f"{format_number(simulation.get('tolerance'))}): {verdict}")
    elif observed is not None:
        lines.append(f"contraction: observed rate {format_number(observed)} in {metric} "
                     "(no certified rate to compare with)")
    energy = simulation.get("energy_consistent")
    if energy is not None:
        lines.append("energy: " + ("non-increasing along every trajectory: consistent" if energy
                                   else "INCREASED beyond the tolerance: CONTRADICTED"))
    lines += [f"note: {note}" for note in simulation.get("notes") or []]
    return lines


def describe_model(model: dict) -> str:
    """Return one line naming the family, dimension, activation and slope bounds."""
    family = str(model.get("family", "network")).replace("_", "-")
    text = f"{family} network, n = {model.get('dimension', '?')}"
    if model.get("activation"):
        text += f", activation {model['activation']}"
    bounds = model.get("slope_bounds")
    if bounds:
        text += f", slopes in [{bounds.get('lower_exact')}, {bounds.get('upper_exact')}]"
    return text


def format_summary(analysis, *, require: Sequence[str] = (), title: str | None = None,
                   color: bool = False, width: int = SUMMARY_WIDTH) -> str:
    """Return the terminal summary of an analysis.

    Parameters
    ----------
    analysis : ctdyn.analysis.Analysis
    require : sequence of str
        Claims the user requires; they are marked and decide the verdict.
    title : str, optional
        First line; by default the model description.
    color : bool
        Color the status words with ANSI escape codes.
    width : int
        Width of the certificate table in characters.
    """
    model = analysis.network.to_dict()
    lines = [title or describe_model(model), ""]
    lines.append(format_certificate_table(analysis.certificates, color=color, width=width))
    witness = describe_witness(getattr(analysis, "witness", None))
    if witness:
        lines.append("refutation witness: " + witness)
    lines.append("")

    required = set(require)
    for claim in getattr(analysis, "claims", CLAIMS):
        status = analysis.claim_status(claim)
        mark = "  (required)" if claim in required else ""
        lines.append(f"claim {claim:<16} {_paint(status, status, color)}{mark}")
    lines.append("")

    lines.append("equilibrium: " + describe_equilibrium(
        analysis.equilibrium, [certificate.method for certificate in analysis.certificates]))
    simulation = analysis.simulation.to_dict() if analysis.simulation is not None else None
    simulation_lines = describe_simulation(simulation)
    lines.append("simulation:  " + simulation_lines[0])
    lines += ["             " + line for line in simulation_lines[1:]]

    lines += list(getattr(analysis, "lines", ()))
    verdict = analysis.verdict(require)
    lines.append("verdict:     " + _paint(verdict, verdict, color)
                 + (f" (required: {', '.join(require)})" if require else ""))
    return "\n".join(lines)
