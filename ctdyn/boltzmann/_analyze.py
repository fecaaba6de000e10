r"""The ``boltzmann`` model-file family: reading ``[model]`` and running ``ctdyn certify``.

Model-file keys (``[model]`` table)::

    family = "boltzmann"
    weights = [[0, 1], [1, 0]]   # or weights_file = "W.npy"; symmetric, zero diagonal
    bias = 0.0                   # a number or n numbers (default 0)
    temperature = 1.0            # T > 0 (default 1)
    states = "pm1"               # or "01" (default "pm1")

A restricted Boltzmann machine gives ``visible`` and ``hidden`` sizes, a
``weights`` matrix of shape (visible, hidden) and optional
``visible_bias`` and ``hidden_bias`` (``states`` defaults to ``"01"``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from collections.abc import Mapping

import numpy as np

from ..analysis import Analysis, _simulate
from ..errors import InvalidModelError, ModelFileError
from ..models._loading import _check_table, _finite_number, _integer, _number_or_list, _read_weights
from ._enumerate import exact_statistics
from ._mean_field import mean_field_certificate, mean_field_network
from ._model import MAX_EXACT_UNITS, BoltzmannMachine, RestrictedBoltzmannMachine
from ._sampling import gibbs_sample, parallel_tempering

__all__ = ["read_model", "analyze"]

logger = logging.getLogger(__name__)

_MACHINE_KEYS = ("family", "weights", "weights_file", "bias", "temperature", "states")
_RBM_KEYS = ("family", "visible", "hidden", "weights", "visible_bias", "hidden_bias",
             "temperature", "states")
CLAIMS = ("contraction",)
# The sampling challenge: sweeps, chains, and the tolerance in standard errors
# plus an absolute floor.
CHALLENGE_SWEEPS = 2000
CHALLENGE_CHAINS = 16
CHALLENGE_STANDARD_ERRORS = 5.0
CHALLENGE_FLOOR = 0.02


def read_model(table: Mapping, base_dir: Path, family: str):
    """Validate a ``[model]`` table of family ``boltzmann`` and return the machine."""
    restricted = "visible" in table or "hidden" in table
    _check_table(table, "model", _RBM_KEYS if restricted else _MACHINE_KEYS)
    temperature = _finite_number(table.get("temperature", 1.0), "model.temperature")
    states = table.get("states", "01" if restricted else "pm1")
    if restricted:
        return _read_restricted(table, temperature, states)
    weights = _read_weights(table, base_dir)
    if hasattr(weights, "toarray"):
        weights = weights.toarray()
    bias = _number_or_list(table["bias"], "model.bias") if "bias" in table else None
    return _with_model_prefix(lambda: BoltzmannMachine(weights, bias=bias,
                                                       temperature=temperature, states=states))


def _read_restricted(table: Mapping, temperature: float, states) -> RestrictedBoltzmannMachine:
    for key in ("visible", "hidden", "weights"):
        if key not in table:
            raise ModelFileError(f"model.{key}", "a value", "nothing",
                                 "A restricted Boltzmann machine needs visible, hidden and "
                                 "weights (visible rows of hidden numbers).")
    visible = _integer(table["visible"], "model.visible", minimum=1)
    hidden = _integer(table["hidden"], "model.hidden", minimum=1)
    rows = table["weights"]
    if not isinstance(rows, list) or len(rows) != visible:
        raise ModelFileError("model.weights", f"{visible} rows (one per visible unit)", rows,
                             "Write weights as visible rows of hidden numbers each.")
    weights = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != hidden:
            raise ModelFileError(f"model.weights[{i}]", f"a row of {hidden} numbers", row,
                                 "Give every row one number per hidden unit.")
        weights.append([_finite_number(entry, f"model.weights[{i}][{j}]")
                        for j, entry in enumerate(row)])
    visible_bias = (_number_or_list(table["visible_bias"], "model.visible_bias")
                    if "visible_bias" in table else None)
    hidden_bias = (_number_or_list(table["hidden_bias"], "model.hidden_bias")
                   if "hidden_bias" in table else None)
    return _with_model_prefix(lambda: RestrictedBoltzmannMachine(
        np.array(weights, dtype=float), visible_bias=visible_bias, hidden_bias=hidden_bias,
        temperature=temperature, states=states))


def _with_model_prefix(build):
    """Build the machine; name fields as ``model.<key>`` in any error."""
    try:
        return build()
    except InvalidModelError as error:
        if error.field.startswith("model."):
            raise
        raise ModelFileError(f"model.{error.field}", error.expected, error.received,
                             error.fix) from error


def _enumerated_units(model) -> int:
    """Units that exact enumeration would run over: all of them, or the smaller RBM layer."""
    if isinstance(model, RestrictedBoltzmannMachine):
        return min(model.n_visible, model.n_hidden)
    return model.n


def analyze(model, *, methods, simulate: bool = True, trajectories: int = 8,
            t_final: float | None = None, seed: int = 0, progress=None) -> Analysis:
    r"""Run the ``exact`` and ``mean_field`` methods on a Boltzmann machine.

    ``exact`` stores :math:`\log Z` and the marginals under ``extra["exact"]``
    (and raises :class:`InvalidModelError` above the enumeration limit);
    ``mean_field`` adds the contraction certificate of the mean-field
    dynamics. With ``simulate`` the certified rate is challenged by
    integrating the mean-field dynamics, and the exact marginals by Gibbs
    sampling.
    """
    report = progress or (lambda stage, fraction: None)
    certificates = []
    extra: dict = {}
    lines: list[str] = []
    equilibrium = None
    exact = None
    if methods is None:
        # By default enumeration runs only where it can. When requested by
        # name, a machine that is too large is an error (exit 2) naming the limit.
        methods = ("exact", "mean_field")
        if _enumerated_units(model) > MAX_EXACT_UNITS:
            methods = ("mean_field",)
            lines.append(f"exact: skipped, more than {MAX_EXACT_UNITS} units to enumerate "
                         "(sample with `ctdyn sample` instead)")

    if "exact" in methods:
        exact = exact_statistics(model, progress=lambda stage, f: report(stage, 0.4 * f))
        extra["exact"] = exact.to_dict()
        lines.append(f"exact: log Z = {exact.log_partition:.10g} over {exact.states_visited} "
                     "enumerated states")

    network = None
    if "mean_field" in methods:
        report("mean-field certificate", 0.4)
        certificate = mean_field_certificate(model, seed=seed)
        certificates.append(certificate)
        network = mean_field_network(model)
        equilibrium = _mean_field_fixed_point(network, certificate, exact)

    analysis = Analysis(model, certificates, equilibrium, None, None, claims=CLAIMS,
                        extra=extra, lines=lines)
    if simulate and network is not None and certificates[0].certified:
        report("mean-field simulation", 0.6)
        core = Analysis(network, certificates)
        analysis.simulation = _simulate(core, trajectories=trajectories, t_final=t_final,
                                        seed=seed)
    if simulate and exact is not None:
        report("gibbs sampling", 0.8)
        extra["sampling"] = _sampling_challenge(
            model, exact, seed=seed, progress=lambda stage, f: report(stage, 0.8 + 0.2 * f))
        lines.append(_describe_sampling(extra["sampling"]))
    report("done", 1.0)
    return analysis


def _mean_field_fixed_point(network, certificate, exact) -> dict | None:
    if not certificate.certified:
        return None
    from ..certify._equilibrium import find_equilibrium

    point = find_equilibrium(network)
    record = {"x": point.x.tolist(), "residual": point.residual, "unique": True,
              "meaning": "mean-field magnetizations m = phi((W m + b) / T)"}
    if exact is not None:
        record["max_abs_difference_to_exact_marginals"] = float(
            np.max(np.abs(point.x - exact.marginals)))
    return record


def _sampling_challenge(model, exact, *, seed: int, progress) -> dict:
    """Compare sampled marginals with the exact ones: Gibbs first, parallel tempering if it fails.

    A disagreement points to a bug in the sampler or the enumeration, or to
    chains that have not mixed (strong couplings at low T). It is reported,
    not turned into a verdict, because no certificate depends on it.
    """
    record = _compare_samples("gibbs", gibbs_sample(
        model, sweeps=CHALLENGE_SWEEPS, chains=CHALLENGE_CHAINS, burn_in=200, seed=seed,
        progress=progress), exact)
    if not record["consistent"]:
        logger.info("Gibbs marginals disagree with the exact ones; trying parallel tempering")
        record = _compare_samples("parallel_tempering", parallel_tempering(
            model, sweeps=CHALLENGE_SWEEPS, chains=CHALLENGE_CHAINS, burn_in=200, seed=seed,
            progress=progress), exact)
    if not record["consistent"]:
        logger.warning("%s marginals differ from the exact ones beyond the tolerance %s",
                       record["method"], record["tolerance"])
    record["seed"] = seed
    return record


def _compare_samples(method: str, result, exact) -> dict:
    error = np.abs(result.marginals - exact.marginals)
    allowed = CHALLENGE_STANDARD_ERRORS * result.standard_error + CHALLENGE_FLOOR
    return {"method": method, "sweeps": CHALLENGE_SWEEPS, "chains": CHALLENGE_CHAINS,
            "marginals": result.marginals.tolist(), "max_abs_error": float(np.max(error)),
            "tolerance": f"{CHALLENGE_STANDARD_ERRORS:g} standard errors + {CHALLENGE_FLOOR:g}",
            "consistent": bool(np.all(error <= allowed))}


def _describe_sampling(record: dict) -> str:
    verdict = "agree with" if record["consistent"] else "DISAGREE with"
    return (f"{record['method']}: sampled marginals {verdict} the exact ones (max error "
            f"{record['max_abs_error']:.3g}, tolerance {record['tolerance']})")
