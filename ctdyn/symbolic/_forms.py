r"""Sympy forms of the energy, its gradient and its time derivative.

The structured forms are sums over indices whose size does not grow with
``n``. The concrete forms expand the energy of one network with its weights
as exact rationals.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..models import HopfieldNetwork
from ._symbols import G_FUNCTION, PHI, PhiPrime, S, X, _decimal_rational


def _structured_forms(n: int, is_hopfield: bool) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Return E, dE/dx_i and dE/dt as sums over indices up to n - 1."""
    i, j, k = sp.symbols("i j k", integer=True)
    weights = sp.IndexedBase("W")
    inputs = sp.IndexedBase("u")
    last = n - 1
    if is_hopfield:
        state = sp.IndexedBase("x")
        leak = sp.IndexedBase("c")

        def leak_of(row):
            return leak[row]

        def input_of(row):
            return inputs[row]
    else:
        state = sp.IndexedBase("z")
        uniform_leak = sp.Symbol("c", positive=True)

        def leak_of(row):
            return uniform_leak

        def input_of(row):
            return uniform_leak * inputs[row]

    def drive(row, inner):
        # f_row(x) for Hopfield, (W f(x))_row = -c z_row + (W phi(z))_row + c u_row otherwise.
        return (-leak_of(row) * state[row]
                + sp.Sum(weights[row, inner] * PHI(state[inner]), (inner, 0, last)) + input_of(row))

    energy = (-sp.Sum(weights[i, j] * PHI(state[i]) * PHI(state[j]), (i, 0, last), (j, 0, last)) / 2
              - sp.Sum(input_of(i) * PHI(state[i]), (i, 0, last))
              + sp.Sum(leak_of(i) * G_FUNCTION(state[i]), (i, 0, last)))
    if is_hopfield:
        gradient = -PhiPrime(state[i]) * drive(i, j)
    else:
        gradient = -sp.Sum(weights[i, j] * PhiPrime(state[j]) * drive(j, k), (j, 0, last))
    time_derivative = -sp.Sum(PhiPrime(state[i]) * drive(i, j) ** 2, (i, 0, last))
    return energy, gradient, time_derivative


@dataclass(frozen=True)
class HopfieldParts:
    r"""Energy, drive and slopes of a Hopfield network in given state symbols.

    ``drive`` is :math:`f(x) = -C x + W \Phi(x) + u`. The energy reads only
    the upper triangle of ``weights``, so it is the energy of the symmetric
    matrix with that triangle. The drive reads whole rows.
    """

    energy: sp.Expr
    drive: list
    slopes: list


def hopfield_parts(states, weights: sp.Matrix, leak, inputs, activation: sp.Expr,
                   primitive: sp.Expr) -> HopfieldParts:
    """Build the Hopfield energy, drive and slopes from explicit sympy entries."""
    n = len(states)
    rates = [activation.subs(X, state) for state in states]
    slope = sp.diff(activation, X)
    terms = []
    for row in range(n):
        terms.append(-weights[row, row] * rates[row] ** 2 / 2)
        terms += [-weights[row, column] * rates[row] * rates[column]
                  for column in range(row + 1, n) if weights[row, column] != 0]
        terms.append(-inputs[row] * rates[row] + leak[row] * primitive.subs(S, states[row]))
    drive = [-leak[row] * states[row] + inputs[row]
             + sp.Add(*[weights[row, column] * rates[column] for column in range(n)
                        if weights[row, column] != 0])
             for row in range(n)]
    return HopfieldParts(sp.Add(*terms), drive, [slope.subs(X, state) for state in states])


@dataclass(frozen=True)
class _ConcreteEnergy:
    states: sp.Matrix
    substitution: dict
    energy_display: sp.Expr
    gradient_display: sp.Matrix
    time_derivative_display: sp.Expr
    energy_in_states: sp.Expr
    gradient: sp.Matrix
    time_derivative: sp.Expr


def rational_model(network) -> tuple[sp.Matrix, list, list]:
    """Return W, the leak and the input as exact rationals (shortest decimals)."""
    dense = network.dense_weights()
    n = network.n
    weights = sp.Matrix(n, n, lambda row, column: _decimal_rational(dense[row, column]))
    leak = [_decimal_rational(value) for value in network.leak]
    inputs = [_decimal_rational(value) for value in network.input]
    return weights, leak, inputs


def build_concrete_energy(network, activation: sp.Expr, primitive: sp.Expr) -> _ConcreteEnergy:
    """Expand E, its gradient and dE/dt for the network's own weights."""
    states = network.symbols()
    weights, leak, inputs = rational_model(network)
    n = network.n
    if isinstance(network, HopfieldNetwork):
        parts = hopfield_parts(list(states), weights, leak, inputs, activation, primitive)
        gradient = sp.Matrix([-parts.slopes[row] * parts.drive[row] for row in range(n)])
        time_derivative = -sp.Add(*[parts.slopes[row] * parts.drive[row] ** 2 for row in range(n)])
        return _ConcreteEnergy(states, {}, parts.energy, gradient, time_derivative,
                               parts.energy, gradient, time_derivative)

    # Firing-rate network: the Hopfield form in z = W x + u, leak c, input c u.
    hopfield_states = sp.Matrix(sp.symbols(f"z0:{n}", real=True))
    preactivation = weights * states + sp.Matrix(inputs)
    substitution = dict(zip(hopfield_states, preactivation))
    uniform = [leak[0]] * n
    parts = hopfield_parts(list(hopfield_states), weights, uniform,
                           [leak[0] * value for value in inputs], activation, primitive)
    slopes_times_drive = sp.Matrix([parts.slopes[row] * parts.drive[row] for row in range(n)])
    gradient_display = -weights * slopes_times_drive
    time_derivative = -sp.Add(*[parts.slopes[row] * parts.drive[row] ** 2 for row in range(n)])
    return _ConcreteEnergy(
        states, substitution, parts.energy, gradient_display, time_derivative,
        parts.energy.xreplace(substitution), gradient_display.xreplace(substitution),
        time_derivative.xreplace(substitution))
