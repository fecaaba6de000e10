"""Tests of the Hopfield energy, its identity proof and the energy certificate."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import scipy.integrate
import scipy.sparse as sps
from scipy import special
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits

from ctdyn.certify._energy import energy_certificate
from ctdyn.errors import InvalidModelError
from ctdyn.models import (
    MAX_SYMBOLIC_SIZE,
    Activation,
    FiringRateNetwork,
    HopfieldNetwork,
    make_activation,
)
from ctdyn.symbolic import (
    derive_primitive,
    energy_function,
    integrate_primitive,
    prove_energy_identity,
    vanishes,
    weight_asymmetry,
)

# Closed forms agree with lambdified sympy and with quadrature to rounding.
PRIMITIVE_TOLERANCE = 1e-9
# Numeric E, grad E and dE/dt against the lambdified sympy expressions.
SYMPY_TOLERANCE = 1e-10
# Central difference with step 1e-5 has error O(h^2 * |E'''|).
FINITE_DIFFERENCE_STEP = 1e-5
FINITE_DIFFERENCE_TOLERANCE = 1e-6
# Energy may rise along a computed trajectory only by integration error.
INTEGRATION_SLACK = 1e-8

SMALL_WEIGHTS = np.array([[0.0, 0.5, -0.2], [0.5, 0.1, 0.3], [-0.2, 0.3, -0.4]])
SMALL_INPUT = np.array([0.1, -0.2, 0.3])
PROBES = np.array([-40.0, -7.5, -2.0, -1.0, -0.6, -0.1, 0.0, 0.2, 0.9, 1.0, 1.3, 3.0, 12.0, 40.0])
INCREASING_ACTIVATIONS = ["tanh", "sigmoid", "relu", "hardtanh", "softplus", "x/(1+abs(x))"]


def hopfield(activation="tanh", *, leak=(1.0, 2.0, 0.5)):
    return HopfieldNetwork(SMALL_WEIGHTS, input=SMALL_INPUT, activation=activation, leak=leak)


def firing_rate(activation="tanh", *, leak=1.5):
    return FiringRateNetwork(SMALL_WEIGHTS, input=SMALL_INPUT, activation=activation, leak=leak)


def quadrature_primitive(activation, value: float) -> float:
    """G(value) = int_0^value r phi'(r) dr by scipy quad, kinks passed as break points."""
    breaks = [point for point in (-1.0, 0.0, 1.0) if min(0.0, value) < point < max(0.0, value)]
    result, _ = scipy.integrate.quad(
        lambda r: r * activation.derivative(np.array([r]))[0], 0.0, value,
        points=breaks or None, limit=200, epsabs=1e-13, epsrel=1e-13)
    return result


# -- the primitive G ---------------------------------------------------------


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "relu", "hardtanh", "softplus", "identity"])
def test_closed_form_primitive_matches_quadrature(name):
    activation = make_activation(name)
    primitive = derive_primitive(activation)
    assert primitive.method == "closed form"
    for value in PROBES[np.abs(PROBES) <= 12]:
        expected = quadrature_primitive(activation, value)
        assert primitive(np.array([value]))[0] == pytest.approx(
            expected, abs=PRIMITIVE_TOLERANCE * max(1.0, abs(expected)))


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "relu", "hardtanh", "identity"])
def test_sympy_integral_matches_closed_form(name):
    activation = make_activation(name)
    integral = integrate_primitive(activation.expression)
    assert not integral.has(sp.Integral)
    lambdified = sp.lambdify(sp.Symbol("s", real=True), integral, modules=["numpy", "scipy"])
    probes = PROBES[np.abs(PROBES) <= 12]  # log(tanh(s) + 1) loses digits below -12
    with np.errstate(all="ignore"):
        from_sympy = np.asarray(lambdified(probes), dtype=float) * np.ones_like(probes)
    closed_form = derive_primitive(activation)(probes)
    np.testing.assert_allclose(from_sympy, closed_form, rtol=PRIMITIVE_TOLERANCE,
                               atol=PRIMITIVE_TOLERANCE)


