r"""The ``kuramoto`` and ``oscillator_ising`` model-file families: reading and analysis.

``[model]`` keys
----------------
oscillator_ising
    ``graph_file`` (rudy/Gset, ``.mtx`` or ``.npy``, relative to the model
    file) or ``adjacency`` (a symmetric matrix), ``coupling`` (K, default 1),
    ``injection`` (K_s, required), ``spins`` (the binary state to certify,
    +1/-1 per node; by default a maximum cut by brute force for up to 20
    nodes, else the best cut of a 2-second solver run).
kuramoto
    ``graph_file`` or ``adjacency`` (default: all-to-all with a_ij = 1/n),
    ``coupling`` (K, required), ``frequencies``: a list of numbers, or a
    table ``{distribution = "lorentzian" | "gaussian" | "uniform", scale,
    center, n, seed}`` from which n frequencies are drawn.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import scipy.optimize
from threadpoolctl import threadpool_limits

from .._families import PLUGIN_FAMILIES
from ..analysis import Analysis, SimulationSummary
from ..errors import ModelFileError
from ..models._loading import _check_table, _finite_number, _integer
from ._graph import Graph, cut_value, cut_values, from_matrix, read_graph
from ._kuramoto import (
    DISTRIBUTIONS,
    FrequencyDistribution,
    _integrate_rk4,
    locked_phases,
    locked_state_certificate,
    simulate_kuramoto,
    synchronization_certificate,
)
from ._maxcut import solve_maxcut
from ._models import KuramotoNetwork, OscillatorIsingMachine, wrap
from ._stability import LADDER_SIZE_LIMIT, certify_binary_state, stability_ladder

__all__ = ["read_model", "analyze"]

logger = logging.getLogger(__name__)

_KEYS = {
    "oscillator_ising": ("family", "graph_file", "adjacency", "coupling", "injection", "spins"),
    "kuramoto": ("family", "graph_file", "adjacency", "coupling", "frequencies"),
}
_BRUTE_FORCE_LIMIT = 20
_PERTURBATION = 1e-3
# RK4 applied to a linear gradient flow has an amplification factor in (0, 1)
# for every eigenvalue -lambda with lambda dt <= 1 (it is 0.375 at lambda dt = 1),
# so dt = 1 / (Jacobian norm bound) keeps the simulated energy decreasing.
_RK4_STEP_FACTOR = 1.0
_MAX_RK4_STEPS = 20000
_MIN_RK4_STEPS = 2000
# Second-order terms of a perturbation of size 1e-3 per oscillator, with margin.
# NOTE: an estimate, not a proved bound; a locked state with a very small
# stability margin could exceed it without any certificate being wrong.
_SECOND_ORDER_TOLERANCE = 1e-5


def read_model(table: Mapping, base_dir: Path, family: str):
    """Validate a ``[model]`` table of the two oscillator families and return the model."""
    required = ("family", "injection") if family == "oscillator_ising" else ("family", "coupling")
    _check_table(table, "model", _KEYS[family], required=required)
    graph = _read_graph_entry(table, base_dir, required=family == "oscillator_ising")
    coupling = _positive_entry(table, "coupling", default=1.0)
    if family == "oscillator_ising":
        injection = _finite_number(table["injection"], "model.injection")
        if injection < 0:
            raise ModelFileError("model.injection", "a nonnegative number", table["injection"],
                                 "Give K_s >= 0, for example 0.5.")
        spins = _read_spins(table, graph)
        return OscillatorIsingMachine(graph, coupling=coupling, injection=injection, spins=spins)
    frequencies, distribution = _read_frequencies(table, graph)
    return KuramotoNetwork(frequencies, coupling=coupling, graph=graph, distribution=distribution)


def _read_graph_entry(table: Mapping, base_dir: Path, *, required: bool) -> Graph | None:
    if "graph_file" in table and "adjacency" in table:
        raise ModelFileError("model.graph_file", "either graph_file or adjacency, not both",
                             "both", "Delete one of the two keys.")
    if "graph_file" in table:
        value = table["graph_file"]
        if not isinstance(value, str) or not value.strip():
            raise ModelFileError("model.graph_file", "a file name", value,
                                 "Write for example graph_file = \"G1.txt\".")
        return read_graph(base_dir / value, field="model.graph_file")
    if "adjacency" in table:
        value = table["adjacency"]
        if value == "all_to_all":
            if required:
                raise ModelFileError("model.adjacency", "a list of rows of numbers", value,
                                     "\"all_to_all\" is for the kuramoto family only; give an "
                                     "oscillator Ising machine adjacency = [[0, 1], [1, 0]] or "
                                     "graph_file = \"...\".")
            return None
        if not isinstance(value, (list, tuple)) or not value:
            raise ModelFileError("model.adjacency", "a list of rows of numbers or \"all_to_all\"",
                                 value, "Write adjacency = [[0, 1], [1, 0]].")
        rows = []
        for i, row in enumerate(value):
            if not isinstance(row, (list, tuple)) or len(row) != len(value):
                raise ModelFileError(f"model.adjacency[{i}]", f"a row of {len(value)} numbers",
                                     row, "Give n rows of n numbers.")
            rows.append([_finite_number(entry, f"model.adjacency[{i}][{j}]")
                         for j, entry in enumerate(row)])
        return from_matrix(np.array(rows), field="model.adjacency")
    if required:
        raise ModelFileError("model.graph_file", "graph_file = \"...\" or adjacency = [[...]]",
                             "neither", "Add one of the two keys to the [model] table.")
    return None


def _positive_entry(table: Mapping, key: str, *, default: float | None) -> float:
    if key not in table:
        return default
    value = _finite_number(table[key], f"model.{key}")
    if value <= 0:
        raise ModelFileError(f"model.{key}", "a positive number", table[key],
                             "Use for example 1.0.")
    return value


def _read_spins(table: Mapping, graph: Graph) -> np.ndarray | None:
    if "spins" not in table:
        return None
    value = table["spins"]
    if not isinstance(value, (list, tuple)) or len(value) != graph.n:
        raise ModelFileError("model.spins", f"a list of {graph.n} entries +1 or -1", value,
                             "Give one spin per node, in file order.")
    for index, entry in enumerate(value):
        if isinstance(entry, bool) or entry not in (1, -1):
            raise ModelFileError(f"model.spins[{index}]", "+1 or -1", entry,
                                 "Spins are +1 or -1.")
    return np.array(value, dtype=int)


def _read_frequencies(table: Mapping, graph: Graph | None):
    if "frequencies" not in table:
        raise ModelFileError("model.frequencies", "a list of numbers or a distribution table",
                             "nothing", "Add frequencies = [..] or frequencies = "
                             "{distribution = \"gaussian\", scale = 1.0, n = 100}.")
    value = table["frequencies"]
    if isinstance(value, Mapping):
        _check_table(value, "model.frequencies", ("distribution", "scale", "center", "n", "seed"),
                     required=("distribution",))
        kind = value["distribution"]
        if kind not in DISTRIBUTIONS or kind == "given":
            raise ModelFileError("model.frequencies.distribution",
                                 "one of lorentzian, gaussian, uniform", kind,
                                 "A list of frequencies is written as frequencies = [...].")
        scale = _finite_number(value.get("scale", 1.0), "model.frequencies.scale")
        if scale <= 0:
            raise ModelFileError("model.frequencies.scale", "a positive width", scale,
                                 "Use for example 1.0.")
        center = _finite_number(value.get("center", 0.0), "model.frequencies.center")
        default_n = graph.n if graph is not None else None
        if "n" not in value and default_n is None:
            raise ModelFileError("model.frequencies.n", "the number of oscillators", "nothing",
                                 "Add n = 100 to the frequencies table.")
        n = _integer(value.get("n", default_n), "model.frequencies.n", minimum=2,
                     maximum=10**7)
        if graph is not None and n != graph.n:
            raise ModelFileError("model.frequencies.n", f"{graph.n}, the graph's node count", n,
                                 "Remove n or make it match the graph.")
        seed = _integer(value.get("seed", 0), "model.frequencies.seed", minimum=0)
        distribution = FrequencyDistribution(kind, scale, center)
        return distribution.sample(n, seed=seed), distribution
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        raise ModelFileError("model.frequencies", "a list of at least 2 numbers", value,
                             "Give one natural frequency per oscillator.")
    frequencies = [_finite_number(entry, f"model.frequencies[{index}]")
                   for index, entry in enumerate(value)]
    if graph is not None and len(frequencies) != graph.n:
        raise ModelFileError("model.frequencies", f"{graph.n} numbers, one per node",
                             f"{len(frequencies)} numbers", "Give one frequency per node.")
    return np.array(frequencies), FrequencyDistribution("given", values=tuple(frequencies))


# -- analysis -----------------------------------------------------------------------------


def analyze(model, *, methods, simulate, trajectories, t_final, seed, progress) -> Analysis:
    """Run the family's certificates and challenge the certified ones by simulation."""
    report = progress or (lambda stage, fraction: None)
    if methods is None:
        methods = PLUGIN_FAMILIES[model.family].methods
    with threadpool_limits(limits=1, user_api="blas"):
        if model.family == "oscillator_ising":
            return _analyze_ising(model, methods, simulate, trajectories, t_final, seed, report)
        return _analyze_kuramoto(model, methods, simulate, trajectories, t_final, seed, report)


