"""Self-describing HDF5 files written atomically, shared by every stage's output.

:func:`atomic_h5` yields an open file that is written under a temporary name in the target folder
and moved into place (``os.replace``) only when the block finishes without error, so a reader
never sees a half-written result under the final name. :func:`open_h5` checks the file type and
format version on reading.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import numpy as np

RESERVED_ATTRS = ("file_type", "format_version")


def json_default(value):
    """JSON encoder fallback for NumPy scalars and arrays and paths."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def attribute_value(value):
    """``value`` as an HDF5 attribute: scalars and strings as they are, anything else as JSON."""
    if isinstance(value, (str, bool, int, float, np.number)):
        return value
    return json.dumps(value, sort_keys=True, default=json_default)


@contextlib.contextmanager
def atomic_h5(path: str | Path, file_type: str, format_version: int, attrs: dict | None = None):
    """Write an HDF5 file at ``path`` atomically; yields the open ``h5py.File``.

    ``attrs`` become file attributes (non-scalars as JSON) next to ``file_type`` and
    ``format_version``, which are reserved.
    """
    import h5py

    path = Path(path)
    attrs = dict(attrs or {})
    clash = sorted(set(attrs) & set(RESERVED_ATTRS))
    if clash:
        raise ValueError(f"attribute name(s) {', '.join(clash)} are reserved by the "
                         f"{file_type.rsplit('.', 1)[-1]} file format")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with h5py.File(tmp, "w", track_order=True) as h5:
            h5.attrs["file_type"] = file_type
            h5.attrs["format_version"] = format_version
            for key, value in attrs.items():
                h5.attrs[key] = attribute_value(value)
            yield h5
        with open(tmp, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def open_h5(path: str | Path, file_type: str, format_version: int):
    """Open a file written by :func:`atomic_h5` for reading, checking its type and version."""
    import h5py

    path = Path(path)
    kind = file_type.rsplit(".", 1)[-1]
    with h5py.File(path, "r") as h5:
        if h5.attrs.get("file_type") != file_type:
            raise ValueError(f"{path} is not a humam {kind} file (file_type {h5.attrs.get('file_type')!r}).")
        version = int(h5.attrs.get("format_version", -1))
        if version != format_version:
            raise ValueError(f"{path} has {kind} format version {version}; this humam reads version "
                             f"{format_version}. Rebuild it.")
        yield h5
