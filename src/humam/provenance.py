"""Provenance records attached to every output: package version, git commit, library versions,
platform, container identity and date."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from . import __version__

#: distributions whose versions can change results
LIBRARIES = ("numpy", "scipy", "pandas", "h5py", "xlrd", "numba", "pyyaml", "matplotlib", "nest-simulator", "mpi4py")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_commit() -> str | None:
    """Commit of the source checkout humam runs from ("<sha>-dirty" with local changes), or None."""
    repo = Path(__file__).resolve().parents[2]
    if not (repo / ".git").exists():
        return None
    try:
        sha = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}-dirty" if dirty else sha


def container() -> dict[str, str] | None:
    """Identity of the container humam runs in, if any (Apptainer/Singularity or OCI)."""
    for variable in ("APPTAINER_CONTAINER", "SINGULARITY_CONTAINER"):
        if os.environ.get(variable):
            return {"runtime": variable.split("_")[0].lower(), "image": os.environ[variable],
                    "revision": os.environ.get("HUMAM_IMAGE_REVISION", "")}
    # HUMAM_IMAGE is set by the image itself: podman --read-only hides /run/.containerenv
    if Path("/.dockerenv").exists() or Path("/run/.containerenv").exists() or os.environ.get("HUMAM_IMAGE"):
        return {"runtime": "oci", "image": os.environ.get("HUMAM_IMAGE", ""),
                "revision": os.environ.get("HUMAM_IMAGE_REVISION", "")}
    return None


def record() -> dict:
    """A provenance record of the current process."""
    return {
        "humam_version": __version__,
        "git_commit": git_commit(),
        "libraries": library_versions(),
        "platform": platform.platform(),
        "python_executable": sys.executable,
        "container": container(),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
