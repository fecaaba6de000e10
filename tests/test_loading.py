"""Tests of the TOML model loader, the weights-file readers and examples/."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sps
from hypothesis import given, settings
from hypothesis import strategies as st

from ctdyn.errors import ExpressionError, InvalidModelError, ModelFileError
from ctdyn.models import FiringRateNetwork, HopfieldNetwork
from ctdyn.models._loading import (
    CLAIMS,
    DEFAULT_REQUIRE,
    MAX_WEIGHT_ENTRIES,
    METHODS,
    ModelSpec,
    load_model,
    model_from_dict,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# Closed forms in the example headers are given to 10 digits.
CLOSED_FORM_TOL = 1e-9
MINIMAL_MODEL = """\
[model]
family = "firing_rate"
weights = [[0.2, -0.5], [0.3, 0.1]]
activation = "tanh"
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def base_table(**model_entries) -> dict:
    """Return a valid two-neuron table with ``model_entries`` replacing its entries."""
    model = {"family": "firing_rate", "weights": [[0.2, -0.5], [0.3, 0.1]],
             "activation": "tanh"}
    model.update(model_entries)
    return {"model": model}


def file_model(weights_file: str, family: str = "firing_rate") -> str:
    return (f'[model]\nfamily = "{family}"\nweights_file = "{weights_file}"\n'
            'activation = "tanh"\n')


def metzler_majorant(weights: np.ndarray) -> np.ndarray:
    majorant = np.abs(weights)
    np.fill_diagonal(majorant, np.diag(weights))
    return majorant


def mu_inf(matrix: np.ndarray) -> float:
    return float(np.max(np.diag(matrix) + np.abs(matrix).sum(axis=1) - np.abs(np.diag(matrix))))


def spectral_abscissa(matrix: np.ndarray) -> float:
    return float(np.max(np.linalg.eigvals(matrix).real))


def load_example(name: str) -> ModelSpec:
    return load_model(EXAMPLES / name)


# -- examples/ -----------------------------------------------------------------

EXAMPLE_FILES = {
    "frn_weighted_linf.toml": (FiringRateNetwork, 2, "tanh"),
    "frn_needs_weights.toml": (FiringRateNetwork, 2, "tanh"),
    "frn_symmetric.toml": (FiringRateNetwork, 2, "tanh"),
    "frn_not_contracting.toml": (FiringRateNetwork, 2, "tanh"),
    "frn_sigmoid.toml": (FiringRateNetwork, 2, "sigmoid"),
    "frn_decreasing.toml": (FiringRateNetwork, 2, "-tanh(x)"),
    "frn_sparse.toml": (FiringRateNetwork, 100, "tanh"),
    "hopfield_small.toml": (HopfieldNetwork, 3, "tanh"),
    "digits_memory.toml": (HopfieldNetwork, 64, "tanh(4*x)"),
}


def test_examples_folder_lists_every_toml():
    # Plug-in families test their own examples.
    core = {path.name for path in EXAMPLES.glob("*.toml")
            if re.search(r'^family\s*=\s*"(firing_rate|hopfield)"', path.read_text(), re.M)}
    assert core == set(EXAMPLE_FILES)


@pytest.mark.parametrize("name", sorted(EXAMPLE_FILES))
def test_example_loads(name):
    network_class, n, activation = EXAMPLE_FILES[name]
    spec = load_example(name)
    assert isinstance(spec.network, network_class)
    assert spec.network.n == n
    assert spec.network.activation.name == activation
    assert spec.source == str(EXAMPLES / name)
    assert set(spec.require) <= set(CLAIMS)
    assert spec.methods is None or set(spec.methods) <= set(METHODS)


def test_example_weighted_linf_closed_forms():
    # Reference: closed form in the header of frn_weighted_linf.toml.
    network = load_example("frn_weighted_linf.toml").network
    weights = network.weights
    assert mu_inf(weights) == pytest.approx(0.7, abs=CLOSED_FORM_TOL)
    alpha = spectral_abscissa(metzler_majorant(weights))
    assert 1 - alpha == pytest.approx(0.4594875162, abs=CLOSED_FORM_TOL)
    assert 1 - alpha == pytest.approx(1 - (0.3 + math.sqrt(0.61)) / 2, abs=1e-14)
    jacobian = -np.eye(2) + np.diag([1.0, 0.0]) @ weights
    assert spectral_abscissa(jacobian) == pytest.approx(-0.8, abs=1e-14)
    # Reference: 30-digit mpmath.findroot, as stated in the example header.
    equilibrium = np.array([0.7594894867, -0.6862193841])
    assert np.max(np.abs(network.vector_field(equilibrium))) < CLOSED_FORM_TOL


