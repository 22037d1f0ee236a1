"""The raw-data registry: every input file with its public URL, size and checksum.

:func:`data_path` returns a verified local copy of a registered file. With a local mirror
configured (``HUMAM_DATA_DIR`` or ``data_dir`` in the config file, see :mod:`humam.config`) the
file is taken from the mirror and never downloaded; otherwise it is fetched once from the pinned
public source into the user cache (pooch) and verified by sha256. Every failure is reported as a
:class:`~humam.errors.DataError` that names the file, where it was looked for and how to fix it.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import config
from .errors import DataError, OptionalDataMissing
from .resources import registry_file


@dataclass(frozen=True)
class RegistryEntry:
    """One registered raw input file."""

    path: str  #: original relative path in the data release
    url: str
    description: str
    size: int | None = None  #: bytes
    sha256: str | None = None
    git_blob_sha1: str | None = None  #: used where no sha256 is published
    optional: bool = False


@functools.lru_cache(maxsize=1)
def registry() -> dict[str, RegistryEntry]:
    """All registered files, keyed by their relative path."""
    raw = yaml.safe_load(registry_file().read_text())
    base = raw["base_url"]
    return {
        path: RegistryEntry(
            path=path,
            url=base + path,
            description=info.get("description", ""),
            size=info.get("size"),
            sha256=info.get("sha256"),
            git_blob_sha1=info.get("git_blob_sha1"),
            optional=bool(info.get("optional", False)),
        )
        for path, info in raw["files"].items()
    }


def entry(relpath: str) -> RegistryEntry:
    """The registry entry of ``relpath``; a clear error for an unregistered path."""
    try:
        return registry()[relpath]
    except KeyError:
        raise DataError(
            f"'{relpath}' is not a registered humam input. Registered files are listed in "
            f"{registry_file()} (see also 'humam data verify')."
        ) from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_blob_sha1_of(path: Path) -> str:
    """Git's blob id of a file: sha1 of ``b"blob <size>\\0" + content``."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checksum_problem(item: RegistryEntry, path: Path) -> str | None:
    """None if ``path`` matches the registry, else a description of the mismatch."""
    if item.size is not None and path.stat().st_size != item.size:
        return f"it has {path.stat().st_size} bytes, the registry expects {item.size}"
    if item.sha256 is not None:
        actual = sha256_of(path)
        if actual != item.sha256:
            return f"its sha256 is {actual}, the registry expects {item.sha256}"
    elif item.git_blob_sha1 is not None:
        actual = git_blob_sha1_of(path)
        if actual != item.git_blob_sha1:
            return f"its git blob id is {actual}, the registry expects {item.git_blob_sha1}"
    return None


def _missing(item: RegistryEntry, message: str) -> DataError:
    cls = OptionalDataMissing if item.optional else DataError
    if item.optional:
        message += " This input is optional: what needs it is skipped and reported as unavailable."
    return cls(message)


@functools.lru_cache(maxsize=None)
def _verified_mirror_file(mirror: Path, relpath: str) -> Path:
    item = entry(relpath)
    path = mirror / relpath
    if not path.is_file():
        raise _missing(
            item,
            f"Raw data file '{relpath}' ({item.description}) is missing from the local mirror {mirror} "
            f"(looked for {path}). Copy it there from {item.url}, or unset HUMAM_DATA_DIR (and the "
            f"'data_dir' entry of {config.config_file()}) to download it automatically.",
        )
    problem = _checksum_problem(item, path)
    if problem:
        raise DataError(
            f"Raw data file {path} is corrupt or a different version: {problem}. Replace it with the "
            f"published file from {item.url}."
        )
    return path


def _fetch(item: RegistryEntry) -> Path:
    import pooch

    cache = config.cache_dir() / "raw"
    target = cache / item.path
    known_hash = f"sha256:{item.sha256}" if item.sha256 else None
    try:
        path = Path(pooch.retrieve(item.url, known_hash=known_hash, fname=item.path, path=cache, progressbar=False))
    except ValueError as exc:  # pooch's checksum mismatch
        raise DataError(
            f"The download of '{item.path}' from {item.url} does not match the registry ({exc}). "
            f"Nothing was kept. Retry later, or place a verified copy in a local mirror and point "
            f"HUMAM_DATA_DIR at it."
        ) from exc
    except Exception as exc:  # network errors of any kind
        raise _missing(
            item,
            f"Raw data file '{item.path}' ({item.description}) is not in the cache ({target}) and could "
            f"not be downloaded from {item.url}: {exc}. Connect to the internet and retry, or download "
            f"the data release elsewhere and set HUMAM_DATA_DIR to its root folder.",
        ) from exc
    problem = _checksum_problem(item, path)
    if problem:
        path.unlink(missing_ok=True)
        raise DataError(
            f"The download of '{item.path}' from {item.url} was removed because {problem}. Retry, or "
            f"use a verified local mirror (HUMAM_DATA_DIR)."
        )
    return path


def data_path(relpath: str) -> Path:
    """A verified local copy of the registered raw file ``relpath``.

    Raises :class:`~humam.errors.DataError` (or :class:`~humam.errors.OptionalDataMissing` for an
    optional file) with instructions when the file cannot be had.
    """
    item = entry(relpath)
    mirror = config.data_dir()
    if mirror is not None:
        return _verified_mirror_file(mirror, relpath)
    return _fetch(item)


def verify_all() -> list[dict]:
    """Check every registered file; one row per file with its status (``ok``, ``missing``,
    ``optional, missing`` or ``error``) and a detail message."""
    rows = []
    for relpath, item in registry().items():
        try:
            path = data_path(relpath)
            rows.append({"path": relpath, "status": "ok", "detail": str(path)})
        except OptionalDataMissing as exc:
            rows.append({"path": relpath, "status": "optional, missing", "detail": str(exc)})
        except DataError as exc:
            status = "missing" if "missing" in str(exc) or "could not be downloaded" in str(exc) else "error"
            rows.append({"path": relpath, "status": status, "detail": str(exc)})
    return rows
