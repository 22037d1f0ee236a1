"""The spike journey of a single extra spike (docs/model.md §10.3): a perturbed run against its unperturbed
twin, its populations ordered by their graph distance from the perturbed population.

* **Population graph** of a network: the non-empty populations, a directed edge j → i iff
  S_ij > 0, of length the mean delay of that projection as stored in the network
  (``Network.delay_mean_ms``: 1.5 ms from local E, 0.75 ms from local I sources, distance / 3.5 mm/ms
  between areas; docs/model.md §5.4).
* **Distances** from p* = (pericalcarine, IV, E): hop count (unweighted shortest path) and delay
  distance (Dijkstra over the mean delays, ms), with :mod:`scipy.sparse.csgraph`.
* **Difference raster**: D_i(b) = 1 iff the perturbed and unperturbed spike counts of population i
  differ in bin b of [2000, 2100) ms, counted directly from the spikes; 0.1 ms bins (docs/quirks.md Q21: the
  published figure corresponds to 0.1 ms bins) and 1 ms bins. The extra spike reaches p* 1 ms after
  it is emitted, so no difference can appear earlier.

:func:`compare_runs` computes all of it for one pair of run folders, with the distances of a given
(full-scale) network attached to populations by label; :func:`write_journey` / :func:`read_journey`
store it (``humam journey``, the pipeline's task journey, writes
:func:`humam.layout.journey_file`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from .. import layout, network_file, provenance, run_record, tables
from ..errors import ParameterError
from ..h5io import atomic_h5, attribute_value, open_h5, read_tree, write_tree
from ..network import PERTURBATION_DELAY_MS
from ..run_record import run_parameters
from .spike_trains import SpikeTrains, read_spike_trains
from .statistics import population_counts

FILE_TYPE = "humam.journey"
FORMAT_VERSION = 1

#: p*: the population that receives the extra spike (docs/model.md §5.6, §10.3).
PERTURBED_POPULATION = ("pericalcarine", "IV", "E")
#: Window of the difference raster, ms (the extra spike is emitted at its start).
WINDOW_MS = (2000.0, 2100.0)
#: Bin widths of the stored difference rasters, ms (0.1 ms: Q21; 1 ms: the coarse option).
BIN_WIDTHS_MS = (0.1, 1.0)


# ---------------------------------------------------------------------------------------------
# Graph (pure functions of the network)


def population_graph(synapses, delay_mean_ms):
    """(272, 272) sparse graph in the csgraph convention (entry [j, i] = edge j → i) with an edge
    from source j to target i iff S_ij > 0, weighted by the mean delay of that projection.

    ``synapses`` and ``delay_mean_ms`` are (272, 272) with rows = target, columns = source, as in
    :class:`humam.network.Network`.
    """
    synapses = np.asarray(synapses)
    delay = np.asarray(delay_mean_ms, dtype=float)
    target, source = np.nonzero(synapses > 0)
    if np.any(delay[target, source] <= 0):
        raise ValueError("mean delays of existing projections must be > 0")
    return sparse.csr_matrix((delay[target, source], (source, target)), shape=synapses.shape)


def graph_distances(net, source=PERTURBED_POPULATION) -> dict[str, Any]:
    """Hop counts and delay distances (ms) from population ``source`` to every population of ``net``.

    Returns (272,) arrays ``hops`` and ``delay_ms`` (inf where unreachable, also for empty
    populations), the ``source_index``, ``nonempty`` and ``reachable`` masks (non-empty and
    finite distance) and the number of edges ``n_edges``.
    """
    graph = population_graph(net.synapses, net.delay_mean_ms)
    index = tables.population_index(*source)
    hops = csgraph.shortest_path(graph, method="D", directed=True, unweighted=True, indices=index)
    delay = csgraph.dijkstra(graph, directed=True, indices=index)
    nonempty = np.asarray(net.nonempty, dtype=bool)
    return {"hops": hops, "delay_ms": delay, "source_index": index, "nonempty": nonempty,
            "reachable": nonempty & np.isfinite(delay), "n_edges": int(graph.nnz)}


def area_min_distance(delay_ms, mask) -> np.ndarray:
    """(34,) minimum delay distance over the populations of each area selected by ``mask`` (inf if none)."""
    values = np.where(mask, delay_ms, np.inf).reshape(tables.N_AREAS, tables.N_POPULATIONS_PER_AREA)
    return values.min(axis=1)


def distance_order(delay_ms, mask) -> np.ndarray:
    """Population indices selected by ``mask``, sorted by delay distance (canonical order within ties)."""
    index = np.flatnonzero(mask)
    return index[np.lexsort((index, np.asarray(delay_ms)[index]))]


def compare_graphs(reference: dict, other: dict, simulated) -> dict[str, Any]:
    """How the distances ``other`` (of a run's own, e.g. down-scaled, network) differ from
    ``reference`` (both from :func:`graph_distances`) over the ``simulated`` populations."""
    simulated = np.asarray(simulated, dtype=bool)
    both = reference["reachable"] & np.isfinite(other["delay_ms"])
    return {"n_edges": other["n_edges"], "reference_n_edges": reference["n_edges"],
            "populations_unreachable": int((simulated & ~np.isfinite(other["delay_ms"])).sum()),
            "populations_with_other_hop_count": int((both & (other["hops"] != reference["hops"])).sum()),
            "max_abs_delay_distance_difference_ms":
                float(np.max(np.abs(other["delay_ms"][both] - reference["delay_ms"][both]))) if both.any() else None}


# ---------------------------------------------------------------------------------------------
# Difference raster (pure functions of spike data)


def window_counts(st: SpikeTrains, window_ms=WINDOW_MS, bin_ms: float = BIN_WIDTHS_MS[0]) -> np.ndarray:
    """(272, B) spike counts per population in the bins of ``window_ms``."""
    return population_counts(st, float(window_ms[0]), float(window_ms[1]), float(bin_ms))


def difference_raster(counts_unperturbed, counts_perturbed) -> np.ndarray:
    """D_i(b) = True iff the two runs' spike counts of population i differ in bin b."""
    a, b = np.asarray(counts_unperturbed), np.asarray(counts_perturbed)
    if a.shape != b.shape:
        raise ValueError(f"count arrays differ in shape: {a.shape} vs {b.shape}")
    return a != b


def first_difference_by_area(raster, bin_ms: float) -> np.ndarray:
    """(34,) start (ms after the window start) of the earliest bin in which any population of the area
    differs; NaN for areas without any difference."""
    raster = np.asarray(raster, dtype=bool)
    per_area = raster.reshape(tables.N_AREAS, tables.N_POPULATIONS_PER_AREA, -1).any(axis=1)
    return np.where(per_area.any(axis=1), per_area.argmax(axis=1) * float(bin_ms), np.nan)


def identical_before(st_a: SpikeTrains, st_b: SpikeTrains, t_ms: float) -> bool:
    """True if the two runs have exactly the same spikes (neuron and time) before ``t_ms``."""
    a, b = st_a.times_ms < t_ms, st_b.times_ms < t_ms
    return bool(np.array_equal(st_a.neuron[a], st_b.neuron[b]) and np.array_equal(st_a.times_ms[a], st_b.times_ms[b]))


def pair_difference(st_unperturbed: SpikeTrains, st_perturbed: SpikeTrains, bin_ms: float,
                    window_ms=WINDOW_MS, arrival_ms: float | None = None) -> dict[str, Any]:
    """The difference raster of one pair in ``bin_ms`` bins of ``window_ms``, its first difference per
    area and the number of differing bins before ``arrival_ms`` (default: window start + 1 ms, when
    the extra spike reaches p*)."""
    if not np.array_equal(st_unperturbed.neuron_numbers, st_perturbed.neuron_numbers):
        raise ParameterError("the two runs simulate different populations: they are not a perturbation pair.")
    raster = difference_raster(window_counts(st_unperturbed, window_ms, bin_ms),
                               window_counts(st_perturbed, window_ms, bin_ms))
    arrival = float(window_ms[0]) + PERTURBATION_DELAY_MS if arrival_ms is None else float(arrival_ms)
    n_early = int(np.ceil(round((arrival - float(window_ms[0])) / float(bin_ms), 9)))
    return {"bin_ms": float(bin_ms), "raster": raster, "first_difference_ms": first_difference_by_area(raster, bin_ms),
            "differences_before_arrival": int(raster[:, :max(n_early, 0)].sum())}


# ---------------------------------------------------------------------------------------------
# A pair of run folders


def bin_key(bin_ms: float) -> str:
    """Name of the group of the ``bin_ms`` raster in a journey result (``bin_0.1ms``, ``bin_1ms``)."""
    return f"bin_{float(bin_ms):g}ms"


def _perturbation_times(record: dict) -> list[float]:
    return [float(p["time_ms"]) for p in run_parameters(record)["network"].get("perturbation") or []]


def _run_descriptor(folder: Path, record: dict, net) -> dict[str, Any]:
    return {"folder": str(folder), "experiment": str(record.get("experiment", "")),
            "net_hash": str(record.get("net_hash", "")), "sim_hash": str(record.get("sim_hash", folder.name)),
            "network_digest": str(record.get("network_digest", "")), "seed": int(record.get("seed", -1)),
            "n_scaling": float(net.n_scaling), "k_scaling": float(net.k_scaling), "scaling_type": str(net.scaling_type),
            "t_sim_ms": float(run_parameters(record)["simulation"]["t_sim_ms"]),
            "perturbation_times_ms": np.asarray(_perturbation_times(record), dtype=float)}


def compare_runs(unperturbed_folder, perturbed_folder, network_path, window_ms=WINDOW_MS,
                 bin_widths_ms=BIN_WIDTHS_MS, source=PERTURBED_POPULATION) -> dict[str, Any]:
    """The spike journey of the perturbed run in ``perturbed_folder`` against the unperturbed run in
    ``unperturbed_folder`` (both written by ``humam simulate``, each beside its network), ordered by
    the graph distances of the network in ``network_path`` (the full-scale network; distances are
    attached to populations by label, so they apply to a down-scaled pair as well).

    Returns a nested dict:

    * ``window_ms`` (2,), ``perturbed_population`` ("area/layer/population");
    * ``graph``: ``hops``, ``delay_ms`` (272,) from p* in the given network, ``nonempty``, ``reachable``
      (272,) bool, ``area_min_delay_ms`` (34,) over the reachable populations, ``source_index``,
      ``n_edges``;
    * ``run_graph``: how the unperturbed run's own network's distances differ (:func:`compare_graphs`);
    * ``pair``: ``simulated`` (272,) bool (populations the runs simulate), ``identical_before_perturbation``
      (same spikes before the window start), ``t_sim_ms`` (the shorter run);
    * one group per bin width (:func:`bin_key`) with ``bin_ms``, ``raster`` (272, B) bool,
      ``first_difference_ms`` (34,) (NaN: no difference) and ``differences_before_arrival``;
    * ``runs``: ``unperturbed`` and ``perturbed`` descriptors (folder, experiment, hashes, network digest,
      seed, scale of the simulated network, t_sim_ms, ``perturbation_times_ms``).
    """
    folders = {"unperturbed": layout.RunFolder(Path(unperturbed_folder)),
               "perturbed": layout.RunFolder(Path(perturbed_folder))}
    records, trains, networks = {}, {}, {}
    for key, run in folders.items():
        run_record.check_run_network(run.path)
        records[key] = run_record.read_run_record(run.path)
        networks[key] = network_file.load_network(run.network)
        trains[key] = read_spike_trains(run.spikes, networks[key].neuron_numbers)
    if not np.array_equal(networks["unperturbed"].neuron_numbers, networks["perturbed"].neuron_numbers):
        raise ParameterError(f"{folders['unperturbed'].path} and {folders['perturbed'].path} simulate different "
                             f"populations: they are not a perturbation pair.")
    window_ms = (float(window_ms[0]), float(window_ms[1]))
    t_sim = min(trains["unperturbed"].t_sim_ms, trains["perturbed"].t_sim_ms)
    if t_sim < window_ms[1]:
        raise ParameterError(f"the runs are {t_sim:g} ms long, shorter than the journey window "
                             f"[{window_ms[0]:g}, {window_ms[1]:g}) ms; simulate at least {window_ms[1]:g} ms.")
    reference_net = network_file.load_network(Path(network_path))
    reference = graph_distances(reference_net, source)
    own = graph_distances(networks["unperturbed"], source)
    simulated = np.asarray(networks["unperturbed"].neuron_numbers) > 0
    perturbation = networks["perturbed"].perturbation or {}
    arrivals = np.asarray(perturbation.get("time_ms", []), float) + np.asarray(perturbation.get("delay_ms", []), float)
    arrival = float(arrivals.min()) if arrivals.size else None  # when the first extra spike reaches its target
    result: dict[str, Any] = {
        "window_ms": np.array(window_ms), "perturbed_population": "/".join(source),
        "graph": {**reference, "area_min_delay_ms": area_min_distance(reference["delay_ms"], reference["reachable"])},
        "run_graph": compare_graphs(reference, own, simulated),
        "pair": {"simulated": simulated, "t_sim_ms": t_sim,
                 "identical_before_perturbation": identical_before(trains["unperturbed"], trains["perturbed"],
                                                                   window_ms[0])},
        "runs": {key: _run_descriptor(folders[key].path, records[key], networks[key]) for key in folders},
    }
    for bin_ms in bin_widths_ms:
        result[bin_key(bin_ms)] = pair_difference(trains["unperturbed"], trains["perturbed"], bin_ms, window_ms,
                                                  arrival)
    return result


# ---------------------------------------------------------------------------------------------
# Storage


_FIX = "compute it again: 'humam journey UNPERTURBED_RUN PERTURBED_RUN --network NETWORK_H5 --force' (or the doit task journey)"


def write_journey(result: dict, path: str | Path, attrs: dict | None = None) -> Path:
    """Write ``result`` of :func:`compare_runs` to one HDF5 file, atomically; nested dicts become
    groups. File attributes: file type, format version, provenance and ``attrs`` (non-scalar values
    as JSON)."""
    if "provenance" in (attrs or {}):
        raise ValueError("attribute name 'provenance' is reserved by the journey file format")
    file_attrs = {"provenance": json.dumps(provenance.record(), sort_keys=True),
                  **{k: attribute_value(v) for k, v in (attrs or {}).items()}}
    with atomic_h5(path, FILE_TYPE, FORMAT_VERSION, file_attrs) as h5:
        write_tree(h5, result)
    return Path(path)


def read_journey(path: str | Path) -> dict[str, Any]:
    """Read a file written by :func:`write_journey`: the tree of :func:`compare_runs` plus ``attrs``
    (the file attributes)."""
    with open_h5(path, FILE_TYPE, FORMAT_VERSION, fix=_FIX) as h5:
        result = read_tree(h5)
        result["attrs"] = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in h5.attrs.items()}
    for name in ("nonempty", "reachable"):
        result["graph"][name] = np.asarray(result["graph"][name], dtype=bool)
    result["pair"]["simulated"] = np.asarray(result["pair"]["simulated"], dtype=bool)
    return result


def read_journey_attrs(path: str | Path) -> dict:
    """The file attributes of a journey file."""
    with open_h5(path, FILE_TYPE, FORMAT_VERSION, fix=_FIX) as h5:
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in h5.attrs.items()}
