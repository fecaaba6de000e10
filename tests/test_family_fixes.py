"""Regressions in the proximal, dense-memory and Boltzmann families found by testing the CLI."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from ctdyn.cli import main
from ctdyn.errors import InvalidModelError
from ctdyn.proximal import analyze, lca, optimal_step, proximal_gradient
from ctdyn.proximal._analyze import _check_cost_decrease, _trajectory_cost
from ctdyn.simulate import EnergyTrace, check_energy_decrease

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def energy_trace(model, simulation, energies=None) -> EnergyTrace:
    """Return the trace of f + g along a simulation, as the proximal analysis builds it."""
    states = simulation.states
    if energies is None:
        cost = _trajectory_cost(model, simulation.rtol, simulation.atol)
        energies = np.array([cost(block) for block in states])
    return EnergyTrace(t=simulation.times, energies=energies,
                       state_sizes=np.abs(states).max(axis=(0, 2)), rtol=simulation.rtol,
                       atol=simulation.atol)


# -- L = 0: f affine or zero ---------------------------------------------------------------

ZERO_A = 'A = [[0, 0], [0, 0]]\nb = [0, 0]\nlam = 1\n'


@pytest.mark.parametrize("family,body", [
    ("proximal_gradient", ZERO_A),
    ("proximal_gradient", ZERO_A + "step = 0.5\n"),
    ("lca", ZERO_A),
    ("proximal_gradient", 'f = "x0 + x1"\ndimension = 2\nregularizer = "box"\nlower = -1\n'
                          'upper = 1\n'),
    ("proximal_gradient", 'f = "1"\ndimension = 2\nregularizer = "l1"\nlam = 1\n'),
])
def test_affine_f_certify_runs(tmp_path, capsys, family, body):
    model = write(tmp_path / "model.toml", f'[model]\nfamily = "{family}"\n{body}')
    out = tmp_path / "out.json"
    assert main(["certify", str(model), "--json", str(out)]) == 0
    assert "Traceback" not in capsys.readouterr().err
    record = json.loads(out.read_text())
    rate = {c["method"]: c for c in record["certificates"]}["proximal_rate"]
    assert rate["status"] == "inconclusive"
    assert "L = 0" in rate["reason"]


def test_affine_f_default_step_is_one():
    model = proximal_gradient([[0, 0], [0, 0]], [0, 0], lam=1.0)
    assert model.step == 1.0
    assert model.step_source == "any step (L = 0)"


def test_affine_f_minimizer_on_box():
    # min x0 + x1 over [-1, 1]^2 is the corner (-1, -1).
    model = proximal_gradient(f="x0 + x1", dimension=2, regularizer="box", lower=-1, upper=1)
    analysis = analyze(model, trajectories=4)
    assert analysis.equilibrium["x"] == pytest.approx([-1.0, -1.0], abs=1e-12)
    assert analysis.simulation.energy_consistent is True


def test_optimal_step_zero_L():
    assert optimal_step(Fraction(0), Fraction(0)) == 1
    with pytest.raises(ValueError, match="nonnegative"):
        optimal_step(Fraction(0), Fraction(-1))


def test_lca_zero_dictionary_runs():
    analysis = analyze(lca([[0, 0], [0, 0]], [0, 0], lam=1.0), trajectories=4)
    assert analysis.equilibrium["x"] == [0.0, 0.0]
    assert analysis.simulation.energy_consistent is True


# -- f + g along trajectories that overshoot dom g -----------------------------------------

BOX = {"A": [[0.2, 1.84], [0.05, 1.36]], "b": [3.53, 0.16], "regularizer": "box",
       "lower": -0.3, "upper": 0.4}


def test_box_corner_overshoot_finite_cost():
    model = proximal_gradient(BOX["A"], BOX["b"], regularizer="box", lower=BOX["lower"],
                              upper=BOX["upper"])
    analysis = analyze(model)
    assert analysis.simulation.energy_consistent is True
    assert analysis.exit_status(()) == 0


def test_box_cost_slack_bounds():
    model = proximal_gradient(BOX["A"], BOX["b"], regularizer="box", lower=BOX["lower"],
                              upper=BOX["upper"])
    cost = _trajectory_cost(model, 1e-8, 1e-10)
    overshoot = np.array([[0.4 + 1.1e-9, 0.4]])
    # The default slack of 1e-9 puts this point outside the box; the integration slack does not.
    assert np.isinf(model.objective(overshoot)[0])
    assert np.isfinite(cost(overshoot)[0])
    # A point clearly outside still costs inf.
    assert np.isinf(cost(np.array([[0.4 + 1e-3, 0.4]]))[0])


def test_box_cli_exit_0(tmp_path):
    model = write(tmp_path / "box.toml", """[model]
