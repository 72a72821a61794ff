"""Where the shipped sequence and procedure files live."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def sequences_dir() -> Path:
    """The `sequences/` folder: the repository's own, or the copy inside an installed wheel."""
    repository = Path(__file__).resolve().parents[2] / "sequences"
    if repository.is_dir():
        return repository
    return Path(str(resources.files("padctl") / "sequences"))