def default_spins(model: OscillatorIsingMachine, *, seed: int = 0) -> tuple[np.ndarray, str]:
    """Return a maximum cut by brute force for small graphs, else a solver's best cut."""
    graph = model.graph
    if graph.n <= _BRUTE_FORCE_LIMIT:
        return brute_force_max_cut(graph)[1], "maximum cut by brute force"
    result = solve_maxcut(graph, time_limit=2.0, seed=seed, polish=True)
    return result.spins, "best cut of a 2-second oscillator Ising machine run"


def brute_force_max_cut(graph: Graph) -> tuple[float, np.ndarray]:
    """Return the maximum cut and one optimal spin vector (node 0 fixed to +1)."""
    best, best_spins = -math.inf, None
    chunk = 1 << min(graph.n - 1, 16)
    for start in range(0, 1 << (graph.n - 1), chunk):
        codes = np.arange(start, min(start + chunk, 1 << (graph.n - 1)), dtype=np.int64)
        bits = (codes[:, None] >> np.arange(graph.n - 1)) & 1
        spins = np.concatenate([np.ones((codes.size, 1)), 1.0 - 2.0 * bits], axis=1)
        cuts = cut_values(graph, spins)
        index = int(np.argmax(cuts))
        if cuts[index] > best:
            best, best_spins = float(cuts[index]), spins[index].astype(int)
    return best, best_spins