def test_example_needs_weights_closed_forms():
    # Reference: closed form in the header of frn_needs_weights.toml.
    network = load_example("frn_needs_weights.toml").network
    weights = network.weights
    assert mu_inf(weights) == 2.0
    majorant = metzler_majorant(weights)
    alpha = spectral_abscissa(majorant)
    assert 1 - alpha == pytest.approx(0.5527864045, abs=CLOSED_FORM_TOL)
    perron = np.array([math.sqrt(20.0), 1.0])
    np.testing.assert_allclose(majorant @ perron, alpha * perron, atol=1e-12)
    np.testing.assert_array_equal(network.input, [0.0, 0.0])


def test_example_symmetric_closed_forms():
    # Reference: closed form in the header of frn_symmetric.toml.
    network = load_example("frn_symmetric.toml").network
    weights = network.weights
    assert network.is_symmetric
    lambda_max = float(np.linalg.eigvalsh(weights)[-1])
    assert 1 - lambda_max == pytest.approx(0.4291796068, abs=CLOSED_FORM_TOL)
    assert spectral_abscissa(metzler_majorant(weights)) == pytest.approx(lambda_max, abs=1e-14)
    transposed_majorant = np.array([[0.2, 0.6], [0.6, 0.0]])
    assert 1 - spectral_abscissa(transposed_majorant) == pytest.approx(0.2917, abs=5e-5)


def test_example_not_contracting_has_zero_eigenvalue():
    # Reference: closed form in the header of frn_not_contracting.toml.
    network = load_example("frn_not_contracting.toml").network
    np.testing.assert_array_equal(network.vector_field(np.zeros(2)), [0.0, 0.0])
    eigenvalues = np.linalg.eigvalsh(network.jacobian(np.zeros(2)))
    np.testing.assert_allclose(eigenvalues, [-1.0, 0.0], atol=1e-15)


def test_example_sigmoid_closed_forms():
    # Reference: closed form in the header of frn_sigmoid.toml.
    network = load_example("frn_sigmoid.toml").network
    bounds = network.activation.slope_bounds
    assert bounds.outward() == (0, 0.25)
    assert mu_inf(network.weights) == 3.0
    majorant = metzler_majorant(network.weights)
    assert spectral_abscissa(majorant) == pytest.approx(2.5, abs=1e-14)
    np.testing.assert_allclose(majorant @ [4.0, 3.0], [10.0, 7.5], atol=1e-14)


def test_example_decreasing_closed_forms():
    # Reference: closed form in the header of frn_decreasing.toml.
    network = load_example("frn_decreasing.toml").network
    assert network.activation.slope_bounds.outward() == (-1, 0)
    weights = network.weights
    off_diagonal = np.abs(weights).sum(axis=1) - np.abs(np.diag(weights))
    np.testing.assert_allclose(-np.diag(weights) + off_diagonal, [-0.3, -0.3], atol=1e-15)
    assert mu_inf(weights) == pytest.approx(0.9, abs=1e-15)


def test_example_hopfield_small_closed_forms():
    # Reference: closed form in the header of hopfield_small.toml.
    network = load_example("hopfield_small.toml").network
    assert network.is_symmetric
    assert network.activation.is_increasing
    np.testing.assert_allclose(np.abs(network.weights).sum(axis=1), [0.8, 0.9, 0.7], atol=1e-15)
    np.testing.assert_allclose(np.linalg.eigvalsh(network.weights),
                               [-0.8055810, 0.2875543, 0.5180268], atol=5e-8)


def test_example_sparse_ring_matches_header():
    # Reference: the construction and closed forms in the header of frn_sparse.toml.
    network = load_example("frn_sparse.toml").network
    assert isinstance(network.weights, sps.csr_array)
    assert network.weights.nnz == 200
    indices = np.arange(100)
    ring = np.zeros((100, 100))
    ring[indices, (indices + 1) % 100] = 0.4
    ring[indices, (indices - 1) % 100] = 0.4
    np.testing.assert_array_equal(network.dense_weights(), ring)
    np.testing.assert_array_equal(network.input, np.full(100, 0.5))
    assert np.linalg.eigvalsh(ring)[-1] == pytest.approx(0.8, abs=1e-12)


def test_example_digits_weights_match_script():
    # The committed .npy must be what make_digits_weights.py writes today.
    script = EXAMPLES / "make_digits_weights.py"
    module_spec = importlib.util.spec_from_file_location("make_digits_weights", script)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    patterns = module.digit_patterns()
    expected = module.hebbian_weights(patterns)

    network = load_example("digits_memory.toml").network
    np.testing.assert_array_equal(network.weights, expected)
    assert patterns.shape == (4, 64)
    assert set(np.unique(patterns)) == {-1.0, 1.0}
    np.testing.assert_array_equal(np.diag(network.weights), np.zeros(64))
    assert network.is_symmetric
    lambda_max = float(np.linalg.eigvalsh(network.weights)[-1])
    # Reference: closed form in the header of digits_memory.toml.
    assert lambda_max == pytest.approx(2.1025652, abs=5e-8)
    assert -1 + 4 * lambda_max == pytest.approx(7.4102608, abs=5e-8)


