r"""Energies of oscillator networks derived by sympy, and their identities proved.

A vector field :math:`f` is a gradient field :math:`f = -\nabla E` iff its
Jacobian is symmetric; then the line integral from the origin,

.. math:: E(\theta) = -\int_0^1 f(t\theta)\cdot\theta\, dt ,

is a potential (Poincare lemma; any closed 1-form on :math:`\mathbb R^n` is
exact). :func:`derive_energy` computes that integral for a network of
``n`` oscillators with symbolic couplings and checks three identities by expanding the trigonometric
functions: :math:`\partial E/\partial\theta_i = -f_i`,
:math:`\dot E = -\sum_i f_i^2` and, for the oscillator Ising machine, the
Jacobian at every binary state equals :math:`K(SJS - \operatorname{diag}(SJS\mathbf 1)) - 2K_sI`.
The symbols are generic, so each identity holds for every coupling matrix
of that size; the proofs in proofs/ show the same steps for any n.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy

__all__ = ["EnergyDerivation", "derive_energy"]


@dataclass
class EnergyDerivation:
    """The derived energy and the identities checked symbolically."""

    family: str
    n: int
    states: list
    vector_field: list
    energy: sympy.Expr
    identities: dict[str, bool] = field(default_factory=dict)

    @property
    def proved(self) -> bool:
        return bool(self.identities) and all(self.identities.values())

    def latex(self) -> str:
        return sympy.latex(self.energy)


def _couplings(n: int, name: str) -> sympy.Matrix:
    matrix = sympy.zeros(n, n)
    for i, j in itertools.combinations(range(n), 2):
        symbol = sympy.Symbol(f"{name}_{i + 1}{j + 1}", real=True)
        matrix[i, j] = matrix[j, i] = symbol
    return matrix


def derive_energy(family: str, n: int = 3) -> EnergyDerivation:
    r"""Derive the energy of an ``oscillator_ising`` or ``kuramoto`` network of ``n`` oscillators.

    Returns the derivation with ``identities``: ``gradient`` (:math:`\nabla E = -f`),
    ``energy_rate`` (:math:`\dot E = -|f|^2`), ``symmetric_jacobian`` and, for
    ``oscillator_ising``, ``binary_jacobian``.
    """
    t = sympy.Symbol("t", real=True)
    K = sympy.Symbol("K", positive=True)
    if family == "oscillator_ising":
        phases = sympy.symbols(f"phi_1:{n + 1}", real=True)
        J = _couplings(n, "J")
        J_or_a = J
        K_s = sympy.Symbol("K_s", positive=True)
        vector = [-K * sum(J[i, j] * sympy.sin(phases[i] - phases[j]) for j in range(n))
                  - K_s * sympy.sin(2 * phases[i]) for i in range(n)]
    elif family == "kuramoto":
        phases = sympy.symbols(f"theta_1:{n + 1}", real=True)
        a = _couplings(n, "a")
        J_or_a = a
        omega = sympy.symbols(f"omega_1:{n + 1}", real=True)
        vector = [omega[i] - K * sum(a[i, j] * sympy.sin(phases[i] - phases[j]) for j in range(n))
                  for i in range(n)]
    else:
        raise ValueError(f"unknown family {family!r}")

    scaled = {phase: t * phase for phase in phases}
    integrand = sum(f.subs(scaled, simultaneous=True) * phase for f, phase in zip(vector, phases))
    # conds="none" drops the case split at theta_i = theta_j, where the
    # integrand vanishes and the generic antiderivative is still right.
    energy = sympy.expand(-sympy.integrate(sympy.expand(integrand), (t, 0, 1), conds="none"))
    energy = _simplify_by_coupling(energy, [*J_or_a.free_symbols])
    derivation = EnergyDerivation(family, n, list(phases), vector, energy)

    jacobian = sympy.Matrix(vector).jacobian(phases)
    derivation.identities["symmetric_jacobian"] = all(
        _vanishes(entry) for entry in jacobian - jacobian.T)
    derivation.identities["gradient"] = all(
        _vanishes(sympy.diff(energy, phase) + f) for phase, f in zip(phases, vector))
    rate = sum(sympy.diff(energy, phase) * f for phase, f in zip(phases, vector))
    derivation.identities["energy_rate"] = _vanishes(rate + sum(f**2 for f in vector))
    if family == "oscillator_ising":
        derivation.identities["binary_jacobian"] = _check_binary_jacobian(jacobian, phases, J, K,
                                                                          K_s)
    return derivation


def _check_binary_jacobian(jacobian, phases, J, K, K_s) -> bool:
    n = len(phases)
    for spins in itertools.product((1, -1), repeat=n):
        at_state = {phase: (0 if s == 1 else sympy.pi) for phase, s in zip(phases, spins)}
        S = sympy.diag(*spins)
        SJS = S * J * S
        expected = K * (SJS - sympy.diag(*(SJS * sympy.ones(n, 1)))) - 2 * K_s * sympy.eye(n)
        if not all(_vanishes(entry) for entry in jacobian.subs(at_state) - expected):
            return False
    return True


def _simplify_by_coupling(energy, couplings) -> sympy.Expr:
    # Each coupling's coefficient is a small expression such as
    # (theta_1 - theta_2)(1 - cos(theta_1 - theta_2)) / (theta_1 - theta_2);
    # simplifying them one by one is fast, the whole sum at once is not.
    parts = sympy.collect(energy, sorted(couplings, key=str), evaluate=False)
    total = sympy.Integer(0)
    for key, coefficient in parts.items():
        total += key * sympy.simplify(coefficient)
    return total


def _vanishes(expression) -> bool:
    # Expanding sines and cosines of sums and multiples turns every identity
    # here into a polynomial identity in sin(theta_i), cos(theta_i).
    return sympy.expand(sympy.expand_trig(expression)) == 0
