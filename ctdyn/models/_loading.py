r"""Model files: TOML text to a validated network and its run options.

A model file has one required table and two optional ones::

    [model]
    family = "firing_rate"                  # required: "firing_rate" or "hopfield"
    weights = [[0.2, -0.5], [0.3, 0.1]]     # or weights_file = "W.npy" | "W.csv" | "W.mtx"
    input = [0.5, -1.0]                     # optional, default 0, a scalar is broadcast
    activation = "tanh"                     # required: built-in name or an expression in x
    leak = 1.0                              # optional, default 1, scalar or list (diagonal of C)

    [certify]
    methods = ["log_norm_inf", "lmi_diagonal"]   # optional, default: every applicable method
    require = ["contraction"]                    # optional, default ["contraction"]

    [simulate]
    trajectories = 8        # optional, default 8
    t_final = 20.0          # optional, default: chosen by the simulation
    seed = 0                # optional, default 0

Exactly one of ``weights`` and ``weights_file`` is required. Keys outside
this list, and tables other than these three, are rejected, so a misspelt
key fails loudly instead of silently falling back to a default. Numbers must
be finite TOML integers or floats, so ``true``, ``false``, ``nan`` and
``inf`` are rejected wherever a number is expected.
Error messages name each entry by its path, with zero-based list indices:
``model.weights[1][0]``, ``certify.methods[2]``, ``simulate.t_final``.

The model file and its weights file must be regular files: a folder, a
FIFO or a device is rejected by name and never read. The TOML and CSV files
may start with a UTF-8 byte order mark, which is dropped, although TOML 1.0
forbids it.

Weights files
-------------
``weights_file`` is resolved against the folder of the model file.

``.npy``
    Read with ``numpy.load(allow_pickle=False)``. The header is read first
    and the file is rejected before any data is loaded if the dtype is not
    real numeric (object dtypes would need pickle) or the declared shape has
    more than :data:`MAX_WEIGHT_ENTRIES` entries.
``.csv``
    Comma-separated rows, ``#`` starts a comment. Rows are counted before
    ``numpy.loadtxt`` reads them, so a ragged row is reported by its line
    number and an oversized file is rejected early.
``.mtx``
    Matrix Market, read with ``scipy.io.mmread`` after its header
    (``scipy.io.mminfo``) is checked. ``coordinate`` files become
    ``scipy.sparse.csr_array`` weights and ``array`` files dense ones.
    ``complex`` files are rejected. A ``pattern`` file stores only the
    positions of the nonzeros, and each of them gets weight 1, as
    ``scipy.io.mmread`` returns it. Scale such a file yourself if the
    couplings should differ from 1.
"""

from __future__ import annotations

import difflib
import logging
import math
import numbers
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sps

from .._families import CORE_CLAIMS, CORE_METHODS, PLUGIN_FAMILIES, family_module
from ..errors import ExpressionError, InvalidModelError, ModelFileError
from ._activation import BUILTIN_ACTIVATIONS, Activation, make_activation
from ._files import (TEXT_ENCODING, check_matrix_market_start, check_regular_file,
                     describe_undecodable)
from ._networks import FiringRateNetwork, HopfieldNetwork
from ._validate import as_leak, as_vector, as_weights

__all__ = [
    "ModelSpec",
    "load_model",
    "model_from_dict",
    "METHODS",
    "CLAIMS",
    "FAMILIES",
    "DEFAULT_REQUIRE",
    "DEFAULT_TRAJECTORIES",
    "DEFAULT_SEED",
    "MAX_WEIGHT_ENTRIES",
    "MAX_TRAJECTORIES",
    "MAX_NEURONS",
]

logger = logging.getLogger(__name__)

# Certificate method names, as written in [certify] methods and in reports.
# Certificate method names of the core families, as written in [certify]
# methods and in reports. Other families add their own (ctdyn._families).
METHODS = CORE_METHODS
# Claim names, as written in [certify] require and in reports.
CLAIMS = CORE_CLAIMS
FAMILIES = {"firing_rate": FiringRateNetwork, "hopfield": HopfieldNetwork}