def test_tanh_primitive_is_s_tanh_minus_log_cosh():
    s = sp.Symbol("s", real=True)
    integral = integrate_primitive(make_activation("tanh").expression)
    # G(s) = s tanh(s) - log(cosh(s)) for tanh (integration by parts). Two
    # functions with equal derivatives and equal values at 0 are equal.
    difference = integral - (s * sp.tanh(s) - sp.log(sp.cosh(s)))
    assert sp.simplify(difference.subs(s, 0)) == 0
    assert vanishes(sp.diff(difference, s))[0]


def test_softplus_primitive_stays_stable_far_out():
    primitive = derive_primitive(make_activation("softplus"))
    # For large s, G(s) = s^2/2 - pi^2/12 + O(s e^-s) (dilogarithm inversion).
    assert primitive(np.array([40.0]))[0] == pytest.approx(800.0 - np.pi**2 / 12, rel=1e-14)
    # For s -> -inf, G(s) -> int_0^inf t/(1 + e^t) dt = pi^2/12 (eta(2)).
    assert primitive(np.array([-40.0]))[0] == pytest.approx(np.pi**2 / 12, rel=1e-14)


def test_softplus_sympy_integral_is_unevaluated():
    # sympy 1.14 finds no antiderivative of r e^r / (1 + e^r); the primitive
    # keeps an Integral, and its derivative is still the integrand.
    integral = integrate_primitive(make_activation("softplus").expression)
    s = sp.Symbol("s", real=True)
    assert integral.has(sp.Integral)
    assert vanishes(sp.diff(integral, s) - s * sp.exp(s) / (1 + sp.exp(s)))[0]


def test_abs_activation_primitive_is_real_and_even():
    activation = make_activation("x/(1+abs(x))")
    primitive = derive_primitive(activation)
    s = sp.Symbol("s", real=True)
    assert primitive.method == "sympy integral"
    assert not primitive.expression.has(sp.I)
    # int_0^s r/(1+|r|)^2 dr = log(1+|s|) + 1/(1+|s|) - 1 (substitute t = 1 + |r|).
    expected = sp.log(1 + sp.Abs(s)) + 1 / (1 + sp.Abs(s)) - 1
    for value in (-3, -1, sp.Rational(-1, 2), 0, sp.Rational(1, 3), 2):
        assert sp.simplify(primitive.expression.subs(s, value) - expected.subs(s, value)) == 0


@pytest.mark.parametrize("name, breaks", [("hardtanh", (-1, 1)), ("relu", (0,)),
                                          ("x/(1+abs(x))", (0,)), ("max(x, 0.1*x)", (0,))])
def test_piecewise_primitive_is_continuous(name, breaks):
    integral = integrate_primitive(make_activation(name).expression)
    s = sp.Symbol("s", real=True)
    for point in breaks:
        left = sp.limit(integral, s, point, "-")
        right = sp.limit(integral, s, point, "+")
        assert sp.simplify(left - right) == 0


@pytest.mark.parametrize("family", [HopfieldNetwork, FiringRateNetwork])
def test_unevaluated_primitive_uses_quadrature(family):
    # softplus typed as an expression: sympy finds no closed form for G, so
    # the energy keeps an Integral and evaluates G by quadrature.
    x = sp.Symbol("x", real=True)
    activation = Activation("log(1 + exp(x)) as an expression", sp.log(1 + sp.exp(x)),
                            lambda z: np.logaddexp(0.0, z), special.expit)
    network = family(SMALL_WEIGHTS, input=SMALL_INPUT, activation=activation)
    energy = energy_function(network)
    assert energy.primitive.method == "unevaluated integral"
    assert "Integral(" in energy.plain()
    reference = energy_function(family(SMALL_WEIGHTS, input=SMALL_INPUT, activation="softplus"))
    states = np.random.default_rng(13).normal(scale=3.0, size=(5, 3))
    np.testing.assert_allclose(energy.value(states), reference.value(states),
                               atol=PRIMITIVE_TOLERANCE)
    assert prove_energy_identity(network).proved


