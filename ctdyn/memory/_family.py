r"""The ``dense_memory`` model-file family: reading the ``[model]`` table and analysis.

Model file keys (``[model]`` table)::

    family = "dense_memory"
    patterns = [[1, -1, 1, ...], ...]    # or patterns_file = "P.npy" | "P.csv" (K rows of N)
    energy = "rectified_polynomial"      # classical | polynomial | rectified_polynomial | exponential
    degree = 3                           # polynomials only, 2..20 (default 3)
    beta = 1.0                           # exponential only (default 1)
    tau_feature = 1.0                    # optional time constants (default 1)
    tau_memory = 1.0
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..analysis import Analysis, SimulationSummary
from ..errors import ModelFileError, SolverError
from ..models._files import TEXT_ENCODING
from ..models._loading import (
    _check_table,
    _finite_number,
    _inline_rows,
    _integer,
    _matrix_file_path,
    _read_matrix,
)
from ._certify import basin_certificate, check_patterns, stability_certificate
from ._continuous import TwoLayerMemory

__all__ = ["read_model", "analyze", "MODEL_KEYS"]

logger = logging.getLogger(__name__)

MODEL_KEYS = ("family", "patterns", "patterns_file", "energy", "degree", "beta", "tau_feature",
              "tau_memory")
MAX_PATTERN_ENTRIES = 10**8
SIMULATION_RTOL = 1e-9
SIMULATION_ATOL = 1e-9
# Simulated patterns: the first few certified ones.
MAX_SIMULATED_PATTERNS = 4


def read_model(table: Mapping, base_dir: Path, family: str) -> TwoLayerMemory:
    """Validate a ``[model]`` table of family ``dense_memory`` and build the model."""
    _check_table(table, "model", MODEL_KEYS, required=("family", "energy"))
    patterns = _read_patterns(table, base_dir)
    options = {}
    if "degree" in table:
        options["degree"] = _integer(table["degree"], "model.degree", minimum=2, maximum=20)
    if "beta" in table:
        options["beta"] = _finite_number(table["beta"], "model.beta")
    for key in ("tau_feature", "tau_memory"):
        if key in table:
            options[key] = _finite_number(table[key], f"model.{key}")
    return TwoLayerMemory(patterns, energy=table["energy"], field_prefix="model.", **options)


def _read_patterns(table: Mapping, base_dir: Path) -> np.ndarray:
    return _read_matrix(table, "patterns", base_dir, read_inline=_inline_patterns,
                        read_file=_patterns_file,
                        expected="patterns = [[1, -1, ...], ...] or patterns_file = \"P.npy\"")


def _inline_patterns(value: object) -> list[list[float]]:
    return _inline_rows(value, "model.patterns",
                        expected="a non-empty list of patterns, each a list of +1 and -1",
                        example="Write patterns = [[1, -1, 1], [-1, -1, 1]].",
                        row_expected="a pattern: a list of +1 and -1",
                        row_example="Write each pattern in brackets, for example [1, -1, 1].",
                        row_name="pattern", entry_name="entries",
                        same_length_fix="Give every pattern the same length N.")


def _patterns_file(value: object, base_dir: Path) -> np.ndarray:
    field = "model.patterns_file"
    path = _matrix_file_path(value, base_dir, field, (".npy", ".csv"),
                             expected="a file name ending in .npy or .csv",
                             example="Write for example patterns_file = \"patterns.npy\".",
                             suffix_fix="Save the K x N pattern matrix with numpy.save or as CSV.")
    try:
        if path.suffix.lower() == ".npy":
            return _read_npy(path, field)
        return np.loadtxt(path, delimiter=",", comments="#", dtype=float, ndmin=2,
                          encoding=TEXT_ENCODING)
    except ValueError as error:
        raise ModelFileError(field, "a K x N matrix of +1 and -1", str(error),
                             f"Check the file {path}: every row needs N comma-separated "
                             "numbers.") from error
    except OSError as error:
        raise ModelFileError(field, "a readable file", value,
                             f"Check the permissions of {path} ({error.strerror}).") from error


def _read_npy(path: Path, field: str) -> np.ndarray:
    # The header is read first so that no object array is unpickled and no
    # forged shape allocates memory.
    with path.open("rb") as stream:
        try:
            version = np.lib.format.read_magic(stream)
            reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                      else np.lib.format.read_array_header_2_0)
            shape, _, dtype = reader(stream)
        except ValueError as error:
            raise ModelFileError(field, "a NumPy .npy file", str(error),
                                 f"Save the patterns with numpy.save; the file is {path}.") from error
    if dtype.hasobject or dtype.kind not in "fiu":
        raise ModelFileError(field, "a real numeric dtype", f"dtype {dtype}",
                             f"Save an integer or float array; the file is {path}.")
    if math.prod(shape) > MAX_PATTERN_ENTRIES:
        raise ModelFileError(field, f"at most {MAX_PATTERN_ENTRIES} entries",
                             f"shape {shape}", f"Store fewer patterns; the file is {path}.")
    return np.load(path, allow_pickle=False)


# -- analysis ------------------------------------------------------------------------


def analyze(model: TwoLayerMemory, *, methods, simulate: bool = True, trajectories: int = 8,
            t_final: float | None = None, seed: int = 0, progress=None) -> Analysis:
    r"""Run ``pattern_stability`` and ``basin`` and challenge certified balls by simulation.

    Simulation starts ``trajectories`` states on the boundary of each
    certified ball (for at most four patterns) and checks
    :math:`\|x(t) - x^*\|_\eta \le e^{-ct} \|x(0) - x^*\|_\eta` up to the
    integration error, and that every run ends with feature output equal to
    the pattern.
    """
    report = progress or (lambda stage, fraction: None)
    methods = tuple(methods or ("pattern_stability", "basin"))
    report("exact margins", 0.0)
    checks = check_patterns(model)
    certificates = []
    if "pattern_stability" in methods:
        report("pattern_stability", 0.3)
        certificates.append(stability_certificate(model, checks))
    basin = None
    if "basin" in methods:
        report("basin", 0.5)
        basin = basin_certificate(model, checks)
        certificates.append(basin)
    analysis = Analysis(model, certificates, equilibrium=_first_equilibrium(model, checks),
                        claims=("local_stability", "retrieval"))
    if simulate and basin is not None and basin.certified:
        report("simulation", 0.7)
        analysis.simulation = challenge_basins(model, checks, trajectories=trajectories,
                                               t_final=t_final, seed=seed)
    analysis.extra = {"memory": _memory_record(model, checks)}
    analysis.lines = _summary_lines(model, checks)
    report("done", 1.0)
    return analysis


def _first_equilibrium(model: TwoLayerMemory, checks) -> dict | None:
    """Return the state of the first pattern proved an equilibrium, for the summary and JSON."""
    if isinstance(checks, str):
        return None
    stored = next((check for check in checks if check.sign == 1), None)
    if stored is None:
        return None
    state = model.pattern_state(stored.index)
    residual = float(np.max(np.abs(model.vector_field(state))))
    return {"pattern": stored.index, "x": state, "residual": residual, "unique": False}


def _memory_record(model: TwoLayerMemory, checks) -> dict:
    if isinstance(checks, str):
        return {"patterns": None, "reason": checks}
    records = []
    for check in checks:
        record = {"pattern": check.index, "equilibrium": {1: True, -1: False}.get(check.sign),
                  "saturation_margin": check.margin_float}
        if check.basin is not None:
            record["basin_radius"] = check.basin["radius"]
            record["basin_rate"] = check.basin["rate"]
        records.append(record)
    return {"patterns": records, "neurons": model.neurons, "memories": model.memories}


def _summary_lines(model: TwoLayerMemory, checks) -> list[str]:
    if isinstance(checks, str):
        return [checks]
    stored = sum(check.sign == 1 for check in checks)
    lines = [f"{model!r}: {stored} of {len(checks)} patterns are stable equilibria"]
    radii = [check.basin["radius"] for check in checks if check.basin is not None]
    if radii:
        lines.append(f"certified basin radius (weighted l_inf): min {min(radii):.6g}")
    return lines


def challenge_basins(model: TwoLayerMemory, checks, *, trajectories: int, t_final: float | None,
                     seed: int) -> SimulationSummary:
    """Integrate from the boundary of each certified ball and compare with its rate."""
    from ..simulate import integrate

    generator = np.random.default_rng(seed)
    notes: list[str] = []
    consistent = True
    worst_excess = -math.inf
    observed = math.inf
    claimed = math.inf
    last = None
    last_weights = None
    simulated = [check for check in checks if check.basin is not None][:MAX_SIMULATED_PATTERNS]
    for check in simulated:
        basin = check.basin
        center = model.pattern_state(check.index)
        weights = np.concatenate([np.ones(model.neurons), basin["memory_weights"]])
        x0 = _boundary_points(generator, center, weights, basin["radius"], max(trajectories, 1))
        horizon = t_final if t_final is not None else min(max(5.0 / basin["rate"], 1.0), 50.0)
        times = np.linspace(0.0, horizon, 101)
        try:
            result = integrate(model.vector_field, x0, t_final=horizon, rtol=SIMULATION_RTOL,
                               atol=SIMULATION_ATOL, t_eval=times)
        except SolverError as error:
            notes.append(f"pattern {check.index}: simulation stopped: {error}")
            continue
        last = result
        last_weights = weights
        distances = np.max(np.abs(result.states - center) / weights, axis=2)
        # Integration error in the weighted norm: the l_inf local error sums over the smallest weight.
        error = result.local_error_sums[:, :, 2] / weights.min()
        bound = np.exp(-basin["rate"] * result.t)[:, None] * distances[0]
        excess = distances - bound - 10.0 * error - 1e-9 * distances[0]
        worst_excess = max(worst_excess, float(excess.max()))
        claimed = min(claimed, basin["rate"])
        if np.any(excess > 0):
            consistent = False
            step, run = np.unravel_index(int(np.argmax(excess)), excess.shape)
            notes.append(f"pattern {check.index}: trajectory {run} leaves the certified bound at "
                         f"t = {result.t[step]:.4g}")
            logger.error("simulation contradicts the basin of pattern %d", check.index)
        final = np.clip(result.final_states[:, :model.neurons], -1.0, 1.0)
        if not np.all(final == model.patterns[check.index]):
            consistent = False
            notes.append(f"pattern {check.index}: a run from the certified ball ended with a "
                         "feature output other than the pattern")
        late = result.t > 0
        ratios = distances[late] / distances[0]
        with np.errstate(divide="ignore"):
            rates = -np.log(np.maximum(ratios, 1e-300)) / result.t[late][:, None]
        observed = min(observed, float(np.min(rates[-1])))
    if last is None:
        return SimulationSummary(times=np.zeros(1), states=np.zeros((1, 1, model.n)), metric=None,
                                 claimed_rate=None, observed_rate=None, consistent=True,
                                 energy_consistent=None, worst_excess=None, tolerance=None,
                                 rtol=SIMULATION_RTOL, atol=SIMULATION_ATOL, notes=notes)
    return SimulationSummary(times=last.t, states=last.states,
                             metric={"norm": "l_inf", "weights": last_weights.tolist()},
                             claimed_rate=claimed, observed_rate=observed, consistent=consistent,
                             energy_consistent=None, worst_excess=worst_excess,
                             tolerance=1e-9, rtol=SIMULATION_RTOL, atol=SIMULATION_ATOL,
                             notes=notes)


def _boundary_points(generator, center: np.ndarray, weights: np.ndarray, radius: float,
                     count: int) -> np.ndarray:
    """Draw points on the sphere of the weighted l_inf norm: one coordinate at +-radius."""
    directions = generator.uniform(-1.0, 1.0, size=(count, center.size))
    pinned = generator.integers(0, center.size, size=count)
    directions[np.arange(count), pinned] = generator.choice([-1.0, 1.0], size=count)
    return center + radius * weights * directions
