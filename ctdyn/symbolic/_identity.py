r"""The symbolic proof of the gradient identity of the energy."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sympy as sp

from ..models import MAX_SYMBOLIC_SIZE, FiringRateNetwork, HopfieldNetwork
from ._energy import validate_energy_model
from ._forms import hopfield_parts, rational_model
from ._primitive import derive_primitive
from ._symbols import G_FUNCTION, PHI, S, X, as_piecewise
from ._zero import vanishes

__all__ = ["IdentityProof", "prove_energy_identity"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IdentityProof:
    r"""A symbolic proof of the gradient identity of the energy.

    Attributes
    ----------
    family : str
        ``"hopfield"`` or ``"firing_rate"``.
    activation : str
    steps : tuple of str
        Each claim that was checked, with the sympy step that showed it.
    shown : tuple of bool
        Whether each step was shown. ``False`` means that sympy did not show
        the difference to be zero, not that it is non-zero.
    """

    family: str
    activation: str
    steps: tuple[str, ...]
    shown: tuple[bool, ...]

    @property
    def proved(self) -> bool:
        """Whether every step was shown (and there is at least one)."""
        return bool(self.shown) and all(self.shown)

    def to_dict(self) -> dict:
        return {"family": self.family, "activation": self.activation, "proved": self.proved,
                "steps": list(self.steps), "shown": list(self.shown)}


def prove_energy_identity(network: HopfieldNetwork | FiringRateNetwork, *,
                          concrete: bool = True) -> IdentityProof:
    r"""Prove the gradient identity of the energy for the network's activation.

    Hopfield: :math:`\nabla E(x) = -\operatorname{diag}(\phi'(x)) f(x)`.
    Firing-rate: the same identity for :math:`E_H` in :math:`z = W x + u`
    (leak :math:`c`, input :math:`c u`), the change of variables
    :math:`W f(x) = -c z + W \Phi(z) + c u`, and their composition
    :math:`\nabla E(x) = -W \operatorname{diag}(\phi'(z)) W f(x)` by the
    chain rule :math:`\nabla_x E = W^T \nabla_z E_H`.

    Each claim is checked component by component on a generic 3-neuron
    network: symbols :math:`w_{ij} = w_{ji}`, :math:`c_i > 0` (one
    :math:`c` for firing-rate networks), :math:`u_i`, and the model's
    activation. It is then checked on the user's network with exact rational
    weights when ``concrete`` and :math:`n \le` ``MAX_SYMBOLIC_SIZE``.
    Zero is decided by :func:`vanishes`.

    Why three neurons cover every :math:`n`: the difference
    :math:`\delta_k = \partial E/\partial x_k + \phi'(x_k) f_k(x)` involves
    only row :math:`k` of :math:`W`. It is a diagonal term
    :math:`d(x_k, w_{kk}, c_k, u_k)` plus one term
    :math:`e(x_k, x_j, w_{kj})` for each :math:`j \ne k`, proportional to
    :math:`w_{kj}`. Terms of :math:`E` without :math:`x_k` (weights
    :math:`w_{jl}` with :math:`j, l \ne k`) differentiate to zero; the third
    neuron checks exactly that through :math:`w_{12}`. On three neurons
    :math:`\delta_0 = d + e(x_0, x_1, w_{01}) + e(x_0, x_2, w_{02}) \equiv 0`
    in independent symbols. Setting :math:`w_{01} = w_{02} = 0` gives
    :math:`d \equiv 0`, hence :math:`e \equiv 0`, hence :math:`\delta_k
    \equiv 0` for any :math:`n`. The change of variables is linear and row by
    row in the same way, and the chain rule is valid at every size.

    Returns
    -------
    IdentityProof

    Raises
    ------
    InvalidModelError
        As :func:`energy_function` (non-symmetric weights, non-uniform leak
        of a firing-rate network).
    """
    validate_energy_model(network)
    activation = as_piecewise(network.activation.expression)
    primitive = derive_primitive(network.activation).expression
    is_hopfield = isinstance(network, HopfieldNetwork)
    steps: list[tuple[str, bool]] = [_primitive_step(activation, primitive)]

    steps += _generic_steps(activation, primitive, is_hopfield)
    if concrete and network.n <= MAX_SYMBOLIC_SIZE:
        steps += _concrete_steps(network)
    elif concrete:
        steps.append((f"user network not expanded: n = {network.n} > MAX_SYMBOLIC_SIZE = "
                      f"{MAX_SYMBOLIC_SIZE}; the generic proof covers it", True))
    logger.info("energy identity for %s with %s: %d steps, %d shown",
                network.family, network.activation.name, len(steps),
                sum(shown for _, shown in steps))
    return IdentityProof(network.family, network.activation.name,
                         tuple(text for text, _ in steps), tuple(shown for _, shown in steps))


def _primitive_step(activation: sp.Expr, primitive: sp.Expr) -> tuple[str, bool]:
    slope = sp.diff(activation, X).subs(X, S)
    at_origin = sp.simplify(primitive.subs(S, 0)) == 0
    derivative_ok, method = vanishes(sp.diff(primitive, S) - S * slope)
    text = f"G(0) = 0 and G'(s) - s*phi'(s) = 0 for G(s) = {sp.sstr(primitive)} ({method})"
    return text, bool(at_origin and derivative_ok)


def _generic_symbols(count: int = 3):
    states = list(sp.symbols(f"x0:{count}", real=True))
    weights = sp.Matrix(count, count, lambda row, column: sp.Symbol(
        f"w{min(row, column)}{max(row, column)}", real=True))
    inputs = list(sp.symbols(f"u0:{count}", real=True))
    return states, weights, inputs


def _generic_steps(activation, primitive, is_hopfield: bool) -> list[tuple[str, bool]]:
    states, weights, inputs = _generic_symbols()
    if is_hopfield:
        leak = list(sp.symbols("c0:3", positive=True))
        label = "generic 3-neuron Hopfield network (w_ij = w_ji, c_i > 0, u_i)"
        return _gradient_steps(states, weights, leak, inputs, activation, primitive, label)

    uniform = sp.Symbol("c", positive=True)
    hopfield_states = list(sp.symbols("z0:3", real=True))
    label = "generic 3-neuron Hopfield form in z (w_ij = w_ji, leak c > 0, input c*u_i)"
    steps = _gradient_steps(hopfield_states, weights, [uniform] * 3,
                            [uniform * value for value in inputs], activation, primitive, label)
    steps += _change_of_variables_steps(states, hopfield_states, weights, uniform, inputs,
                                        "generic 3-neuron firing-rate network")
    steps += _chain_rule_steps(states, hopfield_states, weights, uniform, inputs)
    return steps


def _gradient_steps(states, weights, leak, inputs, activation, primitive, label):
    parts = hopfield_parts(states, weights, leak, inputs, activation, primitive)
    steps = []
    for row, (state, terms) in enumerate(zip(states, _terms_by_state(parts.energy, states))):
        # Terms of E without this state have derivative zero; skipping them
        # saves most of the time of sp.diff on a large network.
        derivative = sp.Add(*[sp.diff(term, state) for term in terms])
        zero, method = vanishes(derivative + parts.slopes[row] * parts.drive[row])
        steps.append((f"{label}: dE/d{state} + phi'({state})*f_{row} = 0 ({method})", zero))
    return steps


def _terms_by_state(energy: sp.Expr, states) -> list[list[sp.Expr]]:
    positions = {state: index for index, state in enumerate(states)}
    buckets: list[list[sp.Expr]] = [[] for _ in states]
    for term in sp.Add.make_args(energy):
        for symbol in term.free_symbols:
            if symbol in positions:
                buckets[positions[symbol]].append(term)
    return buckets


def _firing_rate_flow(states, weights, uniform, inputs, activation):
    preactivation = weights * sp.Matrix(states) + sp.Matrix(inputs)
    flow = [-uniform * states[row] + activation.subs(X, preactivation[row])
            for row in range(len(states))]
    return preactivation, flow


def _change_of_variables_steps(states, hopfield_states, weights, uniform, inputs, label):
    """Check W f(x) = -c z + W phi(z) + c u at z = W x + u, for an undefined phi.

    The identity is linear algebra and true for every activation, so phi
    stays an undefined function. This also keeps ``cancel`` away from
    ``exp`` of long sums, which it expands into products of generators.
    """
    activation = PHI(X)
    preactivation, flow = _firing_rate_flow(states, weights, uniform, inputs, activation)
    parts = hopfield_parts(hopfield_states, weights, [uniform] * len(states),
                           [uniform * value for value in inputs], activation, sp.Integer(0))
    substitution = dict(zip(hopfield_states, preactivation))
    weighted_flow = weights * sp.Matrix(flow)
    steps = []
    for row in range(len(states)):
        difference = weighted_flow[row] - parts.drive[row].xreplace(substitution)
        zero, method = vanishes(difference)
        steps.append((f"{label}: (W f(x))_{row} = -c z{row} + (W phi(z))_{row} + c u{row} "
                      f"at z = W x + u, any phi ({method})", zero))
    return steps


def _chain_rule_steps(states, hopfield_states, weights, uniform, inputs):
    """Check grad_x E_H(W x + u) = W^T (grad_z E_H)(W x + u) for undefined phi and G."""
    activation = PHI(X)
    primitive = G_FUNCTION(S)
    parts = hopfield_parts(hopfield_states, weights, [uniform] * len(states),
                           [uniform * value for value in inputs], activation, primitive)
    preactivation = weights * sp.Matrix(states) + sp.Matrix(inputs)
    substitution = dict(zip(hopfield_states, preactivation))
    energy = parts.energy.xreplace(substitution)
    # subs, not xreplace: Derivative(phi(z0), z0) must become a Subs object.
    gradient_in_z = [sp.diff(parts.energy, state).subs(substitution) for state in hopfield_states]
    steps = []
    for column, state in enumerate(states):
        pulled_back = sp.Add(*[weights[row, column] * gradient_in_z[row]
                               for row in range(len(states))])
        zero, method = vanishes(sp.diff(energy, state) - pulled_back)
        steps.append((f"generic 3-neuron firing-rate network, chain rule for any phi and G: "
                      f"dE/d{state} = (W^T grad_z E_H)_{column} ({method})", zero))
    return steps


def _concrete_steps(network) -> list[tuple[str, bool]]:
    r"""Check the gradient identity on the user's weights, for undefined phi and G.

    With phi and G left undefined, ``cancel`` reduces each component to
    :math:`\partial E/\partial x_k + \phi'(x_k) f_k = c_k (G'(x_k) - x_k
    \phi'(x_k))`, which the primitive step shows to be zero for the model's
    activation. Substituting a sigmoid into a 40-neuron energy instead puts
    every exp(-x_j) into one denominator, which takes minutes.
    """
    weights, leak, inputs = rational_model(network)
    n = network.n
    if isinstance(network, HopfieldNetwork):
        checks = _structural_steps(list(network.symbols()), weights, leak, inputs)
        return [_summarize(checks, f"user network ({n} neurons, rational weights): "
                           "dE/dx_k + phi'(x_k)*f_k(x) = c_k*(G'(x_k) - x_k*phi'(x_k)) "
                           "for every k, any phi and G")]
    hopfield_states = list(sp.symbols(f"z0:{n}", real=True))
    uniform = leak[0]
    checks = _structural_steps(hopfield_states, weights, [uniform] * n,
                               [uniform * value for value in inputs])
    changes = _change_of_variables_steps(list(network.symbols()), hopfield_states, weights,
                                         uniform, inputs, "user network")
    return [
        _summarize(checks, f"user network ({n} neurons, rational weights), Hopfield form in z: "
                   "dE_H/dz_k + phi'(z_k)*g_k(z) = c*(G'(z_k) - z_k*phi'(z_k)) for every k, "
                   "any phi and G"),
        _summarize(changes, f"user network ({n} neurons): W f(x) = -c z + W phi(z) + c u "
                   "at z = W x + u"),
    ]


def _structural_steps(states, weights, leak, inputs) -> list[tuple[str, bool]]:
    parts = hopfield_parts(states, weights, leak, inputs, PHI(X), G_FUNCTION(S))
    steps = []
    for row, (state, terms) in enumerate(zip(states, _terms_by_state(parts.energy, states))):
        derivative = sp.Add(*[sp.diff(term, state) for term in terms])
        slope = parts.slopes[row]
        remainder = leak[row] * (sp.diff(G_FUNCTION(state), state) - state * slope)
        zero, method = vanishes(derivative + slope * parts.drive[row] - remainder)
        steps.append((f"component {row} ({method})", zero))
    return steps


def _summarize(checks: list[tuple[str, bool]], claim: str) -> tuple[str, bool]:
    failures = [text for text, shown in checks if not shown]
    if failures:
        return f"{claim}: not shown for {len(failures)} of {len(checks)} ({failures[0]})", False
    return f"{claim} (cancel, {len(checks)} components)", True
