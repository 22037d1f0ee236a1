"""Analysis of simulated spikes (spec §8) and the statistics of the shipped χ scans (spec §8.13).

Every metric is a pure, vectorised function of arrays: spikes are held as one table of (neuron,
time) pairs sorted by (neuron, time) (:class:`SpikeTrains`), and per-neuron or per-population results
come from ``np.bincount`` / ``np.diff`` over that table, never from a loop over neurons. The
readers (:func:`read_spike_trains`, :func:`analyse_run`, :func:`read_analysis`, :func:`load_chi_scan`)
are thin wrappers around them.

Conventions (spec §8.1, quirks Q14–Q19):

* A neuron is *present* if it spiked at least once in the whole run; silent neurons are absent from
  individual rates, CV, LvR and correlations, but mean rates divide by the full population size.
* Population-resolved results are (272,) arrays in canonical order; **empty populations (0 neurons)
  hold NaN** in rates, CV, LvR and cc, so that they can be told apart from populations that exist but
  have no qualifying neuron (CV, LvR, cc = 0 there, as the spec prescribes).
* Area-resolved results are (34,) arrays or (34, 34) matrices in alphabetical area order.
* Times are in ms, rates in spikes/s, rate histograms in spikes/ms per neuron, currents in pA, BOLD
  in the dimensionless units of the Balloon–Windkessel model, with its time in s.

Window conventions, as in the spec: mean and individual rates count spikes in [t_start, t_stop);
CV and LvR use [t_start, t_stop]; correlation trains are binned on [t_start, t_sim] (a spike at
exactly t_sim falls into the last bin); rate histograms use [0, t_sim) whatever t_start is (Q15).
NEST stamps spikes at the end of a time step, so spikes at exactly t_sim occur. A spike at t goes
into bin floor((t - t0) / width + 1e-9), so that grid times on a bin edge stay in their bin.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from . import tables
from .errors import DataError, ParameterError

# ---------------------------------------------------------------------------------------------
# Parameters

#: Default analysis parameters (spec §8). Keys:
#:
#: * ``t_start_ms`` (500.0): start of the analysis window; the initial transient before it is
#:   discarded by every metric except the rate histograms (Q15).
#: * ``t_stop_ms`` (None): end of the analysis window; None means the simulated time t_sim.
#: * ``bin_ms`` (1.0): bin width of the rate histograms (§8.7), of the spike trains of the
#:   correlation coefficient (§8.6), of the synaptic currents (§8.9) and of the BOLD resampling grid
#:   (§8.11).
#: * ``cc_sample`` (2000): the correlation coefficient uses the first this many non-constant trains
#:   of a population, in id order (Q14).
#: * ``min_spikes`` (10): CV ISI and LvR use neurons with at least this many spikes in the window.
#: * ``lvr_R_ms`` (2.0): refractoriness constant R of the LvR (= t_ref).
#: * ``count_histogram_bins`` (250): bins of the per-neuron spike-count histograms (§8.8).
#: * ``current_kernel_samples`` (400): length of the exponential synaptic-current kernel, sampled on
#:   the simulation grid (§8.9, Q16).
#: * ``exclude_diagonal`` (True): set the diagonal of FC matrices to NaN before comparing them
#:   (§8.11); the published experiment files switch it off (Q17).
#: * ``bold``: Balloon–Windkessel constants (§8.10): ``epsilon`` 1, ``kappa`` 0.65 1/s, ``gamma``
#:   0.41 1/s², ``tau`` 0.98 s, ``alpha`` 0.32, ``rho`` 0.34, ``V0`` 0.02.
#: * ``experimental_fc`` (True): compare with the optional 7T fMRI array if it is available;
#:   without it the comparison is reported as unavailable.
#: * ``mfc_mat`` (None): path to the optional Minxha et al. ``mfc.mat``; the KS rate similarity
#:   (§8.12) is computed only when it is given (layout assumed in :func:`load_mfc_baseline_rates`).
#: * ``raster`` (§8.14): the spikes kept for raster plots: a seeded random ``fraction`` (0.03) of
#:   the present neurons of every population, spikes in [``t_start_ms``, ``t_stop_ms``) (500–750 ms),
#:   generator seed ``seed`` (2903); see :func:`raster_sample`.
#: * ``bold_solver`` ("scipy"): "scipy" integrates each area with ``solve_ivp`` (RK45, default
#:   tolerances), as specified; "vectorised" uses :func:`rk45_many`, the same method and step-size
#:   control for all areas at once (about 10x faster). The adaptive steps react to round-off
#:   differences, so the two agree only to the solver tolerance (BOLD series to a few % of their
#:   range, BOLD-FC comparisons to about 0.001).
ANALYSIS_DEFAULTS: dict[str, Any] = {
    "t_start_ms": 500.0,
    "t_stop_ms": None,
    "bin_ms": 1.0,
    "cc_sample": 2000,
    "min_spikes": 10,
    "lvr_R_ms": 2.0,
    "count_histogram_bins": 250,
    "current_kernel_samples": 400,
    "exclude_diagonal": True,
    "bold": {"epsilon": 1.0, "kappa": 0.65, "gamma": 0.41, "tau": 0.98, "alpha": 0.32, "rho": 0.34, "V0": 0.02},
    "experimental_fc": True,
    "mfc_mat": None,
    "raster": {"fraction": 0.03, "t_start_ms": 500.0, "t_stop_ms": 750.0, "seed": 2903},
    "bold_solver": "scipy",
}

FILE_TYPE = "humam.analysis"
FORMAT_VERSION = 1

#: Optional 7T resting-state fMRI array and its ROI list (registry paths).
FMRI_ARRAY = "experimental_data/senden/rsData_7T_DKparcel/rsDATA_7T_DKparcel.npy"
FMRI_ROIS = "experimental_data/senden/rsData_7T_DKparcel/ROIs.txt"
#: ROI lines of the left and right cortical hemisphere blocks in ROIs.txt / the fMRI array (§1.1).
FMRI_LH_ROWS = slice(14, 48)
FMRI_RH_ROWS = slice(48, 82)


def resolve_params(params: dict | None = None) -> dict:
    """:data:`ANALYSIS_DEFAULTS` overridden by ``params``; unknown keys raise ParameterError."""
    merged = copy.deepcopy(ANALYSIS_DEFAULTS)
    for key, value in (params or {}).items():
        if key not in merged:
            raise ParameterError(
                f"Unknown analysis parameter '{key}'. Known: {', '.join(sorted(ANALYSIS_DEFAULTS))}."
            )
        if isinstance(merged[key], dict):
            if not isinstance(value, dict):
                raise ParameterError(f"analysis.{key} must be a mapping with keys {', '.join(merged[key])}.")
            unknown = sorted(set(value) - set(merged[key]))
            if unknown:
                raise ParameterError(f"Unknown analysis.{key} parameter(s) {', '.join(unknown)}; "
                                     f"known: {', '.join(merged[key])}.")
            merged[key].update({k: type(merged[key][k])(v) for k, v in value.items()})
        else:
            merged[key] = value
    if merged["bold_solver"] not in ("scipy", "vectorised"):
        raise ParameterError(f"analysis.bold_solver must be 'scipy' or 'vectorised', got {merged['bold_solver']!r}.")
    for key in ("bin_ms", "lvr_R_ms"):
        if not float(merged[key]) > 0:
            raise ParameterError(f"analysis.{key} must be > 0, got {merged[key]!r}.")
    for key in ("cc_sample", "min_spikes", "count_histogram_bins", "current_kernel_samples"):
        if isinstance(merged[key], bool) or not isinstance(merged[key], int) or merged[key] < 1:
            raise ParameterError(f"analysis.{key} must be a positive integer, got {merged[key]!r}.")
    return merged


# ---------------------------------------------------------------------------------------------
# Spike table


def _runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        return _runs(self.neuron)

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
            order = _stable_argsort(neuron)
        else:
            order = np.lexsort((times, neuron))
        neuron, times = neuron[order], times[order]
    return SpikeTrains(neuron_numbers=neuron_numbers, t_sim_ms=float(t_sim_ms), neuron=neuron, times_ms=times)


def _stable_argsort(keys: np.ndarray) -> np.ndarray:
    """Stable argsort of non-negative integers: NumPy's radix sort on 16-bit digits (one or two
    passes) where the keys fit into 32 bits, else its merge sort."""
    largest = int(keys.max()) if keys.size else 0
    if keys.size == 0 or largest >= 2**32:
        return np.argsort(keys, kind="stable")
    if largest < 2**16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    return order[np.argsort((keys[order] >> 16).astype(np.uint16), kind="stable")]


def _population_label_index() -> dict[str, int]:
    from .simulation import population_label

    return {population_label(*key): i for i, key in enumerate(tables.POPULATIONS)}


def read_spike_trains(path: str | Path, neuron_numbers=None) -> SpikeTrains:
    """Read a ``spikes.h5`` written by :func:`humam.simulation.write_spikes`.

    ``neuron_numbers`` (272,) defaults to the ``size`` attributes of the file; when given (from the
    network), it is checked against them.
    """
    import h5py

    label_index = _population_label_index()
    parts = []
    sizes = np.zeros(tables.N_POPULATIONS, dtype=np.int64)
    with h5py.File(path, "r") as h5:
        if "spikes" not in h5 or "t_sim_ms" not in h5.attrs:
            raise DataError(f"{path} is not a humam spikes file (no /spikes group or t_sim_ms attribute).")
        t_sim = float(h5.attrs["t_sim_ms"])
        for label, group in h5["spikes"].items():
            if label not in label_index:
                raise DataError(f"{path}: unknown population group '{label}'.")
            index = label_index[label]
            sizes[index] = int(group.attrs["size"])
            parts.append((index, group["node_ids"][()], group["timestamps"][()]))
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
            order = _stable_argsort(ids)
        else:
            order = np.lexsort((ts, ids))
        neurons.append(ids[order].astype(np.int64) + offsets[index])
        times.append(ts[order])
    return SpikeTrains(neuron_numbers=neuron_numbers, t_sim_ms=t_sim,
                       neuron=np.concatenate(neurons) if neurons else np.zeros(0, dtype=np.int64),
                       times_ms=np.concatenate(times).astype(np.float64) if times else np.zeros(0))


# ---------------------------------------------------------------------------------------------
# Rates (§8.2, §8.3)


def _duration_s(t_start_ms: float, t_stop_ms: float) -> float:
    duration = (float(t_stop_ms) - float(t_start_ms)) / 1000.0
    if not duration > 0:
        raise ParameterError(f"The analysis window [{t_start_ms}, {t_stop_ms}) ms is empty.")
    return duration


def _population_to_area(values: np.ndarray) -> np.ndarray:
    """Sum a (272, ...) array over the 8 populations of each area -> (34, ...)."""
    return values.reshape((tables.N_AREAS, tables.N_POPULATIONS_PER_AREA) + values.shape[1:]).sum(axis=1)


def population_spike_counts(st: SpikeTrains, t_start_ms: float, t_stop_ms: float) -> np.ndarray:
    """(272,) number of spikes with t_start <= t < t_stop per population."""
    window = (st.times_ms >= t_start_ms) & (st.times_ms < t_stop_ms)
    return np.bincount(st.spike_population[window], minlength=tables.N_POPULATIONS)


def population_mean_rates(st: SpikeTrains, t_start_ms: float, t_stop_ms: float) -> np.ndarray:
    """(272,) mean rate per population in spikes/s (§8.2): spikes in [t_start, t_stop) divided by the
    **full** population size N_pop and the duration. NaN for empty populations."""
    counts = population_spike_counts(st, t_start_ms, t_stop_ms)
    n = st.neuron_numbers
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, counts / n / _duration_s(t_start_ms, t_stop_ms), np.nan)


def area_mean_rates(st: SpikeTrains, t_start_ms: float, t_stop_ms: float) -> np.ndarray:
    """(34,) area rate in spikes/s: the area's spikes in [t_start, t_stop) over its total neurons."""
    counts = _population_to_area(population_spike_counts(st, t_start_ms, t_stop_ms))
    with np.errstate(divide="ignore", invalid="ignore"):
        return counts / _population_to_area(st.neuron_numbers) / _duration_s(t_start_ms, t_stop_ms)


