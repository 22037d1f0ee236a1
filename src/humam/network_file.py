"""The file ``network.h5`` of a :class:`~humam.network.Network`.

:func:`save_network` / :func:`load_network` store a network as one self-describing HDF5 file, and
:func:`content_digest` hashes its data (not its attributes), so that the pipeline can tell whether a
rebuilt network differs from the one a run was simulated from.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np

from . import tables
from .errors import FileFormatError
from .network import Network

# ---------------------------------------------------------------------------------------------
# HDF5 storage

FILE_TYPE = "humam.network"
FORMAT_VERSION = 1


def _is_matrix(value: np.ndarray) -> bool:
    return value.ndim == 2 and value.shape == (tables.N_POPULATIONS, tables.N_POPULATIONS)


def _write_value(group, name: str, value, units: str | None) -> None:
    import h5py

    if value is None:
        return
    if isinstance(value, dict):
        sub = group.create_group(name, track_order=True)
        if units:
            sub.attrs["units"] = units
        for key, item in value.items():
            _write_value(sub, key, item, None)
        return
    if isinstance(value, str):
        dset = group.create_dataset(name, data=value, dtype=h5py.string_dtype("utf-8"))
    elif isinstance(value, np.ndarray) and value.dtype.kind == "U":
        dset = group.create_dataset(name, data=value.astype(object), dtype=h5py.string_dtype("utf-8"))
    elif isinstance(value, np.ndarray):
        options = {"compression": "gzip", "shuffle": True} if _is_matrix(value) else {}
        dset = group.create_dataset(name, data=value, **options)
    elif isinstance(value, (bool, int, float, np.number)):
        dset = group.create_dataset(name, data=value)
        dset.attrs["python_type"] = type(value).__name__ if isinstance(value, (bool, int, float)) else "numpy"
    else:
        raise TypeError(f"cannot store {name!r} of type {type(value).__name__} in a network file")
    if units:
        dset.attrs["units"] = units


def _read_value(node):
    import h5py

    if isinstance(node, h5py.Group):
        return {key: _read_value(node[key]) for key in node}
    if h5py.check_string_dtype(node.dtype) is not None:
        value = node.asstr()[()]
        return value if node.shape == () else np.array(value.tolist(), dtype=str).reshape(node.shape)
    value = node[()]
    python_type = {"bool": bool, "int": int, "float": float}.get(node.attrs.get("python_type"))
    return python_type(value.item()) if node.shape == () and python_type is not None else value


def save_network(network: Network, path: str | Path, attrs: dict | None = None) -> Path:
    """Write ``network`` to one HDF5 file at ``path``, atomically.

    The file is written to a temporary file in the same folder and moved into place with
    ``os.replace``, so ``path`` is either the complete new file or untouched. Datasets are named
    like the :class:`Network` fields (units in the names and in a ``units`` attribute), dict fields
    become groups, strings are UTF-8 variable-length strings and the (272, 272) matrices are gzip
    compressed. ``attrs`` (e.g. resolved parameters as JSON and provenance) become file attributes.
    """
    from .h5io import atomic_h5

    with atomic_h5(path, FILE_TYPE, FORMAT_VERSION, attrs) as h5:
        for item in fields(Network):
            _write_value(h5, item.name, getattr(network, item.name), item.metadata.get("units"))
    return Path(path)


def load_network(path: str | Path) -> Network:
    """Read a network file written by :func:`save_network`."""
    from .h5io import open_h5

    path = Path(path)
    with open_h5(path, FILE_TYPE, FORMAT_VERSION) as h5:
        values = {item.name: _read_value(h5[item.name]) if item.name in h5 else None for item in fields(Network)}
    missing = [item.name for item in fields(Network) if values[item.name] is None and item.default is not None]
    if missing:
        raise FileFormatError(f"{path} lacks the dataset(s) {', '.join(missing)}; it is incomplete: rebuild it "
                              f"('humam network --force' or the doit task) or delete its folder.")
    return Network(**values)


def read_network_attrs(path: str | Path) -> dict:
    """The file attributes passed to :func:`save_network` (without the format's own attributes)."""
    from .h5io import RESERVED_ATTRS, open_h5

    with open_h5(path, FILE_TYPE, FORMAT_VERSION) as h5:
        return {key: (value.item() if isinstance(value, np.generic) else value)
                for key, value in h5.attrs.items() if key not in RESERVED_ATTRS}


def content_digest(path: str | Path) -> str:
    """sha256 of the data of a network file: every dataset's name, dtype, shape and bytes, in name
    order; attributes (provenance, dates) are left out, so rebuilding the same network gives the
    same digest (the pipeline reruns simulations only when it changes)."""
    import hashlib

    import h5py

    from .h5io import open_h5

    digest = hashlib.sha256()
    with open_h5(path, FILE_TYPE, FORMAT_VERSION) as h5:
        names: list[str] = []
        h5.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        for name in sorted(names):
            data = np.ascontiguousarray(h5[name][()])
            digest.update(f"{name}|{data.dtype.str}|{data.shape}|".encode())
            digest.update(data.tobytes() if data.dtype.kind != "O" else repr(data.tolist()).encode())
    return digest.hexdigest()