# -- defaults and accepted forms ----------------------------------------------


def test_minimal_file_gets_defaults(tmp_path):
    spec = load_model(write(tmp_path / "m.toml", MINIMAL_MODEL))
    assert spec.methods is None
    assert spec.require == DEFAULT_REQUIRE == ()
    assert spec.trajectories == 8
    assert spec.t_final is None
    assert spec.seed == 0
    np.testing.assert_array_equal(spec.network.input, [0.0, 0.0])
    np.testing.assert_array_equal(spec.network.leak, [1.0, 1.0])


def test_full_file_keeps_every_option(tmp_path):
    text = MINIMAL_MODEL + (
        'input = [0.5, -1]\nleak = [2, 0.5]\n'
        '[certify]\nmethods = ["lmi_diagonal", "energy"]\n'
        'require = ["energy_decrease", "local_stability"]\n'
        '[simulate]\ntrajectories = 3\nt_final = 7\nseed = 42\n')
    spec = load_model(write(tmp_path / "m.toml", text))
    assert spec.methods == ("lmi_diagonal", "energy")
    assert spec.require == ("energy_decrease", "local_stability")
    assert spec.trajectories == 3
    assert spec.t_final == 7.0
    assert isinstance(spec.t_final, float)
    assert spec.seed == 42
    np.testing.assert_array_equal(spec.network.input, [0.5, -1.0])
    np.testing.assert_array_equal(spec.network.leak, [2.0, 0.5])


def test_scalar_input_and_leak_broadcast():
    spec = model_from_dict(base_table(input=0.25, leak=3), base_dir=".")
    np.testing.assert_array_equal(spec.network.input, [0.25, 0.25])
    np.testing.assert_array_equal(spec.network.leak, [3.0, 3.0])


def test_integer_weights_become_floats():
    spec = model_from_dict(base_table(weights=[[1, 0], [0, -2]]), base_dir=".")
    assert spec.network.weights.dtype == np.float64
    np.testing.assert_array_equal(spec.network.weights, [[1.0, 0.0], [0.0, -2.0]])


def test_hopfield_family_builds_hopfield_network():
    spec = model_from_dict(base_table(family="hopfield"), base_dir=".")
    assert isinstance(spec.network, HopfieldNetwork)


def test_expression_activation_is_accepted():
    spec = model_from_dict(base_table(activation="x/(1+abs(x))"), base_dir=".")
    assert spec.network.activation.slope_bounds.outward() == (0, 1)


def test_dict_accepts_numpy_and_sparse_weights():
    dense = np.array([[0.0, 0.5], [-0.5, 0.0]])
    spec = model_from_dict(base_table(weights=dense), base_dir=".")
    np.testing.assert_array_equal(spec.network.weights, dense)
    sparse = sps.csr_array(dense)
    spec = model_from_dict(base_table(weights=sparse), base_dir=".", source="api")
    assert spec.network.is_sparse
    assert spec.source == "api"


def test_model_spec_is_frozen():
    spec = model_from_dict(base_table(), base_dir=".")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.seed = 1


def test_claims_match_certificate_module():
    from ctdyn.certify._certificate import CLAIMS as CERTIFICATE_CLAIMS

    assert CLAIMS == CERTIFICATE_CLAIMS


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=4).flatmap(
    lambda n: st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64),
                                min_size=n, max_size=n), min_size=n, max_size=n)))
def test_inline_weights_round_trip_exactly(rows):
    spec = model_from_dict(base_table(weights=rows), base_dir=".")
    np.testing.assert_array_equal(spec.network.weights, np.array(rows, dtype=float))


# -- invalid tables: each error names its field and the fix -------------------

