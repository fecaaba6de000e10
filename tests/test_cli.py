"""Tests of the ctdyn command line, run in-process through ``main``."""

import errno
import io
import json
import logging
import subprocess
import sys

import pytest
from pathlib import Path

from ctdyn import cli
from ctdyn.certify import _log_norm
from ctdyn.cli import EXIT_CONTRADICTION, EXIT_INVALID, EXIT_NOT_CERTIFIED, EXIT_OK, main

STATUSES = {"certified", "refuted", "inconclusive"}
CLAIM_STATUSES = STATUSES | {"not_checked"}
CONTRACT_KEYS = ("ctdyn_version", "model", "certificates", "equilibrium", "simulation",
                 "claims", "require", "verdict")
RATE_TOLERANCE = 1e-9

# Closed form: W = [[0.2, -0.5], [0.3, 0.1]] has the
# Metzler majorant [[0.2, 0.5], [0.3, 0.1]] with spectral abscissa
# 0.15 + sqrt(0.0025 + 0.15) = 0.5405124838, so the optimal weighted l_inf
# (and l_1) rate is 1 - 0.5405124838 = 0.4594875162.
REFERENCE_RATE = 0.4594875162

REFERENCE_MODEL = """
[model]
family = "firing_rate"
weights = [[0.2, -0.5], [0.3, 0.1]]
input = [0.5, -1.0]
activation = "tanh"

[certify]
methods = ["log_norm_inf", "log_norm_1", "linearization"]
require = ["contraction"]

[simulate]
trajectories = 3
t_final = 6.0
seed = 2
"""

# -I + W has the eigenvalue 0 at x = 0 (slopes 1), so contraction is impossible.
NOT_CONTRACTING_MODEL = """
[model]
family = "firing_rate"
weights = [[0.5, 0.5], [0.5, 0.5]]
activation = "tanh"

[certify]
methods = ["log_norm_inf", "energy"]
require = ["contraction"]

[simulate]
trajectories = 2
t_final = 4.0
"""

HOPFIELD_MODEL = """
[model]
family = "hopfield"
weights = [[0.0, 0.5, -0.2], [0.5, 0.0, 0.3], [-0.2, 0.3, 0.0]]
input = 0.1
activation = "tanh"

[certify]
methods = ["log_norm_inf", "energy"]
require = ["energy_decrease"]

[simulate]
trajectories = 3
t_final = 5.0
"""

BAD_MODELS = {
    "nan weight": ("weights = [[nan, 0.0], [0.0, 0.1]]", "model.weights"),
    "inf weight": ("weights = [[0.1, inf], [0.0, 0.1]]", "model.weights"),
    "non-square": ("weights = [[0.1, 0.0, 0.2], [0.0, 0.1, 0.3]]", "model.weights"),
    "input length": ("weights = [[0.1, 0.0], [0.0, 0.1]]\ninput = [1.0, 2.0, 3.0]", "model.input"),
}
BAD_ACTIVATIONS = {
    "unknown activation": ("tanhh", "model.activation"),
    "unbounded slope": ("x**3", "model.activation"),
    "expression injection": ("__import__('os').system('touch pwned')", "model.activation"),
}


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def _bad_models():
    for name, (body, field) in BAD_MODELS.items():
        text = f'[model]\nfamily = "firing_rate"\nactivation = "tanh"\n{body}\n'
        yield pytest.param(text, field, id=name)
    for name, (activation, field) in BAD_ACTIVATIONS.items():
        text = (f'[model]\nfamily = "firing_rate"\nactivation = "{activation}"\n'
                "weights = [[0.1, 0.0], [0.0, 0.1]]\n")
        yield pytest.param(text, field, id=name)
    yield pytest.param("[model\nfamily = 'hopfield'\n", "line 1", id="malformed TOML")
    yield pytest.param('[model]\nfamily = "hopfield"\nactivation = "tanh"\n'
                       'weights = [[0.1]]\n[simulate]\ntrajectories = 0\n',
                       "simulate.trajectories", id="zero trajectories")


@pytest.fixture
def reference_model(tmp_path):
    return _write(tmp_path, "reference.toml", REFERENCE_MODEL)


# -- certify on model files -----------------------------------------------------------


