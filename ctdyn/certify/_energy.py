r"""The ``energy`` certificate: the Hopfield energy never increases.

Claim ``energy_decrease``: along every trajectory,

.. math:: \dot E(x) = -\sum_i \phi'(x_i)\, f_i(x)^2 \le 0
          \quad\text{(Hopfield)}, \qquad
          \dot E(x) = -\sum_i \phi'(z_i)\, \big((W f(x))_i\big)^2 \le 0
          \quad\text{(firing-rate, } z = W x + u\text{)},

for the energy of :mod:`ctdyn.symbolic` (Hopfield 1984, PNAS 81:3088, eq. 7;
Cohen and Grossberg 1983, IEEE Trans. SMC 13:815). The inequality is
non-strict, so the margin is 0: the energy is non-increasing, not strictly
decreasing.

``certified`` (checked ``exact``) needs three facts, each exact: :math:`W`
equals :math:`W^T` float by float, the sympy slope bound satisfies
:math:`\inf \phi' \ge 0`, and :func:`ctdyn.symbolic.prove_energy_identity`
proves the gradient identity. ``refuted`` needs a state where
:math:`\dot E > 0`, found by seeded sampling when :math:`\inf \phi' < 0`
and checked in floating point. Everything else is ``inconclusive``.
"""

from __future__ import annotations

import logging

import numpy as np
import sympy as sp

from ..errors import InvalidModelError
from ..models import FiringRateNetwork, HopfieldNetwork
from ..symbolic import energy_function, prove_energy_identity, weight_asymmetry
from ._certificate import CERTIFIED, INCONCLUSIVE, REFUTED, Certificate

__all__ = ["energy_certificate"]

logger = logging.getLogger(__name__)

METHOD = "energy"
CLAIM = "energy_decrease"

# A sampled dE/dt counts as positive only above this fraction of the sum of
# the magnitudes of its terms, far above the rounding error of the sum.
_WITNESS_RELATIVE_MARGIN = 1e-8
_SAMPLE_SCALES = (0.25, 1.0, 3.0)


def energy_certificate(network: HopfieldNetwork | FiringRateNetwork, *, seed: int = 0,
                       samples: int = 64) -> Certificate:
    r"""Certify or refute :math:`\dot E \le 0` for the network's energy.

    Parameters
    ----------
    network : HopfieldNetwork or FiringRateNetwork
    seed : int
        Seed of the sampling that searches for a refutation witness.
    samples : int
        Number of random states per scale in that search.

    Returns
    -------
    Certificate
        ``method="energy"``, ``claim="energy_decrease"``; ``margin=0.0``
        when certified, because the inequality is not strict.
    """
    if not isinstance(network, (HopfieldNetwork, FiringRateNetwork)):
        raise InvalidModelError("network", "a HopfieldNetwork or FiringRateNetwork",
                                type(network).__name__, "Build the model with ctdyn.models.")

    reason = _missing_structure(network)
    if reason:
        return Certificate(METHOD, CLAIM, INCONCLUSIVE, reason=reason,
                           details=_model_details(network))

    energy = energy_function(network)
    lower = network.activation.slope_bounds.lower
    if not bool(lower >= 0):
        return _search_witness(network, energy, seed=seed, samples=samples)

    proof = prove_energy_identity(network)
    evidence = _evidence(energy, proof)
    if not proof.proved:
        failed = next(text for text, shown in zip(proof.steps, proof.shown) if not shown)
        return Certificate(METHOD, CLAIM, INCONCLUSIVE, evidence=evidence,
                           reason=f"sympy did not prove the energy identity: {failed}",
                           details=_model_details(network))
    logger.info("energy certificate: %s, n = %d, certified", network.family, network.n)
    return Certificate(
        METHOD, CLAIM, CERTIFIED, checked="exact", margin=0.0, evidence=evidence,
        reason="symmetric W, increasing activation and the gradient identity give "
               "dE/dt <= 0",
        details={**_model_details(network),
                 "inequality": _inequality_text(network) + " (non-strict, margin 0: "
                 "the energy never increases but may stay constant off equilibria)"})


def _missing_structure(network) -> str:
    """Return why no energy of Hopfield form applies, or an empty string."""
    if not network.is_symmetric:
        size, row, column = weight_asymmetry(network)
        return ("an energy of Hopfield form needs symmetric weights, but "
                f"|w_{row},{column} - w_{column},{row}| = {size:.6g} at "
                f"(i, j) = ({row}, {column}) is the largest asymmetry")
    if isinstance(network, FiringRateNetwork) and not network.has_uniform_leak:
        return ("a firing-rate network has an energy of Hopfield form only with a uniform "
                f"leak, but the leak ranges from {network.leak.min():.6g} to "
                f"{network.leak.max():.6g}: with z = W x + u the term W C x is not "
                "diagonal in z")
    return ""