def individual_rates(st: SpikeTrains, t_start_ms: float, t_stop_ms: float) -> np.ndarray:
    """(P,) rate in spikes/s of every present neuron (§8.3), aligned with ``st.present``: its spikes in
    [t_start, t_stop) over the duration (0 for neurons that spiked only outside the window)."""
    window = (st.times_ms >= t_start_ms) & (st.times_ms < t_stop_ms)
    counts = np.bincount(st.spike_rank[window], minlength=st.present.size)
    return counts / _duration_s(t_start_ms, t_stop_ms)


# ---------------------------------------------------------------------------------------------
# Interval statistics (§8.4, §8.5)


def interval_statistics(train: np.ndarray, times_ms: np.ndarray, n_trains: int, min_spikes: int = 10,
                        R_ms: float = 2.0) -> dict[str, np.ndarray]:
    """CV ISI and LvR of many spike trains at once.

    ``train`` (0..n_trains-1) and ``times_ms`` are per-spike arrays sorted by (train, time). Returns
    (n_trains,) arrays ``n_spikes``, ``cv`` and ``lvr``; cv and lvr are NaN for trains with fewer than
    ``min_spikes`` spikes (the LvR needs at least 3 spikes in any case).

    * CV = std(ISI) / mean(ISI) with the population SD (ddof 0).
    * LvR = 3/(n-1) Σ_{i<n} (1 - 4 I_i I_{i+1} / (I_i + I_{i+1})²) (1 + 4R / (I_i + I_{i+1})) over the
      n ISIs I_1..I_n (Shinomoto et al. 2009).
    """
    train = np.asarray(train, dtype=np.int64)
    times_ms = np.asarray(times_ms, dtype=np.float64)
    trains, starts, n = _runs(train)
    ends = starts + n - 1  # last spike of each train
    n_spikes = np.zeros(n_trains, dtype=np.int64)
    cv = np.full(n_trains, np.nan)
    lvr = np.full(n_trains, np.nan)
    n_spikes[trains] = n
    if trains.size == 0:
        return {"n_spikes": n_spikes, "cv": cv, "lvr": lvr}
    # isi[j] = t[j+1] - t[j]; entries at the train ends cross into the next train and are masked
    isi = np.empty(times_ms.size)
    np.subtract(times_ms[1:], times_ms[:-1], out=isi[:-1])
    isi[-1] = 0.0
    n_isi = n - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (times_ms[ends] - times_ms[starts]) / n_isi  # Σ ISI telescopes
        deviation = isi - np.repeat(mean, n)
        deviation[ends] = 0.0
        deviation *= deviation
        train_cv = np.sqrt(np.add.reduceat(deviation, starts) / n_isi) / mean
        first, second = isi[:-1], isi[1:]
        total = first + second
        term = np.empty(times_ms.size)
        term[:-1] = (1.0 - 4.0 * first * second / (total * total)) * (1.0 + 4.0 * R_ms / total)
        term[ends] = 0.0  # pairs whose first or second ISI crosses a train end
        term[np.maximum(ends - 1, starts)] = 0.0
        train_lvr = 3.0 / (n_isi - 1) * np.add.reduceat(term, starts)
    qualifying = n >= min_spikes
    cv[trains] = np.where(qualifying & (n_isi >= 1), train_cv, np.nan)
    lvr[trains] = np.where(qualifying & (n_isi >= 2), train_lvr, np.nan)
    return {"n_spikes": n_spikes, "cv": cv, "lvr": lvr}


