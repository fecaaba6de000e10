"""Tests of activations and their sympy-derived slope bounds."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from ctdyn.errors import ExpressionError, InvalidModelError
from ctdyn.models import make_activation

# Slope intervals: sigmoid (0, 1/4]; tanh and hardtanh [0, 1]; relu [0, 1];
# softplus (0, 1); a decreasing -tanh [-1, 0] (closed-form derivatives).
REFERENCE_SLOPES = [
    ("tanh", 0, 1, False, True),
    ("sigmoid", 0, sp.Rational(1, 4), False, True),
    ("logistic", 0, sp.Rational(1, 4), False, True),
    ("relu", 0, 1, True, True),
    ("hardtanh", 0, 1, True, True),
    ("saturated_linear", 0, 1, True, True),
    ("softplus", 0, 1, False, False),
    ("identity", 1, 1, True, True),
    ("x/(1+abs(x))", 0, 1, False, True),
    ("-tanh(x)", -1, 0, True, False),
    ("tanh(0.5*x)", 0, sp.Rational(1, 2), False, True),
    ("sin(x)", -1, 1, True, True),
    ("atan(x)", 0, 1, False, True),
    ("erf(x)", 0, 2 / sp.sqrt(sp.pi), False, True),
    ("max(x, 0.1*x)", sp.Rational(1, 10), 1, True, True),
    ("relu(x) - 2*relu(x-1)", -1, 1, True, True),
]


@pytest.mark.parametrize(("spec", "lower", "upper", "lower_attained", "upper_attained"), REFERENCE_SLOPES)
def test_slope_bounds_reference(spec, lower, upper, lower_attained, upper_attained):
    bounds = make_activation(spec).slope_bounds
    assert sp.simplify(bounds.lower - lower) == 0
    assert sp.simplify(bounds.upper - upper) == 0
    assert bounds.lower_attained is lower_attained
    assert bounds.upper_attained is upper_attained


def test_irrational_bounds_round_outward_and_inward():
    bounds = make_activation("erf(x)").slope_bounds
    exact = 2 / np.sqrt(np.pi)
    outward_low, outward_high = bounds.outward()
    inward_low, inward_high = bounds.inward()
    assert outward_high >= inward_high
    assert float(outward_high) >= exact - 1e-15
    assert float(inward_high) <= exact + 1e-15
    assert outward_low == 0


@pytest.mark.parametrize("spec", ["tanh", "sigmoid", "softplus", "relu", "hardtanh", "identity"])
def test_builtin_numerics_match_sympy(spec):
    activation = make_activation(spec)
    points = np.array([-3.7, -1.2, -0.4, 0.3, 0.9, 2.5])
    symbolic = sp.lambdify(sp.Symbol("x", real=True), activation.expression, "numpy")
    derivative = sp.lambdify(sp.Symbol("x", real=True),
                             sp.diff(activation.expression.rewrite(sp.Piecewise), sp.Symbol("x", real=True)),
                             "numpy")
    np.testing.assert_allclose(activation(points), symbolic(points), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(activation.derivative(points),
                               np.broadcast_to(derivative(points), points.shape), rtol=1e-12, atol=1e-14)


def test_batch_shapes_preserved():
    activation = make_activation("x/(1+abs(x))")
    values = activation(np.zeros((3, 4)))
    assert values.shape == (3, 4)
    assert activation.derivative(np.zeros((3, 4))).shape == (3, 4)


@pytest.mark.parametrize(
    ("spec", "pattern"),
    [
        ("x**3", "bounded slope"),
        ("exp(x)", "bounded slope"),
        ("x*abs(x)", "bounded slope"),
        ("log(x)", "defined and continuous"),
        ("sqrt(x)", "defined and continuous"),
        ("x/abs(x)", "jump"),
        ("x/0", "division by zero"),
        ("tanhh(x)", "not a known"),
        ("3", "expression in x"),
    ],
)
def test_reject_bad_activation(spec, pattern):
    with pytest.raises(ExpressionError, match=pattern):
        make_activation(spec)


def test_reject_non_string_activation():
    with pytest.raises(InvalidModelError, match="built-in name"):
        make_activation(3)


def test_increasing_flag():
    assert make_activation("tanh").is_increasing
    assert not make_activation("-tanh(x)").is_increasing


def test_slope_derivation_has_a_time_limit(monkeypatch):
    # sympy needed 387 s for the slope range of this difference of sigmoids.
    # With the limit lowered to 1 s the activation is rejected with a fix.
    from ctdyn.models import _activation

    monkeypatch.setattr(_activation, "SLOPE_DERIVATION_SECONDS", 1.0)
    monkeypatch.setattr(_activation, "_CACHE", {})
    with pytest.raises(ExpressionError) as caught:
        _activation.make_activation("1/(1+exp(-x))-1/(1+exp(5-x))")
    assert caught.value.field == "activation"
    assert "within 1 s" in str(caught.value)


def test_kinked_activation_with_ambiguous_derivative_is_accepted():
    # sympy's derivative of min(x, 0) + 0.5*max(x, 0) evaluates to 0 at the
    # kink x = 0, outside the true slope interval [1/2, 1]; the one-sided
    # slopes there are 1 and 1/2, so the activation is valid, and evaluation
    # returns a slope inside the interval.
    activation = make_activation("min(x,0)+0.5*max(x,0)")
    assert (activation.slope_bounds.lower, activation.slope_bounds.upper) == (Fraction(1, 2), 1)
    slopes = activation.derivative(np.array([-1.0, 0.0, 1.0]))
    assert slopes[0] == 1.0
    assert slopes[2] == 0.5
    assert 0.5 <= slopes[1] <= 1.0