family = "proximal_gradient"
A = [[0.2, 1.84], [0.05, 1.36]]
b = [3.53, 0.16]
regularizer = "box"
lower = -0.3
upper = 0.4
""")
    assert main(["certify", str(model)]) == 0


# -- f + g with minimum 0 --------------------------------------------------------------------

SIMPLEX_A = [[1.04, -0.78, -1.34, -0.98, -0.02]]
SIMPLEX_B = [0.07]


@pytest.fixture(scope="module")
def simplex_run():
    model = proximal_gradient(SIMPLEX_A, SIMPLEX_B, regularizer="simplex", radius=0.7)
    return model, analyze(model)


def test_zero_minimum_no_false_increase(simplex_run):
    model, analysis = simplex_run
    assert analysis.simulation.energy_consistent is True
    assert analysis.exit_status(()) != 3


def test_zero_minimum_core_check_alone_fails(simplex_run):
    # The check scaled by max |f + g| alone (about 1e-32 at the minimizer) flags round-off.
    model, analysis = simplex_run
    trace = energy_trace(model, analysis.simulation)
    assert np.abs(trace.energies[:, 0]).max() < 1e-25
    assert check_energy_decrease(trace).consistent is False
    assert _check_cost_decrease(model, analysis.simulation, trace).consistent is True


@pytest.mark.parametrize("trajectory,bump", [(0, 1e-10), (2, 1e-4)])
def test_planted_increase_still_caught(simplex_run, trajectory, bump):
    model, analysis = simplex_run
    energies = energy_trace(model, analysis.simulation).energies.copy()
    middle = energies.shape[0] // 2
    energies[middle:, trajectory] += bump * max(1.0, np.abs(energies[:, trajectory]).max())
    trace = energy_trace(model, analysis.simulation, energies)
    check = _check_cost_decrease(model, analysis.simulation, trace)
    assert check.consistent is False
    assert check.trajectory == trajectory


def test_zero_minimum_cli_not_exit_3(tmp_path):
    model = write(tmp_path / "simplex.toml", """[model]
family = "proximal_gradient"
A = [[1.04, -0.78, -1.34, -0.98, -0.02]]
b = [0.07]
regularizer = "simplex"
radius = 0.7
""")
    assert main(["certify", str(model)]) in (0, 1)


# -- single-point constraint sets -----------------------------------------------------------


def test_single_point_box_rejected():
    with pytest.raises(InvalidModelError) as error:
        proximal_gradient([[1, 0], [0, 2]], [3, 1], regularizer="box", lower=0.3, upper=0.3)
    assert error.value.field == "upper"


def test_partly_fixed_box_accepted():
    model = proximal_gradient([[1.0, 2.0], [0.5, -1.0]], [1.0, 2.0], regularizer="box",
                              lower=[0.3, -1.0], upper=[0.3, 1.0])
    analysis = analyze(model, trajectories=4)
    assert analysis.equilibrium["x"][0] == 0.3
    assert analysis.exit_status(()) == 0


def test_zero_radius_rejected():
    with pytest.raises(InvalidModelError) as error:
        proximal_gradient([[1, 0], [0, 2]], [3, 1], regularizer="simplex", radius=0.0)
    assert error.value.field == "radius"


# -- unwritable --json paths -----------------------------------------------------------------

CAPACITY = ["capacity", "--energy", "classical", "--neurons", "20"]
SAMPLE = ["sample", str(EXAMPLES / "boltzmann_ring_hot.toml"), "--sweeps", "20", "--chains", "2",
          "--burn-in", "10"]


@pytest.mark.parametrize("command", [CAPACITY, SAMPLE], ids=["capacity", "sample"])
def test_json_missing_folder_exit_2(tmp_path, capsys, command):
    assert main(command + ["--json", str(tmp_path / "absent" / "x.json")]) == 2
    assert "--json" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc, where no file can be created")
@pytest.mark.parametrize("command", [CAPACITY, SAMPLE], ids=["capacity", "sample"])
def test_json_unwritable_exit_2(capsys, command):
    assert main(command + ["--json", "/proc/x.json"]) == 2
    err = capsys.readouterr().err
    assert "/proc/x.json" in err
    assert "Traceback" not in err