# (table, error class, field, text the fix must contain)
INVALID_TABLES = [
    ({}, ModelFileError, "model", "required entry 'model'"),
    ([1], ModelFileError, "model file", "parsed TOML document"),
    ({"model": 3}, ModelFileError, "model", "[model] table"),
    ({**base_table(), "simulation": {}}, ModelFileError, "simulation", "'simulate'"),
    (base_table(wieghts=[[1.0]]), ModelFileError, "model.wieghts", "'weights'"),
    ({**base_table(), "certify": {"method": ["energy"]}}, ModelFileError, "certify.method",
     "'methods'"),
    ({**base_table(), "simulate": {"tfinal": 3}}, ModelFileError, "simulate.tfinal",
     "'t_final'"),
    ({"model": {"weights": [[1.0]], "activation": "tanh"}}, ModelFileError, "model.family",
     "required entry 'family'"),
    ({"model": {"family": "hopfield", "weights": [[1.0]]}}, ModelFileError, "model.activation",
     "required entry 'activation'"),
    ({"model": {"family": "hopfield", "activation": "tanh"}}, ModelFileError, "model.weights",
     "Add one of the two keys"),
    (base_table(family="hopfeild"), ModelFileError, "model.family", "'hopfield'"),
    (base_table(family=1), ModelFileError, "model.family", "Quote"),
    (base_table(weights_file="W.npy"), ModelFileError, "model.weights_file", "Delete one"),
    (base_table(weights=[]), ModelFileError, "model.weights", "weights = [["),
    (base_table(weights="[[1]]"), ModelFileError, "model.weights", "weights = [["),
    (base_table(weights=[[1.0, 2.0], 3.0]), ModelFileError, r"model.weights\[1\]", "brackets"),
    (base_table(weights=[[1.0, 2.0], [3.0]]), ModelFileError, r"model.weights\[1\]",
     "same length"),
    (base_table(weights=[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), InvalidModelError, "model.weights",
     "n rows of n numbers"),
    (base_table(weights=[[1.0, True], [0.0, 1.0]]), ModelFileError, r"model.weights\[0\]\[1\]",
     "not numbers"),
    (base_table(weights=[[1.0, math.nan], [0.0, 1.0]]), ModelFileError,
     r"model.weights\[0\]\[1\]", "nan or inf"),
    (base_table(weights=[[1.0, 0.0], [-math.inf, 1.0]]), ModelFileError,
     r"model.weights\[1\]\[0\]", "nan or inf"),
    (base_table(weights=[[[1.0]]]), ModelFileError, r"model.weights\[0\]\[0\]", "number"),
    (base_table(weights=[[2**53 + 1, 0], [0, 1]]), ModelFileError, r"model.weights\[0\]\[0\]",
     "as a float"),
    (base_table(weights=[[10**400, 0], [0, 1]]), ModelFileError, r"model.weights\[0\]\[0\]",
     "nan or inf"),
    (base_table(input=[1.0, 2.0, 3.0]), InvalidModelError, "model.input", "Give 2 entries"),
    (base_table(input="0.5"), ModelFileError, "model.input", "number"),
    (base_table(input=True), ModelFileError, "model.input", "not numbers"),
    (base_table(input=[0.0, math.inf]), ModelFileError, r"model.input\[1\]", "nan or inf"),
    (base_table(leak=0.0), InvalidModelError, "model.leak", "positive leak"),
    (base_table(leak=[1.0, -2.0]), InvalidModelError, "model.leak", "positive leak"),
    (base_table(leak=False), ModelFileError, "model.leak", "not numbers"),
    (base_table(leak=math.nan), ModelFileError, "model.leak", "nan or inf"),
    (base_table(activation="tanhh"), ExpressionError, "model.activation", "'tanh'"),
    (base_table(activation="pi"), ExpressionError, "model.activation", "listed names"),
    (base_table(activation="tanh(y)"), ExpressionError, "model.activation", "not a known"),
    (base_table(activation="x**2"), ExpressionError, "model.activation", "Lipschitz"),
    (base_table(activation="exp(x)"), ExpressionError, "model.activation", "Lipschitz"),
    (base_table(activation="__import__('os').system('x')"), ExpressionError,
     "model.activation", "Remove the character"),
    (base_table(activation="x.__class__"), ExpressionError, "model.activation",
     "Remove the character"),
    (base_table(activation="eval(x)"), ExpressionError, "model.activation", "not a known"),
    (base_table(activation=1.0), ModelFileError, "model.activation", "Quote"),
    ({**base_table(), "certify": {"methods": ["log_norm_inf", "lmi_diag"]}}, ModelFileError,
     r"certify.methods\[1\]", "'lmi_diagonal'"),
    ({**base_table(), "certify": {"methods": ["energy", "energy"]}}, ModelFileError,
     r"certify.methods\[1\]", "repeated"),
    ({**base_table(), "certify": {"methods": []}}, ModelFileError, "certify.methods",
     "remove the key"),
    ({**base_table(), "certify": {"methods": "energy"}}, ModelFileError, "certify.methods",
     "remove the key"),
    ({**base_table(), "certify": {"methods": [1]}}, ModelFileError, r"certify.methods\[0\]",
     "Quote"),
    ({**base_table(), "certify": {"require": ["contractivity"]}}, ModelFileError,
     r"certify.require\[0\]", "'contraction'"),
    ({**base_table(), "certify": {"require": ["stability"]}}, ModelFileError,
     r"certify.require\[0\]", "local_stability"),
    ({**base_table(), "simulate": {"trajectories": 0}}, ModelFileError,
     "simulate.trajectories", "range"),
    ({**base_table(), "simulate": {"trajectories": -3}}, ModelFileError,
     "simulate.trajectories", "range"),
    ({**base_table(), "simulate": {"trajectories": 10**7}}, ModelFileError,
     "simulate.trajectories", "range"),
    ({**base_table(), "simulate": {"trajectories": 8.0}}, ModelFileError,
     "simulate.trajectories", "whole number"),
    ({**base_table(), "simulate": {"trajectories": True}}, ModelFileError,
     "simulate.trajectories", "whole number"),
    ({**base_table(), "simulate": {"t_final": 0.0}}, ModelFileError, "simulate.t_final",
     "horizon"),
    ({**base_table(), "simulate": {"t_final": -5}}, ModelFileError, "simulate.t_final",
     "horizon"),
    ({**base_table(), "simulate": {"t_final": math.nan}}, ModelFileError, "simulate.t_final",
     "nan or inf"),
    ({**base_table(), "simulate": {"t_final": math.inf}}, ModelFileError, "simulate.t_final",
     "nan or inf"),
    ({**base_table(), "simulate": {"t_final": True}}, ModelFileError, "simulate.t_final",
     "not numbers"),
    ({**base_table(), "simulate": {"t_final": "20"}}, ModelFileError, "simulate.t_final",
     "not numbers"),
    ({**base_table(), "simulate": {"seed": 1.5}}, ModelFileError, "simulate.seed",
     "whole number"),
    ({**base_table(), "simulate": {"seed": -1}}, ModelFileError, "simulate.seed", "range"),
    ({**base_table(), "simulate": {"seed": False}}, ModelFileError, "simulate.seed",
     "whole number"),
    ({**base_table(), "simulate": 5}, ModelFileError, "simulate", "[simulate] table"),
]


@pytest.mark.parametrize(("table", "error_class", "field", "fix"), INVALID_TABLES,
                         ids=[f"{case[2]}-{index}" for index, case in enumerate(INVALID_TABLES)])
def test_invalid_table_names_field_and_fix(table, error_class, field, fix):
    with pytest.raises(error_class, match=rf"^invalid {field}: expected ") as caught:
        model_from_dict(table, base_dir=".")
    assert re.fullmatch(field, caught.value.field)
    assert fix in caught.value.fix
    assert fix in str(caught.value)


def test_injection_is_not_executed(tmp_path):
    marker = tmp_path / "created_by_injection"
    text = MINIMAL_MODEL.replace(
        'activation = "tanh"', f'activation = "__import__(\'os\').mkdir(\'{marker}\')"')
    with pytest.raises(ExpressionError, match="invalid model.activation"):
        load_model(write(tmp_path / "m.toml", text))
    assert not marker.exists()


# -- model file level ----------------------------------------------------------


def test_toml_syntax_error_names_file_line_and_column(tmp_path):
    path = write(tmp_path / "broken.toml", MINIMAL_MODEL.replace("[0.3, 0.1]", "[0.3 0.1]"))
    with pytest.raises(ModelFileError, match=r"line 3, column \d+") as caught:
        load_model(path)
    assert caught.value.field == str(path)
    assert "Correct the syntax at line 3" in caught.value.fix


def test_toml_nan_value_is_rejected(tmp_path):
    path = write(tmp_path / "m.toml", MINIMAL_MODEL + "input = nan\n")
    with pytest.raises(ModelFileError, match=r"invalid model.input: expected a finite number"):
        load_model(path)


def test_toml_inf_weight_is_rejected(tmp_path):
    path = write(tmp_path / "m.toml", MINIMAL_MODEL.replace("0.1]]", "-inf]]"))
    with pytest.raises(ModelFileError, match=r"invalid model.weights\[1\]\[1\]"):
        load_model(path)


def test_non_utf8_model_file_is_rejected(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(MINIMAL_MODEL.encode() + b'# caf\xe9\n')
    with pytest.raises(ModelFileError, match="expected UTF-8 text") as caught:
        load_model(path)
    assert "Save the file as UTF-8" in caught.value.fix


def test_deeply_nested_toml_is_rejected(tmp_path):
    path = write(tmp_path / "deep.toml", "x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ModelFileError, match=str(path)):
        load_model(path)


def test_missing_model_file_names_path(tmp_path):
    path = tmp_path / "absent.toml"
    with pytest.raises(ModelFileError, match="expected an existing TOML file") as caught:
        load_model(path)
    assert str(path) in str(caught.value)


def test_folder_as_model_file_is_rejected(tmp_path):
    with pytest.raises(ModelFileError, match="is a folder, not a regular file"):
        load_model(tmp_path)


def test_booleans_in_file_are_not_numbers(tmp_path):
    path = write(tmp_path / "m.toml", MINIMAL_MODEL + "[simulate]\ntrajectories = true\n")
    with pytest.raises(ModelFileError, match="invalid simulate.trajectories: expected an integer"):
        load_model(path)


# -- weights files ---------------------------------------------------------------


def model_with_weights_file(tmp_path: Path, weights_file: str) -> Path:
    return write(tmp_path / "model.toml", file_model(weights_file))


def test_npy_weights_resolve_against_model_folder(tmp_path, monkeypatch):
    weights = np.array([[0.25, -1.5], [2.0, 0.0]])
    (tmp_path / "data").mkdir()
    np.save(tmp_path / "data" / "W.npy", weights)
    model = model_with_weights_file(tmp_path, "data/W.npy")
    monkeypatch.chdir(tmp_path / "data")  # the working folder must not matter
    spec = load_model(model)
    np.testing.assert_array_equal(spec.network.weights, weights)
    assert not spec.network.is_sparse


def test_npy_integer_weights_are_accepted(tmp_path):
    np.save(tmp_path / "W.npy", np.array([[1, 2], [3, 4]], dtype=np.int32))
    spec = load_model(model_with_weights_file(tmp_path, "W.npy"))
    np.testing.assert_array_equal(spec.network.weights, [[1.0, 2.0], [3.0, 4.0]])


def test_npy_inexact_integers_are_rejected(tmp_path):
    np.save(tmp_path / "W.npy", np.array([[2**53 + 1, 0], [0, 1]], dtype=np.int64))
    with pytest.raises(ModelFileError, match=r"expected an integer of magnitude at most 2\*\*53.*"
                                             r"received 9007199254740993") as caught:
        load_model(model_with_weights_file(tmp_path, "W.npy"))
    assert f"The file is {tmp_path / 'W.npy'}." in caught.value.fix


def test_npy_object_dtype_is_rejected_without_unpickling(tmp_path):
    marker = tmp_path / "created_by_unpickling"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    malicious = np.empty((2, 2), dtype=object)
    malicious[:] = 0.0
    malicious[0, 0] = Payload()
    np.save(tmp_path / "W.npy", malicious, allow_pickle=True)
    assert not marker.exists()

    with pytest.raises(ModelFileError, match=r"invalid model.weights_file: expected a real "
                                             r"numeric dtype.*dtype object") as caught:
        load_model(model_with_weights_file(tmp_path, "W.npy"))
    assert "never unpickled" in caught.value.fix
    assert f"The file is {tmp_path / 'W.npy'}." in caught.value.fix
    assert not marker.exists()


def test_npy_oversized_header_is_rejected_before_loading(tmp_path):
    path = tmp_path / "W.npy"
    # 2**32 entries, twice the limit. No data follows the header.
    side = 2**16
    assert side * side > MAX_WEIGHT_ENTRIES
    with path.open("wb") as stream:
        np.lib.format.write_array_header_1_0(
            stream, {"descr": "<f8", "fortran_order": False, "shape": (side, side)})
    with pytest.raises(ModelFileError, match=rf"{side * side} entries declared") as caught:
        load_model(model_with_weights_file(tmp_path, "W.npy"))
    assert "smaller network" in caught.value.fix


@pytest.mark.parametrize(("array", "message"), [
    (np.eye(2, dtype=complex), "expected a real numeric dtype"),
    (np.eye(2, dtype=bool), "expected a real numeric dtype"),
    (np.zeros((2, 3)), r"expected a non-empty square matrix \(n x n\), received 'shape \(2, 3\)"),
    (np.zeros(4), r"expected a non-empty square matrix.*received 'shape \(4,\)"),
    (np.zeros((0, 0)), r"expected a non-empty square matrix.*received 'shape \(0, 0\)"),
    (np.array([[0.0, np.nan], [1.0, 0.0]]), "expected finite numbers"),
])
def test_npy_invalid_arrays_are_rejected(tmp_path, array, message):
    np.save(tmp_path / "W.npy", array)
    with pytest.raises(InvalidModelError, match=rf"invalid model.weights_file: {message}"):
        load_model(model_with_weights_file(tmp_path, "W.npy"))


def test_npy_truncated_file_is_rejected(tmp_path):
    path = tmp_path / "W.npy"
    np.save(path, np.ones((8, 8)))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match="expected 640 bytes|expected .* bytes for shape"):
        load_model(model_with_weights_file(tmp_path, "W.npy"))


def test_npy_forged_shape_rejected_before_loading(tmp_path):
    # A 3 x 3 file whose header claims 40000 x 40000: numpy would allocate
    # 12.8 GB before noticing the missing data.
    path = tmp_path / "W.npy"
    np.save(path, np.eye(3))
    path.write_bytes(path.read_bytes().replace(b"(3, 3)", b"(40000, 40000)"))
    with pytest.raises(ModelFileError, match="12,800,000,128 bytes"):
        load_model(model_with_weights_file(tmp_path, "W.npy"))


@pytest.mark.parametrize(("text", "message"), [
    ("%%MatrixMarket matrix coordinate real general\n2 2 2000000000\n1 1 0.5\n",
     "2,000,000,000 entries"),
    ("%%MatrixMarket matrix array real general\n40000 40000\n0.5\n", "1,600,000,000 entries"),
    ("%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 99999999999999999999999\n",
     "64-bit"),
])
def test_mtx_forged_header_or_overflow_rejected(tmp_path, text, message):
    (tmp_path / "W.mtx").write_text(text)
    with pytest.raises(ModelFileError, match=message):
        load_model(model_with_weights_file(tmp_path, "W.mtx"))


@pytest.mark.parametrize("content", [b"1,2\n3,4\n", b"PK\x03\x04 not numpy"])
def test_npy_wrong_content_is_rejected(tmp_path, content):
    (tmp_path / "W.npy").write_bytes(content)
    with pytest.raises(ModelFileError, match=r"expected a NumPy .npy file") as caught:
        load_model(model_with_weights_file(tmp_path, "W.npy"))
    assert "numpy.save" in caught.value.fix


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=5).flatmap(
    lambda n: st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64),
                       min_size=n * n, max_size=n * n)))