# No claim is required unless the file or the command line names one, so a
# plain `ctdyn certify MODEL` exits 0 whatever the statuses are.
DEFAULT_REQUIRE: tuple[str, ...] = ()
DEFAULT_TRAJECTORIES = 8
DEFAULT_SEED = 0
# Guards against a header or a typo that declares an absurd size. The
# simulation keeps trajectories x n floats per state.
MAX_WEIGHT_ENTRIES = 2**31
MAX_TRAJECTORIES = 10**6
# Every certificate keeps vectors of n floats, and the simulation a batch of
# them per output time; 2 million neurons is 16 MB per vector.
MAX_NEURONS = 2_000_000

_TABLE_KEYS = {
    "model": ("family", "weights", "weights_file", "input", "activation", "leak"),
    "certify": ("methods", "require"),
    "simulate": ("trajectories", "t_final", "seed"),
}
_REQUIRED_MODEL_KEYS = ("family", "activation")
_WEIGHT_SUFFIXES = (".npy", ".csv", ".mtx")
_TOML_POSITION = re.compile(r"line (\d+), column (\d+)")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_MAX_EXACT_INTEGER = 2**53

Network = FiringRateNetwork | HopfieldNetwork


@dataclass(frozen=True)
class ModelSpec:
    r"""A validated model file: the network and the options of a run.

    Attributes
    ----------
    network : FiringRateNetwork or HopfieldNetwork
    methods : tuple of str or None
        Certificate methods from :data:`METHODS`, in the order given. None
        when the file names none, so the caller runs its default set.
    require : tuple of str
        Claims from :data:`CLAIMS` that must be certified for a passing
        verdict, or :data:`DEFAULT_REQUIRE` when the file names none.
    trajectories : int
        Number of simulated trajectories, at least 1.
    t_final : float or None
        Positive simulation horizon, or None to let the simulation choose it.
    seed : int
        Nonnegative seed of the initial-state generator.
    source : str
        The model file's path as given, or a label for an in-memory table.
    """

    network: Network
    methods: tuple[str, ...] | None
    require: tuple[str, ...]
    trajectories: int
    t_final: float | None
    seed: int
    source: str


def load_model(path: str | os.PathLike) -> ModelSpec:
    r"""Read and validate a TOML model file.

    Parameters
    ----------
    path : str or path-like
        The model file. A relative ``weights_file`` inside it is resolved
        against the folder that contains this file.

    Returns
    -------
    ModelSpec

    Raises
    ------
    ModelFileError
        If the file is missing, unreadable or not a regular file (a folder,
        a FIFO or a device), is not UTF-8 TOML (the message gives tomllib's
        line and column), or has an unknown, missing or malformed entry.
    InvalidModelError
        If a value is well formed but invalid for the model, for example a
        zero leak or an activation with unbounded slope
        (:class:`~ctdyn.errors.ExpressionError` is a subclass).
    """
    path = Path(path)
    document = _read_toml(path)
    spec = model_from_dict(document, base_dir=path.parent, source=str(path))
    logger.info("loaded %s: %s network with %d neurons", path, spec.network.family,
                spec.network.n)
    return spec


def model_from_dict(table: Mapping, *, base_dir: str | os.PathLike,
                    source: str = "<table>") -> ModelSpec:
    r"""Build a :class:`ModelSpec` from a parsed table, such as ``tomllib.load`` returns.

    Parameters
    ----------
    table : mapping
        Top-level table with ``"model"`` and optionally ``"certify"`` and
        ``"simulate"``, laid out as in the module documentation. Besides
        TOML values, ``model.weights`` may be a NumPy array or a SciPy
        sparse matrix.
    base_dir : str or path-like
        Folder against which a relative ``model.weights_file`` is resolved.
    source : str
        Label stored in :attr:`ModelSpec.source`.

    Returns
    -------
    ModelSpec

    Raises
    ------
    ModelFileError, InvalidModelError
        As for :func:`load_model`.
    """
    _check_table(table, "model file", _TABLE_KEYS, required=("model",))
    # The keys of [model] are checked once the family is known: a family
    # outside the core checks its own keys in read_model.
    model = table["model"]
    certify = _subtable(table, "certify")
    simulate = _subtable(table, "simulate")

    family = _read_family(model)
    if family in FAMILIES:
        _check_table(model, "model", _TABLE_KEYS["model"])
        network = _build_network(model, Path(base_dir))
        methods, require = _read_certify(certify, METHODS, CLAIMS)
    else:
        plugin = PLUGIN_FAMILIES[family]
        network = family_module(family).read_model(model, Path(base_dir), family)
        methods, require = _read_certify(certify, plugin.methods, plugin.claims)
    trajectories, t_final, seed = _read_simulate(simulate)
    return ModelSpec(network=network, methods=methods, require=require,
                     trajectories=trajectories, t_final=t_final, seed=seed, source=source)