def _population_mean_of_neurons(values: np.ndarray, population: np.ndarray, neuron_numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the finite ``values`` of each population: (272,) means (0 if none, NaN for empty
    populations) and (272,) counts."""
    ok = np.isfinite(values)
    count = np.bincount(population[ok], minlength=tables.N_POPULATIONS)
    total = np.bincount(population[ok], values[ok], minlength=tables.N_POPULATIONS)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(count > 0, total / count, 0.0)
    return np.where(neuron_numbers > 0, mean, np.nan), count


def spike_irregularity(st: SpikeTrains, t_start_ms: float, t_stop_ms: float, min_spikes: int = 10,
                       R_ms: float = 2.0) -> dict[str, np.ndarray]:
    """CV ISI (§8.4) and LvR (§8.5) of the present neurons in [t_start, t_stop] (closed).

    Returns per neuron (P,) ``cv_isi`` and ``lvr`` (NaN for neurons with fewer than ``min_spikes``
    spikes in the window) and per population (272,) ``population_cv_isi``, ``population_lvr`` (mean over
    qualifying neurons, 0 if none, NaN for empty populations) and ``qualifying_neurons``.
    """
    window = (st.times_ms >= t_start_ms) & (st.times_ms <= t_stop_ms)
    stats = interval_statistics(st.spike_rank[window], st.times_ms[window], st.present.size, min_spikes, R_ms)
    population_cv, qualifying = _population_mean_of_neurons(stats["cv"], st.present_population, st.neuron_numbers)
    population_lvr, _ = _population_mean_of_neurons(stats["lvr"], st.present_population, st.neuron_numbers)
    return {"cv_isi": stats["cv"], "lvr": stats["lvr"], "population_cv_isi": population_cv,
            "population_lvr": population_lvr, "qualifying_neurons": qualifying}


# ---------------------------------------------------------------------------------------------
# Correlation coefficient (§8.6)


def _n_bins(t_start_ms: float, t_stop_ms: float, bin_ms: float) -> int:
    n = int(math.floor((float(t_stop_ms) - float(t_start_ms)) / float(bin_ms) + 1e-9))
    if n < 1:
        raise ParameterError(f"The window [{t_start_ms}, {t_stop_ms}] ms holds no {bin_ms} ms bin.")
    return n


def mean_pairwise_correlation(train: np.ndarray, times_ms: np.ndarray, group: np.ndarray, n_groups: int,
                              t_start_ms: float, t_stop_ms: float, bin_ms: float = 1.0,
                              sample: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Mean off-diagonal Pearson correlation of binned spike trains, per group (§8.6).

    ``train`` holds the (integer, id-ordered) train of each spike, sorted by (train, time);
    ``group[train]`` is its group. Spikes in [t_start, t_stop] are counted in bins of ``bin_ms``
    (a spike at exactly t_stop falls into the last bin). Trains that are constant in the window are
    dropped; of the rest the first ``sample`` trains of each group in id order are used. Returns
    (n_groups,) mean correlations (0 where fewer than 2 trains remain) and the numbers of trains used.

    The mean is computed without the n x n matrix: with z_i the centred, unit-norm binned trains,
    Σ_ij r_ij = |Σ_i z_i|², so the off-diagonal mean is (|Σ_i z_i|² - n) / (n (n - 1)).
    """
    train = np.asarray(train, dtype=np.int64)
    times_ms = np.asarray(times_ms, dtype=np.float64)
    group = np.asarray(group, dtype=np.int64)
    n_bins = _n_bins(t_start_ms, t_stop_ms, bin_ms)
    window = (times_ms >= t_start_ms) & (times_ms <= t_stop_ms)
    spike_train, t = train[window], times_ms[window]
    spike_bin = bin_index(t, t_start_ms, bin_ms)
    np.minimum(spike_bin, n_bins - 1, out=spike_bin)
    trains, starts, s = _runs(spike_train)  # s: spikes of each train in the window
    # Σ_b x_b² = Σ_b x_b + Σ_b x_b (x_b - 1); the second sum is 0 unless a train spikes twice in a bin
    q = s.copy()
    if np.any((spike_bin[1:] == spike_bin[:-1]) & (spike_train[1:] == spike_train[:-1])):
        _, key_start, multiplicity = _runs(spike_train * n_bins + spike_bin)  # sorted: bins grow with time
        key_row = np.searchsorted(starts, key_start, side="right") - 1
        q += np.rint(np.bincount(key_row, multiplicity * (multiplicity - 1.0), minlength=trains.size)).astype(np.int64)
    d_scaled = n_bins * q - s * s  # n_bins * Σ_b (x_b - mean)², exact in integers
    non_constant = d_scaled > 0
    candidates = np.flatnonzero(non_constant)
    candidate_group = group[trains[candidates]]
    order = np.argsort(candidate_group, kind="stable")  # id order within each group
    sorted_group = candidate_group[order]
    rank = np.arange(sorted_group.size) - np.searchsorted(sorted_group, sorted_group, side="left")
    used = np.zeros(trains.size, dtype=bool)
    used[candidates[order[rank < sample]]] = True
    n_used = np.bincount(group[trains[used]], minlength=n_groups)

    inv_norm = np.zeros(trains.size)
    inv_norm[used] = 1.0 / np.sqrt(d_scaled[used] / n_bins)
    train_group = group[trains]
    centre = np.bincount(train_group, s / n_bins * inv_norm, minlength=n_groups)  # Σ_i mean_i / norm_i
    index = np.repeat(train_group * n_bins, s)
    index += spike_bin
    summed = np.bincount(index, np.repeat(inv_norm, s), minlength=n_groups * n_bins).reshape(n_groups, n_bins)
    squared_norm = np.sum((summed - centre[:, None]) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cc = (squared_norm - n_used) / (n_used * (n_used - 1.0))
    cc = np.where(n_used >= 2, cc, 0.0)
    return np.nan_to_num(cc, nan=0.0), n_used


def correlation_coefficients(st: SpikeTrains, t_start_ms: float, t_stop_ms: float, bin_ms: float = 1.0,
                             sample: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """(272,) mean correlation coefficient per population (§8.6; NaN for empty populations) and
    (272,) number of trains used."""
    cc, used = mean_pairwise_correlation(st.spike_rank, st.times_ms, st.present_population, tables.N_POPULATIONS,
                                         t_start_ms, t_stop_ms, bin_ms, sample)
    return np.where(st.neuron_numbers > 0, cc, np.nan), used


# ---------------------------------------------------------------------------------------------
# Histograms (§8.7, §8.8)


def bin_index(times_ms: np.ndarray, t_start_ms: float, bin_ms: float) -> np.ndarray:
    """floor((t - t_start) / bin + 1e-9) as int64: spike times on the simulation grid that lie on a bin
    edge (e.g. 2000.3 ms for 0.1 ms bins) are not pushed into the previous bin by rounding error."""
    return np.floor((np.asarray(times_ms) - t_start_ms) / bin_ms + 1e-9).astype(np.int64)


def population_counts(st: SpikeTrains, t_start_ms: float, t_stop_ms: float, bin_ms: float) -> np.ndarray:
    """(272, B) spike counts per population in B = (t_stop - t_start) / bin_ms bins of
    [t_start, t_start + B bin_ms) (half-open); for example 0.1 ms bins around a perturbation (F7)."""
    n_bins = _n_bins(t_start_ms, t_stop_ms, bin_ms)
    index = bin_index(st.times_ms, t_start_ms, bin_ms)
    inside = (index >= 0) & (index < n_bins)
    flat = st.spike_population[inside] * n_bins + index[inside]
    return np.bincount(flat, minlength=tables.N_POPULATIONS * n_bins).reshape(tables.N_POPULATIONS, n_bins)


def rate_histograms(st: SpikeTrains, bin_ms: float = 1.0) -> dict[str, np.ndarray]:
    """Rate histograms over [0, t_sim) in spikes/ms per neuron (§8.7, Q15).

    Returns ``time_ms`` (T,) bin starts, ``population`` (272, T) spikes per bin / bin width / N_pop (0
    for empty populations) and ``area`` (34, T) the area's spikes / bin width / its total neurons.
    """
    counts = population_counts(st, 0.0, st.t_sim_ms, bin_ms)
    n = st.neuron_numbers.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        population = np.where(n[:, None] > 0, counts / bin_ms / n[:, None], 0.0)
        area = _population_to_area(counts) / bin_ms / _population_to_area(n)[:, None]
    return {"time_ms": np.arange(counts.shape[1]) * float(bin_ms), "population": population, "area": area}


def raster_sample(st: SpikeTrains, fraction: float, t_start_ms: float, t_stop_ms: float,
                  seed: int = 2903) -> dict[str, np.ndarray]:
    """Spikes in [t_start, t_stop) of a seeded random ``fraction`` of the present neurons of every
    population (ceil(fraction x present), so every population that spiked shows at least one neuron).
    Silent neurons are not eligible (Q14). Returns per-spike ``population_index``, ``node_id`` and
    ``times_ms`` sorted by (population, node id, time), and per population ``sampled_neurons`` (272,)."""
    rng = np.random.default_rng(seed)
    key = rng.random(st.present.size)
    population = st.present_population
    order = np.lexsort((key, population))  # random order within each population
    sorted_population = population[order]
    rank = np.arange(order.size) - np.searchsorted(sorted_population, sorted_population, side="left")
    present = np.bincount(population, minlength=tables.N_POPULATIONS)
    quota = np.ceil(fraction * present - 1e-9).astype(np.int64)
    chosen = np.zeros(st.present.size, dtype=bool)
    chosen[order[rank < quota[sorted_population]]] = True
    keep = chosen[st.spike_rank] & (st.times_ms >= t_start_ms) & (st.times_ms < t_stop_ms)
    rank_of_spike = st.spike_rank[keep]
    return {"population_index": population[rank_of_spike], "node_id": st.present_node_id[rank_of_spike],
            "times_ms": st.times_ms[keep], "sampled_neurons": np.bincount(population[chosen], minlength=tables.N_POPULATIONS)}


def grouped_histograms(values: np.ndarray, group: np.ndarray, n_groups: int, bins: int = 250) -> tuple[np.ndarray, np.ndarray]:
    """Per-group histograms with ``bins`` equal bins spanning each group's [min, max], exactly as
    ``np.histogram(values[group == g], bins)`` per group (empty groups: range [0, 1]; a single value v:
    [v - 0.5, v + 0.5]). Returns (n_groups, bins) counts and (n_groups, bins + 1) edges."""
    values = np.asarray(values, dtype=float)
    group = np.asarray(group, dtype=np.int64)
    low = np.full(n_groups, np.inf)
    high = np.full(n_groups, -np.inf)
    np.minimum.at(low, group, values)
    np.maximum.at(high, group, values)
    empty = ~np.isfinite(low)
    low[empty], high[empty] = 0.0, 1.0
    flat = low == high
    low[flat] -= 0.5
    high[flat] += 0.5
    step = (high - low) / bins
    edges = np.arange(bins + 1)[None, :] * step[:, None] + low[:, None]
    edges[:, -1] = high
    index = ((values - low[group]) * (bins / (high - low))[group]).astype(np.int64)
    index[index == bins] -= 1
    index[values < edges[group, index]] -= 1
    index[(values >= edges[group, index + 1]) & (index != bins - 1)] += 1
    counts = np.bincount(group * bins + index, minlength=n_groups * bins).reshape(n_groups, bins)
    return counts, edges


def spike_count_histograms(st: SpikeTrains, bins: int = 250) -> dict[str, np.ndarray]:
    """Histograms of the whole-run spike counts of the present neurons (§8.8), per population (272)
    and per area (34): ``population_counts``/``population_edges`` and ``area_counts``/``area_edges``."""
    counts = st.spike_counts.astype(float)
    pop_counts, pop_edges = grouped_histograms(counts, st.present_population, tables.N_POPULATIONS, bins)
    area = st.present_population // tables.N_POPULATIONS_PER_AREA
    area_counts, area_edges = grouped_histograms(counts, area, tables.N_AREAS, bins)
    return {"population_counts": pop_counts, "population_edges": pop_edges,
            "area_counts": area_counts, "area_edges": area_edges}


# ---------------------------------------------------------------------------------------------
# Synaptic input current (§8.9)


def current_kernel(tau_ms: float, dt_ms: float = 0.1, samples: int = 400) -> np.ndarray:
    """Causal unit-sum exponential kernel exp(-t/τ) sampled at t = 0, dt, ..., (samples-1) dt."""
    kernel = np.exp(-np.arange(samples) * float(dt_ms) / float(tau_ms))
    return kernel / kernel.sum()


def area_synaptic_currents(population_histogram: np.ndarray, weights_pA: np.ndarray, indegrees: np.ndarray,
                           neuron_numbers: np.ndarray, tau_syn_ms: np.ndarray, dt_ms: float = 0.1,
                           kernel_samples: int = 400) -> np.ndarray:
    """(34, T) area synaptic input currents in pA (§8.9).

    ``population_histogram`` (272, T) is the rate histogram of §8.7 in spikes/ms per neuron (1 ms
    bins), ``tau_syn_ms`` (272,) the synaptic time constant of each *source* population. For source j,
    PSC_j = (τ_j h_j) ⊛ k_j with the kernel of :func:`current_kernel` sampled on the ``dt_ms`` grid but
    applied to the 1 ms bins (Q16), truncated to the input length. Target i receives
    c_i = Σ_j |J_ij| K_ij PSC_j and the area signal is Σ_{i∈A} N_i c_i / Σ_{i∈A} N_i. Convolution is
    linear, so the area sums are formed before convolving (one convolution per area and τ value).
    """
    h = np.asarray(population_histogram, dtype=float)
    n = np.asarray(neuron_numbers, dtype=float)
    coupling = np.abs(np.asarray(weights_pA, dtype=float)) * np.asarray(indegrees, dtype=float)  # (272, 272)
    area_of = np.arange(tables.N_POPULATIONS) // tables.N_POPULATIONS_PER_AREA
    membership = np.zeros((tables.N_AREAS, tables.N_POPULATIONS))
    membership[area_of, np.arange(tables.N_POPULATIONS)] = n
    membership /= membership.sum(axis=1, keepdims=True)
    area_coupling = membership @ coupling  # (34, 272): Σ_{i∈A} N_i |J_ij| K_ij / N_A
    tau = np.asarray(tau_syn_ms, dtype=float)
    currents = np.zeros((tables.N_AREAS, h.shape[1]))
    for value in np.unique(tau[n > 0]):
        sources = (tau == value) & (n > 0)
        drive = area_coupling[:, sources] @ (value * h[sources])
        kernel = current_kernel(value, dt_ms, kernel_samples)
        currents += causal_convolve(drive, kernel)
    return currents


def causal_convolve(signals: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """out[..., n] = Σ_m kernel[m] signals[..., n - m] for n < T (the first T samples of the full
    convolution along the last axis), computed by FFT."""
    signals = np.asarray(signals, dtype=float)
    length = signals.shape[-1]
    n_fft = 1 << max(0, int(length + kernel.size - 2).bit_length())
    spectrum = np.fft.rfft(signals, n_fft, axis=-1) * np.fft.rfft(kernel, n_fft)
    return np.fft.irfft(spectrum, n_fft, axis=-1)[..., :length]


def source_tau_syn_ms(net) -> np.ndarray:
    """(272,) synaptic time constant of each source population: τ_syn,ex for E, τ_syn,in for I."""
    from .tables import POPULATION_IS_EXCITATORY

    p = net.neuron_params
    return np.where(POPULATION_IS_EXCITATORY, p["tau_syn_ex_ms"], p["tau_syn_in_ms"])


# ---------------------------------------------------------------------------------------------
# BOLD (§8.10)


def balloon_windkessel(rate_hz: np.ndarray, sample_dt_s: float, t_end_s: float, params: dict | None = None):
    """BOLD response of one area to its rate z(t) (spikes/s) sampled every ``sample_dt_s`` from t = 0,
    linearly interpolated (held constant after the last sample).

    Integrates ds/dt = εz - κs - γ(f - 1), df/dt = s, dv/dt = (f - v^(1/α))/τ,
    dq/dt = (f (1 - (1 - ρ)^(1/f))/ρ - v^(1/α) q/v)/τ from (s, f, v, q) = (0, 1, 1, 1) over [0, t_end]
    with SciPy's ``solve_ivp`` (RK45, default tolerances) and returns (t, bold, y) at the solver's
    points, BOLD = V0 (k1 (1 - q) + k2 (1 - q/v) + k3 (1 - v)) with k1 = 7ρ, k2 = 2, k3 = 2ρ - 0.2.
    """
    from scipy.integrate import solve_ivp

    p = {**ANALYSIS_DEFAULTS["bold"], **(params or {})}
    eps, kappa, gamma, tau, alpha, rho = (float(p[k]) for k in ("epsilon", "kappa", "gamma", "tau", "alpha", "rho"))
    z = np.asarray(rate_hz, dtype=float)
    sample_t = np.arange(z.size) * float(sample_dt_s)
    interp = np.interp

    def rhs(t, y):
        s, f, v, q = y.tolist()  # Python floats: the same IEEE operations, less overhead
        if not (v > 0 and f != 0):  # only in trial steps that the solver then rejects
            return [math.nan] * 4
        zt = float(interp(t, sample_t, z))
        v_pow = v ** (1.0 / alpha)
        return [eps * zt - kappa * s - gamma * (f - 1.0), s, (f - v_pow) / tau,
                (f * (1.0 - (1.0 - rho) ** (1.0 / f)) / rho - v_pow * q / v) / tau]

    with np.errstate(invalid="ignore"):  # trial steps that leave the domain (v < 0) are rejected by the solver
        solution = solve_ivp(rhs, (0.0, float(t_end_s)), [0.0, 1.0, 1.0, 1.0])
    if not solution.success:
        raise RuntimeError(f"BOLD integration failed: {solution.message}")
    s, f, v, q = solution.y
    bold = float(p["V0"]) * (7.0 * rho * (1.0 - q) + 2.0 * (1.0 - q / v) + (2.0 * rho - 0.2) * (1.0 - v))
    return solution.t, bold, solution.y


# Dormand–Prince 5(4) coefficients (the RK45 method of SciPy's solve_ivp)
_DP_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0])
_DP_A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
)
_DP_B = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84)
_DP_E = (-71 / 57600, 0.0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40)