def test_csv_round_trip_is_exact(tmp_path_factory, values):
    folder = tmp_path_factory.mktemp("csv")
    n = math.isqrt(len(values))
    weights = np.array(values).reshape(n, n)
    np.savetxt(folder / "W.csv", weights, delimiter=",")
    spec = load_model(model_with_weights_file(folder, "W.csv"))
    np.testing.assert_array_equal(spec.network.weights, weights)


def test_csv_comments_and_blank_lines_are_skipped(tmp_path):
    write(tmp_path / "W.csv", "# weights\n0.5, -1\n\n2 ,0  # row two\n")
    spec = load_model(model_with_weights_file(tmp_path, "W.csv"))
    np.testing.assert_array_equal(spec.network.weights, [[0.5, -1.0], [2.0, 0.0]])


def test_csv_ragged_row_names_line(tmp_path):
    write(tmp_path / "W.csv", "# header comment\n1,2,3\n4,5\n7,8,9\n")
    with pytest.raises(ModelFileError, match=r"expected 3 values in every row.*2 values on "
                                             r"line 3") as caught:
        load_model(model_with_weights_file(tmp_path, "W.csv"))
    assert "same number of values" in caught.value.fix
    assert f"The file is {tmp_path / 'W.csv'}." in caught.value.fix


