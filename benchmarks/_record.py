"""Keep docs/benchmarks.md as one section per benchmark script.

Each script (``run.py`` for the core, ``bench_<family>.py`` for a family)
rewrites only its own section, between the markers
``<!-- section NAME -->`` and ``<!-- end NAME -->``, so the families'
tables can be refreshed one at a time. A section names the date, the
command that wrote it and the machine.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import re
import sys
from pathlib import Path

__all__ = ["machine_description", "record_section", "BENCHMARKS_FILE"]

BENCHMARKS_FILE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
_HEADER = ("# Benchmarks\n\nEach section below was written by the script it names; rerun "
           "that script to refresh it.\n")
_PACKAGES = ("numpy", "scipy", "sympy", "cvxpy", "clarabel", "scs", "control", "python-flint",
             "scikit-learn", "numba")


def machine_description() -> str:
    """Return one line naming the processor, core count, Python, OS and package versions."""
    processor = _processor_name() or platform.machine()
    versions = []
    for package in _PACKAGES:
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return (f"{processor}; {os.cpu_count()} cores; Python {platform.python_version()}; "
            f"{platform.system()} {platform.release()}; " + ", ".join(versions))


def _processor_name() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def record_section(name: str, title: str, body: str, *, command: str | None = None) -> None:
    """Replace (or append) the section ``name`` of docs/benchmarks.md.

    Parameters
    ----------
    name : str
        Section key, for example ``"core"`` or ``"oscillators"``.
    title : str
        Heading of the section.
    body : str
        Markdown: what the rows measure and the table.
    command : str, optional
        The command that wrote it; by default ``python`` and the script's arguments.
    """
    command = command or "python " + " ".join(sys.argv)
    today = datetime.date.today().isoformat()
    section = (f"<!-- section {name} -->\n## {title}\n\nWritten by `{command}` on {today}.\n\n"
               f"Machine: {machine_description()}.\n\n{body.strip()}\n<!-- end {name} -->\n")
    text = BENCHMARKS_FILE.read_text(encoding="utf-8") if BENCHMARKS_FILE.exists() else _HEADER
    if not text.startswith("# Benchmarks\n\nEach section"):
        text = _HEADER
    pattern = re.compile(rf"<!-- section {re.escape(name)} -->\n.*?<!-- end {re.escape(name)} -->\n",
                         re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda match: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    BENCHMARKS_FILE.write_text(text, encoding="utf-8")
