r"""Gibbs sampling and parallel tempering.

Sequential Gibbs sampling updates one unit at a time from its conditional

.. math:: p(s_i = 1 \mid s_{-i}) = \sigma(h_i / T) \ (\{0,1\}), \qquad
          p(s_i = 1 \mid s_{-i}) = \sigma(2 h_i / T) \ (\{-1,1\}),

with the local field :math:`h_i = (W s)_i + b_i` and :math:`\sigma` the
logistic function; all chains are updated at once as rows of a matrix. A
restricted Boltzmann machine is sampled by blocks: every hidden unit given
the visible layer, then every visible unit given the hidden layer.

Parallel tempering runs one chain per temperature of a ladder
:math:`T_0 = T < T_1 < \dots` and, after each sweep, proposes to exchange
neighbouring states, accepting with probability
:math:`\min(1, \exp((1/T_k - 1/T_{k+1})(E_k - E_{k+1})))`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from ..errors import InvalidModelError
from ._model import BoltzmannMachine, RestrictedBoltzmannMachine

__all__ = ["SampleResult", "gibbs_sample", "parallel_tempering"]

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
# Progress and log messages every this many sweeps.
_REPORT_EVERY = 100


@dataclass
class SampleResult:
    r"""Sample averages of a Markov chain Monte Carlo run.

    Attributes
    ----------
    marginals : ndarray, shape (n,)
        Estimated :math:`\langle s_i \rangle` (visible first for an RBM).
    chain_means : ndarray, shape (chains, n)
        Per-chain averages; independent chains give the standard error
        ``chain_means.std(axis=0, ddof=1) / sqrt(chains)``.
    last_states : ndarray, shape (chains, n)
    sweeps : int
        Sweeps kept after the burn-in.
    acceptance : ndarray or None
        Swap acceptance rate between neighbouring temperatures (parallel
        tempering only).
    """

    marginals: np.ndarray
    chain_means: np.ndarray
    last_states: np.ndarray
    sweeps: int
    acceptance: np.ndarray | None = None

    @property
    def standard_error(self) -> np.ndarray:
        chains = self.chain_means.shape[0]
        if chains < 2:
            return np.full(self.marginals.shape, np.inf)
        return self.chain_means.std(axis=0, ddof=1) / np.sqrt(chains)


def _positive_integer(value, field: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidModelError(field, f"an integer of at least {minimum}", value,
                                "Give a whole number such as 1000.")
    return int(value)


def _random_states(rng, chains: int, n: int, states: str) -> np.ndarray:
    bits = rng.integers(0, 2, size=(chains, n)).astype(float)
    return 2.0 * bits - 1.0 if states == "pm1" else bits


def _draw(rng, field_over_t: np.ndarray, states: str) -> np.ndarray:
    """Draw units given their local fields divided by T (any shape)."""
    if states == "01":
        return (rng.random(field_over_t.shape) < expit(field_over_t)).astype(float)
    return np.where(rng.random(field_over_t.shape) < expit(2.0 * field_over_t), 1.0, -1.0)


def _sequential_sweep(model: BoltzmannMachine, s: np.ndarray, rng,
                      temperatures: np.ndarray) -> None:
    """Update every unit once, in order, in place; ``temperatures`` has one entry per row."""
    weights, bias = model.weights, model.bias
    for i in range(model.n):
        field = s @ weights[i] + bias[i]
        s[:, i] = _draw(rng, field / temperatures, model.states)


def _block_sweep(model: RestrictedBoltzmannMachine, v: np.ndarray, rng,
                 temperatures: np.ndarray) -> np.ndarray:
    """Draw the hidden layer given v, then v given h in place; return h."""
    scale = temperatures[:, None]
    h = _draw(rng, (v @ model.weights + model.hidden_bias) / scale, model.states)
    v[:] = _draw(rng, (h @ model.weights.T + model.visible_bias) / scale, model.states)
    return h


def gibbs_sample(model, *, sweeps: int = 1000, chains: int = 16, burn_in: int = 100,
                 seed: int = 0, progress: Progress | None = None) -> SampleResult:
    r"""Estimate the marginals by Gibbs sampling.

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
        Sequential sweeps for the first, block sweeps for the second.
    sweeps : int
        Sweeps averaged after the burn-in; one sweep updates every unit once.
    chains : int
        Independent chains, started from uniform random states.
    burn_in : int
        Sweeps discarded first.
    seed : int
        Seed of ``numpy.random.default_rng``.
    progress : callable(stage, fraction), optional
    """
    sweeps = _positive_integer(sweeps, "sweeps")
    chains = _positive_integer(chains, "chains")
    burn_in = _positive_integer(burn_in, "burn_in", minimum=0)
    rng = np.random.default_rng(seed)
    temperatures = np.full(chains, model.temperature)
    restricted = isinstance(model, RestrictedBoltzmannMachine)
    if restricted:
        state = _random_states(rng, chains, model.n_visible, model.states)
    else:
        state = _random_states(rng, chains, model.n, model.states)
    totals = np.zeros((chains, model.n))
    for sweep in range(burn_in + sweeps):
        if restricted:
            hidden = _block_sweep(model, state, rng, temperatures)
            current = np.hstack([state, hidden])
        else:
            _sequential_sweep(model, state, rng, temperatures)
            current = state
        if sweep >= burn_in:
            totals += current
        if sweep % _REPORT_EVERY == 0:
            if progress is not None:
                progress("gibbs sampling", sweep / (burn_in + sweeps))
            logger.debug("gibbs sweep %d of %d", sweep, burn_in + sweeps)
    chain_means = totals / sweeps
    final = np.hstack([state, hidden]) if restricted else state.copy()
    return SampleResult(chain_means.mean(axis=0), chain_means, final, sweeps)


def parallel_tempering(model: BoltzmannMachine, *, temperatures=None, sweeps: int = 1000,
                       chains: int = 8, burn_in: int = 100, seed: int = 0,
                       progress: Progress | None = None) -> SampleResult:
    r"""Estimate the marginals at the model's temperature by parallel tempering.

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
        An RBM is sampled as the equivalent machine over (v, h)
        (``rbm.as_boltzmann_machine()``), with sequential sweeps.
    temperatures : array_like, optional
        Increasing ladder starting at ``model.temperature``; by default 8
        temperatures spaced geometrically up to ``10 * T``.
    sweeps, burn_in, seed, progress
        As for :func:`gibbs_sample`.
    chains : int
        Independent replica ladders; the statistics use the chain at
        ``temperatures[0]`` of each ladder.
    """
    if isinstance(model, RestrictedBoltzmannMachine):
        model = model.as_boltzmann_machine()
    sweeps = _positive_integer(sweeps, "sweeps")
    chains = _positive_integer(chains, "chains")
    burn_in = _positive_integer(burn_in, "burn_in", minimum=0)
    ladder = _ladder(model.temperature, temperatures)
    levels = len(ladder)
    rng = np.random.default_rng(seed)
    # Rows are (ladder, level) pairs: row = chain * levels + level.
    state = _random_states(rng, chains * levels, model.n, model.states)
    row_temperatures = np.tile(ladder, chains)
    accepted = np.zeros(levels - 1)
    proposed = 0
    totals = np.zeros((chains, model.n))
    for sweep in range(burn_in + sweeps):
        _sequential_sweep(model, state, rng, row_temperatures)
        _swap(model, state, ladder, chains, rng, accepted)
        proposed += chains
        if sweep >= burn_in:
            totals += state[::levels]
        if sweep % _REPORT_EVERY == 0 and progress is not None:
            progress("parallel tempering", sweep / (burn_in + sweeps))
    chain_means = totals / sweeps
    acceptance = accepted / proposed if levels > 1 else np.zeros(0)
    logger.info("parallel tempering: swap acceptance %s", np.round(acceptance, 3).tolist())
    return SampleResult(chain_means.mean(axis=0), chain_means, state[::levels].copy(), sweeps,
                        acceptance)


def _ladder(temperature: float, temperatures) -> np.ndarray:
    if temperatures is None:
        return temperature * np.geomspace(1.0, 10.0, 8)
    ladder = np.asarray(temperatures, dtype=float)
    if (ladder.ndim != 1 or ladder.size == 0 or not np.all(np.isfinite(ladder))
            or ladder[0] != temperature or np.any(np.diff(ladder) <= 0)):
        raise InvalidModelError("temperatures", f"an increasing list of finite numbers starting "
                                f"at the model temperature {temperature}", temperatures,
                                "Start the ladder at T and increase it, e.g. [T, 1.5 T, 2 T].")
    return ladder


def _swap(model: BoltzmannMachine, state: np.ndarray, ladder: np.ndarray, chains: int, rng,
          accepted: np.ndarray) -> None:
    levels = len(ladder)
    if levels < 2:
        return
    energies = model.energy(state).reshape(chains, levels)
    view = state.reshape(chains, levels, model.n)
    # Alternate even and odd neighbour pairs so that every pair is tried.
    for parity in (0, 1):
        for level in range(parity, levels - 1, 2):
            exponent = ((1.0 / ladder[level] - 1.0 / ladder[level + 1])
                        * (energies[:, level] - energies[:, level + 1]))
            accept = np.log(rng.random(chains)) < np.minimum(0.0, exponent)
            if np.any(accept):
                rows = np.flatnonzero(accept)
                lower = view[rows, level].copy()
                view[rows, level] = view[rows, level + 1]
                view[rows, level + 1] = lower
                swapped = energies[rows, level].copy()
                energies[rows, level] = energies[rows, level + 1]
                energies[rows, level + 1] = swapped
            accepted[level] += int(np.sum(accept))