# -- TOML and table structure --------------------------------------------------


def _read_toml(path: Path) -> dict:
    check_regular_file(path, field="model file", received=str(path),
                       expected="an existing TOML file",
                       missing_fix=f"Check the path {path}, or run `ctdyn certify` without a "
                       "file for the built-in example.")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelFileError("model file", "a readable file", str(path),
                             f"Check the permissions of {path} ({error.strerror}).") from error
    try:
        return tomllib.loads(data.decode(TEXT_ENCODING))
    except tomllib.TOMLDecodeError as error:
        if b"\x00" in data[:64]:
            # UTF-16 without a byte order mark decodes as UTF-8 with NUL bytes.
            raise ModelFileError(str(path), "UTF-8 text", "NUL bytes, as UTF-16 text has",
                                 "Save the file as UTF-8.") from error
        position = _TOML_POSITION.search(str(error))
        where = f"line {position[1]}, column {position[2]}" if position else "the reported place"
        raise ModelFileError(str(path), "valid TOML (https://toml.io/en/v1.0.0)", str(error),
                             f"Correct the syntax at {where}, for example quote strings "
                             "and write lists as [a, b].") from error
    except UnicodeDecodeError as error:
        raise ModelFileError(str(path), "UTF-8 text", describe_undecodable(data[:2], error),
                             "Save the file as UTF-8.") from error
    except RecursionError as error:
        raise ModelFileError(str(path), "TOML nested to a reasonable depth",
                             "nesting too deep to parse",
                             "Remove the excess brackets.") from error


def _check_table(table: object, name: str, allowed: Mapping | tuple,
                 required: tuple[str, ...] = ()) -> None:
    """Reject a non-table, a missing required key and any key outside ``allowed``."""
    if not isinstance(table, Mapping):
        fix = (f"Write it as a [{name}] table header followed by key = value lines."
               if name != "model file" else "Pass the parsed TOML document, a mapping "
               "from table names to tables.")
        raise ModelFileError(name, "a table", table, fix)
    allowed = tuple(allowed)
    for key in table:
        if key not in allowed:
            field = key if name == "model file" else f"{name}.{key}"
            raise ModelFileError(field, "one of the keys " + ", ".join(allowed), key,
                                 _suggest(str(key), allowed))
    for key in required:
        if key not in table:
            field = key if name == "model file" else f"{name}.{key}"
            raise ModelFileError(field, "a value", "nothing",
                                 f"Add the required entry {key!r}. The model file format is "
                                 "described in ctdyn.models.load_model.")


def _subtable(table: Mapping, name: str) -> Mapping:
    value = table.get(name, {})
    _check_table(value, name, _TABLE_KEYS[name])
    return value


def _suggest(received: str, allowed) -> str:
    close = difflib.get_close_matches(received, list(allowed), n=1)
    if close:
        return f"Did you mean {close[0]!r}?"
    return "Remove it or use one of the listed names."


# -- scalar entries ------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _finite_number(value: object, field: str) -> float:
    """Return ``value`` as a finite float, rejecting booleans, strings, NaN and inf."""
    if not _is_number(value):
        raise ModelFileError(field, "a number", value,
                             "Write a number such as 0.5 (true, false and quoted text are "
                             "not numbers).")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ModelFileError(field, "a finite number", value,
                             "Replace nan or inf by a finite value.")
    if isinstance(value, numbers.Integral) and int(number) != value:
        raise _inexact_integer_error(field, value)
    return number


def _inexact_integer_error(field: str, value: object) -> ModelFileError:
    # Certificates speak about the float64 matrix, so silent rounding would
    # certify a model other than the one written.
    return ModelFileError(field, f"an integer of magnitude at most 2**53 = {_MAX_EXACT_INTEGER}, "
                          "which float64 represents exactly", value,
                          "Write the value as a float, for example 1.5e16, if the rounding "
                          "is acceptable.")


def _integer(value: object, field: str, *, minimum: int, maximum: int | None = None) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        raise ModelFileError(field, "an integer", value,
                             "Write a whole number without a decimal point, such as 8.")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise ModelFileError(field, f"an integer of at least {minimum}{upper}", value,
                             "Change the value to lie in that range.")
    return int(value)


