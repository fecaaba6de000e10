"""Tests of ctdyn.report: terminal summary, atomic JSON, report folder, figures."""

import json
import os

import numpy as np
import pytest
from matplotlib.image import imread

from ctdyn.analysis import analyze
from ctdyn.errors import InvalidModelError
from ctdyn.models import FiringRateNetwork, HopfieldNetwork
from ctdyn.report import (
    REPORT_FILE,
    check_output_file,
    check_report_folder,
    energy_figure,
    format_summary,
    log_distance_figure,
    save_png,
    trajectory_figure,
    write_bytes_atomic,
    write_json,
    write_report,
)
from ctdyn.report import _markdown

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STATUSES = {"certified", "refuted", "inconclusive"}
FIGURES = ("trajectories.png", "log-distance.png", "energy.png")


def _no_temporary_files(folder):
    return [entry.name for entry in folder.iterdir() if entry.name.startswith(".")]


@pytest.fixture(scope="module")
def hopfield_analysis():
    # A symmetric 2-neuron Hopfield network with weights small enough to contract:
    # energy and contraction are both certified, so every figure has something to show.
    network = HopfieldNetwork([[0.0, 0.4], [0.4, 0.0]], input=[0.3, -0.2], activation="tanh")
    return analyze(network, methods=("log_norm_inf", "log_norm_1", "energy"), trajectories=4,
                   t_final=8.0, seed=1)


@pytest.fixture(scope="module")
def unsimulated_analysis():
    network = FiringRateNetwork([[0.2, -0.5], [0.3, 0.1]], input=[0.5, -1.0], activation="tanh")
    return analyze(network, methods=("log_norm_inf",), simulate=False)


# -- terminal summary -------------------------------------------------------------


def test_summary_lists_every_certificate(hopfield_analysis):
    text = format_summary(hopfield_analysis)
    for certificate in hopfield_analysis.certificates:
        assert certificate.method in text
    assert "verdict:" in text
    assert "claim energy_decrease" in text


def test_summary_marks_required_claims(hopfield_analysis):
    text = format_summary(hopfield_analysis, require=("contraction",))
    line = next(line for line in text.splitlines() if line.startswith("claim contraction"))
    assert "(required)" in line
    assert "required: contraction" in text


def test_summary_plain_without_color(hopfield_analysis):
    assert "\x1b[" not in format_summary(hopfield_analysis)


def test_summary_colors_on_request(hopfield_analysis):
    assert "\x1b[32m" in format_summary(hopfield_analysis, color=True)


def test_summary_table_has_fixed_width(hopfield_analysis):
    width = 100
    text = format_summary(hopfield_analysis, width=width)
    table_lines = text.splitlines()[2:2 + 2 + len(hopfield_analysis.certificates)]
    assert all(len(line) <= width for line in table_lines)


def test_summary_without_simulation(unsimulated_analysis):
    text = format_summary(unsimulated_analysis)
    assert "simulation:  not run" in text


# -- JSON ---------------------------------------------------------------------------


def test_json_matches_contract(tmp_path, hopfield_analysis):
    path = write_json(hopfield_analysis.to_dict(("energy_decrease",)), tmp_path / "out.json")
    record = json.loads(path.read_text())
    for key in ("ctdyn_version", "model", "certificates", "equilibrium", "simulation",
                "claims", "require", "verdict"):
        assert key in record
    assert record["require"] == ["energy_decrease"]
    for certificate in record["certificates"]:
        assert certificate["status"] in STATUSES
        assert certificate["checked"] in ("exact", "interval", "float", None)


def _reject_constant(token):
    raise AssertionError(f"non-standard JSON token {token}")


def test_json_has_no_nonfinite_tokens(tmp_path):
    record = {"nan": float("nan"), "inf": np.inf, "array": np.array([1.0, -np.inf]),
              "nested": {"value": np.float64("nan")}}
    path = write_json(record, tmp_path / "values.json")
    loaded = json.loads(path.read_text(), parse_constant=_reject_constant)
    assert loaded["nan"] == "nan"
    assert loaded["array"] == [1.0, "-inf"]


def test_json_failed_replace_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "out.json"
    path.write_text('{"old": true}\n')

    def failing_replace(source, target):
        raise OSError("simulated failure while replacing")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated failure"):
        write_json({"new": True}, path)
    monkeypatch.undo()
    assert path.read_text() == '{"old": true}\n'
    assert _no_temporary_files(tmp_path) == []


def test_json_failed_write_leaves_no_file(tmp_path):
    target = tmp_path / "folder-in-the-way"
    target.mkdir()
    with pytest.raises(OSError):
        write_bytes_atomic(target, b"data")
    assert target.is_dir()
    assert _no_temporary_files(tmp_path) == []


def test_json_file_mode_follows_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        path = write_json({"a": 1}, tmp_path / "mode.json")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o640


def test_output_file_missing_folder_rejected(tmp_path):
    with pytest.raises(InvalidModelError, match="--json.*Create the folder"):
        check_output_file(tmp_path / "missing" / "out.json", field="--json")


def test_output_file_folder_path_rejected(tmp_path):
    with pytest.raises(InvalidModelError, match="not a folder"):
        check_output_file(tmp_path, field="--json")


