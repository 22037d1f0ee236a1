"""The spike table of a run (docs/model.md §8.1): all spikes as (neuron, time) pairs sorted by (neuron, time).

Per-neuron and per-population results are computed from this table with ``np.bincount`` /
``np.diff``, never with a loop over neurons. :func:`read_spike_trains` reads the table from a
``spikes.h5`` (the file format is :mod:`humam.spikefile`'s).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from pathlib import Path

import numpy as np

from .. import spikefile, tables
from ..errors import DataError


def equal_runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unique keys, start index, length) of the runs of equal values in a sorted 1-D array."""
    if sorted_keys.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return sorted_keys[:0], empty, empty
    start = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    length = np.diff(np.append(start, sorted_keys.size))
    return sorted_keys[start], start, length


@dataclass(frozen=True, eq=False)
class SpikeTrains:
    """All spikes of a run as one table sorted by (neuron, time).

    ``neuron`` is the global neuron index: the neurons of population p (canonical order) are
    ``offsets[p] ... offsets[p+1]-1`` with ``offsets = [0, cumsum(neuron_numbers)]``, so id order
    within a population is global order. Use :func:`spike_trains_from_arrays` to build one.
    """

    neuron_numbers: np.ndarray  #: (272,) neurons per population (0 for empty populations)
    t_sim_ms: float  #: simulated time
    neuron: np.ndarray  #: (S,) int64 global neuron index of every spike, sorted
    times_ms: np.ndarray  #: (S,) float64 spike times, sorted within each neuron

    @cached_property
    def offsets(self) -> np.ndarray:
        """(273,) global index of the first neuron of each population, and the total."""
        return np.concatenate(([0], np.cumsum(self.neuron_numbers))).astype(np.int64)

    @cached_property
    def _present_runs(self):
        return equal_runs(self.neuron)

    @property
    def present(self) -> np.ndarray:
        """(P,) global ids of the neurons present in the spike data (spiked at least once), sorted."""
        return self._present_runs[0]

    @property
    def spike_counts(self) -> np.ndarray:
        """(P,) whole-run spike count of each present neuron."""
        return self._present_runs[2]

    @cached_property
    def spike_rank(self) -> np.ndarray:
        """(S,) index into :attr:`present` of every spike."""
        return np.repeat(np.arange(self.present.size, dtype=np.int64), self.spike_counts)

    @cached_property
    def present_population(self) -> np.ndarray:
        """(P,) canonical population index of each present neuron."""
        return (np.searchsorted(self.offsets, self.present, side="right") - 1).astype(np.int64)

    @cached_property
    def present_node_id(self) -> np.ndarray:
        """(P,) 0-based id of each present neuron within its population."""
        return self.present - self.offsets[self.present_population]

    @cached_property
    def population_bounds(self) -> np.ndarray:
        """(273,) the spikes of population p are ``neuron[bounds[p]:bounds[p+1]]``."""
        return np.searchsorted(self.neuron, self.offsets)

    @cached_property
    def spike_population(self) -> np.ndarray:
        """(S,) canonical population index of every spike."""
        return np.repeat(np.arange(tables.N_POPULATIONS, dtype=np.int64), np.diff(self.population_bounds))

    @property
    def n_spikes(self) -> int:
        return int(self.neuron.size)


