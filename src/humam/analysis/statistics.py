"""Spike statistics (docs/model.md §8.2–§8.8, §8.12): rates, CV ISI, LvR, correlation coefficients,
histograms, raster samples and the rate-distribution similarity with experimental rates."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy.io import loadmat
from scipy.stats import ks_2samp

from .. import tables
from ..errors import DataError, ParameterError
from .spike_trains import SpikeTrains, equal_runs


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
    trains, starts, n = equal_runs(train)
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
    trains, starts, s = equal_runs(spike_train)  # s: spikes of each train in the window
    # Σ_b x_b² = Σ_b x_b + Σ_b x_b (x_b - 1); the second sum is 0 unless a train spikes twice in a bin
    q = s.copy()
    if np.any((spike_bin[1:] == spike_bin[:-1]) & (spike_train[1:] == spike_train[:-1])):
        _, key_start, multiplicity = equal_runs(spike_train * n_bins + spike_bin)  # sorted: bins grow with time
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


#: Raster window of the published figures (ms), the initial transient that shorter runs skip and the
#: length of a shorter run's window (docs/model.md §8.14).
RASTER_PUBLISHED_WINDOW_MS = (4000.0, 5000.0)
RASTER_TRANSIENT_MS = 500.0
RASTER_SHORT_RUN_WINDOW_MS = 500.0


def raster_window_ms(t_sim_ms: float, t_start_ms: float = 0.0, t_stop_ms: float = 0.0) -> tuple[float, float, str]:
    """(start, stop, how chosen) of the raster window in ms.

    ``t_stop_ms`` > 0: the window [t_start_ms, t_stop_ms) as given. ``t_start_ms`` = ``t_stop_ms`` = 0:
    the automatic rule of the published figures, 4000–5000 ms when the run reaches 5000 ms, else its
    last 500 ms after the 500 ms transient (the last 500 ms of a run not longer than the transient).
    """
    t_sim_ms, t_start_ms, t_stop_ms = float(t_sim_ms), float(t_start_ms), float(t_stop_ms)
    if t_stop_ms > 0:
        if not t_start_ms < t_stop_ms:
            raise ParameterError(f"analysis.raster: t_start_ms ({t_start_ms:g}) must be below t_stop_ms "
                                 f"({t_stop_ms:g}).")
        return t_start_ms, t_stop_ms, f"given window {t_start_ms:g}–{t_stop_ms:g} ms"
    if t_start_ms != 0:
        raise ParameterError(f"analysis.raster: t_start_ms ({t_start_ms:g}) needs t_stop_ms > 0; both 0 select the "
                             "automatic window.")
    start, stop = RASTER_PUBLISHED_WINDOW_MS
    if t_sim_ms >= stop:
        return start, stop, f"published window {start:g}–{stop:g} ms"
    if t_sim_ms > RASTER_TRANSIENT_MS:
        start = max(RASTER_TRANSIENT_MS, t_sim_ms - RASTER_SHORT_RUN_WINDOW_MS)
        return start, t_sim_ms, (f"run shorter than {stop:g} ms: its last {t_sim_ms - start:g} ms after the "
                                 f"{RASTER_TRANSIENT_MS:g} ms transient")
    start = max(0.0, t_sim_ms - RASTER_SHORT_RUN_WINDOW_MS)
    return start, t_sim_ms, (f"run not longer than the {RASTER_TRANSIENT_MS:g} ms transient: its last "
                             f"{t_sim_ms - start:g} ms")


def raster_sample(st: SpikeTrains, fraction: float, t_start_ms: float, t_stop_ms: float,
                  seed: int = 2903) -> dict[str, np.ndarray]:
    """Spikes in [t_start, t_stop) of a seeded random ``fraction`` of the present neurons of every
    population (ceil(fraction x present), so every population that spiked shows at least one neuron).
    Silent neurons are not eligible (docs/quirks.md Q14); the choice of the neurons does not depend on the window.
    Returns per-spike ``population_index``, ``node_id`` and ``times_ms`` sorted by (population, node id,
    time), per population ``sampled_neurons`` (272,), and ``neurons``: the ``population_index`` and
    ``node_id`` of every sampled neuron (also those without a spike in the window), sorted."""
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
            "times_ms": st.times_ms[keep], "sampled_neurons": np.bincount(population[chosen], minlength=tables.N_POPULATIONS),
            "neurons": {"population_index": population[chosen], "node_id": st.present_node_id[chosen]}}


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
# Rate-distribution similarity (§8.12, optional)


def ks_similarity(simulated: np.ndarray, experimental: np.ndarray) -> float:
    """1 - two-sample Kolmogorov–Smirnov statistic between two samples."""
    return 1.0 - float(ks_2samp(np.asarray(simulated, dtype=float), np.asarray(experimental, dtype=float)).statistic)


def load_mfc_baseline_rates(path: str | Path) -> np.ndarray:
    """Experimental baseline rates (spikes/s) from ``mfc.mat`` of Minxha et al. 2020.

    The layout of that file is not specified (docs/model.md §13); this reader **assumes** a MATLAB file with
    a cell array ``spike_times`` of shape (units, trials) or (units,) of per-trial cells, each entry a
    vector of spike times in s relative to the trial start, and ``stim_onset`` holding the stimulus
    onset time in s relative to the trial start, either as a scalar or with one value per trial
    (shape (trials,) or (units, trials)). The baseline rate of a unit in a trial is the number of its
    spikes before the onset divided by the onset time. Files of another layout raise DataError.
    """
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
    statistic, pvalue = np.full(tables.N_AREAS, np.nan), np.full(tables.N_AREAS, np.nan)
    for a in range(tables.N_AREAS):  # 34 tests
        sample = rates_hz[(area_index == a) & (rates_hz > 0)]
        if sample.size:
            result = ks_2samp(sample, experimental_rates)
            statistic[a], pvalue[a] = result.statistic, result.pvalue
    return {"statistic": statistic, "pvalue": pvalue, "similarity": 1.0 - statistic}
