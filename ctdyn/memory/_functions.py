r"""Separation functions F of dense associative memories, scaled to the network size.

The energy of a dense associative memory with patterns :math:`\xi^\mu \in
\{-1, 1\}^N` is :math:`E(x) = -\sum_\mu F(\xi^\mu \cdot x)`. ctdyn scales
each F so that :math:`F'(N) = N`, the local field of a classical Hopfield
network at a stored pattern:

``polynomial``
    :math:`F(h) = h^n / (n N^{n-2})`; degree 2 is the classical network
    :math:`E = -\tfrac12 x^T \Xi^T \Xi x`.
``rectified_polynomial``
    :math:`F(h) = \max(h, 0)^n / (n N^{n-2})`.
``exponential``
    :math:`F(h) = (N / \beta) e^{\beta (h - N)}`.

A positive factor changes neither the minimizers nor the discrete update
rules, and it keeps :math:`e^{\beta h}` finite for N in the thousands. Every
F here is convex except the polynomial of odd degree, which the continuous
model rejects because its energy theorem needs a convex F.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import flint
import numpy as np
import sympy as sp

from ..errors import InvalidModelError

__all__ = ["ENERGIES", "SeparationFunction", "make_separation_function"]

ENERGIES = ("classical", "polynomial", "rectified_polynomial", "exponential")
DEFAULT_DEGREE = 3
DEFAULT_BETA = 1.0
MAX_DEGREE = 20


@dataclass(frozen=True)
class SeparationFunction:
    r"""A separation function F for networks of ``neurons`` feature neurons.

    Attributes
    ----------
    kind : {"polynomial", "rectified_polynomial", "exponential"}
    degree : int
        The power n of the polynomials (2 for the exponential, unused).
    beta : float
        Inverse temperature of the exponential (1 for the polynomials, unused).
    neurons : int
        N, which fixes the scale :math:`F'(N) = N`.
    """

    kind: str
    degree: int
    beta: float
    neurons: int

    @property
    def convex(self) -> bool:
        return not (self.kind == "polynomial" and self.degree % 2 == 1)

    def label(self) -> str:
        if self.kind == "exponential":
            return f"exponential (beta = {self.beta:g})"
        if self.kind == "polynomial" and self.degree == 2:
            return "classical (F = x^2 / 2)"
        return f"{self.kind.replace('_', ' ')} of degree {self.degree}"

    # -- floating point ------------------------------------------------------

    def value(self, h: np.ndarray) -> np.ndarray:
        h = np.asarray(h, dtype=float)
        n, size = self.degree, float(self.neurons)
        if self.kind == "polynomial":
            return h**n / (n * size ** (n - 2))
        if self.kind == "rectified_polynomial":
            return np.maximum(h, 0.0) ** n / (n * size ** (n - 2))
        return size / self.beta * np.exp(self.beta * (h - size))

    def derivative(self, h: np.ndarray) -> np.ndarray:
        h = np.asarray(h, dtype=float)
        n, size = self.degree, float(self.neurons)
        if self.kind == "polynomial":
            return h ** (n - 1) / size ** (n - 2)
        if self.kind == "rectified_polynomial":
            return np.maximum(h, 0.0) ** (n - 1) / size ** (n - 2)
        return size * np.exp(self.beta * (h - size))

    def max_abs_second_derivative_float(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Estimate :meth:`max_abs_second_derivative` in floating point (to choose weights, not to prove)."""
        n, size = self.degree, float(self.neurons)
        low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
        if self.kind == "exponential":
            return self.beta * size * np.exp(np.minimum(self.beta * (high - size), 700.0))
        if self.kind == "rectified_polynomial":
            if n == 2:
                return np.where(high < 0, 0.0, 1.0)
            return (n - 1) * (np.maximum(high, 0.0) / size) ** (n - 2)
        return (n - 1) * (np.maximum(np.abs(low), np.abs(high)) / size) ** (n - 2)

    def flip_gain(self, overlaps: np.ndarray, shift: np.ndarray | float = 0.0) -> np.ndarray:
        r"""Return :math:`G(a) = F(a + 1) - F(a - 1)`, times :math:`e^{-\beta\,\mathrm{shift}}` for the exponential.

        The discrete update sets :math:`x_i = \operatorname{sign} \sum_\mu
        \xi^\mu_i G(a_\mu)` where :math:`a_\mu` is the overlap without
        neuron i. A positive factor common to a query's row leaves that sign
        unchanged, so the exponential subtracts ``shift`` (the row maximum of
        the overlaps) to stay finite.
        """
        a = np.asarray(overlaps, dtype=float)
        if self.kind == "exponential":
            return np.exp(self.beta * (a - shift)) * (2.0 * np.sinh(self.beta))
        return self.value(a + 1.0) - self.value(a - 1.0)

    # -- symbolic ------------------------------------------------------------

    def expression(self, h: sp.Symbol) -> sp.Expr:
        """Return F(h) as a sympy expression with exact coefficients."""
        n, size = self.degree, sp.Integer(self.neurons)
        if self.kind == "polynomial":
            return h**n / (n * size ** (n - 2))
        if self.kind == "rectified_polynomial":
            return sp.Max(h, 0) ** n / (n * size ** (n - 2))
        beta = sp.Rational(self.beta)
        return size / beta * sp.exp(beta * (h - size))

    # -- rigorous ------------------------------------------------------------

    def derivative_ball(self, h: int) -> flint.arb:
        """Return F'(h) at an integer h as an arb ball (exact for the polynomials)."""
        n, size = self.degree, flint.arb(self.neurons)
        if self.kind == "exponential":
            beta = _exact_arb(self.beta)
            return size * (beta * (flint.arb(h) - size)).exp()
        base = max(h, 0) if self.kind == "rectified_polynomial" else h
        return flint.arb(flint.fmpq(base ** (n - 1), self.neurons ** (n - 2)))

    def max_abs_second_derivative(self, low: flint.arb, high: flint.arb) -> flint.arb:
        r"""Return an upper bound on :math:`\max |F''(h)|` over :math:`[low, high]`.

        :math:`|F''|` is nondecreasing in :math:`|h|` for the polynomials of
        even degree and nondecreasing in h for the other kinds, so it attains
        its maximum at an endpoint.
        """
        n, size = self.degree, flint.arb(self.neurons)
        if self.kind == "exponential":
            beta = _exact_arb(self.beta)
            return beta * size * (beta * (high - size)).exp()
        if self.kind == "rectified_polynomial":
            if n == 2:
                # F'' jumps from 0 to 1 at h = 0, so 1 bounds it unless the interval is negative.
                return flint.arb(0) if high < 0 else flint.arb(1)
            top = high.nonnegative_part()
            return (n - 1) * (top / size) ** (n - 2)
        top = abs(low).max(abs(high))
        return (n - 1) * (top / size) ** (n - 2)


