r"""Whitelist parser from expression strings to sympy expressions.

Model files carry activations such as ``"x/(1+abs(x))"``. Those strings are
data: this module tokenizes them and builds the sympy tree node by node, so
only numbers, the allowed variable names, ``+ - * / **``, parentheses and the
functions in :data:`FUNCTIONS` can appear. Nothing here calls ``eval``,
``exec``, ``sympify`` or ``parse_expr``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy as sp

from ..errors import ExpressionError

__all__ = ["parse_expression", "FUNCTIONS", "MAX_EXPRESSION_LENGTH"]

MAX_EXPRESSION_LENGTH = 1000
MAX_NESTING_DEPTH = 40
# Larger exponents make sympy expand huge polynomials or integers.
MAX_ABS_EXPONENT = 64


def _sigmoid(arg: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-arg))


def _softplus(arg: sp.Expr) -> sp.Expr:
    return sp.log(1 + sp.exp(arg))


def _relu(arg: sp.Expr) -> sp.Expr:
    return sp.Piecewise((0, arg < 0), (arg, True))


# Name in the expression string -> (number of arguments, sympy constructor).
FUNCTIONS: Mapping[str, tuple[int, Callable[..., sp.Expr]]] = {
    "exp": (1, sp.exp),
    "log": (1, sp.log),
    "sqrt": (1, sp.sqrt),
    "abs": (1, sp.Abs),
    "tanh": (1, sp.tanh),
    "sinh": (1, sp.sinh),
    "cosh": (1, sp.cosh),
    "sin": (1, sp.sin),
    "cos": (1, sp.cos),
    "atan": (1, sp.atan),
    "arctan": (1, sp.atan),
    "erf": (1, sp.erf),
    "sigmoid": (1, _sigmoid),
    "logistic": (1, _sigmoid),
    "softplus": (1, _softplus),
    "relu": (1, _relu),
    "max": (2, sp.Max),
    "min": (2, sp.Min),
}

CONSTANTS: Mapping[str, sp.Expr] = {"pi": sp.pi, "e": sp.E}

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<power>\*\*)
  | (?P<op>[-+*/(),])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokenize(text: str, field: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            character = text[position]
            hint = " Write powers as '**', not '^'." if character == "^" else ""
            raise ExpressionError(
                field,
                "numbers, variable names, + - * / ** ( ) and whitelisted functions",
                text,
                f"Remove the character {character!r} at position {position}.{hint}",
            )
        kind = match.lastgroup
        if kind != "space":
            tokens.append(_Token(kind, match.group(), position))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive-descent parser; precedence: + - < * / < unary - < **."""

    def __init__(self, text: str, field: str, variables: Mapping[str, sp.Symbol],
                 parameters: Mapping[str, sp.Expr]):
        self.text = text
        self.field = field
        self.variables = variables
        self.parameters = parameters
        self.tokens = _tokenize(text, field)
        self.index = 0
        self.depth = 0

    def fail(self, token: _Token, expected: str, fix: str) -> None:
        raise ExpressionError(
            self.field, expected, self.text,
            f"Problem at position {token.position} ({token.text or 'end of text'!r}): {fix}",
        )

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            self.fail(token, f"{text!r}", f"insert {text!r} or balance the parentheses.")

    def parse(self) -> sp.Expr:
        result = self.sum()
        token = self.peek()
        if token.kind != "end":
            self.fail(token, "an operator or the end of the expression",
                      "check for a missing operator between terms.")
        return result

    def descend(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING_DEPTH:
            self.fail(self.peek(), f"at most {MAX_NESTING_DEPTH} nested levels",
                      "simplify the expression.")

    def sum(self) -> sp.Expr:
        result = self.product()
        while self.peek().text in ("+", "-"):
            operator = self.take().text
            right = self.product()
            result = result + right if operator == "+" else result - right
        return result

    def product(self) -> sp.Expr:
        result = self.unary()
        while self.peek().text in ("*", "/"):
            operator = self.take().text
            right = self.unary()
            result = result * right if operator == "*" else result / right
        return result

    def unary(self) -> sp.Expr:
        if self.peek().text in ("+", "-"):
            operator = self.take().text
            self.descend()
            operand = self.unary()
            self.depth -= 1
            return -operand if operator == "-" else operand
        return self.power()

    def power(self) -> sp.Expr:
        base = self.atom()
        if self.peek().kind != "power":
            return base
        token = self.take()
        self.descend()
        exponent = self.unary()
        self.depth -= 1
        if not exponent.is_number:
            self.fail(token, "a numeric exponent",
                      "exponents must be numbers, for example x**2 or x**0.5.")
        if abs(float(exponent)) > MAX_ABS_EXPONENT:
            self.fail(token, f"an exponent of magnitude at most {MAX_ABS_EXPONENT}",
                      "use exp() or a smaller power.")
        return base**exponent

    def atom(self) -> sp.Expr:
        token = self.take()
        if token.kind == "number":
            return self.number(token)
        if token.text == "(":
            self.descend()
            inner = self.sum()
            self.depth -= 1
            self.expect(")")
            return inner
        if token.kind == "name":
            return self.name(token)
        self.fail(token, "a number, a name, a function call or '('",
                  "complete the expression.")
        raise AssertionError("unreachable")

    def number(self, token: _Token) -> sp.Expr:
        mantissa, _, exponent = token.text.lower().partition("e")
        digits = len(mantissa.replace(".", "").lstrip("0"))
        if (exponent and abs(int(exponent)) > 300) or digits > 40:
            self.fail(token, "a number of at most 40 digits with an exponent within +-300",
                      "write the number with fewer digits.")
        # Decimal text becomes an exact rational: "0.1" is 1/10, not a float.
        value = sp.Rational(token.text)
        if abs(value) > sp.Integer(10) ** 300:
            self.fail(token, "a number of magnitude at most 1e300", "use a smaller number.")
        return value

    def name(self, token: _Token) -> sp.Expr:
        if token.text in self.variables:
            return self.variables[token.text]
        if token.text in self.parameters:
            return self.parameters[token.text]
        if token.text in CONSTANTS:
            return CONSTANTS[token.text]
        if token.text in FUNCTIONS:
            return self.call(token)
        allowed = sorted([*self.variables, *self.parameters, *CONSTANTS, *FUNCTIONS])
        self.fail(token, "one of: " + ", ".join(allowed),
                  f"{token.text!r} is not a known variable, parameter or function.")
        raise AssertionError("unreachable")

    def call(self, token: _Token) -> sp.Expr:
        arity, constructor = FUNCTIONS[token.text]
        self.expect("(")
        self.descend()
        arguments = [self.sum()]
        while self.peek().text == ",":
            self.take()
            arguments.append(self.sum())
        self.depth -= 1
        self.expect(")")
        if len(arguments) != arity:
            self.fail(token, f"{arity} argument(s) for {token.text}",
                      f"call {token.text} with {arity} argument(s).")
        return constructor(*arguments)


def parse_expression(
    text: str,
    *,
    variables: Mapping[str, sp.Symbol],
    parameters: Mapping[str, float | int | sp.Expr] | None = None,
    field: str = "expression",
) -> sp.Expr:
    r"""Parse an expression string into a sympy expression, by whitelist.

    Parameters
    ----------
    text : str
        The expression, for example ``"x/(1+abs(x))"`` or ``"-tanh(2*x)"``.
    variables : mapping of str to sympy.Symbol
        Names allowed as free symbols.
    parameters : mapping of str to number, optional
        Names replaced by their numeric value. Floats enter as exact
        rationals, so the parsed expression means the float the user gave.
    field : str
        Name of the field, used in error messages.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ExpressionError
        On any character, name or construct outside the whitelist, on more
        than :data:`MAX_EXPRESSION_LENGTH` characters, on nesting deeper than
        40 levels and on non-numeric or huge exponents.
    """
    if not isinstance(text, str):
        raise ExpressionError(field, "an expression string", text,
                              "Write the expression in quotes, for example \"tanh(x)\".")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(field, f"at most {MAX_EXPRESSION_LENGTH} characters",
                              f"{len(text)} characters", "Shorten the expression.")
    if not text.strip():
        raise ExpressionError(field, "a non-empty expression", text,
                              "Give an expression in x such as \"tanh(x)\".")
    exact_parameters = {name: _exact_number(value, field, name)
                        for name, value in (parameters or {}).items()}
    return _Parser(text, field, variables, exact_parameters).parse()


def _exact_number(value: float | int | sp.Expr, field: str, name: str) -> sp.Expr:
    if isinstance(value, sp.Expr) and value.is_number:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"{field} parameter {name}", "a finite number", value,
                              "Give the parameter a numeric value.")
    if isinstance(value, float) and not (value == value and abs(value) != float("inf")):
        raise ExpressionError(f"{field} parameter {name}", "a finite number", value,
                              "Replace NaN or infinity by a finite value.")
    return sp.Rational(value)
