r"""JSON output and atomic file writes.

Every file that ctdyn writes goes through :func:`write_bytes_atomic`: the
content goes to a temporary file in the target's folder, is flushed to disk,
and then replaces the target with ``os.replace``. ``os.replace`` within one
file system is atomic on POSIX and Windows, so a reader sees the old file or
the complete new one. An error (a full disk, a value that cannot be encoded,
an interrupt) leaves no half-written file behind.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..certify._certificate import to_json_value
from ..errors import InvalidModelError
from ..models._files import file_type

__all__ = ["write_json", "json_text", "write_bytes_atomic", "write_text_atomic",
           "check_output_file"]


def json_text(record: Mapping[str, Any]) -> str:
    """Return ``record`` as indented JSON text that ends with a newline.

    numpy values, fractions and non-finite floats are converted by
    ``to_json_value`` first (``NaN`` becomes the string ``"nan"``), and
    ``allow_nan=False`` makes any non-finite float that slipped through raise
    ``ValueError`` instead of writing the non-standard token ``NaN``.
    """
    return json.dumps(to_json_value(dict(record)), indent=2, allow_nan=False) + "\n"


def write_json(record: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write ``record`` as JSON to ``path`` atomically and return the path.

    Parameters
    ----------
    record : mapping
        For ``ctdyn certify`` this is ``Analysis.to_dict(require)``.
    path : path-like
        Target file; its folder must exist.
    """
    return write_text_atomic(path, json_text(record))


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text to ``path`` atomically and return the path."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    The temporary file is created in the target's folder (so the rename does
    not cross file systems) and removed if anything fails before the rename.
    The new file gets the permissions ``0o666`` minus the process umask, as a
    plain ``open(path, "w")`` would give it.
    """
    path = _through_links(Path(path))
    descriptor, temporary = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.",
                                             suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, path)
    except BaseException:
        _remove_quietly(temporary)
        raise
    return path


def _through_links(path: Path) -> Path:
    """Return the file that a symbolic link at ``path`` points to, or ``path`` itself.

    Output is written where a link points, as a shell redirection would
    write it, so the rename replaces the target file and the link stays.
    """
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _check_replaceable(path: Path, field: str) -> None:
    """Reject a FIFO, device or socket at ``path``, which the atomic write would replace."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode):
        return
    raise InvalidModelError(field, "a regular file or a new path", str(path),
                            f"{path} is {file_type(mode)}, not a regular file, and the "
                            "output would replace it, because ctdyn writes a new file and "
                            "renames it over the target. Write to a regular file instead.")


def _current_umask() -> int:
    # os.umask sets and returns in one call, so reading it means setting it back.
    # Another thread that creates a file between the two calls gets umask 0o022.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def check_output_file(path: str | os.PathLike, *, field: str) -> Path:
    """Raise InvalidModelError unless ``path`` can be written as a new or replaced file.

    The command line calls this for every output file before any work
    starts, so invalid input never leaves a file behind.

    Parameters
    ----------
    path : path-like
        The requested output file.
    field : str
        The option that named it, such as ``"--json"``, for the message.
    """
    path = Path(path)
    if path.is_symlink():
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            mode = None
        except OSError as error:
            raise InvalidModelError(field, "a regular file or a new path", str(path),
                                    f"{path} is a symbolic link that cannot be followed "
                                    f"({error.strerror}). Write to a regular file.") from error
        if mode is not None and not stat.S_ISREG(mode):
            # A link to a pipe, such as /dev/stdout in a pipeline, or to a device.
            raise InvalidModelError(field, "a regular file or a new path", str(path),
                                    f"{path} leads to {file_type(mode)}, not a regular file, "
                                    "and ctdyn writes a new file and renames it over the "
                                    "target. Write to a regular file instead.")
        path = _through_links(path)
        field = f"{field} (a link to {path})"
    folder = path.parent
    if path.name in ("", ".", ".."):
        raise InvalidModelError(field, "a file name", str(path), "Give a path such as out/result.json.")
    if not folder.is_dir():
        raise InvalidModelError(field, "a file in an existing folder", str(path),
                                f"Create the folder {str(folder)!r} first or choose another path.")
    if path.is_dir():
        raise InvalidModelError(field, "a file path, not a folder", str(path),
                                "Add a file name, for example result.json.")
    _check_replaceable(path, field)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidModelError(field, "a file in a writable folder", str(path),
                                f"Make {str(folder)!r} writable or choose another folder.")
    return path
