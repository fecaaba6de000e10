"""Tests of input and output paths that are not plain UTF-8 regular files.

A FIFO, a folder or a device must be rejected by name, with exit status 2,
and never opened for reading. A UTF-8 byte order mark at the start of a
TOML or CSV file is dropped. Every command-line case runs through
``ctdyn.cli.main``.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from pathlib import Path

import numpy as np
import pytest

from ctdyn.cli import EXIT_INVALID, EXIT_OK, main
from ctdyn.errors import ModelFileError
from ctdyn.models import load_model

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="os.mkfifo is POSIX only")
DEVICE = Path("/dev/null")
needs_device = pytest.mark.skipif(
    not (DEVICE.exists() and stat.S_ISCHR(DEVICE.stat().st_mode)),
    reason=f"{DEVICE} is not a character device here")

UTF8_BOM = b"\xef\xbb\xbf"
# A reader blocked on a FIFO is released after this many seconds, so a
# regression fails the test instead of hanging it.
FIFO_RELEASE_SECONDS = 20.0

SYMMETRIC_WEIGHTS = [[0.2, -0.5], [-0.5, 0.1]]
SYMMETRIC_CSV = "0.2,-0.5\n-0.5,0.1\n"
SYMMETRIC_MODEL = """\
[model]
family = "hopfield"
weights = [[0.2, -0.5], [-0.5, 0.1]]
activation = "tanh"
"""
NPY_MODEL = """\
[model]
family = "hopfield"
weights_file = "W.npy"
activation = "tanh"
"""
CSV_MODEL = NPY_MODEL.replace("W.npy", "W.csv")
PROXIMAL_MODEL = """\
[model]
family = "proximal_gradient"
A_file = "{name}"
b = [3, 1]
lam = 1.0
"""
MEMORY_MODEL = """\
[model]
family = "dense_memory"
energy = "classical"
patterns_file = "{name}"
"""
PROXIMAL_MATRIX = [[1.0, 0.0], [0.0, 2.0]]
PATTERNS = [[1, -1, 1, -1], [1, 1, -1, -1]]


def command_line(command: str, model: Path, tmp_path: Path) -> list[str]:
    """Return the arguments of ``command`` on ``model``, with the options it requires."""
    if command == "simulate":
        return ["simulate", str(model), "--plot", str(tmp_path / "plot.png")]
    if command == "certify":
        return ["certify", str(model), "--no-simulate"]
    return [command, str(model)]


@contextlib.contextmanager
def released_readers(fifo: Path):
    """Yield a list that gains an entry if a reader was still blocked on ``fifo`` at the timeout.

    Opening the write end without blocking succeeds only while some process
    has the FIFO open for reading. It then unblocks that reader with an
    empty file, so the test ends and reports the read.
    """
    released: list[bool] = []

    def release() -> None:
        try:
            descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no process has the FIFO open for reading
            return
        released.append(True)
        os.close(descriptor)

    timer = threading.Timer(FIFO_RELEASE_SECONDS, release)
    timer.start()
    try:
        yield released
    finally:
        timer.cancel()


def assert_named_not_regular(error_text: str, kind: str) -> None:
    assert f"is {kind}, not a regular file" in error_text
    assert "No file" not in error_text
    assert "missing" not in error_text


def fifo_error(arguments: list[str], fifo: Path, capsys) -> str:
    """Run the command line, check that it rejects ``fifo`` unread, and return its errors."""
    with released_readers(fifo) as released:
        status = main(arguments)
    assert not released, f"the command line opened {fifo} for reading"
    assert status == EXIT_INVALID
    error_text = capsys.readouterr().err
    assert_named_not_regular(error_text, "a FIFO (named pipe)")
    return error_text


# -- model files ------------------------------------------------------------------------


@needs_fifo
@pytest.mark.parametrize("command", ["certify", "energy", "simulate"])
def test_fifo_model_file_exits_2(tmp_path, capsys, command):
    fifo = tmp_path / "model.toml"
    os.mkfifo(fifo)
    error_text = fifo_error(command_line(command, fifo, tmp_path), fifo, capsys)
    assert "invalid model file: expected a regular file" in error_text
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize("command", ["certify", "energy", "simulate"])
def test_folder_model_file_exits_2(tmp_path, capsys, command):
    folder = tmp_path / "model.toml"
    folder.mkdir()
    assert main(command_line(command, folder, tmp_path)) == EXIT_INVALID
    error_text = capsys.readouterr().err
    assert_named_not_regular(error_text, "a folder")
    assert "Give the path of a file inside it." in error_text


@needs_device
@pytest.mark.parametrize("command", ["certify", "energy", "simulate"])
def test_device_model_file_exits_2(tmp_path, capsys, command):
    # /dev/null reads as an empty file, so a regression shows up as a message
    # about the missing [model] table instead of an endless read.
    assert main(command_line(command, DEVICE, tmp_path)) == EXIT_INVALID
    error_text = capsys.readouterr().err
    assert_named_not_regular(error_text, "a character device")
    assert "[model]" not in error_text


@needs_device
def test_link_to_device_is_named_as_device(tmp_path):
    link = tmp_path / "model.toml"
    link.symlink_to(DEVICE)
    with pytest.raises(ModelFileError, match="is a character device, not a regular file"):
        load_model(link)


def test_missing_model_file_not_found(tmp_path, capsys):
    absent = tmp_path / "absent.toml"
    assert main(["energy", str(absent)]) == EXIT_INVALID
    error_text = capsys.readouterr().err
    assert "expected an existing TOML file" in error_text
    assert "not a regular file" not in error_text


def test_dangling_link_model_file_is_not_found(tmp_path):
    link = tmp_path / "model.toml"
    link.symlink_to(tmp_path / "absent.toml")
    with pytest.raises(ModelFileError, match="expected an existing TOML file"):
        load_model(link)


# -- files that a model names -----------------------------------------------------------


@needs_fifo
@pytest.mark.parametrize("command", ["certify", "energy", "simulate"])
def test_fifo_weights_file_exits_2(tmp_path, capsys, command):
    model = tmp_path / "model.toml"
    model.write_text(NPY_MODEL, encoding="utf-8")
    fifo = tmp_path / "W.npy"
    os.mkfifo(fifo)
    error_text = fifo_error(command_line(command, model, tmp_path), fifo, capsys)
    assert "invalid model.weights_file: expected a regular file, received 'W.npy'" in error_text


@needs_device
@pytest.mark.parametrize("name", ["W.npy", "W.csv"])
def test_device_weights_file_exits_2(tmp_path, capsys, name):
    model = tmp_path / "model.toml"
    model.write_text(NPY_MODEL.replace("W.npy", name), encoding="utf-8")
    (tmp_path / name).symlink_to(DEVICE)
    assert main(["energy", str(model)]) == EXIT_INVALID
    assert_named_not_regular(capsys.readouterr().err, "a character device")


def test_folder_weights_file_exits_2(tmp_path, capsys):
    model = tmp_path / "model.toml"
    model.write_text(NPY_MODEL, encoding="utf-8")
    (tmp_path / "W.npy").mkdir()
    assert main(["energy", str(model)]) == EXIT_INVALID
    assert_named_not_regular(capsys.readouterr().err, "a folder")


@needs_fifo
@pytest.mark.parametrize(("template", "field"), [
    (PROXIMAL_MODEL, "model.A_file"),
    (MEMORY_MODEL, "model.patterns_file"),
])
@pytest.mark.parametrize("name", ["data.npy", "data.csv"])
def test_fifo_matrix_file_exits_2(tmp_path, capsys, template, field, name):
    model = tmp_path / "model.toml"
    model.write_text(template.format(name=name), encoding="utf-8")
    fifo = tmp_path / name
    os.mkfifo(fifo)
    error_text = fifo_error(["certify", str(model), "--no-simulate"], fifo, capsys)
    assert f"invalid {field}: expected a regular file" in error_text


# -- byte order marks -------------------------------------------------------------------


def test_toml_with_bom_loads_like_without(tmp_path):
    plain = tmp_path / "plain.toml"
    plain.write_text(SYMMETRIC_MODEL, encoding="utf-8")
    marked = tmp_path / "marked.toml"
    marked.write_bytes(UTF8_BOM + SYMMETRIC_MODEL.encode("utf-8"))
    expected = load_model(plain).network
    loaded = load_model(marked).network
    np.testing.assert_array_equal(loaded.weights, expected.weights)
    assert loaded.activation.name == expected.activation.name


def test_energy_command_accepts_toml_bom(tmp_path, capsys):
    model = tmp_path / "model.toml"
    model.write_bytes(UTF8_BOM + SYMMETRIC_MODEL.encode("utf-8"))
    assert main(["energy", str(model)]) == EXIT_OK
    assert "E(x) =" in capsys.readouterr().out


def test_toml_bom_keeps_error_positions(tmp_path):
    # The BOM is invisible in editors, so line 1, column 1 is the "[".
    model = tmp_path / "model.toml"
    model.write_bytes(UTF8_BOM + b"[model\nfamily = 1\n")
    with pytest.raises(ModelFileError, match="at line 1, column 7"):
        load_model(model)


def test_csv_with_bom_loads(tmp_path):
    model = tmp_path / "model.toml"
    model.write_text(CSV_MODEL, encoding="utf-8")
    (tmp_path / "W.csv").write_bytes(UTF8_BOM + SYMMETRIC_CSV.encode("utf-8"))
    np.testing.assert_array_equal(load_model(model).network.weights, SYMMETRIC_WEIGHTS)


def test_csv_bom_inside_a_row_is_rejected(tmp_path):
    # Only a leading BOM is an encoding mark. Inside a row it is a character
    # that no number contains, and the message points at it.
    model = tmp_path / "model.toml"
    model.write_text(CSV_MODEL, encoding="utf-8")
    (tmp_path / "W.csv").write_bytes(b"0.2,-0.5\n" + UTF8_BOM + b"-0.5,0.1\n")
    with pytest.raises(ModelFileError, match="on line 2, column 1"):
        load_model(model)


def test_toml_and_csv_with_bom_certify(tmp_path, capsys):
    model = tmp_path / "model.toml"
    model.write_bytes(UTF8_BOM + CSV_MODEL.encode("utf-8"))
    (tmp_path / "W.csv").write_bytes(UTF8_BOM + SYMMETRIC_CSV.encode("utf-8"))
    status = main(["certify", str(model), "--methods", "log_norm_inf", "--no-simulate"])
    assert status == EXIT_OK
    assert "log_norm_inf" in capsys.readouterr().out


def test_proximal_csv_with_bom_loads(tmp_path):
    model = tmp_path / "model.toml"
    model.write_text(PROXIMAL_MODEL.format(name="A.csv"), encoding="utf-8")
    (tmp_path / "A.csv").write_bytes(UTF8_BOM + b"1.0,0.0\n0.0,2.0\n")
    assert load_model(model).network.loss.A.tolist() == PROXIMAL_MATRIX


def test_memory_csv_with_bom_loads(tmp_path):
    model = tmp_path / "model.toml"
    model.write_text(MEMORY_MODEL.format(name="patterns.csv"), encoding="utf-8")
    rows = "\n".join(",".join(str(value) for value in row) for row in PATTERNS) + "\n"
    (tmp_path / "patterns.csv").write_bytes(UTF8_BOM + rows.encode("utf-8"))
    np.testing.assert_array_equal(load_model(model).network.patterns, PATTERNS)


def test_utf16_toml_names_its_bom(tmp_path, capsys):
    model = tmp_path / "model.toml"
    model.write_text(SYMMETRIC_MODEL, encoding="utf-16")
    assert main(["energy", str(model)]) == EXIT_INVALID
    error_text = capsys.readouterr().err
    assert "expected UTF-8 text" in error_text
    assert "UTF-16 byte order mark" in error_text
    assert "Save the file as UTF-8." in error_text


def test_utf16_csv_names_its_bom(tmp_path):
    model = tmp_path / "model.toml"
    model.write_text(CSV_MODEL, encoding="utf-8")
    (tmp_path / "W.csv").write_text(SYMMETRIC_CSV, encoding="utf-16")
    with pytest.raises(ModelFileError, match="UTF-16 byte order mark"):
        load_model(model)


# -- output files -----------------------------------------------------------------------


@needs_fifo
@pytest.mark.parametrize("option", ["--json", "--plot"])
def test_fifo_output_is_kept(tmp_path, capsys, option):
    model = tmp_path / "model.toml"
    model.write_text(SYMMETRIC_MODEL, encoding="utf-8")
    fifo = tmp_path / ("out.json" if option == "--json" else "out.png")
    os.mkfifo(fifo)
    command = "certify" if option == "--json" else "simulate"
    arguments = [command, str(model), option, str(fifo)]
    if command == "certify":
        arguments.append("--no-simulate")
    assert main(arguments) == EXIT_INVALID
    error_text = capsys.readouterr().err
    assert f"invalid {option}: expected a regular file or a new path" in error_text
    assert "is a FIFO (named pipe), not a regular file" in error_text
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_link_output_writes_its_target(tmp_path):
    # Output follows a link, as a shell redirection does: the target gets the
    # JSON and the link stays a link.
    target = tmp_path / "kept.json"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "out.json"
    link.symlink_to(target)
    assert certify_to(tmp_path, link) == EXIT_OK
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8").startswith("{")


def test_dangling_link_output_creates_target(tmp_path):
    target = tmp_path / "new.json"
    link = tmp_path / "out.json"
    link.symlink_to(target)
    assert certify_to(tmp_path, link) == EXIT_OK
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8").startswith("{")


def certify_to(tmp_path: Path, output: Path) -> int:
    """Certify a small model with one method and write the JSON to ``output``."""
    model = tmp_path / "model.toml"
    model.write_text(SYMMETRIC_MODEL, encoding="utf-8")
    return main(["certify", str(model), "--methods", "log_norm_inf", "--no-simulate",
                 "--json", str(output)])


@needs_device
def test_link_to_device_output_exits_2(tmp_path, capsys):
    model = tmp_path / "model.toml"
    model.write_text(SYMMETRIC_MODEL, encoding="utf-8")
    link = tmp_path / "out.json"
    link.symlink_to(DEVICE)
    status = main(["certify", str(model), "--no-simulate", "--json", str(link)])
    assert status == EXIT_INVALID
    assert "leads to a character device, not a regular file" in capsys.readouterr().err
    assert link.is_symlink()


# -- graph files of the oscillator families ------------------------------------------------

GRAPH_MODEL = """\
[model]
family = "oscillator_ising"
graph_file = "{name}"
coupling = 1.0
injection = 0.3
"""
RUDY_TRIANGLE = "3 3\n1 2 1\n2 3 1\n1 3 1\n"


@needs_fifo
@pytest.mark.parametrize("command", ["certify", "maxcut"])
def test_fifo_graph_file_exits_2(tmp_path, capsys, command):
    fifo = tmp_path / "graph.txt"
    os.mkfifo(fifo)
    if command == "maxcut":
        arguments = ["maxcut", str(fifo), "--time-limit", "0.1"]
    else:
        model = tmp_path / "model.toml"
        model.write_text(GRAPH_MODEL.format(name=fifo.name))
        arguments = ["certify", str(model), "--no-simulate"]
    fifo_error(arguments, fifo, capsys)


def test_rudy_graph_with_bom_loads(tmp_path):
    from ctdyn.oscillators import read_graph

    plain, marked = tmp_path / "plain.txt", tmp_path / "marked.txt"
    plain.write_text(RUDY_TRIANGLE)
    marked.write_bytes(UTF8_BOM + RUDY_TRIANGLE.encode())
    assert read_graph(marked).m == read_graph(plain).m == 3


def test_mtx_graph_with_bom_names_it(tmp_path, capsys):
    marked = tmp_path / "triangle.mtx"
    text = ("%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n"
            "2 1 1\n3 2 1\n3 1 1\n")
    marked.write_bytes(UTF8_BOM + text.encode())
    status = main(["maxcut", str(marked), "--time-limit", "0.1"])
    assert status == EXIT_INVALID
    assert "byte order mark" in capsys.readouterr().err


def test_utf16_graph_names_its_bom(tmp_path, capsys):
    graph = tmp_path / "triangle.txt"
    graph.write_bytes(RUDY_TRIANGLE.encode("utf-16"))
    status = main(["maxcut", str(graph), "--time-limit", "0.1"])
    assert status == EXIT_INVALID
    assert "UTF-16" in capsys.readouterr().err


def test_weights_mtx_with_bom_names_it(tmp_path, capsys):
    matrix = tmp_path / "W.mtx"
    text = "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 2 -0.5\n2 1 -0.5\n"
    matrix.write_bytes(UTF8_BOM + text.encode())
    model = tmp_path / "model.toml"
    model.write_text(NPY_MODEL.replace("W.npy", "W.mtx"), encoding="utf-8")
    assert main(["certify", str(model), "--no-simulate"]) == EXIT_INVALID
    assert "UTF-8 byte order mark" in capsys.readouterr().err


def test_utf16_toml_without_bom_named(tmp_path, capsys):
    model = tmp_path / "model.toml"
    model.write_bytes(SYMMETRIC_MODEL.encode("utf-16-le"))
    assert main(["certify", str(model), "--no-simulate"]) == EXIT_INVALID
    assert "NUL bytes, as UTF-16 text has" in capsys.readouterr().err


def test_json_empty_path_exits_2(tmp_path, capsys):
    model = tmp_path / "model.toml"
    model.write_text(SYMMETRIC_MODEL, encoding="utf-8")
    assert main(["certify", str(model), "--no-simulate", "--json", ""]) == EXIT_INVALID
    assert "--json" in capsys.readouterr().err


@needs_fifo
def test_link_to_fifo_output_exits_2(tmp_path, capsys):
    # /dev/stdout in a pipeline is such a link.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "out.json"
    link.symlink_to(fifo)
    assert certify_to(tmp_path, link) == EXIT_INVALID
    assert "leads to a FIFO (named pipe)" in capsys.readouterr().err


def test_link_loop_output_exits_2(tmp_path, capsys):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.symlink_to(second)
    second.symlink_to(first)
    assert certify_to(tmp_path, first) == EXIT_INVALID
    assert "cannot be followed" in capsys.readouterr().err


@pytest.mark.parametrize("encoding, name", [("utf-16", "UTF-16"), ("utf-32", "UTF-32")])
def test_wide_mtx_graph_named(tmp_path, capsys, encoding, name):
    graph = tmp_path / "triangle.mtx"
    text = "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n2 1 1\n3 2 1\n3 1 1\n"
    graph.write_bytes(text.encode(encoding))
    assert main(["maxcut", str(graph), "--time-limit", "0.1"]) == EXIT_INVALID
    assert f"{name} text" in capsys.readouterr().err