def _analyze_ising(model, methods, simulate, trajectories, t_final, seed, report) -> Analysis:
    lines = []
    spins = model.spins
    if spins is None:
        spins, origin = default_spins(model, seed=seed)
        lines.append(f"state:       {origin}, cut {cut_value(model.graph, spins):g}")
    report("binary_stability", 0.0)
    certificate = certify_binary_state(model.graph, spins, coupling=model.coupling,
                                       injection=model.injection)
    threshold = certificate.details["threshold"]
    stability = {"threshold": threshold["value"], "threshold_bounds": [threshold["lower"],
                                                                      threshold["upper"]],
                 "gains": {"coupling": model.coupling, "injection": model.injection},
                 "status": certificate.status, "cut": cut_value(model.graph, spins),
                 "spins": spins.tolist()}
    if "minimal_polynomial" in threshold:
        stability["threshold_minimal_polynomial"] = threshold["minimal_polynomial"]
    extra = {"stability": stability}
    lines.append(f"threshold:   K_s > {threshold['value']:.10g} makes this cut stable "
                 f"(K = {model.coupling:g}); given K_s = {model.injection:g}")
    if model.n <= LADDER_SIZE_LIMIT:
        ladder = stability_ladder(model.graph, coupling=model.coupling)
        extra["ladder"] = ladder
        lines.append(f"design:      every maximum cut ({ladder['max_cut']:g}) is stable for "
                     f"K_s > {ladder['optimal_stable_above']:.10g}; suboptimal cuts become "
                     f"stable from K_s > {_text(ladder['suboptimal_stable_above'])}")
    simulation = None
    if simulate:
        report("simulation", 0.5)
        simulation = _challenge(model, spins, certificate, trajectories, t_final, seed)
    report("done", 1.0)
    return Analysis(network=model, certificates=[certificate], simulation=simulation,
                    witness=certificate.witness, claims=("local_stability",), extra=extra,
                    equilibrium={"x": np.where(spins > 0, 0.0, math.pi), "kind": "binary_state",
                                 "spins": spins.tolist(),
                                 "cut": stability["cut"]},
                    lines=lines)


