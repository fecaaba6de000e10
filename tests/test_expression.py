"""Tests of the whitelist expression parser."""

import pytest
import sympy as sp

from ctdyn.errors import ExpressionError
from ctdyn.models import parse_expression

x = sp.Symbol("x", real=True)
VARIABLES = {"x": x}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x/(1+abs(x))", x / (1 + sp.Abs(x))),
        ("-tanh(x)", -sp.tanh(x)),
        ("-x**2", -(x**2)),
        ("2**-1 * x", x / 2),
        ("0.1*x", sp.Rational(1, 10) * x),
        ("1e-3 + x", x + sp.Rational(1, 1000)),
        ("max(x, 0.1*x)", sp.Max(x, x / 10)),
        ("sigmoid(x)", 1 / (1 + sp.exp(-x))),
        ("pi*x", sp.pi * x),
        ("  tanh( 2 * x ) ", sp.tanh(2 * x)),
    ],
)
def test_parse_valid_expressions(text, expected):
    assert sp.simplify(parse_expression(text, variables=VARIABLES) - expected) == 0


def test_decimals_are_exact_rationals():
    parsed = parse_expression("0.1", variables=VARIABLES)
    assert parsed == sp.Rational(1, 10)


def test_parameters_are_substituted_exactly():
    parsed = parse_expression("g*x", variables=VARIABLES, parameters={"g": 0.5})
    assert parsed == x / 2


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("__import__('os').system('echo hi')", "Remove the character"),
        ("x.__class__", "Remove the character"),
        ("exec(x)", "not a known"),
        ("eval('1')", "Remove the character"),
        ("lambda: 1", "Remove the character"),
        ("open(x)", "not a known"),
        ("x^2", r"Write powers as '\*\*'"),
        ("x**x", "numeric exponent"),
        ("x**1000", "exponent of magnitude"),
        ("9**9**9", "exponent of magnitude"),
        ("1e999999", "exponent within"),
        ("123456789012345678901234567890123456789012345", "at most 40 digits"),
        ("tanh(x", "balance the parentheses"),
        ("tanh x", "insert"),
        ("x x", "missing operator"),
        ("max(x)", "2 argument"),
        ("", "non-empty"),
        ("y + 1", "not a known"),
        ("(" * 60 + "x" + ")" * 60, "nested levels"),
        ("x" * 1001, "at most 1000 characters"),
    ],
)
def test_reject_outside_whitelist(text, pattern):
    with pytest.raises(ExpressionError, match=pattern):
        parse_expression(text, variables=VARIABLES, field="model.activation")


def test_error_names_the_field():
    with pytest.raises(ExpressionError, match="invalid model.activation"):
        parse_expression("x $ 2", variables=VARIABLES, field="model.activation")


def test_non_string_rejected():
    with pytest.raises(ExpressionError, match="expression string"):
        parse_expression(3.0, variables=VARIABLES)


def test_nan_parameter_rejected():
    with pytest.raises(ExpressionError, match="finite number"):
        parse_expression("g*x", variables=VARIABLES, parameters={"g": float("nan")})
