"""Read a data file as UTF-8 text, or say in one line, naming the file, why it cannot be read."""

from __future__ import annotations

import stat
from pathlib import Path

MAX_TEXT_BYTES = 64 * 1024 * 1024  # far above any pad, sequence or recording padctl reads


class DataFileError(Exception):
    """A data file padctl cannot use; str() is one line: 'file:line: problem'."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        super().__init__(f"{path}:{line}: {problem}")


def read_text_file(path: Path, *, max_bytes: int | None = MAX_TEXT_BYTES) -> str:
    """The text of `path` (UTF-8, a leading BOM dropped); DataFileError if it is not that.

    Refused: a missing or unreadable path, a directory or any other non-regular file (a FIFO
    or a device would block or never end), a file over `max_bytes` (None: no limit), bytes
    that are not UTF-8, and NUL bytes (binary data that happens to decode).
    """
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise DataFileError(path, 1, "cannot read: is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise DataFileError(path, 1, "cannot read: not a regular file")
        if max_bytes is not None and info.st_size > max_bytes:
            raise DataFileError(
                path, 1, f"cannot read: {info.st_size} bytes, more than {max_bytes}"
            )
        data = path.read_bytes()
    except OSError as error:
        raise DataFileError(path, 1, f"cannot read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DataFileError(
            path,
            line,
            f"cannot read: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})",
        ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data[:nul].count(b"\n") + 1
        raise DataFileError(
            path, line, f"cannot read: binary data, not text (NUL byte at offset {nul})"
        )
    return text.removeprefix("\ufeff")