def _number_or_list(value: object, field: str) -> float | list[float]:
    """Check a scalar-or-vector entry (input, leak) element by element."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_finite_number(entry, f"{field}[{index}]") for index, entry in enumerate(value)]
    return _finite_number(value, field)


def _name_list(value: object, field: str, allowed: tuple[str, ...], kind: str) -> tuple[str, ...]:
    """Check a non-empty list of distinct names taken from ``allowed``."""
    if not isinstance(value, (list, tuple)) or not value:
        raise ModelFileError(field, f"a non-empty list of {kind} names", value,
                             f"Write for example {field.split('.')[-1]} = [{allowed[0]!r}], "
                             "or remove the key for the default.")
    names = []
    for index, name in enumerate(value):
        entry = f"{field}[{index}]"
        if not isinstance(name, str) or name not in allowed:
            hint = _suggest(name, allowed) if isinstance(name, str) else "Quote the name."
            raise ModelFileError(entry, f"a {kind} name, one of " + ", ".join(allowed), name, hint)
        if name in names:
            raise ModelFileError(entry, f"{kind} names without repeats", name,
                                 "Remove the repeated name.")
        names.append(name)
    return tuple(names)


# -- [model] -------------------------------------------------------------------


def _read_family(model: Mapping) -> str:
    _check_table(model, "model", tuple(model) if isinstance(model, Mapping) else (),
                 required=("family",))
    family = model["family"]
    known = {**FAMILIES, **PLUGIN_FAMILIES}
    if not isinstance(family, str) or family not in known:
        hint = _suggest(family, known) if isinstance(family, str) else "Quote the name."
        raise ModelFileError("model.family", "one of " + ", ".join(known), family, hint)
    return family


def _build_network(model: Mapping, base_dir: Path) -> Network:
    _check_table(model, "model", _TABLE_KEYS["model"], required=_REQUIRED_MODEL_KEYS)
    family = model["family"]
    weights = _read_weights(model, base_dir)
    n = weights.shape[0]
    activation = _read_activation(model["activation"])
    input_ = as_vector(_optional_vector(model, "input"), n, field="model.input", default=0.0)
    leak = as_leak(_optional_vector(model, "leak"), n, field="model.leak")
    return FAMILIES[family](weights, input=input_, activation=activation, leak=leak)


def _optional_vector(model: Mapping, key: str) -> float | list[float] | None:
    if key not in model:
        return None
    return _number_or_list(model[key], f"model.{key}")


def _read_activation(value: object) -> Activation:
    field = "model.activation"
    if not isinstance(value, str):
        raise ModelFileError(field, "a built-in name or an expression in x", value,
                             "Quote it, for example activation = \"tanh\" or \"x/(1+abs(x))\".")
    try:
        return make_activation(value, field=field)
    except InvalidModelError as error:
        if _IDENTIFIER.fullmatch(value.strip()):
            # A lone name other than x can only be meant as a built-in activation.
            names = sorted(BUILTIN_ACTIVATIONS)
            raise ExpressionError(field, "a built-in activation (" + ", ".join(names)
                                  + ") or an expression in x", value,
                                  _suggest(value.strip(), names)) from error
        if error.field == field:
            raise
        # Slope derivation reports the bare field name "activation".
        raise _with_field(error, field) from error


def _with_field(error: InvalidModelError, field: str) -> InvalidModelError:
    """Return a copy of ``error``, of the same class, that names ``field``."""
    return type(error)(field, error.expected, _Verbatim(error.received), error.fix)


class _Verbatim(str):
    """Text that the error message shows as is, without another layer of quotes."""

    def __repr__(self) -> str:
        return str(self)


def _read_weights(model: Mapping, base_dir: Path) -> np.ndarray | sps.csr_array:
    return _read_matrix(model, "weights", base_dir, read_inline=_inline_weights,
                        read_file=_weights_file,
                        expected="weights = [[...], ...] or weights_file = \"W.npy\"")


def _read_matrix(model: Mapping, key: str, base_dir: Path, *, read_inline, read_file,
                 expected: str):
    """Read a matrix given inline under ``key`` or as a file name under ``key + "_file"``.

    Exactly one of the two keys must be present. ``read_inline`` receives the
    inline value, ``read_file`` the file name and ``base_dir``, and
    ``expected`` is the error's description of the two keys when both are
    missing.
    """
    file_key = f"{key}_file"
    if key in model and file_key in model:
        raise ModelFileError(f"model.{file_key}", f"either {key} or {file_key}, not both",
                             "both", "Delete one of the two keys.")
    if key in model:
        return read_inline(model[key])
    if file_key in model:
        return read_file(model[file_key], base_dir)
    raise ModelFileError(f"model.{key}", expected, "neither",
                         "Add one of the two keys to the [model] table.")


def _inline_weights(value: object) -> np.ndarray | sps.csr_array:
    field = "model.weights"
    if sps.issparse(value) or isinstance(value, np.ndarray):
        return as_weights(value, field=field)
    rows = _inline_rows(value, field, expected="a non-empty list of rows, each a list of numbers",
                        example="Write weights = [[w11, w12], [w21, w22]].",
                        row_example="Write each row in brackets, for example [0.2, -0.5].")
    return as_weights(rows, field=field)


def _inline_rows(value: object, field: str, *, expected: str, example: str, row_example: str,
                 row_expected: str = "a row: a list of numbers", row_name: str = "row",
                 entry_name: str = "numbers",
                 same_length_fix: str = "Give every row the same length.") -> list[list[float]]:
    """Check a matrix written inline as a non-empty list of equally long rows of numbers.

    Returns the entries as floats. The keyword arguments carry the caller's
    wording of the errors: ``expected`` and ``example`` for the whole list,
    ``row_expected`` and ``row_example`` for one row, and ``row_name``,
    ``entry_name`` and ``same_length_fix`` for a row whose length differs
    from row 0.
    """
    if not isinstance(value, (list, tuple)) or not value:
        raise ModelFileError(field, expected, value, example)
    width = None
    rows = []
    for i, row in enumerate(value):
        if not isinstance(row, (list, tuple)):
            raise ModelFileError(f"{field}[{i}]", row_expected, row, row_example)
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise ModelFileError(f"{field}[{i}]", f"{width} {entry_name}, like {row_name} 0",
                                 f"{len(row)} {entry_name}", same_length_fix)
        rows.append([_finite_number(entry, f"{field}[{i}][{j}]") for j, entry in enumerate(row)])
    return rows


# -- weights files -------------------------------------------------------------


def _weights_file(value: object, base_dir: Path) -> np.ndarray | sps.csr_array:
    field = "model.weights_file"
    path = _matrix_file_path(value, base_dir, field, _WEIGHT_SUFFIXES,
                             expected="a file name ending in .npy, .csv or .mtx",
                             example="Write for example weights_file = \"W.npy\".",
                             suffix_expected="a file name ending in " + ", ".join(_WEIGHT_SUFFIXES),
                             suffix_fix="Convert the matrix to NumPy .npy, comma-separated .csv "
                             "or Matrix Market .mtx.")
    suffix = path.suffix.lower()
    readers = {".npy": _read_npy, ".csv": _read_csv, ".mtx": _read_mtx}
    try:
        weights = readers[suffix](path, field)
    except OSError as error:
        fix = _in_file(f"Check its permissions ({error.strerror}).", path)
        raise ModelFileError(field, "a readable file", value, fix) from error
    logger.debug("read %s weights of shape %s from %s",
                 "sparse" if sps.issparse(weights) else "dense", weights.shape, path)
    _check_exact_integers(weights, field, path)
    try:
        return as_weights(weights, field=field)
    except InvalidModelError as error:
        raise ModelFileError(field, error.expected, _Verbatim(error.received),
                             _in_file(error.fix, path)) from error


def _matrix_file_path(value: object, base_dir: Path, field: str, suffixes: tuple[str, ...], *,
                      expected: str, example: str, suffix_fix: str,
                      suffix_expected: str | None = None) -> Path:
    """Check the name of a matrix file given in the ``[model]`` table and return its path.

    The name is resolved against ``base_dir``, the folder of the model file,
    and its suffix is compared case-insensitively with ``suffixes``. A value
    that is not a non-empty string is reported with ``expected`` and
    ``example``, a wrong suffix with ``suffix_expected`` (default
    ``expected``) and ``suffix_fix``. A missing file, a folder, a FIFO or a
    device raises ModelFileError before anything is read.
    """
    if not isinstance(value, str) or not value.strip():
        raise ModelFileError(field, expected, value, example)
    path = base_dir / value
    if path.suffix.lower() not in suffixes:
        raise ModelFileError(field, suffix_expected or expected, value, suffix_fix)
    check_regular_file(path, field=field, received=value, expected="an existing file",
                       missing_fix=f"No file {path} exists. A relative name is resolved against "
                       "the folder of the model file.")
    return path


def _check_exact_integers(weights: np.ndarray | sps.csr_array, field: str, path: Path) -> None:
    values = weights.data if sps.issparse(weights) else weights
    if values.dtype.kind not in "iu" or values.size == 0:
        return
    too_large = (values > _MAX_EXACT_INTEGER) | (values < -_MAX_EXACT_INTEGER)
    if np.any(too_large):
        error = _inexact_integer_error(field, int(values[too_large][0]))
        raise ModelFileError(field, error.expected, _Verbatim(error.received),
                             _in_file(error.fix, path))


def _in_file(fix: str, path: Path) -> str:
    return f"{fix} The file is {path}."


def _check_entry_count(shape: tuple[int, ...], path: Path, field: str) -> None:
    entries = math.prod(shape)
    if entries > MAX_WEIGHT_ENTRIES:
        raise ModelFileError(field, f"at most {MAX_WEIGHT_ENTRIES} entries (2**31)",
                             f"{entries} entries declared",
                             _in_file("Use a smaller network, or a sparse Matrix Market file.",
                                      path))


def _check_square(shape: tuple[int, ...], path: Path, field: str) -> None:
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] == 0:
        raise ModelFileError(field, "a non-empty square matrix (n x n)", f"shape {shape}",
                             _in_file("Store n rows of n numbers.", path))
    if shape[0] > MAX_NEURONS:
        raise ModelFileError(field, f"at most {MAX_NEURONS:,} neurons", f"{shape[0]:,} declared",
                             _in_file("Check the header line; a larger network needs more "
                                      "memory than ctdyn's vectors of n floats allow here.", path))


def _read_npy(path: Path, field: str) -> np.ndarray:
    # The header is checked before np.load touches the data: an object dtype
    # would need pickle, and a forged shape could request terabytes.
    with path.open("rb") as stream:
        try:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
        except ValueError as error:
            raise ModelFileError(field, "a NumPy .npy file (format 1.0 or 2.0)", str(error),
                                 _in_file("Save the matrix with numpy.save.", path)) from error
        data_offset = stream.tell()
    if dtype.hasobject or dtype.kind not in "fiu":
        raise ModelFileError(field, "a real numeric dtype (float or integer)", f"dtype {dtype}",
                             _in_file("Save a float array, for example numpy.save(path, "
                                      "W.astype(float)). Object arrays are never unpickled.",
                                      path))
    _check_entry_count(shape, path, field)
    _check_square(shape, path, field)
    # A forged header can declare far more data than the file holds; numpy
    # would allocate the declared size before noticing.
    declared = data_offset + math.prod(shape) * dtype.itemsize
    actual = path.stat().st_size
    if actual != declared:
        raise ModelFileError(field, f"{declared:,} bytes for shape {tuple(shape)} and dtype "
                             f"{dtype}", f"{actual:,} bytes",
                             _in_file("The file is truncated or its header is wrong; save the "
                                      "matrix again with numpy.save.", path))
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as error:
        raise ModelFileError(field, "a complete .npy file", str(error),
                             _in_file("Save the matrix again with numpy.save.", path)) from error


def _read_csv(path: Path, field: str) -> np.ndarray:
    rows, columns = _csv_shape(path, field)
    _check_square((rows, columns), path, field)
    try:
        return np.loadtxt(path, delimiter=",", comments="#", dtype=float, ndmin=2,
                          encoding=TEXT_ENCODING)
    except ValueError as error:
        # numpy counts data rows from 0 and columns from 1, so report file lines instead.
        received = _first_bad_csv_entry(path) or str(error)
        raise ModelFileError(field, "comma-separated numbers", received,
                             _in_file("Replace that entry by a number. Text and empty fields "
                                      "are not numbers.", path)) from error


def _csv_shape(path: Path, field: str) -> tuple[int, int]:
    """Count the rows and columns of a CSV file and reject ragged rows."""
    rows = 0
    columns = 0
    try:
        with path.open(encoding=TEXT_ENCODING) as stream:
            for line_number, line in enumerate(stream, start=1):
                text = line.split("#", 1)[0].strip()
                if not text:
                    continue
                width = text.count(",") + 1
                if rows == 0:
                    columns = width
                elif width != columns:
                    raise ModelFileError(field, f"{columns} values in every row, like the first",
                                         f"{width} {'value' if width == 1 else 'values'} on "
                                         f"line {line_number}",
                                         _in_file("Give every row the same number of values.",
                                                  path))
                rows += 1
                _check_entry_count((rows, columns), path, field)
    except UnicodeDecodeError as error:
        with path.open("rb") as stream:
            head = stream.read(2)
        raise ModelFileError(field, "UTF-8 text", describe_undecodable(head, error),
                             _in_file("Save the file as UTF-8 comma-separated text.",
                                      path)) from error
    if rows == 0:
        raise ModelFileError(field, "a non-empty square matrix (n x n)", "no rows",
                             _in_file("Store n rows of n comma-separated numbers.", path))
    return rows, columns


def _first_bad_csv_entry(path: Path) -> str | None:
    with path.open(encoding=TEXT_ENCODING) as stream:
        for line_number, line in enumerate(stream, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            for column, entry in enumerate(text.split(","), start=1):
                try:
                    float(entry)
                except ValueError:
                    return f"{entry.strip()!r} on line {line_number}, column {column}"
    return None


def _read_mtx(path: Path, field: str) -> np.ndarray | sps.csr_array:
    check_matrix_market_start(path, field=field)
    try:
        rows, columns, entries, layout, value_type, _ = scipy.io.mminfo(path)
    except (ValueError, IndexError) as error:
        raise ModelFileError(field, "a Matrix Market file", str(error),
                             _in_file("Write it with scipy.io.mmwrite.", path)) from error
    if value_type == "complex":
        raise ModelFileError(field, "real, integer or pattern entries", "complex entries",
                             _in_file("Store the real weights. Complex networks are not "
                                      "supported.", path))
    _check_entry_count((entries,), path, field)
    _check_entry_count((rows,), path, field)
    _check_square((rows, columns), path, field)
    # Each stored entry takes at least two bytes ("1\n" in an array file,
    # more in a coordinate line). So a header that declares more entries than
    # the file can hold is rejected before scipy allocates room for them.
    size = path.stat().st_size
    if 2 * entries > size:
        raise ModelFileError(field, f"a file large enough for the {entries:,} entries its "
                             "header declares", f"{size:,} bytes",
                             _in_file("The file is truncated or its header line is wrong.", path))
    try:
        matrix = scipy.io.mmread(path, spmatrix=False)
    except OverflowError as error:
        raise ModelFileError(field, "entries that fit in 64-bit numbers", str(error),
                             _in_file("Store the weights as real numbers.", path)) from error
    except MemoryError as error:
        raise ModelFileError(field, "a matrix that fits in memory", "not enough memory",
                             _in_file("Use a smaller network.", path)) from error
    except ValueError as error:
        raise ModelFileError(field, "a well-formed Matrix Market file", str(error),
                             _in_file("Write it with scipy.io.mmwrite.", path)) from error
    if layout == "coordinate":
        return sps.csr_array(matrix)
    return np.asarray(matrix)


# -- [certify] and [simulate] --------------------------------------------------


def _read_certify(certify: Mapping, methods_allowed: tuple[str, ...],
                  claims_allowed: tuple[str, ...]) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    methods = None
    if "methods" in certify:
        methods = _name_list(certify["methods"], "certify.methods", methods_allowed, "method")
    require = DEFAULT_REQUIRE
    if "require" in certify:
        require = _name_list(certify["require"], "certify.require", claims_allowed, "claim")
    return methods, require


def _read_simulate(simulate: Mapping) -> tuple[int, float | None, int]:
    trajectories = DEFAULT_TRAJECTORIES
    if "trajectories" in simulate:
        trajectories = _integer(simulate["trajectories"], "simulate.trajectories", minimum=1,
                                maximum=MAX_TRAJECTORIES)
    t_final = None
    if "t_final" in simulate:
        t_final = _finite_number(simulate["t_final"], "simulate.t_final")
        if t_final <= 0:
            raise ModelFileError("simulate.t_final", "a positive time", simulate["t_final"],
                                 "Give a horizon such as 20.0, or remove the key to let the "
                                 "simulation choose one.")
    seed = DEFAULT_SEED
    if "seed" in simulate:
        seed = _integer(simulate["seed"], "simulate.seed", minimum=0)
    return trajectories, t_final, seed
