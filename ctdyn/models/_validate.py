"""Input checks shared by the model constructors and the file loader."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sps

from ..errors import InvalidModelError

__all__ = ["as_weights", "as_vector", "as_leak"]


def as_weights(value, *, field: str = "weights") -> np.ndarray | sps.csr_array:
    """Return a finite square float matrix, dense or CSR sparse."""
    _require_real(value, field)
    if sps.issparse(value):
        matrix = sps.csr_array(value, dtype=float)
        data = matrix.data
    else:
        try:
            matrix = np.asarray(value, dtype=float)
        except (TypeError, ValueError) as error:
            raise InvalidModelError(field, "a square matrix of numbers", value,
                                    "Give a list of equal-length rows of numbers.") from error
        data = matrix
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise InvalidModelError(field, "a non-empty square matrix (n x n)",
                                f"an array of shape {matrix.shape}",
                                "Give n rows of n numbers each.")
    _require_finite(data, field)
    return matrix


def as_vector(value, n: int, *, field: str, default: float | None = None) -> np.ndarray:
    """Return a finite float vector of length ``n`` (a scalar is broadcast)."""
    if value is None:
        if default is None:
            raise InvalidModelError(field, f"a vector of length {n}", None, f"Give {field}.")
        return np.full(n, float(default))
    _require_real(value, field)
    try:
        vector = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise InvalidModelError(field, f"a number or a list of {n} numbers", value,
                                f"Give {field} as numbers.") from error
    if vector.ndim == 0:
        vector = np.full(n, float(vector))
    if vector.shape != (n,):
        raise InvalidModelError(field, f"a vector of length {n} to match the {n} x {n} weights",
                                f"shape {vector.shape}",
                                f"Give {n} entries or a single number.")
    _require_finite(vector, field)
    return vector


def _require_real(value, field: str) -> None:
    """Reject complex and boolean input, which float conversion would silently change."""
    if sps.issparse(value):
        kind = value.dtype.kind
    else:
        try:
            kind = np.asarray(value).dtype.kind
        except (TypeError, ValueError):
            return  # ragged or non-numeric: the float conversion reports it
    if kind == "c":
        raise InvalidModelError(field, "real numbers", "complex numbers",
                                "Give real values; complex networks are not supported.")
    if kind == "b":
        raise InvalidModelError(field, "numbers", "true/false values",
                                "Write the numbers 1 and 0 instead of booleans.")


def as_leak(value, n: int, *, field: str = "leak") -> np.ndarray:
    """Return the positive diagonal of the leak matrix C (default: ones)."""
    leak = as_vector(value, n, field=field, default=1.0)
    if np.any(leak <= 0):
        index = int(np.argmax(leak <= 0))
        raise InvalidModelError(field, "positive entries (a positive diagonal C)",
                                f"{leak[index]} at index {index}",
                                "Every neuron needs a positive leak rate.")
    return leak


def _require_finite(array: np.ndarray, field: str) -> None:
    finite = np.isfinite(array)
    if not np.all(finite):
        flat = np.flatnonzero(~finite)[0]
        index = (tuple(int(i) for i in np.unravel_index(flat, array.shape)) if array.ndim > 1
                 else int(flat))
        raise InvalidModelError(field, "finite numbers", f"{array.flat[flat]} at index {index}",
                                "Replace NaN and infinite entries by finite values.")


def finite_number(field: str, value, *, positive: bool = False) -> float:
    """Return ``value`` as a finite float (and > 0 with ``positive``), or raise naming ``field``."""
    expected = "a finite positive number" if positive else "a finite number"
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise InvalidModelError(field, expected, value, f"Give {field} as a number.") from error
    if not math.isfinite(number) or (positive and number <= 0):
        raise InvalidModelError(field, expected, value,
                                f"Give a {field} greater than 0." if positive
                                else f"Give a finite {field}.")
    return number