@pytest.mark.parametrize(("content", "message"), [
    ("1,2\n3,abc\n", "expected comma-separated numbers.*'abc' on line 2, column 2"),
    ("# comment\n\n1,2\n3,\n", "expected comma-separated numbers.*'' on line 4, column 2"),
    ("", "no rows"),
    ("# only a comment\n", "no rows"),
    ("1,2,3\n4,5,6\n", r"shape \(2, 3\)"),
    ("1,nan\n2,3\n", "expected finite numbers"),
])
def test_csv_invalid_content_is_rejected(tmp_path, content, message):
    write(tmp_path / "W.csv", content)
    with pytest.raises(InvalidModelError, match=rf"invalid model.weights_file: .*{message}"):
        load_model(model_with_weights_file(tmp_path, "W.csv"))


def test_csv_non_utf8_is_rejected(tmp_path):
    (tmp_path / "W.csv").write_bytes(b"1,2\n3,\xff\n")
    with pytest.raises(ModelFileError, match="expected UTF-8 text"):
        load_model(model_with_weights_file(tmp_path, "W.csv"))


def test_mtx_sparse_round_trip_stays_csr(tmp_path):
    rng = np.random.default_rng(7)
    weights = sps.random_array((30, 30), density=0.1, rng=rng, format="csr")
    scipy.io.mmwrite(tmp_path / "W.mtx", weights)
    spec = load_model(model_with_weights_file(tmp_path, "W.mtx"))
    assert isinstance(spec.network.weights, sps.csr_array)
    assert spec.network.weights.nnz == weights.nnz
    np.testing.assert_array_equal(spec.network.dense_weights(), weights.toarray())