def test_lambdified_primitive_matches_quadrature():
    activation = make_activation("x/(1+abs(x))")
    primitive = derive_primitive(activation)
    for value in PROBES[np.abs(PROBES) <= 12]:
        expected = quadrature_primitive(activation, value)
        assert primitive(np.array([value]))[0] == pytest.approx(expected, abs=PRIMITIVE_TOLERANCE)


# -- zero tests -----------------------------------------------------------------


def test_vanishes_rejects_nonzero_expressions():
    x = sp.Symbol("x", real=True)
    assert vanishes(sp.tanh(x) - x)[0] is False
    assert vanishes(sp.Piecewise((0, x < 0), (x, True)) - x)[0] is False


def test_vanishes_needs_more_than_cancel_for_hyperbolic_forms():
    x = sp.Symbol("x", real=True)
    zero, method = vanishes(sp.sinh(x) / sp.cosh(x) - sp.tanh(x))
    assert zero
    assert method != "cancel"


def test_gradient_identity_fails_with_wrong_primitive():
    # G(s) = s^2/2 is the primitive for the identity activation, not for
    # tanh; the Hopfield identity must then not be shown.
    x0, x1, w01 = sp.symbols("x0 x1 w01", real=True)
    energy = -w01 * sp.tanh(x0) * sp.tanh(x1) + x0**2 / 2 + x1**2 / 2
    flow0 = -x0 + w01 * sp.tanh(x1)
    zero, _ = vanishes(sp.diff(energy, x0) + (1 - sp.tanh(x0) ** 2) * flow0)
    assert zero is False


# -- identity proof -------------------------------------------------------------


@pytest.mark.parametrize("name", INCREASING_ACTIVATIONS)
@pytest.mark.parametrize("build", [hopfield, firing_rate], ids=["hopfield", "firing_rate"])
def test_identity_proved(name, build):
    proof = prove_energy_identity(build(name))
    assert proof.proved, [step for step, shown in zip(proof.steps, proof.shown) if not shown]
    assert any(step.startswith("user network") for step in proof.steps)
    assert any(step.startswith("generic 3-neuron") for step in proof.steps)


def test_firing_rate_proof_steps():
    proof = prove_energy_identity(firing_rate("tanh"))
    assert sum("W f(x)" in step for step in proof.steps) >= 3
    assert sum("chain rule" in step for step in proof.steps) == 3


def test_identity_proof_rejects_asymmetric_weights():
    weights = SMALL_WEIGHTS.copy()
    weights[0, 2] = 0.4
    with pytest.raises(InvalidModelError, match="symmetric"):
        prove_energy_identity(HopfieldNetwork(weights))


# -- energy function: sympy forms -------------------------------------------------


def lambdify_states(energy, expression):
    function = sp.lambdify(list(energy.symbols), expression, modules=["numpy", "scipy"])

    def evaluate(*state):
        # numpy's select evaluates every Piecewise branch, including log of
        # negative numbers on the branch that is not taken.
        with np.errstate(invalid="ignore"):
            return function(*state)

    return evaluate


@pytest.mark.parametrize("build", [hopfield, firing_rate], ids=["hopfield", "firing_rate"])
@pytest.mark.parametrize("name", ["tanh", "hardtanh", "x/(1+abs(x))"])
def test_numeric_values_match_sympy(build, name):
    energy = energy_function(build(name))
    states = np.random.default_rng(3).normal(scale=1.5, size=(6, 3))
    value = lambdify_states(energy, energy.expression)
    time_derivative = lambdify_states(energy, energy.time_derivative)
    gradient = lambdify_states(energy, energy.gradient)
    for state in states:
        assert energy.value(state) == pytest.approx(value(*state), abs=SYMPY_TOLERANCE)
        assert energy.time_derivative_value(state) == pytest.approx(time_derivative(*state),
                                                                    abs=SYMPY_TOLERANCE)
        np.testing.assert_allclose(energy.gradient_value(state),
                                   np.ravel(gradient(*state)), atol=SYMPY_TOLERANCE)


