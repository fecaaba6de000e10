r"""Zero tests of sympy expressions for the energy proofs."""

from __future__ import annotations

import sympy as sp

__all__ = ["vanishes"]


def vanishes(expression: sp.Expr) -> tuple[bool, str]:
    r"""Decide whether an expression is identically zero; return the deciding step.

    ``cancel`` comes first. It puts the expression over one denominator and
    treats ``tanh(x0)`` and the like as independent generators, so it never
    reports a false zero. ``expand`` alone reports false non-zeros on
    rational functions. ``cancel`` leaves ``Piecewise`` objects alone, so
    each distinct one is first replaced by a fresh symbol, which is sound:
    a rational function that is zero in free symbols stays zero at any
    values. What remains (typically ``sinh/cosh - tanh`` or two Piecewise
    forms of one function of a single variable) goes through
    ``expand_func``, a rewrite in ``exp``, a Piecewise fold checked branch by
    branch, and finally ``simplify``.

    Returns
    -------
    (bool, str)
        Whether zero was shown, and the name of the step that showed it.
        ``False`` means "not shown", not "shown non-zero".
    """
    generators = {piece: sp.Dummy(f"piece{index}")
                  for index, piece in enumerate(expression.atoms(sp.Piecewise))}
    remainder = sp.cancel(expression.xreplace(generators))
    if remainder == 0:
        return True, "cancel"
    remainder = remainder.xreplace({symbol: piece for piece, symbol in generators.items()})
    if remainder.has(sp.Piecewise):
        return _piecewise_vanishes(remainder)
    return _smooth_vanishes(remainder)


def _smooth_vanishes(expression: sp.Expr) -> tuple[bool, str]:
    if sp.cancel(sp.expand_func(expression)) == 0:
        return True, "expand_func"
    if sp.cancel(expression.rewrite(sp.exp)) == 0:
        return True, "rewrite as exp"
    if sp.simplify(expression) == 0:
        return True, "simplify"
    return False, "not shown by cancel or simplify"


def _piecewise_vanishes(expression: sp.Expr) -> tuple[bool, str]:
    folded = sp.piecewise_fold(expression)
    if not isinstance(folded, sp.Piecewise):
        return _smooth_vanishes(folded)
    for branch, condition in folded.args:
        if _is_unsatisfiable(condition):
            continue
        zero, step = vanishes(branch)
        if not zero:
            return False, f"branch {condition} not shown zero ({step})"
    return True, "piecewise_fold"


def _is_unsatisfiable(condition) -> bool:
    if condition == sp.false:
        return True
    if len(condition.free_symbols) != 1:
        return False  # multivariate: check the branch rather than guess
    try:
        return condition.as_set() == sp.S.EmptySet
    except (NotImplementedError, TypeError, ValueError):
        return False