def test_mtx_dense_array_layout_stays_dense(tmp_path):
    weights = np.array([[0.1, -0.2], [0.3, 0.4]])
    scipy.io.mmwrite(tmp_path / "W.mtx", weights)
    spec = load_model(model_with_weights_file(tmp_path, "W.mtx"))
    assert isinstance(spec.network.weights, np.ndarray)
    np.testing.assert_array_equal(spec.network.weights, weights)


def test_mtx_symmetric_storage_is_expanded(tmp_path):
    weights = sps.csr_array(np.array([[0.0, 0.5, 0.0], [0.5, 0.0, -1.0], [0.0, -1.0, 0.0]]))
    scipy.io.mmwrite(tmp_path / "W.mtx", weights, symmetry="symmetric")
    spec = load_model(model_with_weights_file(tmp_path, "W.mtx"))
    np.testing.assert_array_equal(spec.network.dense_weights(), weights.toarray())


def test_mtx_pattern_entries_become_ones(tmp_path):
    write(tmp_path / "W.mtx", "%%MatrixMarket matrix coordinate pattern general\n"
                              "3 3 2\n1 2\n3 1\n")
    spec = load_model(model_with_weights_file(tmp_path, "W.mtx"))
    expected = np.zeros((3, 3))
    expected[0, 1] = expected[2, 0] = 1.0
    np.testing.assert_array_equal(spec.network.dense_weights(), expected)