def _text(value) -> str:
    return "-" if value is None else f"{value:.10g}"


def _challenge(model, spins, certificate, trajectories, t_final, seed) -> SimulationSummary:
    """Start near the binary state; a certified state must attract, energy must not rise."""
    rng = np.random.default_rng(seed)
    center = np.where(spins > 0, 0.0, math.pi)
    offsets = _PERTURBATION * rng.standard_normal((model.n, trajectories))
    offsets /= np.max(np.abs(offsets), axis=0, keepdims=True)
    offsets *= _PERTURBATION

    dt = _RK4_STEP_FACTOR / _jacobian_norm_bound(model)
    notes = []
    horizon = t_final
    if not horizon:
        horizon = 20.0 / max(model.injection, 1e-3)
        if horizon > _MAX_RK4_STEPS * dt:
            notes.append(f"horizon shortened from t = {horizon:.3g} to {_MAX_RK4_STEPS * dt:.3g} "
                         f"to fit {_MAX_RK4_STEPS} RK4 steps of dt = {dt:.3g}")
            horizon = _MAX_RK4_STEPS * dt
    steps = math.ceil(horizon / dt)
    if steps > _MAX_RK4_STEPS:
        note = (f"simulation skipped: t_final = {horizon:.3g} needs {steps} RK4 steps of at most "
                f"dt = {dt:.3g} (the stability bound of the Jacobian), above the limit of "
                f"{_MAX_RK4_STEPS}. Set [simulate] t_final <= {_MAX_RK4_STEPS * dt:.3g}")
        logger.warning(note)
        return SimulationSummary(times=np.zeros(1), states=center[None, None, :], metric=None,
                                 claimed_rate=None, observed_rate=None, consistent=True,
                                 energy_consistent=None, worst_excess=None, tolerance=None,
                                 rtol=0.0, atol=0.0, notes=[note])
    times, states = _integrate_rk4(model.vector_field, center[:, None] + offsets, horizon,
                                   max(steps, _MIN_RK4_STEPS), samples=100)

    # The Jacobian at a binary state is symmetric, so near a stable state the
    # Euclidean distance cannot grow. The maximum norm can, by up to sqrt(n).
    distances = np.linalg.norm(wrap(states - center[None, :, None]), axis=1)
    energies = np.array([model.energy(state) for state in states])
    energy_tolerance = 1e-9 * (1 + np.max(np.abs(energies)))
    energy_consistent = bool(np.all(np.diff(energies, axis=0) <= energy_tolerance))
    consistent = True
    if certificate.certified:
        consistent = bool(np.all(distances[-1] <= distances[0]))
        notes.append(f"Euclidean distance to the certified state: "
                     f"{float(distances[0].max()):.3g} at t = 0, "
                     f"{float(distances[-1].max()):.3g} at t = {horizon:.3g}")
    return SimulationSummary(times=times, states=np.transpose(states, (0, 2, 1)), metric=None,
                             claimed_rate=None, observed_rate=None, consistent=consistent,
                             energy_consistent=energy_consistent, worst_excess=None,
                             tolerance=None, rtol=0.0, atol=0.0,
                             energies=energies, notes=notes)