# sigmoid(W x + u) would put exp of every linear form into one denominator,
# which sympy's cancel takes minutes over; tanh keeps it fast.
@pytest.mark.parametrize("build, name", [(hopfield, "sigmoid"), (firing_rate, "tanh")],
                         ids=["hopfield", "firing_rate"])
def test_gradient_is_derivative_of_expression(build, name):
    energy = energy_function(build(name))
    states = energy.symbols
    for index, state in enumerate(states):
        assert vanishes(sp.diff(energy.expression, state) - energy.gradient[index])[0]


@pytest.mark.parametrize("build", [hopfield, firing_rate], ids=["hopfield", "firing_rate"])
def test_structured_form_expands_to_expression(build):
    network = build("tanh")
    energy = energy_function(network)
    expanded = expand_structured(energy, energy.structured_energy, network)
    assert vanishes(expanded - energy.expression)[0]
    expanded_rate = expand_structured(energy, energy.structured_time_derivative, network)
    assert vanishes(expanded_rate - energy.time_derivative)[0]


def expand_structured(energy, expression, network):
    """Substitute phi, phi', G, the weights and the states into a structured form."""
    definitions = energy.definitions
    expression = expression.replace(sp.Function("phi"), definitions["phi"])
    expression = expression.replace(sp.Function("G"), definitions["G"])
    expression = expression.replace(lambda node: type(node).__name__ == "PhiPrime",
                                    lambda node: definitions["phi'"](node.args[0]))
    expression = expression.doit()
    n = network.n
    weights = sp.IndexedBase("W")
    inputs = sp.IndexedBase("u")
    states = sp.IndexedBase("x")
    values = {}
    for row in range(n):
        values[inputs[row]] = sp.Rational(repr(float(network.input[row])))
        values[sp.IndexedBase("c")[row]] = sp.Rational(repr(float(network.leak[row])))
        values[states[row]] = energy.symbols[row]
        for column in range(n):
            values[weights[row, column]] = sp.Rational(repr(float(network.weights[row, column])))
    values[sp.Symbol("c", positive=True)] = sp.Rational(repr(float(network.leak[0])))
    if isinstance(network, FiringRateNetwork):
        preactivation = network_preactivation(network, energy.symbols)
        for row in range(n):
            values[sp.IndexedBase("z")[row]] = preactivation[row]
    return expression.xreplace(values)


def network_preactivation(network, states):
    weights = sp.Matrix(network.n, network.n,
                        lambda row, column: sp.Rational(repr(float(network.weights[row, column]))))
    inputs = sp.Matrix([sp.Rational(repr(float(value))) for value in network.input])
    return weights * states + inputs


def test_plain_and_latex_name_every_part():
    energy = energy_function(hopfield("tanh"))
    text = energy.plain()
    assert text.startswith("E(x) = ")
    assert "dE/dx2 = " in text
    assert "dE/dt = " in text
    assert "G(s) = s*tanh(s) - log(cosh(s))" in text
    latex = energy.latex()
    assert latex.startswith("\\begin{aligned}")
    assert r"\frac{dE}{dt}" in latex
    assert r"\tanh" in latex


def test_firing_rate_plain_defines_preactivation():
    text = energy_function(firing_rate("relu")).plain()
    assert "z0 = " in text
    assert "c = 3/2" in text
    structured = energy_function(firing_rate("relu")).plain(structured=True)
    assert "z = W x + u" in structured