def _exact_arb(value: float) -> flint.arb:
    fraction = float(value).as_integer_ratio()
    return flint.arb(flint.fmpq(*fraction))


def make_separation_function(energy: object, *, neurons: int, degree: object = None,
                             beta: object = None, field_prefix: str = "") -> SeparationFunction:
    r"""Validate an energy name with its degree and beta, and build F.

    ``classical`` is the polynomial of degree 2. ``degree`` applies to the
    polynomials (an integer from 2 to 20, default 3) and ``beta`` to the
    exponential (a finite positive number, default 1).

    Raises
    ------
    InvalidModelError
        For an unknown energy, a degree outside 2..20, a degree other than 2
        with ``classical``, or a beta that is not a finite positive number.
    """
    field = field_prefix
    if not isinstance(energy, str) or energy not in ENERGIES:
        raise InvalidModelError(f"{field}energy", "one of " + ", ".join(ENERGIES), energy,
                                "Choose the shape of the separation function F by name.")
    if energy in ("classical", "exponential") and degree is not None and \
            not (energy == "classical" and degree == 2):
        raise InvalidModelError(f"{field}degree", f"no degree with energy {energy!r}", degree,
                                "Remove the degree, or use energy = \"polynomial\".")
    if energy != "exponential" and beta is not None:
        raise InvalidModelError(f"{field}beta", f"no beta with energy {energy!r}", beta,
                                "Remove beta; it is the inverse temperature of the exponential.")
    if energy == "classical":
        return SeparationFunction("polynomial", 2, DEFAULT_BETA, neurons)
    if energy == "exponential":
        value = DEFAULT_BETA if beta is None else beta
        if not isinstance(value, numbers.Real) or isinstance(value, bool) \
                or not np.isfinite(value) or value <= 0:
            raise InvalidModelError(f"{field}beta", "a finite positive number", beta,
                                    "Use for example beta = 1.0.")
        return SeparationFunction("exponential", 2, float(value), neurons)
    value = DEFAULT_DEGREE if degree is None else degree
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) \
            or not 2 <= value <= MAX_DEGREE:
        raise InvalidModelError(f"{field}degree", f"an integer from 2 to {MAX_DEGREE}", degree,
                                "Use for example degree = 3.")
    return SeparationFunction(energy, int(value), DEFAULT_BETA, neurons)