def test_mtx_integer_entries_become_floats(tmp_path):
    write(tmp_path / "W.mtx", "%%MatrixMarket matrix coordinate integer general\n"
                              "2 2 2\n1 2 3\n2 1 -4\n")
    spec = load_model(model_with_weights_file(tmp_path, "W.mtx"))
    assert spec.network.weights.dtype == np.float64
    np.testing.assert_array_equal(spec.network.dense_weights(), [[0.0, 3.0], [-4.0, 0.0]])


@pytest.mark.parametrize(("content", "message"), [
    ("%%MatrixMarket matrix coordinate complex general\n2 2 1\n1 1 1.0 2.0\n",
     "expected real, integer or pattern entries"),
    ("%%MatrixMarket matrix coordinate real general\n2 3 1\n1 1 1.0\n",
     r"expected a non-empty square matrix.*shape \(2, 3\)"),
    ("1 2\n3 4\n", "expected a Matrix Market file"),
    ("%%MatrixMarket matrix coordinate real general\n2 2 3000000000\n1 1 1.0\n",
     "3000000000 entries declared"),
    ("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1.0\n",
     "expected a well-formed Matrix Market file"),
    ("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 nan\n",
     "expected finite numbers"),
])
def test_mtx_invalid_content_is_rejected(tmp_path, content, message):
    write(tmp_path / "W.mtx", content)
    with pytest.raises(InvalidModelError, match=rf"invalid model.weights_file: .*{message}"):
        load_model(model_with_weights_file(tmp_path, "W.mtx"))


def test_missing_weights_file_names_path(tmp_path):
    with pytest.raises(ModelFileError, match="expected an existing file") as caught:
        load_model(model_with_weights_file(tmp_path, "absent.npy"))
    assert f"No file {tmp_path / 'absent.npy'} exists" in caught.value.fix
    assert "folder of the model file" in caught.value.fix


@pytest.mark.parametrize("name", ["W.txt", "W", "W.npz"])
def test_unsupported_weights_suffix_is_rejected(tmp_path, name):
    (tmp_path / name).write_text("1\n")
    with pytest.raises(ModelFileError, match=r"expected a file name ending in .npy, .csv, .mtx"):
        load_model(model_with_weights_file(tmp_path, name))


@pytest.mark.parametrize("value", ["", "  ", 3, ["W.npy"]])
def test_weights_file_must_be_a_name(value):
    table = {"model": {"family": "firing_rate", "weights_file": value, "activation": "tanh"}}
    with pytest.raises(ModelFileError, match="invalid model.weights_file: expected a file name"):
        model_from_dict(table, base_dir=".")


@pytest.mark.parametrize("weights", [np.array([[0.5 + 3j, 0], [0, 0.1j]]), [[1 + 2j, 0], [0, 1]],
                                     np.eye(2, dtype=bool), [[True, False], [False, True]]])
def test_api_rejects_complex_and_boolean_weights(weights):
    # float() of these would drop the imaginary part or turn True into 1.
    from ctdyn import HopfieldNetwork

    with pytest.raises(InvalidModelError) as caught:
        HopfieldNetwork(weights, activation="tanh")
    assert caught.value.field == "weights"


def test_expression_numbers_are_ascii_digits():
    from ctdyn.errors import ExpressionError
    from ctdyn.models import make_activation

    with pytest.raises(ExpressionError):
        make_activation("tanh(x)*\u0663")  # ARABIC-INDIC DIGIT THREE