# -- energy function: numeric ------------------------------------------------------


@pytest.mark.parametrize("build", [hopfield, firing_rate], ids=["hopfield", "firing_rate"])
def test_time_derivative_matches_directional_difference(build):
    network = build("softplus")
    energy = energy_function(network)
    states = np.random.default_rng(5).normal(size=(5, 3))
    flows = network.vector_field(states)
    step = FINITE_DIFFERENCE_STEP
    difference = (energy.value(states + step * flows) - energy.value(states - step * flows)) / (2 * step)
    np.testing.assert_allclose(energy.time_derivative_value(states), difference,
                               atol=FINITE_DIFFERENCE_TOLERANCE)


def test_firing_rate_energy_is_hopfield_energy_of_preactivation():
    network = firing_rate("tanh", leak=1.5)
    # z = W x + u obeys z' = -c z + W phi(z) + c u.
    partner = HopfieldNetwork(SMALL_WEIGHTS, input=1.5 * SMALL_INPUT, activation="tanh", leak=1.5)
    states = np.random.default_rng(7).normal(size=(4, 3))
    preactivations = states @ SMALL_WEIGHTS.T + SMALL_INPUT
    np.testing.assert_allclose(energy_function(network).value(states),
                               energy_function(partner).value(preactivations), rtol=1e-13)
    np.testing.assert_allclose(network.vector_field(states) @ SMALL_WEIGHTS.T,
                               partner.vector_field(preactivations), atol=1e-13)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(2, 6),
       name=st.sampled_from(["tanh", "sigmoid", "relu"]))
def test_time_derivative_nonpositive_for_symmetric_weights(seed, size, name):
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(size, size))
    network = HopfieldNetwork((matrix + matrix.T) / 2, input=rng.normal(size=size),
                              activation=name, leak=rng.uniform(0.2, 3.0, size=size))
    energy = energy_function(network)
    states = rng.normal(scale=3.0, size=(20, size))
    assert np.all(energy.time_derivative_value(states) <= 0.0)


def test_values_accept_one_state_or_batch():
    energy = energy_function(hopfield("tanh"))
    state = np.array([0.3, -0.1, 0.8])
    assert isinstance(energy.value(state), float)
    assert energy.value(state[None, :]).shape == (1,)
    with pytest.raises(InvalidModelError, match="shape"):
        energy.value(np.zeros(4))


# -- Hebbian memory network on handwritten digits ---------------------------------


@pytest.fixture(scope="module")
def hebbian_network():
    digits = load_digits()
    # One image each of 0, 1 and 7, binarized at half the pixel range 0..16.
    patterns = np.array([np.where(digits.images[np.flatnonzero(digits.target == label)[0]] > 8,
                                  1.0, -1.0).ravel() for label in (0, 1, 7)])
    n = patterns.shape[1]
    weights = patterns.T @ patterns / n
    np.fill_diagonal(weights, 0.0)
    return HopfieldNetwork(weights, activation="tanh"), patterns


def test_hebbian_network_certified(hebbian_network):
    network, _ = hebbian_network
    certificate = energy_certificate(network)
    assert certificate.status == "certified"
    assert certificate.checked == "exact"
    assert certificate.margin == 0.0
    assert "non-strict" in certificate.details["inequality"]
    assert certificate.evidence["energy"].startswith("E(x) = ")
    assert "Sum(" in certificate.evidence["energy"]  # n = 64 > MAX_SYMBOLIC_SIZE
    assert all(certificate.evidence["identity_shown"])
    json.dumps(certificate.to_dict())