def _jacobian_norm_bound(model: OscillatorIsingMachine) -> float:
    r"""Return a bound on the spectral radius of the Jacobian at every phase vector.

    Row i of the Jacobian has a diagonal entry of size at most
    :math:`K \sum_j |a_{ij}| + 2K_s` and off-diagonal entries summing to at
    most :math:`K \sum_j |a_{ij}|`, so Gershgorin discs give
    :math:`2K \max_i \sum_j |a_{ij}| + 2K_s`.
    """
    degrees = np.asarray(abs(model.graph.adjacency()).sum(axis=1)).ravel()
    bound = 2 * model.coupling * float(degrees.max(initial=0.0)) + 2 * model.injection
    return max(bound, 1e-12)


def _analyze_kuramoto(model, methods, simulate, trajectories, t_final, seed, report) -> Analysis:
    certificates = []
    if "synchronization" in methods:
        report("synchronization", 0.0)
        certificates.append(synchronization_certificate(model))
    if "phase_locked_stability" in methods:
        report("phase_locked_stability", 0.3)
        certificates.append(locked_state_certificate(model))
    extra: dict = {"kuramoto": {}}
    lines = []
    details = next((c.details for c in certificates if c.method == "synchronization"), {})
    if "critical_coupling" in details:
        extra["kuramoto"]["critical_coupling"] = details["critical_coupling"]
        extra["kuramoto"]["stationary_order_parameter"] = details["stationary_order_parameter"]
        lines.append(f"theory:      K_c = {details['critical_coupling']:.7g} for the "
                     f"{model.distribution.kind} distribution (n -> infinity); r(K) = "
                     f"{details['stationary_order_parameter']:.7g} at K = {model.coupling:g}")
    equilibrium = _locked_equilibrium(certificates)
    if equilibrium is not None:
        lines.append(f"locked:      a phase-locked state is enclosed in a box of width "
                     f"{equilibrium['enclosure_width']:.3g}")
    simulation = None
    witness = next((c.witness for c in certificates if c.witness), None)
    if simulate:
        report("simulation", 0.6)
        simulation, observed = _kuramoto_challenge(model, certificates, trajectories, t_final,
                                                   seed)
        extra["kuramoto"]["order_parameter_final"] = observed
        lines.append(f"simulation:  order parameter r at the final time: {observed:.6g}")
    report("done", 1.0)
    return Analysis(network=model, certificates=certificates, simulation=simulation,
                    witness=witness, claims=("synchronization", "local_stability"),
                    extra=extra, lines=lines, equilibrium=equilibrium)


def _locked_equilibrium(certificates) -> dict | None:
    """Return the JSON "equilibrium" of an enclosed locked state on a graph, else None."""
    for certificate in certificates:
        if certificate.certified and "phases" in certificate.evidence:
            radii = np.array(certificate.evidence["radii"])
            return {"x": np.array(certificate.evidence["phases"]), "kind": "phase_locked",
                    "frame": "rotating at the mean frequency",
                    "enclosure_radii": radii.tolist(),
                    "enclosure_width": 2.0 * float(np.max(radii))}
    return None