# -- report folder ------------------------------------------------------------------


def test_report_folder_contents(tmp_path, hopfield_analysis):
    folder = write_report(hopfield_analysis, tmp_path / "report", require=("contraction",))
    names = sorted(entry.name for entry in folder.iterdir())
    assert names == sorted([REPORT_FILE, *FIGURES])
    text = (folder / REPORT_FILE).read_text()
    for figure in FIGURES:
        assert f"]({figure})" in text
    assert "**Figure 3.**" in text
    assert _no_temporary_files(tmp_path) == []


def test_report_captions_state_claim_and_observation(tmp_path, hopfield_analysis):
    folder = write_report(hopfield_analysis, tmp_path / "report")
    text = (folder / REPORT_FILE).read_text()
    rate = hopfield_analysis.simulation.claimed_rate
    distance_caption = next(line for line in text.splitlines() if line.startswith("**Figure 2.**"))
    assert f"c = {rate:.6g}" in distance_caption
    assert "Observed rate" in distance_caption
    assert "consistent" in distance_caption
    energy_caption = next(line for line in text.splitlines() if line.startswith("**Figure 3.**"))
    assert "Energy certificate: certified" in energy_caption


def test_report_figures_are_valid_png(tmp_path, hopfield_analysis):
    folder = write_report(hopfield_analysis, tmp_path / "report")
    for name in FIGURES:
        data = (folder / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        image = imread(folder / name)
        assert image.shape[0] > 100
        assert image.shape[1] > 100


def test_report_without_simulation_has_no_figures(tmp_path, unsimulated_analysis):
    folder = write_report(unsimulated_analysis, tmp_path / "report")
    assert sorted(entry.name for entry in folder.iterdir()) == [REPORT_FILE]
    assert "no figures" in (folder / REPORT_FILE).read_text()


def test_report_replaces_earlier_report(tmp_path, hopfield_analysis, unsimulated_analysis):
    folder = tmp_path / "report"
    write_report(hopfield_analysis, folder)
    write_report(unsimulated_analysis, folder)
    assert sorted(entry.name for entry in folder.iterdir()) == [REPORT_FILE]
    assert _no_temporary_files(tmp_path) == []


def test_report_rejects_foreign_folder(tmp_path, hopfield_analysis):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "thesis.tex").write_text("keep me")
    with pytest.raises(InvalidModelError, match="--report.*thesis.tex"):
        write_report(hopfield_analysis, folder)
    assert (folder / "thesis.tex").read_text() == "keep me"


def test_report_missing_parent_rejected(tmp_path):
    with pytest.raises(InvalidModelError, match="parent folder exists"):
        check_report_folder(tmp_path / "missing" / "report")


def test_report_failure_leaves_nothing(tmp_path, hopfield_analysis, monkeypatch):
    def failing_save(figure, path):
        raise RuntimeError("simulated failure while rendering")

    monkeypatch.setattr(_markdown, "save_png", failing_save)
    with pytest.raises(RuntimeError, match="simulated failure"):
        write_report(hopfield_analysis, tmp_path / "report")
    assert list(tmp_path.iterdir()) == []


def test_report_failure_keeps_earlier_report(tmp_path, hopfield_analysis, monkeypatch):
    folder = write_report(hopfield_analysis, tmp_path / "report")
    before = (folder / REPORT_FILE).read_text()

    def failing_save(figure, path):
        raise RuntimeError("simulated failure while rendering")

    monkeypatch.setattr(_markdown, "save_png", failing_save)
    with pytest.raises(RuntimeError):
        write_report(hopfield_analysis, folder)
    assert (folder / REPORT_FILE).read_text() == before
    assert sorted(entry.name for entry in folder.iterdir()) == sorted([REPORT_FILE, *FIGURES])
    assert _no_temporary_files(tmp_path) == []


def test_report_several_sections(tmp_path, hopfield_analysis, unsimulated_analysis):
    folder = write_report({"First": hopfield_analysis, "Second": unsimulated_analysis},
                          tmp_path / "report", appendix="## Extra\n\ntext")
    text = (folder / REPORT_FILE).read_text()
    assert "## First" in text
    assert "## Second" in text
    assert text.rstrip().endswith("text")
    assert (folder / "1-trajectories.png").exists()


# -- figures ------------------------------------------------------------------------


def test_figures_render_png(tmp_path):
    generator = np.random.default_rng(0)
    times = np.linspace(0.0, 5.0, 50)
    states = generator.normal(size=(50, 3, 10))
    ratios = -0.5 * times[:, None] + 0.01 * generator.normal(size=(50, 3))
    ratios[10:, 0] = np.nan  # a pair below the distance floor
    energies = -np.cumsum(np.abs(generator.normal(size=(50, 3))), axis=0)
    figures = {"t.png": trajectory_figure(times, states),
               "d.png": log_distance_figure(times, ratios, rate=0.4, metric_label="l_inf"),
               "d-none.png": log_distance_figure(times, ratios, rate=None),
               "e.png": energy_figure(times, energies)}
    for name, figure in figures.items():
        path = save_png(figure, tmp_path / name)
        assert path.read_bytes().startswith(PNG_SIGNATURE)
