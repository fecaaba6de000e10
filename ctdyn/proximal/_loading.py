r"""The ``[model]`` table of the families ``proximal_gradient`` and ``lca``.

Keys::

    family = "proximal_gradient"   # or "lca"
    A = [[1, 0], [0, 2]]           # or A_file = "A.npy" | "A.csv" (relative to the model file)
    b = [3, 1]
    regularizer = "l1"             # l1 | elastic_net | nonnegative | box | simplex | l2_ball
                                   # | group_l1 | nonnegative_l1
    lam = 1.0                      # weight of the l1 or group term
    l2 = 0.5                       # elastic net: (l2 / 2) |x|^2
    lower = 0.0                    # box bounds, a number or one per coordinate
    upper = 1.0
    radius = 1.0                   # l2 ball radius, or the simplex sum
    groups = [0, 0, 1]             # group label of each coordinate
    step = 0.4                     # gamma; default: 2 / (mu + L), or 1 for lca
    ridge = 0.0                    # adds (ridge / 2) |x|^2 to f
    f = "(x0 - 1)**2 + x0*x1 + x1**2"   # a symbolic f in place of A and b
    dimension = 2                  # number of variables of f
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InvalidModelError, ModelFileError
from ..models._files import TEXT_ENCODING
from ..models._loading import (
    _check_table,
    _finite_number,
    _inline_rows,
    _integer,
    _matrix_file_path,
    _number_or_list,
    _Verbatim,
)
from ._model import lca, proximal_gradient
from ._regularizers import REGULARIZERS

__all__ = ["read_model"]

_KEYS = ("family", "A", "A_file", "b", "regularizer", "lam", "l2", "lower", "upper", "radius",
         "groups", "step", "ridge", "f", "dimension")
# Largest A read from a file: 50 million entries, 400 MB as float64.
MAX_MATRIX_ENTRIES = 50_000_000


def read_model(table, base_dir: Path, family: str):
    """Validate the ``[model]`` table and return the proximal gradient or LCA model."""
    _check_table(table, "model", _KEYS, required=("family",))
    options: dict = {}
    if "A" in table and "A_file" in table:
        raise ModelFileError("model.A_file", "either A or A_file, not both", "both",
                             "Delete one of the two keys.")
    if "A" in table:
        options["A"] = _rows(table["A"], "model.A")
    elif "A_file" in table:
        options["A"] = _matrix_file(table["A_file"], base_dir)
    if "b" in table:
        b = _number_or_list(table["b"], "model.b")
        options["b"] = [b] if not isinstance(b, list) else b
    regularizer = table.get("regularizer", "l1")
    if regularizer not in REGULARIZERS:
        raise ModelFileError("model.regularizer", "one of " + ", ".join(REGULARIZERS),
                             regularizer, "Choose a regularizer from the list.")
    options["regularizer"] = regularizer
    for key in ("lam", "l2", "radius", "step", "ridge"):
        if key in table:
            options[key] = _finite_number(table[key], f"model.{key}")
    for key in ("lower", "upper"):
        if key in table:
            options[key] = _number_or_list(table[key], f"model.{key}")
    if "groups" in table:
        groups = table["groups"]
        if not isinstance(groups, list):
            raise ModelFileError("model.groups", "a list of integer labels", groups,
                                 "Write groups = [0, 0, 1, ...].")
        options["groups"] = [_integer(label, f"model.groups[{i}]", minimum=0)
                             for i, label in enumerate(groups)]
    if "f" in table:
        if not isinstance(table["f"], str):
            raise ModelFileError("model.f", "an expression string in x0, x1, ...", table["f"],
                                 "Quote the expression.")
        options["f"] = table["f"]
    if "dimension" in table:
        options["dimension"] = _integer(table["dimension"], "model.dimension", minimum=1)
    if "f" not in options and "A" not in options:
        raise ModelFileError("model.A", "A = [[...], ...], A_file = \"A.npy\" or f = \"...\"",
                             "nothing", "Add the measurement matrix or a symbolic f.")
    if "f" not in options and "b" not in options:
        raise ModelFileError("model.b", "b = [...] with one entry per row of A", "nothing",
                             "Add the measurements b.")

    try:
        if family == "lca":
            Phi = options.pop("A", None)
            y = options.pop("b", None)
            return lca(Phi, y, **options)
        return proximal_gradient(**options)
    except ModelFileError:
        raise
    except InvalidModelError as error:
        field = error.field if error.field.startswith("model.") else f"model.{error.field}"
        raise InvalidModelError(field, error.expected, _Verbatim(error.received),
                                error.fix) from error


def _rows(value, field: str) -> list[list[float]]:
    return _inline_rows(value, field, expected="a non-empty list of rows",
                        example="Write A = [[a11, a12], [a21, a22]].",
                        row_example="Write each row in brackets.")


def _matrix_file(value, base_dir: Path) -> np.ndarray:
    field = "model.A_file"
    path = _matrix_file_path(value, base_dir, field, (".npy", ".csv"),
                             expected="a file name ending in .npy or .csv",
                             example="Write for example A_file = \"A.npy\".",
                             suffix_fix="Save the matrix with numpy.save or as comma-separated "
                             "text.")
    try:
        if path.suffix.lower() == ".npy":
            matrix = np.load(path, allow_pickle=False, mmap_mode="r")
            if matrix.dtype.kind not in "fiu" or matrix.size > MAX_MATRIX_ENTRIES:
                raise ModelFileError(field, f"a real numeric array of at most "
                                     f"{MAX_MATRIX_ENTRIES} entries",
                                     f"dtype {matrix.dtype}, {matrix.size} entries",
                                     f"Save a float matrix. The file is {path}.")
            matrix = np.array(matrix, dtype=float)
        else:
            matrix = np.loadtxt(path, delimiter=",", comments="#", dtype=float, ndmin=2,
                                encoding=TEXT_ENCODING)
    except (ValueError, OSError) as error:
        raise ModelFileError(field, "a readable .npy or .csv matrix", str(error),
                             f"Check the file {path}.") from error
    if matrix.ndim != 2:
        raise ModelFileError(field, "a two-dimensional matrix", f"shape {matrix.shape}",
                             f"Save an m x n matrix. The file is {path}.")
    return matrix