def _kuramoto_challenge(model, certificates, trajectories, t_final, seed):
    horizon = t_final or 50.0
    center = _certified_locked_phases(model, certificates)
    stable = center is not None
    rng = np.random.default_rng(seed)
    perturbation = _PERTURBATION
    if stable:
        # Near the locking threshold the basin is thin: a saddle sits about
        # the stability margin away (two nodes: the smallest edge cosine), so
        # the start stays well inside it.
        margin = _stability_margin(certificates)
        if margin is not None:
            perturbation = min(_PERTURBATION, 0.1 * margin / math.sqrt(model.n))
        initial = center[:, None] + perturbation * rng.standard_normal((model.n, trajectories))
    else:
        initial = rng.uniform(-math.pi, math.pi, (model.n, trajectories))
    notes = []
    dt = _kuramoto_step(model, horizon)
    if horizon > _MAX_RK4_STEPS * dt:
        notes.append(f"horizon shortened from t = {horizon:.3g} to {_MAX_RK4_STEPS * dt:.3g} "
                     f"to fit {_MAX_RK4_STEPS} RK4 steps of dt = {dt:.3g}")
        horizon = _MAX_RK4_STEPS * dt
    trajectory = simulate_kuramoto(model, t_final=horizon, dt=dt, initial=initial, samples=100)
    phases = trajectory.phases
    energies = trajectory.energies
    energy_tolerance = 1e-8 * (1 + np.max(np.abs(energies)))
    energy_consistent = bool(np.all(np.diff(energies, axis=0) <= energy_tolerance))
    consistent = True
    if stable:
        # Subtracting the mean offset removes the common rotation (the phases
        # are not wrapped during integration, so the offsets are small before
        # wrapping). The Jacobian at the locked state is symmetric with the
        # rotation as its null space, so the Euclidean norm of what remains
        # cannot grow, up to second-order terms in the perturbation.
        offsets = phases - center[None, :, None]
        offsets = wrap(offsets - np.mean(offsets, axis=1, keepdims=True))
        offset = np.linalg.norm(offsets, axis=1)
        allowance = _SECOND_ORDER_TOLERANCE * (perturbation / _PERTURBATION) ** 2
        consistent = bool(np.all(offset[-1] <= offset[0] + allowance))
        notes.append(f"Euclidean offset from the locked state (up to rotation): "
                     f"{float(offset[0].max()):.3g} at t = 0, {float(offset[-1].max()):.3g} at "
                     f"t = {horizon:.3g}")
    observed = float(np.mean(trajectory.order[-1]))
    summary = SimulationSummary(times=trajectory.times, states=np.transpose(phases, (0, 2, 1)),
                                metric=None, claimed_rate=None, observed_rate=None,
                                consistent=consistent, energy_consistent=energy_consistent,
                                worst_excess=None, tolerance=None, rtol=0.0, atol=0.0,
                                energies=energies, notes=notes)
    return summary, observed


def _stability_margin(certificates) -> float | None:
    """Return the positive margin of the certified local-stability certificate, if any."""
    certificate = next((c for c in certificates
                        if c.claim == "local_stability" and c.certified), None)
    if certificate is None or certificate.margin is None or not certificate.margin > 0:
        return None
    return float(certificate.margin)


def _certified_locked_phases(model, certificates) -> np.ndarray | None:
    """Return the locked phases of a certified stability certificate, else None."""
    certificate = next((c for c in certificates
                        if c.claim == "local_stability" and c.certified), None)
    if certificate is None:
        return None
    if "phases" in certificate.evidence:
        return np.array(certificate.evidence["phases"])
    return locked_phases(model, _locked_root(model, certificate.evidence["u0"]))


def _kuramoto_step(model: KuramotoNetwork, horizon: float) -> float:
    r"""Return an RK4 step of at most 0.02 that keeps :math:`\lambda\,dt \le 1`.

    Every Jacobian eigenvalue is at most :math:`2K\max_i\sum_j a_{ij}` in
    modulus (Gershgorin discs), and RK4 damps every decaying mode with
    :math:`\lambda\,dt \le 1`.
    """
    step = min(0.02, horizon / 100)
    if not model.all_to_all:
        bound = 2 * model.coupling * float(np.max(model.degrees(), initial=0.0))
        if bound > 0:
            step = min(step, 1.0 / bound)
    return step


def _locked_root(model: KuramotoNetwork, u0: float) -> float:
    r"""Return the root :math:`u^*` of :math:`F(u) = K \operatorname{mean}_i \sqrt{1 - (\nu_i/u)^2} - u`.

    The certificate proves :math:`F(u_0) \ge 0`, and :math:`F(K) < 0` unless all
    frequencies are equal, so the stable locked state sits at a root in
    :math:`[u_0, K]`; the phases :math:`\arcsin(\nu_i/u_0)` of the bound are
    not an equilibrium.
    """
    nu = model.frequencies - np.mean(model.frequencies)
    coupling = model.coupling

    def excess(u: float) -> float:
        return coupling * float(np.mean(np.sqrt(np.maximum(1 - (nu / u) ** 2, 0.0)))) - u

    if u0 >= coupling or excess(u0) <= 0:
        return float(u0)
    if excess(coupling) >= 0:
        return float(coupling)
    return float(scipy.optimize.brentq(excess, u0, coupling, xtol=1e-15, rtol=1e-15))