def _rms(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(x * x, axis=1))


def rk45_many(fun, y0: np.ndarray, t_end: float, rtol: float = 1e-3, atol: float = 1e-6) -> list[tuple[np.ndarray, np.ndarray]]:
    """Integrate n independent systems dy/dt = fun(t, y) from t = 0 to ``t_end`` with the adaptive
    Dormand–Prince 5(4) method and the step-size control of SciPy's ``solve_ivp(method="RK45")``
    (its initial-step rule, error norm, safety 0.9, factors 0.2–10, no increase right after a
    rejection), each system with its own steps, all advanced together.

    ``fun(t, y, rows)`` evaluates the systems ``rows`` at their times ``t`` (m,) and states ``y``
    (m, d) and returns (m, d). Returns per system (t, y) at its accepted steps, t[0] = 0 and
    y (d, points), like ``solve_ivp``'s ``t`` and ``y``.
    """
    y = np.array(y0, dtype=float)
    n, d = y.shape
    every = np.arange(n)
    t = np.zeros(n)
    f = fun(t, y, every)
    # initial step
    scale = atol + np.abs(y) * rtol
    d0, d1 = _rms(y / scale), _rms(f / scale)
    h0 = np.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / np.where(d1 > 0, d1, 1.0))
    h0 = np.minimum(h0, t_end)
    f1 = fun(t + h0, y + h0[:, None] * f, every)
    d2 = _rms((f1 - f) / scale) / h0
    with np.errstate(divide="ignore"):
        h1 = np.where((d1 <= 1e-15) & (d2 <= 1e-15), np.maximum(1e-6, h0 * 1e-3),
                      (0.01 / np.maximum(d1, d2)) ** (1.0 / 5.0))
    h_abs = np.minimum(np.minimum(100 * h0, h1), t_end)
    first_try = np.ones(n, dtype=bool)
    rejected = np.zeros(n, dtype=bool)
    active = np.ones(n, dtype=bool) if t_end > 0 else np.zeros(n, dtype=bool)
    rec_rows, rec_t, rec_y = [every], [t.copy()], [y.copy()]
    K = np.empty((7, n, d))
    while np.any(active):
        rows = np.flatnonzero(active)
        tt, yy = t[rows], y[rows]
        ha = h_abs[rows]
        min_step = 10 * np.abs(np.nextafter(tt, np.inf) - tt)
        ha = np.where(first_try[rows] & (ha < min_step), min_step, ha)
        if np.any(ha < min_step):
            raise RuntimeError("BOLD integration failed: required step size is less than spacing between numbers.")
        t_new = tt + ha
        t_new = np.where(t_new - t_end > 0, t_end, t_new)
        h = t_new - tt
        ha = np.abs(h)
        k = K[:, : rows.size]
        k[0] = f[rows]
        for stage in range(1, 6):
            dy = k[0] * _DP_A[stage][0]
            for j in range(1, stage):
                dy += k[j] * _DP_A[stage][j]
            k[stage] = fun(tt + _DP_C[stage] * h, yy + dy * h[:, None], rows)
        step = k[0] * _DP_B[0]
        for j in range(1, 6):
            step += k[j] * _DP_B[j]
        y_new = yy + h[:, None] * step
        f_new = fun(t_new, y_new, rows)
        k[6] = f_new
        error = k[0] * _DP_E[0]
        for j in range(1, 7):
            error += k[j] * _DP_E[j]
        error *= h[:, None]
        scale = atol + np.maximum(np.abs(yy), np.abs(y_new)) * rtol
        with np.errstate(invalid="ignore", divide="ignore"):
            error_norm = _rms(error / scale)
            grow = 0.9 * error_norm ** (-1.0 / 5.0)
        accept = error_norm < 1
        factor = np.where(error_norm == 0, 10.0, np.minimum(10.0, grow))
        factor = np.where(rejected[rows], np.minimum(1.0, factor), factor)
        shrink = np.where(grow > 0.2, grow, 0.2)  # max(0.2, ·) that also maps NaN to 0.2
        h_abs[rows] = np.where(accept, ha * factor, ha * shrink)
        done = rows[accept]
        t[done], y[done], f[done] = t_new[accept], y_new[accept], f_new[accept]
        rejected[rows] = ~accept
        first_try[rows] = accept
        active[done[t[done] >= t_end]] = False
        if done.size:
            rec_rows.append(done)
            rec_t.append(t_new[accept])
            rec_y.append(y_new[accept])
    rows_all = np.concatenate(rec_rows)
    order = np.argsort(rows_all, kind="stable")  # chronological within each system
    t_all, y_all = np.concatenate(rec_t)[order], np.concatenate(rec_y)[order]
    bounds = np.cumsum(np.bincount(rows_all, minlength=n))[:-1]
    return [(ts, ys.T) for ts, ys in zip(np.split(t_all, bounds), np.split(y_all, bounds))]


