"""The spike file ``spikes.h5``: its writer (used by :mod:`humam.simulation`) and its readers (per
population label; the in-memory spike table is read by :func:`humam.analysis.read_spike_trains`).

The file follows the SONATA spike-file format:

* root attributes ``magic`` (uint32 0x0A7A) and ``version`` (uint32 [0, 1]);
* one group ``/spikes/<population>`` per population (label of :func:`population_label`) with the
  datasets ``node_ids`` (uint64, 0-based within the population) and ``timestamps`` (float64, attribute
  ``units`` = "ms"), sorted by time and then node id, and the attribute ``sorting``, an HDF5 enum
  (none = 0, by_id = 1, by_time = 2) holding by_time.

Beside the SONATA content it holds humam's own attributes: ``file_type``, ``format_version``,
``t_sim_ms``, the total number of ``spikes`` and the caller's metadata at the root, and per
population group ``area``, ``layer``, ``population``, ``size`` (neurons) and ``first_node_id`` (the
NEST id of its first neuron). Populations without neurons have no group. The datasets are stored
without compression filters, so that readers without a deflate filter can read them.

This module does not import NEST.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from . import tables
from .errors import DataError
from .h5io import atomic_h5, open_h5

SPIKES_FILE_TYPE = "humam.spikes"
#: 2: SONATA root attributes, uint64 node ids, ``sorting`` enum per population, no compression.
SPIKES_FORMAT_VERSION = 2
#: SONATA identification of the file (root attributes ``magic`` and ``version``).
SONATA_MAGIC = 0x0A7A
SONATA_VERSION = (0, 1)
#: Values of the SONATA ``sorting`` enum.
SONATA_SORTING = {"none": 0, "by_id": 1, "by_time": 2}
_LAYER_LABELS = {"II/III": "23", "IV": "4", "V": "5", "VI": "6"}


def population_label(area: str, layer: str, population: str) -> str:
    """HDF5-safe population name, e.g. ``bankssts_23E`` for (bankssts, II/III, E)."""
    return f"{area}_{_LAYER_LABELS[layer]}{population}"


def population_label_index() -> dict[str, int]:
    """Canonical population index of each population label of the file."""
    return {population_label(*key): i for i, key in enumerate(tables.POPULATIONS)}


def write_spikes(path: str | Path, neuron_numbers: np.ndarray, first_ids: dict[int, int], senders: np.ndarray,
                 times: np.ndarray, t_sim_ms: float, attrs: dict) -> None:
    """Write spikes as a SONATA spike file, atomically (temporary file, then rename).

    ``neuron_numbers`` (272,) are the population sizes, ``first_ids`` maps the canonical index of each
    simulated population to the NEST id of its first neuron (ids of a population are consecutive),
    ``senders`` and ``times`` (ms) are the recorded spikes in any order, ``attrs`` further root
    attributes (non-scalars as JSON).
    """
    senders = np.asarray(senders, dtype=np.int64)
    times = np.asarray(times, dtype=np.float64)
    order = np.lexsort((senders, times))
    senders, times = senders[order], times[order]
    starts = np.array(sorted(first_ids.values()), dtype=np.int64)
    index_of_start = {first: i for i, first in first_ids.items()}
    owner = np.searchsorted(starts, senders, side="right") - 1
    sorting = h5py.enum_dtype(SONATA_SORTING, basetype="u1")
    # 16 bytes per spike (uint64 id, float64 time) and about 4 kB per population group
    expected_bytes = 16.0 * senders.size + 4096.0 * len(starts)
    with atomic_h5(path, SPIKES_FILE_TYPE, SPIKES_FORMAT_VERSION,
                   {"t_sim_ms": t_sim_ms, "spikes": int(senders.size), **attrs}, expected_bytes=expected_bytes) as f:
        f.attrs.create("magic", SONATA_MAGIC, dtype=np.uint32)
        f.attrs.create("version", np.array(SONATA_VERSION, dtype=np.uint32))
        group = f.create_group("spikes")
        for k, first in enumerate(starts):
            i = index_of_start[int(first)]
            mine = owner == k
            area, layer, pop = tables.POPULATIONS[i]
            pop_group = group.create_group(population_label(area, layer, pop))
            pop_group.attrs.create("sorting", SONATA_SORTING["by_time"], dtype=sorting)
            pop_group.attrs.update({"area": area, "layer": layer, "population": pop,
                                    "size": int(neuron_numbers[i]), "first_node_id": int(first)})
            pop_group.create_dataset("node_ids", data=(senders[mine] - first).astype(np.uint64))
            timestamps = pop_group.create_dataset("timestamps", data=times[mine])
            timestamps.attrs["units"] = "ms"


SPIKES_FIX = "simulate the run again ('humam simulate ... --force' or the doit task simulate)"


def read_spike_file(path: str | Path) -> tuple[float, dict[str, dict]]:
    """The simulated time (ms) and the spikes per population label of a ``spikes.h5``:
    ``(t_sim_ms, {label: {"node_ids", "timestamps", **attributes}})``; :class:`DataError` for a file
    without them."""
    with open_h5(path, SPIKES_FILE_TYPE, SPIKES_FORMAT_VERSION, fix=SPIKES_FIX) as f:
        if "spikes" not in f or "t_sim_ms" not in f.attrs:
            raise DataError(f"{path} is not a humam spikes file (no /spikes group or t_sim_ms attribute).")
        groups = {label: {**dict(group.attrs), "node_ids": group["node_ids"][()], "timestamps": group["timestamps"][()]}
                  for label, group in f["spikes"].items()}
        return float(f.attrs["t_sim_ms"]), groups


def read_spikes(path: str | Path) -> dict[str, dict]:
    """Spikes per population label: ``{label: {"node_ids", "timestamps", **attributes}}``."""
    return read_spike_file(path)[1]
