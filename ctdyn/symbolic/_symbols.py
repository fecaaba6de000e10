r"""The sympy symbols and undefined functions that the energy derivations share."""

from __future__ import annotations

import sympy as sp

__all__ = ["X", "S", "PHI", "G_FUNCTION", "PhiPrime", "as_piecewise"]

# The activation's variable (equal to ctdyn.models' symbol: same name and
# assumptions) and the argument of the primitive G.
X = sp.Symbol("x", real=True)
S = sp.Symbol("s", real=True)


def as_piecewise(expression: sp.Expr) -> sp.Expr:
    """Rewrite Abs, Max, Min, sign and Heaviside as one folded Piecewise."""
    if expression.has(sp.Abs, sp.Max, sp.Min, sp.Heaviside, sp.sign, sp.Piecewise):
        return sp.piecewise_fold(expression.rewrite(sp.Piecewise))
    return expression


class PhiPrime(sp.Function):
    r"""The activation slope :math:`\phi'` as an undefined function, for printing."""

    def _sympystr(self, printer):
        return f"phi'({printer._print(self.args[0])})"

    def _latex(self, printer, exp=None):
        base = rf"\phi'\left({printer._print(self.args[0])}\right)"
        return base if exp is None else rf"{base}^{{{exp}}}"


PHI = sp.Function("phi")
G_FUNCTION = sp.Function("G")


def _decimal_rational(value: float) -> sp.Rational:
    # The shortest decimal of the float (0.2 as 1/5), as the networks'
    # symbolic methods write their weights.
    return sp.Rational(repr(float(value)))