def balloon_windkessel_many(rates_hz: np.ndarray, sample_dt_s: float, t_end_s: float, params: dict | None = None):
    """:func:`balloon_windkessel` for many areas at once, (n, T) rates, with :func:`rk45_many`
    (the same method and step control as ``solve_ivp``, every area with its own steps). Returns per
    area (t, bold, y)."""
    p = {**ANALYSIS_DEFAULTS["bold"], **(params or {})}
    eps, kappa, gamma, tau, alpha, rho = (float(p[k]) for k in ("epsilon", "kappa", "gamma", "tau", "alpha", "rho"))
    z = np.asarray(rates_hz, dtype=float)
    n_samples = z.shape[1]
    dt = float(sample_dt_s)
    sample_t = np.arange(n_samples) * dt

    def interpolate(t, rows):
        j = np.clip(np.searchsorted(sample_t, t, side="right") - 1, 0, max(n_samples - 2, 0))
        if n_samples == 1:
            return z[rows, 0]
        left, right = z[rows, j], z[rows, j + 1]
        value = (right - left) / (sample_t[j + 1] - sample_t[j]) * (t - sample_t[j]) + left
        value = np.where(t >= sample_t[-1], z[rows, -1], value)
        return np.where(t < sample_t[0], z[rows, 0], value)

    def rhs(t, y, rows):
        s, f, v, q = y[:, 0], y[:, 1], y[:, 2], y[:, 3]
        v_pow = v ** (1.0 / alpha)
        out = np.empty_like(y)
        out[:, 0] = eps * interpolate(t, rows) - kappa * s - gamma * (f - 1.0)
        out[:, 1] = s
        out[:, 2] = (f - v_pow) / tau
        out[:, 3] = (f * (1.0 - (1.0 - rho) ** (1.0 / f)) / rho - v_pow * q / v) / tau
        return out

    y0 = np.tile([0.0, 1.0, 1.0, 1.0], (z.shape[0], 1))
    with np.errstate(invalid="ignore", divide="ignore"):  # trial steps leaving the domain are rejected
        solutions = rk45_many(rhs, y0, float(t_end_s))
    result = []
    for ts, ys in solutions:
        s, f, v, q = ys
        bold = float(p["V0"]) * (7.0 * rho * (1.0 - q) + 2.0 * (1.0 - q / v) + (2.0 * rho - 0.2) * (1.0 - v))
        result.append((ts, bold, ys))
    return result


def bold_steady_state(rate_hz: float, params: dict | None = None) -> dict[str, float]:
    """Analytic fixed point of the Balloon–Windkessel model for a constant rate: s = 0,
    f = 1 + εz/γ, v = f^α, q = v (1 - (1 - ρ)^(1/f))/ρ, and the BOLD signal there."""
    p = {**ANALYSIS_DEFAULTS["bold"], **(params or {})}
    f = 1.0 + p["epsilon"] * rate_hz / p["gamma"]
    v = f ** p["alpha"]
    q = v * (1.0 - (1.0 - p["rho"]) ** (1.0 / f)) / p["rho"]
    rho = p["rho"]
    bold = p["V0"] * (7.0 * rho * (1.0 - q) + 2.0 * (1.0 - q / v) + (2.0 * rho - 0.2) * (1.0 - v))
    return {"s": 0.0, "f": f, "v": v, "q": q, "bold": bold}