def _inequality_text(network) -> str:
    if isinstance(network, HopfieldNetwork):
        return "dE/dt = -sum_i phi'(x_i) f_i(x)^2 <= 0"
    return "dE/dt = -sum_i phi'(z_i) ((W f(x))_i)^2 <= 0 with z = W x + u"


def _evidence(energy, proof) -> dict:
    return {
        "energy": energy.plain(),
        "energy_latex": energy.latex(),
        "primitive": sp.sstr(energy.primitive.expression),
        "primitive_method": energy.primitive.method,
        "identity_steps": list(proof.steps),
        "identity_shown": list(proof.shown),
    }


def _model_details(network) -> dict:
    bounds = network.activation.slope_bounds
    return {
        "family": network.family,
        "dimension": network.n,
        "activation": network.activation.name,
        "slope_lower_bound": str(bounds.lower),
        "symmetric_weights": network.is_symmetric,
    }


# -- refutation ------------------------------------------------------------------


def _search_witness(network, energy, *, seed: int, samples: int) -> Certificate:
    r"""Sample states for :math:`\dot E > 0`; refute if one is found."""
    states = _candidate_states(network, seed=seed, samples=samples)
    terms = _time_derivative_terms(network, states)
    totals = terms.sum(axis=1)
    scales = np.abs(terms).sum(axis=1)
    positive = totals > _WITNESS_RELATIVE_MARGIN * scales
    details = {**_model_details(network), "states_sampled": int(len(states)), "seed": seed}
    if not np.any(positive):
        return Certificate(
            METHOD, CLAIM, INCONCLUSIVE, details=details,
            reason=(f"the activation decreases somewhere (inf phi' = "
                    f"{network.activation.slope_bounds.lower}), so dE/dt <= 0 is not "
                    f"guaranteed, but none of {len(states)} sampled states has dE/dt > 0"))
    index = int(np.argmax(np.where(positive, totals / np.maximum(scales, 1e-300), -np.inf)))
    witness = {
        "state": states[index].tolist(),
        "time_derivative": float(totals[index]),
        "energy": float(energy.value(states[index])),
        "relative_margin": float(totals[index] / scales[index]),
    }
    return Certificate(
        METHOD, CLAIM, REFUTED, checked="float", witness=witness, details=details,
        reason=(f"the activation decreases somewhere (inf phi' = "
                f"{network.activation.slope_bounds.lower}), and at the witness state "
                f"dE/dt = {totals[index]:.6g} > 0"))


def _time_derivative_terms(network, states: np.ndarray) -> np.ndarray:
    r"""Return the terms :math:`-\phi'(\cdot)_i\, g_i^2` whose sum is :math:`\dot E`."""
    flow = network.vector_field(states)
    if isinstance(network, FiringRateNetwork):
        flow = np.asarray((network.weights @ flow.T).T)
    return -network.slopes(states) * flow**2


def _candidate_states(network, *, seed: int, samples: int) -> np.ndarray:
    """Return seeded random states plus states whose preactivations sit where phi' < 0."""
    rng = np.random.default_rng(seed)
    n = network.n
    candidates = [scale * rng.standard_normal((samples, n)) for scale in _SAMPLE_SCALES]

    grid = np.linspace(-5.0, 5.0, 201)
    decreasing = grid[network.activation.derivative(grid) < 0]
    if decreasing.size:
        centers = rng.choice(decreasing, size=(samples, n))
        preactivations = centers + 0.01 * rng.standard_normal((samples, n))
        candidates.append(_states_for_preactivations(network, preactivations))
    return np.vstack(candidates)


def _states_for_preactivations(network, preactivations: np.ndarray) -> np.ndarray:
    """Return states x whose preactivation (x, or W x + u) is near the given values."""
    if isinstance(network, HopfieldNetwork):
        return preactivations
    if network.n > 2000:
        # Dense least squares costs O(n^3) here, so large firing-rate networks
        # get these values as plain random states instead.
        return preactivations
    # Least squares for W x = z - u; with singular W the states only come close.
    targets = (preactivations - network.input[None, :]).T
    solution, *_ = np.linalg.lstsq(network.dense_weights(), targets, rcond=None)
    return solution.T