def spike_trains_from_arrays(neuron_numbers, population_index, node_id, times_ms, t_sim_ms: float) -> SpikeTrains:
    """A :class:`SpikeTrains` table from per-spike arrays in any order.

    ``population_index`` is the canonical population of each spike and ``node_id`` the 0-based id
    within the population. Spikes are sorted by (neuron, time); input already sorted by time within
    each population (as in ``spikes.h5``) needs only a stable sort by neuron.
    """
    neuron_numbers = np.asarray(neuron_numbers, dtype=np.int64)
    if neuron_numbers.shape != (tables.N_POPULATIONS,):
        raise ValueError(f"neuron_numbers must have shape ({tables.N_POPULATIONS},), got {neuron_numbers.shape}")
    population_index = np.asarray(population_index, dtype=np.int64)
    node_id = np.asarray(node_id, dtype=np.int64)
    times = np.asarray(times_ms, dtype=np.float64)
    if not (population_index.shape == node_id.shape == times.shape) or times.ndim != 1:
        raise ValueError("population_index, node_id and times_ms must be 1-D arrays of equal length")
    if times.size and (np.any(node_id < 0) or np.any(node_id >= neuron_numbers[population_index])):
        raise ValueError("a node id lies outside its population")
    offsets = np.concatenate(([0], np.cumsum(neuron_numbers)))
    neuron = offsets[population_index] + node_id
    if times.size > 1:
        same_population = population_index[1:] == population_index[:-1]
        if np.all((times[1:] >= times[:-1]) | ~same_population) and np.all(population_index[1:] >= population_index[:-1]):
            order = stable_argsort(neuron)
        else:
            order = np.lexsort((times, neuron))
        neuron, times = neuron[order], times[order]
    return SpikeTrains(neuron_numbers=neuron_numbers, t_sim_ms=float(t_sim_ms), neuron=neuron, times_ms=times)


def stable_argsort(keys: np.ndarray) -> np.ndarray:
    """Stable argsort of non-negative integers: NumPy's radix sort on 16-bit digits (one or two
    passes) where the keys fit into 32 bits, else its merge sort."""
    largest = int(keys.max()) if keys.size else 0
    if keys.size == 0 or largest >= 2**32:
        return np.argsort(keys, kind="stable")
    if largest < 2**16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    return order[np.argsort((keys[order] >> 16).astype(np.uint16), kind="stable")]



def read_spike_trains(path: str | Path, neuron_numbers=None) -> SpikeTrains:
    """The spike table of a ``spikes.h5`` written by :func:`humam.spikefile.write_spikes`.

    ``neuron_numbers`` (272,) defaults to the ``size`` attributes of the file; when given (from the
    network), it is checked against them.
    """
    t_sim, groups = spikefile.read_spike_file(path)
    label_index = spikefile.population_label_index()
    parts = []
    sizes = np.zeros(tables.N_POPULATIONS, dtype=np.int64)
    for label, group in groups.items():
        if label not in label_index:
            raise DataError(f"{path}: unknown population group '{label}'.")
        index = label_index[label]
        sizes[index] = int(group["size"])
        parts.append((index, group["node_ids"].astype(np.int64), group["timestamps"]))
    if neuron_numbers is None:
        neuron_numbers = sizes
    else:
        neuron_numbers = np.asarray(neuron_numbers, dtype=np.int64)
        bad = np.flatnonzero((sizes > 0) & (neuron_numbers != sizes))
        if bad.size:
            raise DataError(
                f"{path} does not belong to this network: population sizes differ, e.g. "
                f"{'/'.join(tables.POPULATIONS[bad[0]])} has {sizes[bad[0]]} neurons in the spike file and "
                f"{neuron_numbers[bad[0]]} in the network."
            )
    parts.sort(key=lambda part: part[0])  # canonical population order = global id order
    offsets = np.concatenate(([0], np.cumsum(neuron_numbers)))
    neurons, times = [], []
    for index, ids, ts in parts:
        if ids.size == 0:
            continue
        if ids.max() >= neuron_numbers[index]:
            raise DataError(f"{path}: population {'/'.join(tables.POPULATIONS[index])} has a node id beyond its size.")
        if np.all(ts[1:] >= ts[:-1]):  # the file's order (time, then id): a stable sort by id suffices
            order = stable_argsort(ids)
        else:
            order = np.lexsort((ts, ids))
        neurons.append(ids[order] + offsets[index])
        times.append(ts[order])
    return SpikeTrains(neuron_numbers=neuron_numbers, t_sim_ms=t_sim,
                       neuron=np.concatenate(neurons) if neurons else np.zeros(0, dtype=np.int64),
                       times_ms=np.concatenate(times).astype(np.float64) if times else np.zeros(0))