def interpolate_linear_extrapolate(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation of (x, y) at ``grid``, extrapolating the end segments linearly (Q18)."""
    x, y, grid = (np.asarray(a, dtype=float) for a in (x, y, grid))
    out = np.interp(grid, x, y)
    if x.size >= 2:
        below, above = grid < x[0], grid > x[-1]
        out[below] = y[0] + (grid[below] - x[0]) * (y[1] - y[0]) / (x[1] - x[0])
        out[above] = y[-1] + (grid[above] - x[-1]) * (y[-1] - y[-2]) / (x[-1] - x[-2])
    return out


def bold_signals(area_histogram: np.ndarray, bin_ms: float, t_sim_ms: float, t_start_ms: float = 500.0,
                 params: dict | None = None, solver: str = "scipy") -> dict[str, np.ndarray]:
    """BOLD of every area (§8.10) resampled onto t_start ... t_sim in ``bin_ms`` steps (§8.11, Q18).

    ``area_histogram`` (34, T) is the area rate histogram in spikes/ms per neuron; the input is
    that × 1000 (spikes/s) sampled at the bin starts. ``solver`` is "scipy" (:func:`balloon_windkessel`
    per area) or "vectorised" (:func:`balloon_windkessel_many`). Returns ``time_s`` (T',), ``area``
    (34, T') and ``solver_points`` (34,), the number of points the solver returned per area.
    """
    area_histogram = np.asarray(area_histogram, dtype=float)
    n_grid = int(math.floor((t_sim_ms - t_start_ms) / bin_ms + 1e-9)) + 1
    grid_s = (t_start_ms + np.arange(n_grid) * bin_ms) / 1000.0
    out = np.zeros((area_histogram.shape[0], n_grid))
    points = np.zeros(area_histogram.shape[0], dtype=np.int64)
    rates = area_histogram * 1000.0
    if solver == "vectorised":
        solutions = balloon_windkessel_many(rates, bin_ms / 1000.0, t_sim_ms / 1000.0, params)
    elif solver == "scipy":
        solutions = (balloon_windkessel(rate, bin_ms / 1000.0, t_sim_ms / 1000.0, params) for rate in rates)
    else:
        raise ParameterError(f"Unknown BOLD solver {solver!r}; use 'scipy' or 'vectorised'.")
    for a, (t, bold, _) in enumerate(solutions):
        out[a] = interpolate_linear_extrapolate(t, bold, grid_s)
        points[a] = t.size
    return {"time_s": grid_s, "area": out, "solver_points": points}


# ---------------------------------------------------------------------------------------------
# Functional connectivity (§8.11)


def fc_matrix(signals: np.ndarray) -> np.ndarray:
    """Pearson correlation matrix of the rows of ``signals`` (n, T)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.corrcoef(np.asarray(signals, dtype=float))


def fc_vector(matrix: np.ndarray, exclude_diagonal: bool) -> np.ndarray:
    """Lower triangle *including* the diagonal of an FC matrix (Q17), row by row; with
    ``exclude_diagonal`` the diagonal entries are NaN."""
    m = np.array(matrix, dtype=float, copy=True)
    if exclude_diagonal:
        np.fill_diagonal(m, np.nan)
    return m[np.tril_indices(m.shape[0])]


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denominator = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
    return float(np.dot(a, b) / denominator) if denominator > 0 else float("nan")


def fc_similarity(a: np.ndarray, b: np.ndarray, exclude_diagonal: bool) -> float:
    """Pearson correlation of the comparison vectors of two FC matrices; entries that are NaN in
    either are dropped."""
    va, vb = fc_vector(a, exclude_diagonal), fc_vector(b, exclude_diagonal)
    ok = np.isfinite(va) & np.isfinite(vb)
    return _pearson(va[ok], vb[ok]) if ok.sum() >= 2 else float("nan")


def subject_fc(bold: np.ndarray) -> np.ndarray:
    """(subjects, rois, rois) Pearson FC of (time, rois, subjects) BOLD data, per subject."""
    x = np.asarray(bold, dtype=float)
    x = x - x.mean(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = x / np.sqrt((x * x).sum(axis=0, keepdims=True))
    fc = np.einsum("tis,tjs->sij", z, z)
    idx = np.arange(fc.shape[1])
    fc[:, idx, idx] = np.where(np.isfinite(fc[:, idx, idx]), 1.0, np.nan)
    return fc


def _fmri_axes(array: np.ndarray) -> np.ndarray:
    """The fMRI array as (time, roi, subject), recognising the axes by their lengths (600, 85, 19)."""
    if array.ndim != 3 or sorted(array.shape) != [19, 85, 600]:
        raise DataError(f"The fMRI array has shape {array.shape}; expected 600 time points x 85 ROIs x 19 subjects.")
    return np.moveaxis(array, [array.shape.index(600), array.shape.index(85), array.shape.index(19)], [0, 1, 2])


def experimental_fc(bold: np.ndarray, roi_names: list[str]) -> dict[str, np.ndarray]:
    """Per-subject and subject-averaged experimental FC per hemisphere (§8.11), alphabetical order.

    ``bold`` is the (600, 85, 19) array (any axis order), ``roi_names`` the 85 lines of ROIs.txt.
    Returns ``lh_subjects``, ``rh_subjects`` (19, 34, 34) and ``lh``, ``rh`` (34, 34) means.
    """
    x = _fmri_axes(np.asarray(bold, dtype=float))
    result = {}
    for hemisphere, rows in (("lh", FMRI_LH_ROWS), ("rh", FMRI_RH_ROWS)):
        names = [name.strip().rsplit("-", 1)[-1] for name in roi_names[rows]]
        if sorted(names) != sorted(tables.AREAS):
            raise DataError(f"ROIs.txt lines {rows.start}-{rows.stop - 1} are not the 34 DK areas ({hemisphere}).")
        order = [names.index(area) for area in tables.AREAS]
        fc = subject_fc(x[:, rows, :][:, order, :])
        result[f"{hemisphere}_subjects"] = fc
        result[hemisphere] = fc.mean(axis=0)
    return result


def load_experimental_fc() -> dict[str, np.ndarray]:
    """Experimental FC from the optional fMRI array; raises OptionalDataMissing when it is absent."""
    from . import data

    path = data.data_path(FMRI_ARRAY)
    roi_names = data.data_path(FMRI_ROIS).read_text().splitlines()
    try:
        bold = np.load(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"The fMRI array {path} cannot be read as a NumPy array: {exc}") from exc
    return experimental_fc(bold, roi_names)


def compare_with_experimental_fc(experimental: dict[str, np.ndarray], synaptic_fc: np.ndarray, bold_fc: np.ndarray,
                                 exclude_diagonal: bool) -> dict[str, Any]:
    """The reported FC comparisons (§8.11) for each hemisphere h in (lh, rh):

    * ``<h>_subject_similarity`` (19, 19): correlation between the subjects' FC vectors;
    * ``<h>_inter_subject_mean``: mean off-diagonal entry of it;
    * ``<h>_subject_vs_synaptic``, ``<h>_subject_vs_bold`` (19,): each subject against simulated FC;
    * ``<h>_vs_synaptic``, ``<h>_vs_bold``: the subject-averaged FC against simulated FC (headline).
    """
    out: dict[str, Any] = {}
    for h in ("lh", "rh"):
        subjects = experimental[f"{h}_subjects"]
        vectors = np.array([fc_vector(m, exclude_diagonal) for m in subjects])
        ok = np.all(np.isfinite(vectors), axis=0)
        similarity = fc_matrix(vectors[:, ok])
        n = similarity.shape[0]
        out[f"{h}_subject_similarity"] = similarity
        out[f"{h}_inter_subject_mean"] = float(similarity[~np.eye(n, dtype=bool)].mean()) if n > 1 else float("nan")
        for name, simulated in (("synaptic", synaptic_fc), ("bold", bold_fc)):
            out[f"{h}_subject_vs_{name}"] = np.array([fc_similarity(m, simulated, exclude_diagonal) for m in subjects])
            out[f"{h}_vs_{name}"] = fc_similarity(experimental[h], simulated, exclude_diagonal)
    return out


# ---------------------------------------------------------------------------------------------
# Rate-distribution similarity (§8.12, optional)


def ks_similarity(simulated: np.ndarray, experimental: np.ndarray) -> float:
    """1 - two-sample Kolmogorov–Smirnov statistic between two samples."""
    from scipy.stats import ks_2samp

    return 1.0 - float(ks_2samp(np.asarray(simulated, dtype=float), np.asarray(experimental, dtype=float)).statistic)


def load_mfc_baseline_rates(path: str | Path) -> np.ndarray:
    """Experimental baseline rates (spikes/s) from ``mfc.mat`` of Minxha et al. 2020.

    The layout of that file is not specified (spec §13); this reader **assumes** a MATLAB file with
    a cell array ``spike_times`` of shape (units, trials) or (units,) of per-trial cells, each entry a
    vector of spike times in s relative to the trial start, and ``stim_onset`` holding the stimulus
    onset time in s relative to the trial start, either as a scalar or with one value per trial
    (shape (trials,) or (units, trials)). The baseline rate of a unit in a trial is the number of its
    spikes before the onset divided by the onset time. Files of another layout raise DataError.
    """
    from scipy.io import loadmat

    content = loadmat(str(path), squeeze_me=False)
    if "spike_times" not in content or "stim_onset" not in content:
        raise DataError(
            f"{path} does not have the assumed layout (variables 'spike_times' and 'stim_onset'); "
            f"see humam.analysis.load_mfc_baseline_rates."
        )
    cells = content["spike_times"]
    if cells.dtype == object and cells.ndim == 2 and cells.shape[1] == 1 and cells[0, 0].dtype == object:
        cells = np.array([[trial for trial in np.ravel(unit[0])] for unit in cells], dtype=object)
    onset = np.broadcast_to(np.asarray(content["stim_onset"], dtype=float).squeeze(), cells.shape)
    rates = [np.count_nonzero(np.ravel(spikes).astype(float) < t0) / t0
             for spikes, t0 in zip(np.ravel(cells), np.ravel(onset)) if t0 > 0]
    return np.asarray(rates, dtype=float)


def ks_rate_similarity(rates_hz: np.ndarray, area_index: np.ndarray, experimental_rates: np.ndarray) -> dict[str, np.ndarray]:
    """Per-area two-sample KS test (§8.12) between the simulated individual rates of the area (zeros
    removed) and the experimental rates: (34,) ``statistic``, ``pvalue`` and ``similarity`` = 1 - KS
    (NaN for areas without non-zero rates)."""
    from scipy.stats import ks_2samp

    statistic, pvalue = np.full(tables.N_AREAS, np.nan), np.full(tables.N_AREAS, np.nan)
    for a in range(tables.N_AREAS):  # 34 tests
        sample = rates_hz[(area_index == a) & (rates_hz > 0)]
        if sample.size:
            result = ks_2samp(sample, experimental_rates)
            statistic[a], pvalue[a] = result.statistic, result.pvalue
    return {"statistic": statistic, "pvalue": pvalue, "similarity": 1.0 - statistic}


# ---------------------------------------------------------------------------------------------
# The whole run


def analyse_spike_trains(st: SpikeTrains, net, params: dict | None = None) -> dict[str, Any]:
    """Every metric of spec §8 for spikes ``st`` of network ``net``; see :func:`analyse_run`."""
    p = resolve_params(params)
    t_start = float(p["t_start_ms"])
    t_stop = float(p["t_stop_ms"]) if p["t_stop_ms"] is not None else st.t_sim_ms
    if not t_start < t_stop <= st.t_sim_ms:
        raise ParameterError(f"The analysis window [{t_start}, {t_stop}] ms must lie within [0, {st.t_sim_ms}] ms.")
    bin_ms = float(p["bin_ms"])
    timings: dict[str, float] = {}
    cpu_timings: dict[str, float] = {}
    results: dict[str, Any] = {}

    def timed(name, fn, *args, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        value = fn(*args, **kwargs)
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
        cpu_timings[name] = cpu_timings.get(name, 0.0) + time.process_time() - cpu
        return value

    area, layer, pop = (np.array(x, dtype=str) for x in zip(*tables.POPULATIONS))
    results["populations"] = {"area": area, "layer": layer, "population": pop, "neuron_numbers": st.neuron_numbers}
    results["areas"] = np.array(tables.AREAS, dtype=str)
    results["window"] = {"t_start_ms": t_start, "t_stop_ms": t_stop, "t_sim_ms": st.t_sim_ms, "bin_ms": bin_ms,
                         "cc_window_ms": np.array([t_start, st.t_sim_ms])}

    pop_rates = timed("population_rates", population_mean_rates, st, t_start, t_stop)
    area_rates = timed("population_rates", area_mean_rates, st, t_start, t_stop)
    rates = timed("individual_rates", individual_rates, st, t_start, t_stop)
    irregularity = timed("cv_lvr", spike_irregularity, st, t_start, t_stop, int(p["min_spikes"]), float(p["lvr_R_ms"]))
    cc, cc_trains = timed("correlation", correlation_coefficients, st, t_start, st.t_sim_ms, bin_ms, int(p["cc_sample"]))
    results["population"] = {
        "rate_hz": pop_rates, "cv_isi": irregularity["population_cv_isi"], "lvr": irregularity["population_lvr"],
        "cc": cc, "cv_lvr_neurons": irregularity["qualifying_neurons"], "cc_trains": cc_trains,
    }
    results["area"] = {"rate_hz": area_rates}
    results["neurons"] = {
        "population_index": st.present_population, "node_id": st.present_node_id, "spike_count": st.spike_counts,
        "rate_hz": rates, "cv_isi": irregularity["cv_isi"], "lvr": irregularity["lvr"],
    }

    histograms = timed("rate_histograms", rate_histograms, st, bin_ms)
    results["rate_histogram"] = {"time_ms": histograms["time_ms"], "population_per_ms": histograms["population"],
                                 "area_per_ms": histograms["area"]}
    raster = p["raster"]
    results["raster"] = {**timed("raster", raster_sample, st, raster["fraction"], raster["t_start_ms"],
                                 raster["t_stop_ms"], raster["seed"]), **raster}
    results["spike_count_histogram"] = timed("spike_count_histograms", spike_count_histograms, st,
                                             int(p["count_histogram_bins"]))

    currents = timed("synaptic_current", area_synaptic_currents, histograms["population"], net.weights_pA,
                     net.indegrees, net.neuron_numbers, source_tau_syn_ms(net), float(net.resolution_ms),
                     int(p["current_kernel_samples"]))
    results["synaptic_current"] = {"time_ms": histograms["time_ms"], "area_pA": currents}
    bold = timed("bold", bold_signals, histograms["area"], bin_ms, st.t_sim_ms, t_start, p["bold"], p["bold_solver"])
    results["bold"] = {"time_s": bold["time_s"], "area": bold["area"], "solver_points": bold["solver_points"]}

    exclude = bool(p["exclude_diagonal"])
    start, cpu = time.perf_counter(), time.process_time()
    synaptic_fc = fc_matrix(currents[:, histograms["time_ms"] >= t_start])
    bold_fc = fc_matrix(bold["area"])
    fc: dict[str, Any] = {"synaptic": synaptic_fc, "bold": bold_fc, "exclude_diagonal": exclude,
                          "synaptic_vs_bold": fc_similarity(synaptic_fc, bold_fc, exclude)}
    experimental: dict[str, Any] = {"available": False, "reason": "switched off (analysis.experimental_fc = false)"}
    if p["experimental_fc"]:
        try:
            exp_fc = load_experimental_fc()
        except DataError as exc:  # missing (OptionalDataMissing) or unusable: reported, never raised
            experimental = {"available": False, "reason": str(exc)}
        else:
            experimental = {"available": True, "reason": "", "lh": exp_fc["lh"], "rh": exp_fc["rh"],
                            **compare_with_experimental_fc(exp_fc, synaptic_fc, bold_fc, exclude)}
    fc["experimental"] = experimental
    results["fc"] = fc
    timings["fc"], cpu_timings["fc"] = time.perf_counter() - start, time.process_time() - cpu

    start, cpu = time.perf_counter(), time.process_time()
    if p["mfc_mat"]:
        try:
            experimental_rates = load_mfc_baseline_rates(p["mfc_mat"])
        except (DataError, OSError, ValueError) as exc:
            results["ks_rates"] = {"available": False, "reason": f"{p['mfc_mat']} could not be used: {exc}"}
        else:
            results["ks_rates"] = {"available": True, "reason": "", "experimental_samples": experimental_rates.size,
                                   **ks_rate_similarity(rates, st.present_population // tables.N_POPULATIONS_PER_AREA,
                                                        experimental_rates)}
    else:
        results["ks_rates"] = {"available": False, "reason": "mfc.mat not given (analysis.mfc_mat); KS rate "
                                                             "similarity skipped"}
    timings["ks_rates"], cpu_timings["ks_rates"] = time.perf_counter() - start, time.process_time() - cpu

    nonempty = st.neuron_numbers > 0
    n_total = st.neuron_numbers.sum()
    results["summary"] = {
        "neurons": int(n_total),
        "spikes": st.n_spikes,
        "population_mean_rate_hz": float(np.mean(pop_rates[nonempty])),
        "neuron_weighted_rate_hz": float(np.sum(pop_rates[nonempty] * st.neuron_numbers[nonempty]) / n_total),
        "mean_cv_isi": float(np.mean(irregularity["population_cv_isi"][nonempty])),
        "mean_lvr": float(np.mean(irregularity["population_lvr"][nonempty])),
        "mean_cc": float(np.mean(cc[nonempty])),
        "synaptic_vs_bold_fc": fc["synaptic_vs_bold"],
    }
    results["timings_s"] = timings
    results["cpu_timings_s"] = cpu_timings
    return results


def analyse_run(spikes_path: str | Path, network_path: str | Path, params: dict | None = None) -> dict[str, Any]:
    """Analyse one simulation: ``spikes.h5`` of the network stored at ``network_path``.

    Returns a nested dict of arrays and scalars (groups: ``populations``, ``areas``, ``window``,
    ``population`` (272,) rate_hz / cv_isi / lvr / cc, ``area``, ``neurons`` (one row per present
    neuron), ``rate_histogram``, ``raster``, ``spike_count_histogram``, ``synaptic_current``, ``bold``,
    ``fc`` (with ``experimental``), ``ks_rates``, ``summary``, ``params``, and wall-clock and CPU
    ``timings_s`` / ``cpu_timings_s`` per metric). Optional inputs that
    are missing are reported as ``available = False`` with a reason, never raised.
    """
    from .network_file import load_network

    start, cpu = time.perf_counter(), time.process_time()
    net = load_network(network_path)
    st = read_spike_trains(spikes_path, net.neuron_numbers)
    read_s, read_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    results = analyse_spike_trains(st, net, params)
    results["timings_s"] = {"read": read_s, **results["timings_s"]}
    results["cpu_timings_s"] = {"read": read_cpu_s, **results["cpu_timings_s"]}
    results["params"] = resolve_params(params)
    return results


def population_table(results: dict):
    """Per-population statistics as a pandas DataFrame indexed by (area, layer, population)."""
    import pandas as pd

    pops = results["populations"]
    index = pd.MultiIndex.from_arrays([pops["area"], pops["layer"], pops["population"]],
                                      names=["area", "layer", "population"])
    columns = {"neurons": pops["neuron_numbers"], **{k: v for k, v in results["population"].items()}}
    return pd.DataFrame(columns, index=index)


# ---------------------------------------------------------------------------------------------
# Storage


def _write_tree(group, tree: dict) -> None:
    import h5py

    for key, value in tree.items():
        if isinstance(value, dict):
            _write_tree(group.create_group(key), value)
        elif value is None:
            dataset = group.create_dataset(key, data=h5py.Empty("f8"))
            dataset.attrs["none"] = True
        elif isinstance(value, str):
            group.create_dataset(key, data=value, dtype=h5py.string_dtype())
        elif isinstance(value, np.ndarray) and value.dtype.kind in "US":
            group.create_dataset(key, data=value.astype(object), dtype=h5py.string_dtype())
        else:
            array = np.asarray(value)
            options = {"compression": "gzip", "compression_opts": 1, "shuffle": True} if array.size > 4096 else {}
            group.create_dataset(key, data=array, **options)


def _read_tree(group) -> dict:
    import h5py

    tree = {}
    for key, item in group.items():
        if isinstance(item, h5py.Group):
            tree[key] = _read_tree(item)
        elif item.attrs.get("none", False):
            tree[key] = None
        elif item.dtype.kind == "O" or h5py.check_string_dtype(item.dtype) is not None:
            value = item.asstr()[()]
            tree[key] = np.array(value, dtype=str) if isinstance(value, np.ndarray) else value
        else:
            value = item[()]
            tree[key] = value.item() if isinstance(value, np.generic) else value
    return tree


def write_analysis(results: dict, path: str | Path, attrs: dict | None = None) -> Path:
    """Write ``results`` of :func:`analyse_run` to one HDF5 file, atomically (temporary file, then
    ``os.replace``). Nested dicts become groups. File attributes: file type, format version,
    provenance (package and library versions, git commit, date) and ``attrs`` (non-scalar values are
    stored as JSON)."""
    from . import provenance
    from .h5io import atomic_h5, attribute_value

    reserved = sorted(set(attrs or {}) & {"provenance", "params"})
    if reserved:
        raise ValueError(f"attribute name {reserved[0]!r} is reserved by the analysis file format")
    tree = dict(results)
    file_attrs = {"provenance": json.dumps(provenance.record(), sort_keys=True), **(attrs or {})}
    if "params" in tree:
        file_attrs["params"] = attribute_value(tree.pop("params"))
    with atomic_h5(path, FILE_TYPE, FORMAT_VERSION, file_attrs) as h5:
        _write_tree(h5, tree)
    return Path(path)


def read_analysis(path: str | Path) -> dict:
    """Read a file written by :func:`write_analysis`: the results tree plus ``params`` (if stored)."""
    import h5py

    with h5py.File(path, "r") as h5:
        if h5.attrs.get("file_type") != FILE_TYPE:
            raise DataError(f"{path} is not a humam analysis file.")
        if int(h5.attrs.get("format_version", -1)) != FORMAT_VERSION:
            raise DataError(f"{path} has analysis format version {h5.attrs.get('format_version')}; "
                            f"this humam reads version {FORMAT_VERSION}. Re-run the analysis.")
        results = _read_tree(h5)
        if "params" in h5.attrs:
            results["params"] = json.loads(h5.attrs["params"])
    return results


def read_analysis_attrs(path: str | Path) -> dict:
    """The file attributes of an analysis file (provenance and the caller's ``attrs``)."""
    import h5py

    with h5py.File(path, "r") as h5:
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in h5.attrs.items()}


# ---------------------------------------------------------------------------------------------
# χ scans: shipped statistics (spec §8.13, figures.md §3.3)

#: The shipped χ-scan folders (``simulated_data/scaling_experiment_<name>``) and the χ of their
#: "groundstate" and "bestfit" samples (figures.md §3.3; identified from the data).
CHI_SCAN_FOLDERS: dict[str, dict[str, float]] = {
    "lichtman_chii2_different_seed": {"groundstate": 1.0, "bestfit": 2.5},
    "lichtman_chii2_distributed_params": {"groundstate": 0.0, "bestfit": 2.5},
    "lichtman_chii2_smaller_g": {"groundstate": 1.0, "bestfit": 1.75},
    "lower_e_to_i": {"groundstate": 1.0, "bestfit": 2.0},
    "lichtman_chii2_different_seed_factor10per7": {"groundstate": 1.0, "bestfit": 4.4},
}
_SCAN_PREFIX = "scaling_experiment_"


def chi_scan_name(folder: str) -> str:
    """The short name of a χ-scan folder (accepts the short name or ``scaling_experiment_<name>``)."""
    name = folder[len(_SCAN_PREFIX):] if folder.startswith(_SCAN_PREFIX) else folder
    if name not in CHI_SCAN_FOLDERS:
        raise ParameterError(f"Unknown chi-scan folder {folder!r}; known: {', '.join(CHI_SCAN_FOLDERS)}.")
    return name


def _scan_file(folder: str, filename: str) -> Path:
    from . import data

    return data.data_path(f"simulated_data/{_SCAN_PREFIX}{chi_scan_name(folder)}/{filename}")


def _load_pickled_array(path: Path) -> np.ndarray:
    # The shipped .npy files are NumPy pickles; they are loaded only after the registry's sha256 check.
    return np.asarray(np.load(path, allow_pickle=True), dtype=float)


def load_chi_scan(folder: str):
    """The statistics of one χ-scan folder as a pandas DataFrame indexed by χ (sorted numerically).

    Columns: ``run_id`` (opaque id from ``path_to_chi.json``), ``ks_rates``, ``ks_cv``, ``ks_lvr``
    (1 - KS, authoritative, Q19), ``pearson_lh``, ``pearson_rh`` (``df_corr_*_use_corrcoeff_True``:
    Pearson r between experimental and simulated synaptic-current FC) and ``rmse_similarity_lh``,
    ``rmse_similarity_rh`` (``df_corr_*_use_corrcoeff_False``: exp(-RMSE/RMS(exp))). Missing entries
    are NaN.
    """
    import pandas as pd

    columns: dict[str, pd.Series] = {}
    run_ids = json.loads(_scan_file(folder, "path_to_chi.json").read_text())
    columns["run_id"] = pd.Series({float(k): v for k, v in run_ids.items()}, dtype=object)
    for measure in ("rates", "cv", "lvr"):
        values = json.loads(_scan_file(folder, f"ks_{measure}_arr.json").read_text())
        columns[f"ks_{measure}"] = pd.Series({float(k): float(v) for k, v in values.items()})
    for flag, name in (("True", "pearson"), ("False", "rmse_similarity")):
        for hemisphere in ("lh", "rh"):
            table = pd.read_csv(_scan_file(folder, f"df_corr_{hemisphere}_use_corrcoeff_{flag}.csv"), index_col=0)
            columns[f"{name}_{hemisphere}"] = pd.Series(table.iloc[:, 0].to_numpy(float),
                                                        index=table.index.to_numpy(float))
    frame = pd.DataFrame(columns).sort_index()
    frame.index.name = "chi"
    return frame


def load_chi_scan_samples(folder: str) -> dict[str, dict[str, np.ndarray]]:
    """The shipped distributions of a χ-scan folder: ``{measure: {groundstate, bestfit, experiment}}``
    for measure in rates, cv, lvr (area caudalanteriorcingulate; experiment: Minxha et al. 2020)."""
    return {measure: {"groundstate": _load_pickled_array(_scan_file(folder, f"sim_{measure}_groundstate.npy")),
                      "bestfit": _load_pickled_array(_scan_file(folder, f"sim_{measure}_bestfit.npy")),
                      "experiment": _load_pickled_array(_scan_file(folder, f"exp_{measure}.npy"))}
            for measure in ("rates", "cv", "lvr")}


#: The χ-scan folder of the published model (figures.md §3.3, "main").
CHI_SCAN_MAIN_FOLDER = "lichtman_chii2_different_seed"
#: Area and windows of the shipped χ-scan samples (spec §8.13): five 2 s windows over [2.5, 12.5) s.
CHI_SCAN_SAMPLE_AREA = "caudalanteriorcingulate"
CHI_SCAN_SAMPLE_WINDOWS = 5


def area_mean_rate_from_samples(rate_samples_hz: np.ndarray, n_neurons: int,
                                n_windows: int = CHI_SCAN_SAMPLE_WINDOWS) -> float:
    """Mean rate (spikes/s) of an area from its §8.13 rate samples.

    A sample is count / window for one neuron and window, kept when >= 0.5 spikes/s, i.e. at least one
    spike in a 2 s window; the windows left out hold no spike and add nothing to the sum. So the mean
    over all neurons and windows is exactly sum(samples) / (n_windows x n_neurons), with ``n_neurons``
    the number of neurons of the area in the simulated network (silent neurons included).
    """
    samples = np.asarray(rate_samples_hz, dtype=float)
    if n_neurons <= 0 or n_windows <= 0:
        raise ParameterError(f"n_neurons and n_windows must be positive, got {n_neurons} and {n_windows}.")
    if samples.size > n_neurons * n_windows:
        raise ParameterError(f"{samples.size} samples cannot come from {n_neurons} neurons in {n_windows} windows.")
    return float(samples.sum() / (n_windows * n_neurons))


def load_chi_scan_fc(folder: str, sample: str):
    """Simulated synaptic-current FC (34 x 34 DataFrame, alphabetical) of the "groundstate" or
    "bestfit" run of a χ-scan folder."""
    import pandas as pd

    if sample not in ("groundstate", "bestfit"):
        raise ParameterError(f"sample must be 'groundstate' or 'bestfit', got {sample!r}.")
    return pd.read_csv(_scan_file(folder, f"simulated_fc_{sample}.csv"), index_col=0)


def recompute_chi_scan_ks(folder: str):
    """1 - KS recomputed from the shipped samples against the JSON entry of the sample's χ.

    One row per (measure, sample) with ``chi``, ``recomputed``, ``shipped``, ``difference`` and
    ``matching_chi`` (the χ whose shipped value equals the recomputed one exactly, if any). For rates
    the values agree exactly; CV and LvR differ by 0.01–0.03 because the shipped values come from
    samples with a different spike-count rule (Q19), and the shipped ones are authoritative.
    """
    import pandas as pd

    scan = load_chi_scan(folder)
    samples = load_chi_scan_samples(folder)
    chis = CHI_SCAN_FOLDERS[chi_scan_name(folder)]
    rows = []
    for measure in ("rates", "cv", "lvr"):
        shipped = scan[f"ks_{measure}"]
        for sample in ("groundstate", "bestfit"):
            value = ks_similarity(samples[measure][sample], samples[measure]["experiment"])
            exact = shipped.index[shipped.to_numpy() == value]
            rows.append({"measure": measure, "sample": sample, "chi": chis[sample], "recomputed": value,
                         "shipped": float(shipped.loc[chis[sample]]),
                         "difference": value - float(shipped.loc[chis[sample]]),
                         "matching_chi": float(exact[0]) if exact.size else float("nan")})
    return pd.DataFrame(rows).set_index(["measure", "sample"])


def chi_scan_samples_from_spikes(st: SpikeTrains, area: str = CHI_SCAN_SAMPLE_AREA, transient_ms: float = 2500.0,
                                 window_ms: float = 2000.0, R_ms: float = 2.0) -> dict[str, np.ndarray]:
    """The §8.13 samples of one simulated run, pooled over windows: per present neuron of ``area`` and
    per ``window_ms`` window after ``transient_ms`` (as many whole windows as fit into t_sim), the rate
    count / window kept if >= 0.5 spikes/s, and CV and LvR of the trains with **more than** 10 spikes
    in the window (Q19)."""
    a = tables.area_index(area)
    in_area = (st.spike_population // tables.N_POPULATIONS_PER_AREA) == a
    n_windows = int(math.floor((st.t_sim_ms - transient_ms) / window_ms + 1e-9))
    rates, cvs, lvrs = [], [], []
    for w in range(n_windows):  # a handful of windows
        lo, hi = transient_ms + w * window_ms, transient_ms + (w + 1) * window_ms
        m = in_area & (st.times_ms >= lo) & (st.times_ms < hi)
        rank = st.spike_rank[m]
        counts = np.bincount(rank, minlength=st.present.size)
        rate = counts / (window_ms / 1000.0)
        rates.append(rate[rate >= 0.5])
        stats = interval_statistics(rank, st.times_ms[m], st.present.size, min_spikes=11, R_ms=R_ms)
        cvs.append(stats["cv"][np.isfinite(stats["cv"])])
        lvrs.append(stats["lvr"][np.isfinite(stats["lvr"])])
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0)  # noqa: E731
    return {"rates": cat(rates), "cv": cat(cvs), "lvr": cat(lvrs)}