def test_certify_reference_json(tmp_path, reference_model, capsys):
    output = tmp_path / "result.json"
    status = main(["certify", str(reference_model), "--json", str(output)])
    assert status == EXIT_OK
    record = json.loads(output.read_text())
    for key in CONTRACT_KEYS:
        assert key in record
    assert record["require"] == ["contraction"]
    assert record["verdict"] == "certified"
    for certificate in record["certificates"]:
        assert certificate["status"] in STATUSES
    for status_of_claim in record["claims"].values():
        assert status_of_claim in CLAIM_STATUSES
    rates = {c["method"]: c["rate"] for c in record["certificates"]}
    assert rates["log_norm_inf"] == pytest.approx(REFERENCE_RATE, abs=RATE_TOLERANCE)
    assert rates["log_norm_1"] == pytest.approx(REFERENCE_RATE, abs=RATE_TOLERANCE)
    assert record["simulation"]["consistent"] is True
    assert "JSON written" in capsys.readouterr().out


def test_certify_prints_summary(reference_model, capsys):
    assert main(["certify", str(reference_model)]) == EXIT_OK
    output = capsys.readouterr().out
    assert "log_norm_inf" in output
    assert "verdict:     certified" in output
    assert "\x1b[" not in output  # captured output is not a terminal: no color


def test_certify_file_tables_apply(tmp_path, reference_model):
    output = tmp_path / "result.json"
    main(["certify", str(reference_model), "--json", str(output)])
    record = json.loads(output.read_text())
    assert [c["method"] for c in record["certificates"]][:2] == ["log_norm_inf", "log_norm_1"]
    assert record["simulation"]["trajectories"] == 3
    assert record["simulation"]["t_final"] == pytest.approx(6.0)


def test_certify_options_override_file(tmp_path, reference_model):
    output = tmp_path / "result.json"
    status = main(["certify", str(reference_model), "--methods", "log_norm_1",
                   "--require", "local_stability", "--trajectories", "2", "--t-final", "3",
                   "--json", str(output)])
    record = json.loads(output.read_text())
    assert [c["method"] for c in record["certificates"]] == ["log_norm_1"]
    assert record["require"] == ["local_stability"]
    assert record["simulation"]["trajectories"] == 2
    assert record["simulation"]["t_final"] == pytest.approx(3.0)
    # local_stability was required but no method checked it.
    assert status == EXIT_NOT_CERTIFIED


def test_certify_no_simulate(tmp_path, reference_model):
    output = tmp_path / "result.json"
    main(["certify", str(reference_model), "--no-simulate", "--json", str(output)])
    assert json.loads(output.read_text())["simulation"] is None


def test_certify_refuted_exits_one(tmp_path, capsys):
    model = _write(tmp_path, "flat.toml", NOT_CONTRACTING_MODEL)
    output = tmp_path / "result.json"
    assert main(["certify", str(model), "--json", str(output)]) == EXIT_NOT_CERTIFIED
    record = json.loads(output.read_text())
    assert record["claims"]["contraction"] == "refuted"
    assert "refutation witness" in capsys.readouterr().out


def test_certify_without_requirement_exits_zero(tmp_path):
    model = _write(tmp_path, "flat.toml", NOT_CONTRACTING_MODEL)
    assert main(["certify", str(model), "--require", "energy_decrease"]) == EXIT_OK


def test_certify_hopfield_energy(tmp_path):
    model = _write(tmp_path, "hopfield.toml", HOPFIELD_MODEL)
    output = tmp_path / "result.json"
    assert main(["certify", str(model), "--json", str(output)]) == EXIT_OK
    record = json.loads(output.read_text())
    assert record["claims"]["energy_decrease"] == "certified"
    assert record["simulation"]["energy_consistent"] is True


def test_certify_writes_report(tmp_path, reference_model):
    folder = tmp_path / "report"
    assert main(["certify", str(reference_model), "--report", str(folder)]) == EXIT_OK
    assert (folder / "report.md").is_file()
    assert (folder / "trajectories.png").read_bytes().startswith(b"\x89PNG")


# -- invalid input: exit 2, message on stderr, no output file ---------------------------


@pytest.mark.parametrize("text, field", list(_bad_models()))
def test_certify_bad_model_exits_two(tmp_path, capsys, text, field):
    model = _write(tmp_path, "bad.toml", text)
    output = tmp_path / "result.json"
    folder = tmp_path / "report"
    status = main(["certify", str(model), "--json", str(output), "--report", str(folder)])
    assert status == EXIT_INVALID
    captured = capsys.readouterr()
    assert captured.err.startswith("ctdyn: error: ")
    assert field in captured.err
    assert "Traceback" not in captured.err
    assert not output.exists()
    assert not folder.exists()
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["bad.toml"]


