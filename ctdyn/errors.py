r"""Exceptions and warnings raised by ctdyn.

Every invalid input raises a subclass of :class:`InvalidModelError` (itself a
``ValueError``) whose message names the field, the expected value, the
received value and the fix. The command line turns these into exit status 2.
Solver failures are :class:`SolverError` (a ``RuntimeError``); they never turn
into a ``certified`` status, only into ``inconclusive`` with the reason.
"""

from __future__ import annotations

__all__ = [
    "CtdynError",
    "InvalidModelError",
    "ModelFileError",
    "ExpressionError",
    "SolverError",
    "SimulationContradiction",
    "CtdynWarning",
]


class CtdynError(Exception):
    """Base class of every exception that ctdyn raises on purpose."""


class InvalidModelError(CtdynError, ValueError):
    """An invalid model, option or input value.

    Parameters
    ----------
    field : str
        Name of the offending field, as the user wrote it (``"weights"``,
        ``"model.activation"``, ``"input"``).
    expected : str
        What a valid value looks like.
    received : object
        What was given; shortened to 80 characters in the message.
    fix : str, optional
        One sentence telling the user what to do.
    """

    def __init__(self, field: str, expected: str, received: object, fix: str = ""):
        self.field = field
        self.expected = expected
        self.received = _shorten(received)
        self.fix = fix
        message = f"invalid {field}: expected {expected}, received {self.received}."
        if fix:
            message += f" {fix}"
        super().__init__(message)


class ModelFileError(InvalidModelError):
    """A model file that cannot be read or has a malformed entry."""


class ExpressionError(InvalidModelError):
    """An expression string rejected by the whitelist parser."""


class SolverError(CtdynError, RuntimeError):
    """A numerical solver failed or returned an unusable status."""


class SimulationContradiction(CtdynError, RuntimeError):
    """Simulation violated a certified bound beyond the integration tolerance.

    A certificate that simulation contradicts means a bug in ctdyn (or in a
    solver it trusted), never a property of the model. The command line
    exits with status 3.
    """


class CtdynWarning(UserWarning):
    """Numerical trouble that does not invalidate a result."""


def _shorten(value: object, limit: int = 80) -> str:
    text = repr(value) if not isinstance(value, str) else repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text
