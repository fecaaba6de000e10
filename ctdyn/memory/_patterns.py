"""Validation of stored patterns and query states with entries +1 and -1."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidModelError

__all__ = ["as_patterns", "as_states"]


def as_patterns(values, *, field: str) -> np.ndarray:
    """Return a K x N int8 array of +1 and -1, or raise naming the first bad entry."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise InvalidModelError(field, "a K x N matrix of +1 and -1", values,
                                "Give one pattern per row, every row of the same length.") from error
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] < 2:
        raise InvalidModelError(field, "a K x N matrix of +1 and -1 with K >= 1 and N >= 2",
                                f"shape {array.shape}",
                                "Give one pattern per row, every row of the same length.")
    bad = np.argwhere(~np.isin(array, (-1.0, 1.0)))
    if bad.size:
        row, column = (int(index) for index in bad[0])
        raise InvalidModelError(f"{field}[{row}][{column}]", "+1 or -1", array[row, column],
                                "Binarize the pattern, for example as sign(x) with 0 sent to +1.")
    return array.astype(np.int8)


def as_states(values, neurons: int, *, field: str = "states") -> np.ndarray:
    """Return a float (queries, N) array of +1 and -1; a single state becomes one row."""
    array = np.atleast_2d(np.asarray(values, dtype=float))
    if array.ndim != 2 or array.shape[1] != neurons:
        raise InvalidModelError(field, f"states of length N = {neurons}",
                                f"shape {np.shape(values)}", "Give one state per row.")
    if not np.all(np.isin(array, (-1.0, 1.0))):
        raise InvalidModelError(field, "entries +1 and -1", "other values",
                                "Binarize the states before retrieval.")
    return array
