r"""Checks that the readers of model, weights and matrix files share.

A path that a model names may exist and still be no file to read: a folder,
a FIFO made with ``mkfifo``, a device such as ``/dev/zero``, or a socket.
Opening a FIFO for reading blocks until another process opens it for
writing, and ``/dev/zero`` never ends. So :func:`check_regular_file` rejects such a path, naming what
it is, before any reader opens it.

Editors often start UTF-8 text with a byte order mark (BOM, the bytes
``EF BB BF``). TOML 1.0 forbids it and ``float("\ufeff1")`` fails, so the
text readers decode with :data:`TEXT_ENCODING`, which drops one leading BOM.
A UTF-16 file is still rejected, and :func:`describe_undecodable` names its
BOM in the message.
"""

from __future__ import annotations

import codecs
import stat
from pathlib import Path

from ..errors import ModelFileError

__all__ = ["TEXT_ENCODING", "check_regular_file", "check_matrix_market_start",
           "describe_undecodable", "file_type"]

# UTF-8 that drops one leading byte order mark, for every text file ctdyn reads.
TEXT_ENCODING = "utf-8-sig"

_FILE_TYPES = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# The UTF-32 little-endian mark starts with the UTF-16 one, so it is tested first.
_UTF32_MARKS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


def file_type(mode: int) -> str:
    """Name the file type of an ``st_mode`` with its article, such as "a FIFO (named pipe)"."""
    if stat.S_ISREG(mode):
        return "a regular file"
    for is_type, name in _FILE_TYPES:
        if is_type(mode):
            return name
    return "a special file"


def check_regular_file(path: Path, *, field: str, received: object, expected: str,
                       missing_fix: str) -> None:
    """Raise ModelFileError unless ``path`` is a regular file, after following symbolic links.

    Parameters
    ----------
    path : Path
        The file that a reader is about to open.
    field, received : str, object
        The entry that named the file and its value, for the message.
    expected, missing_fix : str
        What the message expects and the fix it gives when nothing exists at
        ``path``. Any other file type gets a message that names the type.
    """
    # NOTE: a reader opens the path again after this check, so a file that
    # another process replaces in between by a FIFO is not caught.
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise ModelFileError(field, expected, received, missing_fix) from None
    except OSError as error:
        raise ModelFileError(field, "a file that can be opened", received,
                             f"Check the path {path} ({error.strerror}).") from error
    if stat.S_ISREG(mode):
        return
    kind = file_type(mode)
    if stat.S_ISDIR(mode):
        advice = "Give the path of a file inside it."
    else:
        advice = ("Save the data to a regular file and pass that path, because a read from "
                  "a pipe, device or socket can block or never end.")
    raise ModelFileError(field, "a regular file", received,
                         f"{path} is {kind}, not a regular file. {advice}")


def describe_undecodable(head: bytes, error: UnicodeDecodeError) -> str:
    """Describe text that is not UTF-8, given its first bytes, for an error message."""
    if head.startswith(_UTF32_MARKS):
        return "UTF-32 text (the file starts with a UTF-32 byte order mark)"
    if head.startswith(_UTF16_MARKS):
        return "UTF-16 text (the file starts with a UTF-16 byte order mark)"
    return f"a byte that is not UTF-8 ({error.reason})"


def check_matrix_market_start(path: Path, *, field: str) -> None:
    """Raise ModelFileError when a Matrix Market file starts with a byte order mark.

    ``scipy.io.mmread`` reads the banner from the first byte, so a UTF-8 or
    UTF-16 BOM would otherwise be reported as a missing banner.
    """
    with path.open("rb") as stream:
        head = stream.read(4)
    if head.startswith(codecs.BOM_UTF8):
        received = "a file that starts with a UTF-8 byte order mark (BOM)"
    elif head.startswith(_UTF32_MARKS):
        received = "UTF-32 text (the file starts with a UTF-32 byte order mark)"
    elif head.startswith(_UTF16_MARKS):
        received = "UTF-16 text (the file starts with a UTF-16 byte order mark)"
    else:
        return
    raise ModelFileError(field, "a Matrix Market file that starts with its banner", received,
                         f"Save {path} as UTF-8 without a BOM, so that its first line is the "
                         "%%MatrixMarket banner.")
