r"""The two-layer associative memory derived by sympy from its Lagrangians.

Krotov and Hopfield (ICLR 2021) define a network of feature neurons
:math:`v` (N of them) and memory neurons :math:`h` (K) by two Lagrangians
:math:`L_v(v)` and :math:`L_h(h)`:

.. math::
    g = \nabla L_v, \quad f = \nabla L_h, \quad
    \tau_f \dot v = \Xi^T f - v, \quad \tau_h \dot h = \Xi g - h,

    E = \bigl[v^T g - L_v\bigr] + \bigl[h^T f - L_h\bigr] - f^T \Xi g .

:func:`derive` builds g, f, the vector field and E from any Lagrangians
(sympy expressions, or undefined functions for the general theorem), and
:func:`prove_energy_decrease` checks the identity

.. math::
    \dot E = -\tau_f\, \dot v^T \nabla^2 L_v\, \dot v - \tau_h\, \dot h^T \nabla^2 L_h\, \dot h,

which gives :math:`\dot E \le 0` when both Hessians are positive
semidefinite. :func:`adiabatic_feature_dynamics` eliminates the memory
layer (:math:`\tau_h \to 0`, :math:`h = \Xi g`), which recovers the
classical Hopfield network for :math:`L_h = \tfrac12 \sum h_\mu^2` and the
dense memories for :math:`L_h = \sum F(h_\mu)`.

These derivations are for small symbolic networks (proofs, teaching, tests);
the numeric model of the model-file family is :class:`TwoLayerMemory`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ctdyn.symbolic import vanishes

__all__ = ["TwoLayerDerivation", "derive", "prove_energy_decrease", "adiabatic_feature_dynamics",
           "classical_lagrangians", "dense_lagrangians", "modern_lagrangians", "general_lagrangians"]


@dataclass
class TwoLayerDerivation:
    """Symbols, Lagrangians and everything sympy derives from them."""

    v: list[sp.Symbol]
    h: list[sp.Symbol]
    patterns: sp.Matrix
    feature_lagrangian: sp.Expr
    memory_lagrangian: sp.Expr
    tau_feature: sp.Expr
    tau_memory: sp.Expr
    g: sp.Matrix
    f: sp.Matrix
    v_dot: sp.Matrix
    h_dot: sp.Matrix
    energy: sp.Expr
    feature_hessian: sp.Matrix
    memory_hessian: sp.Matrix


def derive(feature_lagrangian: sp.Expr, memory_lagrangian: sp.Expr, v, h, patterns, *,
           tau_feature=sp.Symbol("tau_f", positive=True),
           tau_memory=sp.Symbol("tau_h", positive=True)) -> TwoLayerDerivation:
    """Derive outputs, vector field, energy and Hessians from the two Lagrangians."""
    v, h = list(v), list(h)
    xi = sp.Matrix(patterns)
    v_vector, h_vector = sp.Matrix(v), sp.Matrix(h)
    g = sp.Matrix([sp.diff(feature_lagrangian, variable) for variable in v])
    f = sp.Matrix([sp.diff(memory_lagrangian, variable) for variable in h])
    v_dot = (xi.T * f - v_vector) / tau_feature
    h_dot = (xi * g - h_vector) / tau_memory
    energy = ((v_vector.T * g)[0] - feature_lagrangian + (h_vector.T * f)[0] - memory_lagrangian
              - (f.T * xi * g)[0])
    return TwoLayerDerivation(
        v=v, h=h, patterns=xi, feature_lagrangian=feature_lagrangian,
        memory_lagrangian=memory_lagrangian, tau_feature=tau_feature, tau_memory=tau_memory,
        g=g, f=f, v_dot=v_dot, h_dot=h_dot, energy=energy,
        feature_hessian=sp.hessian(feature_lagrangian, v),
        memory_hessian=sp.hessian(memory_lagrangian, h))


@dataclass
class EnergyProof:
    """The identity for dE/dt and whether sympy proved it (``detail`` names the deciding step)."""

    energy_rate: sp.Expr
    claimed: sp.Expr
    proved: bool
    detail: str


def prove_energy_decrease(derivation: TwoLayerDerivation) -> EnergyProof:
    r"""Check :math:`\dot E = -\tau_f \dot v^T H_v \dot v - \tau_h \dot h^T H_h \dot h` symbolically.

    :math:`\dot E = \nabla_v E \cdot \dot v + \nabla_h E \cdot \dot h`, and
    the chain rule gives :math:`\nabla_v E = H_v (v - \Xi^T f)` and
    :math:`\nabla_h E = H_h (h - \Xi g)`; sympy verifies the difference
    vanishes.
    """
    d = derivation
    gradient_v = sp.Matrix([sp.diff(d.energy, variable) for variable in d.v])
    gradient_h = sp.Matrix([sp.diff(d.energy, variable) for variable in d.h])
    energy_rate = (gradient_v.T * d.v_dot)[0] + (gradient_h.T * d.h_dot)[0]
    claimed = (-d.tau_feature * (d.v_dot.T * d.feature_hessian * d.v_dot)[0]
               - d.tau_memory * (d.h_dot.T * d.memory_hessian * d.h_dot)[0])
    proved, detail = vanishes(sp.expand(energy_rate - claimed))
    return EnergyProof(energy_rate, claimed, proved, detail)


def adiabatic_feature_dynamics(derivation: TwoLayerDerivation) -> tuple[sp.Matrix, sp.Expr]:
    r"""Return :math:`\tau_f \dot v` and E with the memory layer at its fixed point :math:`h = \Xi g`."""
    d = derivation
    substitution = dict(zip(d.h, list(d.patterns * d.g)))
    field = (d.v_dot * d.tau_feature).subs(substitution, simultaneous=True)
    energy = d.energy.subs(substitution, simultaneous=True)
    return field, energy


def general_lagrangians(neurons: int, memories: int):
    """Return undefined Lagrangians L_v(v_1..v_N) and L_h(h_1..h_K) with their symbols."""
    v = sp.symbols(f"v1:{neurons + 1}", real=True)
    h = sp.symbols(f"h1:{memories + 1}", real=True)
    return sp.Function("L_v")(*v), sp.Function("L_h")(*h), v, h


def classical_lagrangians(neurons: int, memories: int):
    r"""Return :math:`L_v = \sum_i \log\cosh v_i` and :math:`L_h = \tfrac12 \sum_\mu h_\mu^2`."""
    v = sp.symbols(f"v1:{neurons + 1}", real=True)
    h = sp.symbols(f"h1:{memories + 1}", real=True)
    return (sum(sp.log(sp.cosh(variable)) for variable in v),
            sum(variable**2 for variable in h) / 2, v, h)


def dense_lagrangians(neurons: int, memories: int, separation):
    r"""Return :math:`L_v = \sum_i \log\cosh v_i` and :math:`L_h = \sum_\mu F(h_\mu)`.

    ``separation`` maps a sympy symbol to F of it, for example
    ``lambda x: x**3 / 3``.
    """
    v = sp.symbols(f"v1:{neurons + 1}", real=True)
    h = sp.symbols(f"h1:{memories + 1}", real=True)
    return (sum(sp.log(sp.cosh(variable)) for variable in v),
            sum(separation(variable) for variable in h), v, h)


def modern_lagrangians(neurons: int, memories: int, beta=sp.Symbol("beta", positive=True)):
    r"""Return :math:`L_v = \tfrac12 \sum_i v_i^2` and :math:`L_h = \beta^{-1} \log \sum_\mu e^{\beta h_\mu}`.

    Then :math:`g = v`, :math:`f = \operatorname{softmax}(\beta h)`, and the
    fixed points of the adiabatic feature dynamics satisfy
    :math:`v = \Xi^T \operatorname{softmax}(\beta \Xi v)`, the modern
    Hopfield update (Ramsauer et al. 2021).
    """
    v = sp.symbols(f"v1:{neurons + 1}", real=True)
    h = sp.symbols(f"h1:{memories + 1}", real=True)
    return (sum(variable**2 for variable in v) / 2,
            sp.log(sum(sp.exp(beta * variable) for variable in h)) / beta, v, h)
