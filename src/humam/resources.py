"""Locate files that ship with humam: the data registry, the experiment and the profile files.

In a wheel they live in ``humam/_resources``; in a source checkout (editable install) they are
read from the repository's ``data/`` and ``experiments/`` folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_REPO = _PACKAGE.parents[1]


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        "humam is incompletely installed: none of " + ", ".join(str(c) for c in candidates) + " exists. "
        "Reinstall it with 'pip install .' from the repository."
    )


def registry_file() -> Path:
    """The data registry (YAML)."""
    return _first_existing(_PACKAGE / "_resources" / "registry.yaml", _REPO / "data" / "registry.yaml")


def experiments_dir() -> Path:
    """Folder of the experiment files (``<name>.yaml``)."""
    return _first_existing(_PACKAGE / "_resources" / "experiments", _REPO / "experiments")


def profiles_dir() -> Path:
    """Folder of the pipeline profiles (``<name>.yaml``)."""
    return _first_existing(_PACKAGE / "_resources" / "profiles", _REPO / "profiles")
