r"""Boltzmann machines and restricted Boltzmann machines: validated parameters.

A Boltzmann machine on states :math:`s \in \{0,1\}^n` (``states="01"``) or
:math:`s \in \{-1,1\}^n` (``states="pm1"``) has the energy

.. math:: E(s) = -\tfrac12 s^T W s - b^T s

with :math:`W` symmetric and zero on the diagonal, and the Gibbs
distribution :math:`p(s) = e^{-E(s)/T} / Z` at temperature :math:`T > 0`.
A restricted Boltzmann machine is the bipartite case: visible units
:math:`v`, hidden units :math:`h` and :math:`E(v, h) = -v^T W h - a^T v -
c^T h` with :math:`W` of shape (visible, hidden).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidModelError

__all__ = ["BoltzmannMachine", "RestrictedBoltzmannMachine", "STATE_SETS",
           "MAX_EXACT_UNITS"]

STATE_SETS = ("pm1", "01")
# Exact enumeration visits 2**n states: 2**24 = 16.8 million energies took
# 0.4 to 1 s in benchmarks/bench_boltzmann.py, and each further unit doubles
# that. Above the limit, use Gibbs sampling or parallel tempering.
MAX_EXACT_UNITS = 24


def _as_matrix(value, field: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    try:
        matrix = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise InvalidModelError(field, "a matrix of numbers", value,
                                "Give a list of equal-length rows of numbers.") from error
    if matrix.ndim != 2 or 0 in matrix.shape:
        raise InvalidModelError(field, "a non-empty matrix (a list of rows)",
                                f"an array of shape {matrix.shape}",
                                "Give the weights as a list of rows.")
    if shape is not None and matrix.shape != shape:
        raise InvalidModelError(field, f"a matrix of shape {shape}",
                                f"shape {matrix.shape}", "Match the layer sizes.")
    _require_finite(matrix, field)
    return matrix


def _as_vector(value, n: int, field: str) -> np.ndarray:
    if value is None:
        return np.zeros(n)
    try:
        vector = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise InvalidModelError(field, f"a number or a list of {n} numbers", value,
                                "Give the bias as numbers.") from error
    if vector.ndim == 0:
        vector = np.full(n, float(vector))
    if vector.shape != (n,):
        raise InvalidModelError(field, f"a vector of length {n}", f"shape {vector.shape}",
                                f"Give {n} entries or a single number.")
    _require_finite(vector, field)
    return vector


def _require_finite(values: np.ndarray, field: str) -> None:
    if not np.all(np.isfinite(values)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
        raise InvalidModelError(field, "finite numbers", f"{values[index]} at index {index}",
                                "Replace NaN and infinite entries by finite values.")


def _as_temperature(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidModelError("temperature", "a positive number", value,
                                "Give the temperature T as a number such as 1.0.")
    temperature = float(value)
    if not np.isfinite(temperature) or temperature <= 0:
        raise InvalidModelError("temperature", "a finite number T > 0", value,
                                "The Gibbs distribution exp(-E/T) needs T > 0; use a small "
                                "positive T for a nearly deterministic machine.")
    return temperature


def _as_states(value) -> str:
    if value not in STATE_SETS:
        raise InvalidModelError("states", "\"pm1\" (s in {-1, 1}) or \"01\" (s in {0, 1})",
                                value, "Choose one of the two state sets.")
    return value


class BoltzmannMachine:
    r"""Boltzmann machine :math:`E(s) = -\tfrac12 s^T W s - b^T s` at temperature ``T``.

    Parameters
    ----------
    weights : array_like, shape (n, n)
        Symmetric couplings with zero diagonal, checked exactly.
    bias : array_like, shape (n,) or scalar, optional
        Field :math:`b` (default 0).
    temperature : float
        :math:`T > 0` (default 1).
    states : {"pm1", "01"}
        Unit values :math:`\{-1, 1\}` or :math:`\{0, 1\}` (default ``"pm1"``).

    Raises
    ------
    InvalidModelError
        For a non-square, non-symmetric or non-finite ``weights``, a nonzero
        diagonal, a bias of the wrong length, ``T <= 0`` or unknown states.
    """

    family = "boltzmann"
    kind = "boltzmann_machine"

    def __init__(self, weights, *, bias=None, temperature: float = 1.0, states: str = "pm1"):
        weights = _as_matrix(weights, "weights")
        if weights.shape[0] != weights.shape[1]:
            raise InvalidModelError("weights", "a square matrix (n x n)",
                                    f"shape {weights.shape}", "Give n rows of n numbers.")
        _check_symmetric(weights)
        _check_zero_diagonal(weights)
        self.weights = weights
        self.n = weights.shape[0]
        self.bias = _as_vector(bias, self.n, "bias")
        self.temperature = _as_temperature(temperature)
        self.states = _as_states(states)

    @property
    def full_weights(self) -> np.ndarray:
        """The symmetric coupling matrix over all units."""
        return self.weights

    @property
    def full_bias(self) -> np.ndarray:
        """The field over all units."""
        return self.bias

    def energy(self, s) -> np.ndarray:
        r"""Return :math:`E(s)` for one state or a batch of states (rows)."""
        s = np.asarray(s, dtype=float)
        return -0.5 * np.einsum("...i,ij,...j->...", s, self.weights, s) - s @ self.bias

    def to_dict(self) -> dict:
        return {
            "family": self.family,
            "kind": self.kind,
            "dimension": self.n,
            "states": self.states,
            "temperature": self.temperature,
            "weights": self.weights.tolist(),
            "bias": self.bias.tolist(),
        }

    def __repr__(self) -> str:
        return (f"BoltzmannMachine(n={self.n}, states={self.states!r}, "
                f"temperature={self.temperature})")


class RestrictedBoltzmannMachine:
    r"""Restricted Boltzmann machine :math:`E(v, h) = -v^T W h - a^T v - c^T h`.

    Parameters
    ----------
    weights : array_like, shape (visible, hidden)
    visible_bias, hidden_bias : array_like or scalar, optional
        :math:`a` and :math:`c` (default 0).
    temperature : float
        :math:`T > 0` (default 1).
    states : {"01", "pm1"}
        Unit values of both layers (default ``"01"``).
    """

    family = "boltzmann"
    kind = "restricted_boltzmann_machine"

    def __init__(self, weights, *, visible_bias=None, hidden_bias=None,
                 temperature: float = 1.0, states: str = "01"):
        self.weights = _as_matrix(weights, "weights")
        self.n_visible, self.n_hidden = self.weights.shape
        self.visible_bias = _as_vector(visible_bias, self.n_visible, "visible_bias")
        self.hidden_bias = _as_vector(hidden_bias, self.n_hidden, "hidden_bias")
        self.temperature = _as_temperature(temperature)
        self.states = _as_states(states)

    @property
    def n(self) -> int:
        return self.n_visible + self.n_hidden

    @property
    def full_weights(self) -> np.ndarray:
        """The symmetric coupling matrix over visible units first, then hidden units."""
        full = np.zeros((self.n, self.n))
        full[:self.n_visible, self.n_visible:] = self.weights
        full[self.n_visible:, :self.n_visible] = self.weights.T
        return full

    @property
    def full_bias(self) -> np.ndarray:
        return np.concatenate([self.visible_bias, self.hidden_bias])

    def as_boltzmann_machine(self) -> BoltzmannMachine:
        """Return the same distribution as a general Boltzmann machine over (v, h)."""
        return BoltzmannMachine(self.full_weights, bias=self.full_bias,
                                temperature=self.temperature, states=self.states)

    def energy(self, v, h) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        h = np.asarray(h, dtype=float)
        return (-np.einsum("...i,ij,...j->...", v, self.weights, h) - v @ self.visible_bias
                - h @ self.hidden_bias)

    def to_dict(self) -> dict:
        return {
            "family": self.family,
            "kind": self.kind,
            "dimension": self.n,
            "visible": self.n_visible,
            "hidden": self.n_hidden,
            "states": self.states,
            "temperature": self.temperature,
            "weights": self.weights.tolist(),
            "visible_bias": self.visible_bias.tolist(),
            "hidden_bias": self.hidden_bias.tolist(),
        }

    def __repr__(self) -> str:
        return (f"RestrictedBoltzmannMachine(visible={self.n_visible}, hidden={self.n_hidden}, "
                f"states={self.states!r}, temperature={self.temperature})")


def _check_symmetric(weights: np.ndarray) -> None:
    # Compared exactly: certificates speak about the matrix as written.
    difference = np.abs(weights - weights.T)
    if np.any(difference > 0):
        i, j = (int(k) for k in np.unravel_index(np.argmax(difference), weights.shape))
        raise InvalidModelError(
            "weights", "a symmetric matrix (W[i][j] == W[j][i] exactly)",
            f"W[{i}][{j}] = {float(weights[i, j])!r} but W[{j}][{i}] = {float(weights[j, i])!r}",
            "A Boltzmann machine's energy only sees (W + W^T)/2; symmetrize the matrix, "
            "for example with (W + W.T) / 2.")


def _check_zero_diagonal(weights: np.ndarray) -> None:
    diagonal = np.diag(weights)
    if np.any(diagonal != 0):
        i = int(np.argmax(diagonal != 0))
        raise InvalidModelError(
            "weights", "a zero diagonal (no self-coupling)", f"W[{i}][{i}] = {diagonal[i]!r}",
            "Set the diagonal to 0: for binary units s_i**2 is constant, so a diagonal entry "
            "only shifts the bias (in {0,1} states add W[i][i]/2 to bias[i]).")