def test_hebbian_energy_decreases_along_trajectory(hebbian_network):
    network, patterns = hebbian_network
    energy = energy_function(network)
    rng = np.random.default_rng(11)
    flips = np.where(rng.random(network.n) < 0.2, -1.0, 1.0)
    x0 = 2.0 * patterns[0] * flips
    solution = scipy.integrate.solve_ivp(lambda t, x: network.vector_field(x), (0.0, 10.0), x0,
                                         rtol=1e-10, atol=1e-12, dense_output=True)
    assert solution.success
    times = np.linspace(0.0, 10.0, 201)
    values = energy.value(solution.sol(times).T)
    assert np.all(np.diff(values) <= INTEGRATION_SLACK)
    assert values[-1] < values[0] - 1.0  # it really moves downhill

    # dE/dt from the formula against a central difference of E along the computed path.
    step = 1e-4
    inner = times[1:-1:20]
    difference = (energy.value(solution.sol(inner + step).T)
                  - energy.value(solution.sol(inner - step).T)) / (2 * step)
    np.testing.assert_allclose(energy.time_derivative_value(solution.sol(inner).T), difference,
                               rtol=1e-5, atol=1e-6)


# -- certificate ----------------------------------------------------------------------


@pytest.mark.parametrize("build", [hopfield, firing_rate], ids=["hopfield", "firing_rate"])
def test_decreasing_activation_refuted(build):
    network = build("-tanh(x)")
    certificate = energy_certificate(network)
    assert certificate.status == "refuted"
    assert certificate.checked == "float"
    state = np.array(certificate.witness["state"])
    assert certificate.witness["time_derivative"] > 0
    assert energy_function(network).time_derivative_value(state) > 0


def test_asymmetric_weights_inconclusive():
    weights = SMALL_WEIGHTS.copy()
    weights[0, 2] = 0.4  # |w_02 - w_20| = |0.4 - (-0.2)| = 0.6
    certificate = energy_certificate(HopfieldNetwork(weights))
    assert certificate.status == "inconclusive"
    assert "symmetric" in certificate.reason
    assert "0.6" in certificate.reason
    assert "(0, 2)" in certificate.reason
    with pytest.raises(InvalidModelError, match="symmetric"):
        energy_function(HopfieldNetwork(weights))


def test_sparse_asymmetry_located():
    weights = sps.csr_array(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 2.0], [0.0, -0.5, 0.0]]))
    assert weight_asymmetry(HopfieldNetwork(weights)) == (2.5, 1, 2)


def test_non_uniform_leak_firing_rate_inconclusive():
    network = FiringRateNetwork(SMALL_WEIGHTS, leak=[1.0, 2.0, 1.0])
    certificate = energy_certificate(network)
    assert certificate.status == "inconclusive"
    assert "uniform leak" in certificate.reason
    with pytest.raises(InvalidModelError, match="leak"):
        energy_function(network)


def test_non_uniform_leak_hopfield_certified():
    certificate = energy_certificate(hopfield("sigmoid", leak=(1.0, 2.0, 0.5)))
    assert certificate.status == "certified"


# -- large networks -------------------------------------------------------------------


@pytest.fixture(scope="module")
def large_network():
    n = 10_000
    matrix = sps.random(n, n, density=5 / n, random_state=np.random.default_rng(2), format="csr")
    return HopfieldNetwork((matrix + matrix.T) / 2, input=0.1, activation="tanh")


def test_large_network_value_and_plain(large_network):
    start = time.perf_counter()
    energy = energy_function(large_network)
    states = np.random.default_rng(4).normal(size=(4, large_network.n))
    values = energy.value(states)
    rates = energy.time_derivative_value(states)
    text = energy.plain()
    elapsed = time.perf_counter() - start
    assert values.shape == (4,)
    assert np.all(np.isfinite(values))
    assert np.all(rates <= 0)
    assert "9999" in text
    assert "Sum(" in text
    assert elapsed < 5.0
    with pytest.raises(InvalidModelError, match=str(MAX_SYMBOLIC_SIZE)):
        energy.expression


def test_large_network_certified(large_network):
    certificate = energy_certificate(large_network)
    assert certificate.status == "certified"
    assert any("not expanded" in step for step in certificate.evidence["identity_steps"])
