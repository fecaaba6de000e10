"""Argument types of the ``ctdyn`` subcommands: argparse ``type=`` functions for numbers.

Each one raises ``argparse.ArgumentTypeError``, which argparse reports as
``argument --X: expected ..., received '...'`` and :func:`ctdyn.cli.main`
turns into exit status 2. They live outside ``ctdyn.cli`` because that
module imports the families' command modules when it loads, so those
modules can import this one at load time but not ``ctdyn.cli``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

from .models._loading import MAX_TRAJECTORIES

Number = TypeVar("Number", int, float)


def _convert_argument(text: str, convert: Callable[[str], Number], expected: str,
                      in_range: Callable[[Number], bool], expected_in_range: str) -> Number:
    """Convert ``text`` with ``convert`` and check the value with ``in_range``.

    A text that ``convert`` rejects is reported with ``expected``, a value
    outside the range with ``expected_in_range``.
    """
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, received {text!r}") from None
    if not in_range(value):
        raise argparse.ArgumentTypeError(f"expected {expected_in_range}, received {text!r}")
    return value


def _positive_int(text: str) -> int:
    """Parse a count such as ``--trajectories``: an integer from 1 to MAX_TRAJECTORIES."""
    return _convert_argument(text, int, "a positive integer",
                             lambda value: 1 <= value <= MAX_TRAJECTORIES,
                             f"an integer from 1 to {MAX_TRAJECTORIES}")


def _positive_float(text: str) -> float:
    return _convert_argument(text, float, "a positive number",
                             lambda value: math.isfinite(value) and value > 0,
                             "a finite positive number")


def _seed(text: str) -> int:
    return _convert_argument(text, int, "a nonnegative integer", lambda value: value >= 0,
                             "a nonnegative integer")


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    """Return the argument type of an integer from ``low`` to ``high``, both included."""
    def parse(text: str) -> int:
        return _convert_argument(text, int, "an integer", lambda value: low <= value <= high,
                                 f"an integer from {low} to {high}")
    return parse