def test_injection_runs_nothing(tmp_path):
    model = _write(tmp_path, "bad.toml",
                   '[model]\nfamily = "hopfield"\nweights = [[0.1]]\n'
                   f'activation = "__import__(\'os\').system(\'touch {tmp_path}/pwned\')"\n')
    assert main(["certify", str(model)]) == EXIT_INVALID
    assert not (tmp_path / "pwned").exists()


def test_certify_missing_model_file(tmp_path, capsys):
    assert main(["certify", str(tmp_path / "missing.toml")]) == EXIT_INVALID
    assert "missing.toml" in capsys.readouterr().err


def test_certify_json_folder_missing(tmp_path, reference_model, capsys):
    output = tmp_path / "no-such-folder" / "result.json"
    assert main(["certify", str(reference_model), "--json", str(output)]) == EXIT_INVALID
    assert "--json" in capsys.readouterr().err
    assert not output.parent.exists()


def test_certify_report_in_foreign_folder(tmp_path, reference_model, capsys):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    output = tmp_path / "result.json"
    status = main(["certify", str(reference_model), "--report", str(folder),
                   "--json", str(output)])
    assert status == EXIT_INVALID
    assert "--report" in capsys.readouterr().err
    assert not output.exists()
    assert [entry.name for entry in folder.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("arguments, field", [
    (["--methods", "log_norm_7"], "--methods"),
    (["--require", "stability"], "--require"),
    (["--trajectories", "0"], "--trajectories"),
    (["--trajectories", "two"], "--trajectories"),
    (["--t-final", "nan"], "--t-final"),
    (["--t-final", "-1"], "--t-final"),
    (["--seed", "-3"], "--seed"),
    (["--no-such-option"], "--no-such-option"),
])
def test_certify_bad_option_exits_two(tmp_path, reference_model, capsys, arguments, field):
    output = tmp_path / "result.json"
    status = main(["certify", str(reference_model), "--json", str(output), *arguments])
    assert status == EXIT_INVALID
    error = capsys.readouterr().err
    assert error.startswith("ctdyn: error: ")
    assert field in error
    assert not output.exists()


def test_missing_command_exits_two(capsys):
    assert main([]) == EXIT_INVALID
    assert "ctdyn: error:" in capsys.readouterr().err


# -- contradiction: exit 3 ----------------------------------------------------------


def test_false_certificate_exits_three(tmp_path, reference_model, capsys, monkeypatch):
    # A tampered certifier that claims three times the true rate: simulation
    # must catch the false claim, as it would catch a bug in a real certifier.
    real_certificate = _log_norm.log_norm_certificate

    def inflated(jacobian_set, **options):
        certificate = real_certificate(jacobian_set, **options)
        certificate.rate = 3 * certificate.rate
        return certificate

    monkeypatch.setattr(_log_norm, "log_norm_certificate", inflated)
    output = tmp_path / "result.json"
    status = main(["certify", str(reference_model), "--methods", "log_norm_inf",
                   "--json", str(output)])
    assert status == EXIT_CONTRADICTION
    assert "BUG" in capsys.readouterr().err
    record = json.loads(output.read_text())
    assert record["verdict"] == "contradicted"
    assert record["simulation"]["consistent"] is False


# -- energy and simulate --------------------------------------------------------------


def test_energy_plain(tmp_path, capsys):
    model = _write(tmp_path, "hopfield.toml", HOPFIELD_MODEL)
    assert main(["energy", str(model)]) == EXIT_OK
    output = capsys.readouterr().out
    assert "E(x) = " in output
    assert "dE/dt = " in output


def test_energy_latex(tmp_path, capsys):
    model = _write(tmp_path, "hopfield.toml", HOPFIELD_MODEL)
    assert main(["energy", str(model), "--latex"]) == EXIT_OK
    output = capsys.readouterr().out
    assert output.startswith("\\begin{aligned}")
    assert "\\frac{dE}{dt}" in output


def test_energy_asymmetric_exits_two(tmp_path, reference_model, capsys):
    assert main(["energy", str(reference_model)]) == EXIT_INVALID
    assert "weights" in capsys.readouterr().err


def test_simulate_writes_plot(tmp_path, reference_model, capsys):
    plot = tmp_path / "trajectories.png"
    status = main(["simulate", str(reference_model), "--plot", str(plot),
                   "--trajectories", "2", "--t-final", "2"])
    assert status == EXIT_OK
    assert plot.read_bytes().startswith(b"\x89PNG")
    output = capsys.readouterr().out
    assert "integrated 2 trajectories to t = 2" in output


def test_simulate_requires_png_suffix(tmp_path, reference_model, capsys):
    plot = tmp_path / "trajectories.jpg"
    assert main(["simulate", str(reference_model), "--plot", str(plot)]) == EXIT_INVALID
    assert "--plot" in capsys.readouterr().err
    assert not plot.exists()


def test_simulate_requires_plot(reference_model, capsys):
    assert main(["simulate", str(reference_model)]) == EXIT_INVALID
    assert "--plot" in capsys.readouterr().err


# -- help, progress, logging ---------------------------------------------------------


@pytest.mark.parametrize("command, option", [
    ("certify", "--require"), ("energy", "--latex"), ("simulate", "--plot")])
def test_subcommand_help(capsys, command, option):
    assert main([command, "--help"]) == EXIT_OK
    assert option in capsys.readouterr().out


def test_module_help_subprocess():
    completed = subprocess.run([sys.executable, "-m", "ctdyn", "--help"], capture_output=True,
                               text=True, timeout=120, check=False)
    assert completed.returncode == 0
    assert "certify" in completed.stdout
    assert "Exit status" in completed.stdout


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_terminal():
    stream = _Terminal()
    bar = cli._ProgressBar(stream)
    bar("energy", 0.5)
    bar.close()
    text = stream.getvalue()
    assert "[" + "#" * 15 + " " * 15 + "]  50% energy" in text
    assert text.endswith("\r")


def test_progress_bar_silent_off_terminal():
    stream = io.StringIO()
    bar = cli._ProgressBar(stream)
    bar("energy", 0.5)
    bar.close()
    assert stream.getvalue() == ""


def test_certify_no_progress_when_piped(reference_model, capsys):
    main(["certify", str(reference_model), "--no-simulate"])
    assert "%" not in capsys.readouterr().err


def test_verbose_logging_restored(reference_model):
    package_logger = logging.getLogger("ctdyn")
    level, handlers = package_logger.level, list(package_logger.handlers)
    assert main(["certify", str(reference_model), "--no-simulate", "--verbose"]) == EXIT_OK
    assert package_logger.level == level
    assert package_logger.handlers == handlers


# -- built-in example ------------------------------------------------------------------


def test_builtin_example(tmp_path, capsys):
    output = tmp_path / "builtin.json"
    folder = tmp_path / "report"
    status = main(["certify", "--json", str(output), "--report", str(folder)])
    assert status == EXIT_OK
    record = json.loads(output.read_text())
    assert record["claims"]["energy_decrease"] == "certified"
    assert record["claims"]["contraction"] == "refuted"
    contracting = record["builtin"]["contracting_network"]
    assert contracting["claims"]["contraction"] == "certified"
    retrieval = record["builtin"]["retrieval"]
    assert [run["memory"]["retrieved_digit"] for run in retrieval] == [0, 1, 2, 3]
    assert all(run["memory"]["hamming"][index] == 0 for index, run in enumerate(retrieval))
    assert all(run["contracting"]["at_origin"] for run in retrieval)
    printed = capsys.readouterr().out
    assert "digit 0, 0 pixels differ" in printed
    assert "corrupted" in printed
    assert (folder / "report.md").is_file()
    assert (folder / "1-trajectories.png").is_file()


def test_unwritable_output_exits_two(tmp_path, reference_model, capsys, monkeypatch):
    def full_disk(record, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cli, "write_json", full_disk)
    output = tmp_path / "result.json"
    status = main(["certify", str(reference_model), "--no-simulate", "--json", str(output)])
    assert status == EXIT_INVALID
    error = capsys.readouterr().err
    assert f"cannot write {output}" in error
    assert "No space left" in error


def test_json_over_model_file_rejected(reference_model, capsys):
    before = reference_model.read_text()
    status = main(["certify", str(reference_model), "--json", str(reference_model)])
    assert status == EXIT_INVALID
    assert "model file" in capsys.readouterr().err
    assert reference_model.read_text() == before


def test_json_inside_report_rejected(tmp_path, reference_model, capsys):
    folder = tmp_path / "report"
    status = main(["certify", str(reference_model), "--report", str(folder),
                   "--json", str(folder)])
    assert status == EXIT_INVALID
    assert "outside the --report folder" in capsys.readouterr().err
    assert not folder.exists()


@pytest.mark.parametrize("option", [["--require", "synchronization"], ["--methods", "proximal_rate"]])
def test_names_of_another_family_exit_2(option, capsys):
    # Both names exist, but for other families: invalid input, not a verdict.
    example = Path(__file__).resolve().parent.parent / "examples" / "frn_weighted_linf.toml"
    status = main(["certify", str(example), *option, "--no-simulate"])
    assert status == 2
    assert f"invalid {option[0]}" in capsys.readouterr().err
