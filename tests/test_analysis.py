"""Analysis (docs/model.md §8): spike statistics against elephant and analytic cases, the docs/quirks.md Q14–Q18,
BOLD, FC, storage, the shipped χ-scan statistics, and one run of a small simulated network."""

import json
import math

import h5py
import numpy as np
import pytest

from helpers import synthetic_fmri, synthetic_run
from humam import analysis, tables
from humam.errors import OptionalDataMissing, ParameterError

N_POP = tables.N_POPULATIONS
MAIN_SCAN = "lichtman_chii2_different_seed"


def make_trains(trains_by_population: dict[int, list], neuron_numbers=None, t_sim_ms=2500.0):
    """SpikeTrains from {population: [spike-time array of node 0, of node 1, ...]} (None = silent)."""
    numbers = np.zeros(N_POP, dtype=np.int64)
    pops, ids, times = [], [], []
    for p, trains in trains_by_population.items():
        numbers[p] = len(trains)
        for node, t in enumerate(trains):
            if t is None or len(t) == 0:
                continue
            t = np.sort(np.asarray(t, dtype=float))
            pops.append(np.full(t.size, p))
            ids.append(np.full(t.size, node))
            times.append(t)
    if neuron_numbers is not None:
        for p, n in neuron_numbers.items():
            numbers[p] = n
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0)  # noqa: E731
    return analysis.spike_trains_from_arrays(numbers, cat(pops).astype(int), cat(ids).astype(int), cat(times), t_sim_ms)


def poisson_train(rng, rate_hz, t_start, t_stop, dead_time_ms=0.0):
    mean_isi = 1000.0 / rate_hz
    n = int((t_stop - t_start) / mean_isi * 1.5) + 20
    isi = dead_time_ms + rng.exponential(mean_isi - dead_time_ms, n)
    t = t_start + np.cumsum(isi)
    return t[t < t_stop]


# ---------------------------------------------------------------------------------------------
# Spike table


def test_spike_table_is_sorted_by_neuron_and_time_from_any_input_order():
    rng = np.random.default_rng(0)
    numbers = np.zeros(N_POP, dtype=np.int64)
    numbers[[3, 100, 200]] = [5, 70_000, 3]  # > 2**16 neurons: the two-pass radix sort
    pops = rng.choice([3, 100, 200], 5000)
    ids = rng.integers(0, numbers[pops])
    times = np.round(rng.uniform(0, 1000, 5000), 1)
    by_time = np.lexsort((ids, times, pops))  # as in spikes.h5: per population, by time then id
    a = analysis.spike_trains_from_arrays(numbers, pops[by_time], ids[by_time], times[by_time], 1000.0)
    b = analysis.spike_trains_from_arrays(numbers, pops, ids, times, 1000.0)  # shuffled
    offsets = np.concatenate(([0], np.cumsum(numbers)))
    expected = np.lexsort((times, offsets[pops] + ids))
    for st in (a, b):
        np.testing.assert_array_equal(st.neuron, (offsets[pops] + ids)[expected])
        np.testing.assert_array_equal(st.times_ms, times[expected])
    np.testing.assert_array_equal(a.present_population, np.repeat([3, 100, 200], [len(set(ids[pops == p])) for p in (3, 100, 200)]))
    with pytest.raises(ValueError):
        analysis.spike_trains_from_arrays(numbers, [3], [5], [1.0], 1000.0)  # id 5 of a 5-neuron population


# ---------------------------------------------------------------------------------------------
# CV ISI and LvR (§8.4, §8.5)


def test_cv_and_lvr_equal_elephant_on_generated_trains():
    import quantities as pq
    from elephant.statistics import cv as elephant_cv
    from elephant.statistics import isi, lvr

    rng = np.random.default_rng(1)
    trains = []
    for k in range(40):
        shape = rng.uniform(0.3, 4.0)
        n = int(rng.integers(2, 60))
        trains.append(500.0 + np.cumsum(rng.gamma(shape, 20.0 / shape, n)))
    st = make_trains({0: trains}, t_sim_ms=1e9)
    result = analysis.spike_irregularity(st, 500.0, 1e9, min_spikes=10, R_ms=2.0)
    for node, t in enumerate(trains):
        intervals = isi(t)
        if t.size >= 10:
            assert result["cv_isi"][node] == pytest.approx(elephant_cv(intervals), rel=1e-12)
            assert result["lvr"][node] == pytest.approx(lvr(intervals * pq.ms, R=2.0 * pq.ms), rel=1e-12)
        else:
            assert np.isnan(result["cv_isi"][node]) and np.isnan(result["lvr"][node])
    qualifying = [analysis.interval_statistics(np.zeros(t.size, int), t, 1)["cv"][0] for t in trains if t.size >= 10]
    assert result["population_cv_isi"][0] == pytest.approx(np.mean(qualifying), rel=1e-12)
    assert result["qualifying_neurons"][0] == len(qualifying)


def test_poisson_trains_have_cv_and_lvr_near_one_and_a_regular_train_cv_zero():
    rng = np.random.default_rng(2)
    poisson = [poisson_train(rng, 10.0, 0.0, 1e6) for _ in range(5)]  # ~10,000 spikes each
    regular = [np.arange(1, 201) * 5.0]
    st = make_trains({0: poisson, 2: regular}, t_sim_ms=1e6)
    result = analysis.spike_irregularity(st, 0.0, 1e6, R_ms=2.0)
    without_r = analysis.interval_statistics(np.repeat(np.arange(5), [t.size for t in poisson]),
                                             np.concatenate(poisson), 5, R_ms=0.0)
    np.testing.assert_allclose(without_r["cv"], 1.0, atol=0.04)
    np.testing.assert_allclose(without_r["lvr"], 1.0, atol=0.05)
    assert result["population_cv_isi"][0] == pytest.approx(1.0, abs=0.03)
    # exponential ISIs of mean m: E[(I1 - I2)^2 / (I1 + I2)^2] = 1/3 independent of the sum S, and
    # E[1/S] = 1/m, so E[LvR] = 1 + 4R/m exactly
    assert result["population_lvr"][0] == pytest.approx(1.0 + 4 * 2.0 / 100.0, abs=0.03)
    assert result["population_cv_isi"][2] == 0.0 and result["population_lvr"][2] == 0.0


def test_ten_spike_rule_closed_window_and_population_defaults():
    t_sim = 2500.0
    nine_plus_one_at_stop = list(np.linspace(600, 2400, 9)) + [t_sim]  # 10 spikes in [500, t_sim] (closed)
    nine = list(np.linspace(600, 2400, 9)) + [100.0, 200.0]  # 9 in the window, 2 before it
    st = make_trains({0: [nine_plus_one_at_stop, nine], 1: [nine]}, t_sim_ms=t_sim)
    result = analysis.spike_irregularity(st, 500.0, t_sim, min_spikes=10)
    assert np.isfinite(result["cv_isi"][0]) and np.isnan(result["cv_isi"][1])
    assert list(result["qualifying_neurons"][:2]) == [1, 0]
    assert result["population_cv_isi"][1] == 0.0 and result["population_lvr"][1] == 0.0  # none qualifies: 0
    assert np.isnan(result["population_cv_isi"][5])  # empty population: NaN


# ---------------------------------------------------------------------------------------------
# Rates (§8.2, §8.3, Q14)


def test_mean_rate_divides_by_the_full_population_size_and_individual_rates_see_spiking_neurons_only():
    t_sim = 2500.0
    trains = [np.array([600.0, 700.0, 2499.0, 2500.0])] * 3 + [np.array([100.0, 200.0])] + [None] * 96
    st = make_trains({8: trains}, t_sim_ms=t_sim)
    assert st.neuron_numbers[8] == 100 and st.present.size == 4  # silent neurons are absent
    rates = analysis.population_mean_rates(st, 500.0, t_sim)
    assert rates[8] == pytest.approx(3 * 3 / 100 / 2.0)  # [500, 2500): the spike at 2500 is out
    assert np.isnan(rates[0])  # empty population
    individual = analysis.individual_rates(st, 500.0, t_sim)
    np.testing.assert_allclose(individual, [1.5, 1.5, 1.5, 0.0])  # the early-only neuron gets 0
    assert analysis.area_mean_rates(st, 500.0, t_sim)[1] == pytest.approx(9 / 100 / 2.0)


# ---------------------------------------------------------------------------------------------
# Correlation coefficient (§8.6)


def correlated_trains(rng, n, t_start=500.0, t_stop=2500.0, shared_hz=5.0, own_hz=10.0):
    shared = poisson_train(rng, shared_hz, t_start, t_stop)
    trains = []
    for _ in range(n):
        own = poisson_train(rng, own_hz, t_start, t_stop)
        keep = shared[rng.random(shared.size) < 0.6]
        trains.append(np.unique(np.concatenate([own, keep + rng.uniform(-0.4, 0.4, keep.size)]).clip(t_start, t_stop - 1e-6)))
    return trains


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::PendingDeprecationWarning")
def test_correlation_coefficient_equals_elephant_mean_off_diagonal():
    import neo
    import quantities as pq
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import correlation_coefficient

    rng = np.random.default_rng(3)
    trains = correlated_trains(rng, 30)
    trains[4] = np.array([100.0, 300.0])  # spiked only before t_start: constant in the window, dropped
    st = make_trains({0: trains}, t_sim_ms=2500.0)
    cc, used = analysis.correlation_coefficients(st, 500.0, 2500.0, bin_ms=1.0, sample=2000)
    kept = [t for k, t in enumerate(trains) if k != 4]
    binned = BinnedSpikeTrain([neo.SpikeTrain(t * pq.ms, t_start=500 * pq.ms, t_stop=2500 * pq.ms) for t in kept],
                              bin_size=1 * pq.ms, t_start=500 * pq.ms, t_stop=2500 * pq.ms)
    matrix = correlation_coefficient(binned)
    expected = matrix[~np.eye(len(kept), dtype=bool)].mean()
    assert used[0] == 29
    assert cc[0] == pytest.approx(expected, rel=1e-10)
    assert cc[0] > 0.01
    assert np.isnan(cc[1])  # empty population


def test_correlation_uses_the_first_trains_in_id_order_after_dropping_constant_ones():
    rng = np.random.default_rng(4)
    independent = [poisson_train(rng, 20.0, 500.0, 1500.0) for _ in range(6)]
    identical = [independent[0]] * 4  # would raise the mean if they were sampled
    trains = [None, np.array([50.0])] + independent + identical  # silent, early-only, then the sample
    st = make_trains({3: trains}, t_sim_ms=1500.0)
    cc, used = analysis.correlation_coefficients(st, 500.0, 1500.0, sample=6)
    binned = np.array([np.histogram(t, bins=np.arange(500.0, 1501.0))[0] for t in independent], dtype=float)
    r = np.corrcoef(binned)
    assert used[3] == 6
    assert cc[3] == pytest.approx(r[~np.eye(6, dtype=bool)].mean(), rel=1e-10)
    # default sample of 2000: neurons beyond the 2000th non-constant train do not count
    many = [poisson_train(rng, 20.0, 500.0, 1500.0) for _ in range(2000)] + [independent[1]] * 50
    st = make_trains({0: many}, t_sim_ms=1500.0)
    cc, used = analysis.correlation_coefficients(st, 500.0, 1500.0)
    binned = np.array([np.histogram(t, bins=np.arange(500.0, 1501.0))[0] for t in many[:2000]], dtype=float)
    keep = binned.std(axis=1) > 0
    r = np.corrcoef(binned[keep][:2000])
    assert used[0] == 2000 == keep.sum()
    assert cc[0] == pytest.approx(r[~np.eye(2000, dtype=bool)].mean(), rel=1e-8, abs=1e-12)


def test_correlation_counts_repeated_spikes_in_a_bin_and_puts_t_sim_into_the_last_bin():
    rng = np.random.default_rng(8)
    trains = []
    for _ in range(12):
        base = poisson_train(rng, 15.0, 500.0, 1499.0)
        doublets = base[rng.random(base.size) < 0.5]
        trains.append(np.sort(np.concatenate([base, np.floor(doublets) + 0.05, np.floor(doublets) + 0.95])))
    trains[0] = np.append(trains[0], 1500.0)  # a spike at exactly t_sim
    st = make_trains({0: trains}, t_sim_ms=1500.0)
    cc, used = analysis.correlation_coefficients(st, 500.0, 1500.0)
    binned = np.array([np.histogram(t, bins=np.arange(500.0, 1501.0))[0] for t in trains], dtype=float)
    assert binned.max() >= 3 and binned[0, -1] >= 1  # np.histogram closes the last bin, as §8.6 does
    r = np.corrcoef(binned)
    assert used[0] == 12
    assert cc[0] == pytest.approx(r[~np.eye(12, dtype=bool)].mean(), rel=1e-10)


def test_correlation_is_zero_with_fewer_than_two_trains():
    st = make_trains({0: [np.array([600.0, 700.0]), None]}, t_sim_ms=1000.0)
    cc, used = analysis.correlation_coefficients(st, 500.0, 1000.0)
    assert cc[0] == 0.0 and used[0] == 1


# ---------------------------------------------------------------------------------------------
# Histograms (§8.7, §8.8, Q15)


def test_rate_histograms_start_at_zero_in_spikes_per_ms_per_neuron():
    trains = [np.array([10.2, 10.7, 499.0, 1000.0]), np.array([10.5]), None, None]  # 1000.0 = t_sim: outside
    other = [np.array([10.1])] * 4
    st = make_trains({0: trains, 1: other}, t_sim_ms=1000.0)
    h = analysis.rate_histograms(st, bin_ms=1.0)
    assert h["time_ms"][0] == 0.0 and h["population"].shape == (N_POP, 1000) and h["area"].shape == (34, 1000)
    assert h["population"][0, 10] == 3 / 4  # 3 spikes in [10, 11) ms, 4 neurons, 1 ms bin
    assert h["population"][0, 499] == 1 / 4  # before t_start = 500 ms: still counted (docs/quirks.md Q15)
    assert h["population"][0].sum() == 4 / 4  # the spike at t_sim is not
    assert h["area"][0, 10] == (3 + 4) / 8  # the area's spikes over its neurons
    assert np.all(h["population"][2:] == 0)


def test_fine_bins_keep_grid_times_on_their_bin_edge():
    times = np.arange(20000, 21001) * 0.1  # the NEST grid 2000.0 ... 2100.0 ms, as floats
    st = make_trains({5: [times]}, t_sim_ms=2500.0)
    counts = analysis.population_counts(st, 2000.0, 2100.0, 0.1)
    assert counts.shape == (N_POP, 1000)
    np.testing.assert_array_equal(counts[5], np.ones(1000))  # one spike per 0.1 ms bin; 2100.0 is outside


def test_raster_sample_is_seeded_and_takes_a_fraction_of_the_spiking_neurons():
    trains = [np.array([600.0, 700.0, 800.0])] * 50 + [None] * 50
    st = make_trains({0: trains, 9: [np.array([650.0])] * 3}, t_sim_ms=1000.0)
    a = analysis.raster_sample(st, 0.1, 500.0, 750.0, seed=2903)
    b = analysis.raster_sample(st, 0.1, 500.0, 750.0, seed=2903)
    c = analysis.raster_sample(st, 0.1, 500.0, 750.0, seed=1)
    assert a["sampled_neurons"][0] == 5 and a["sampled_neurons"][9] == 1  # ceil(0.1 x spiking neurons)
    assert np.all(a["node_id"][a["population_index"] == 0] < 50)  # silent neurons are not eligible
    assert np.all((a["times_ms"] >= 500.0) & (a["times_ms"] < 750.0)) and a["times_ms"].size == 2 * 5 + 1
    np.testing.assert_array_equal(a["node_id"], b["node_id"])
    assert not np.array_equal(a["node_id"], c["node_id"])
    # the sampled neurons do not depend on the window; a neuron without a spike in it is still listed
    late = analysis.raster_sample(st, 0.1, 900.0, 1000.0, seed=2903)
    assert late["times_ms"].size == 0
    for sample in (a, late):
        np.testing.assert_array_equal(sample["neurons"]["population_index"], [0] * 5 + [9])
        np.testing.assert_array_equal(sample["neurons"]["node_id"], np.unique(a["node_id"][a["population_index"] == 0]).tolist()
                                      + a["node_id"][a["population_index"] == 9].tolist())


def test_raster_window_rule():
    """Both 0: 4000-5000 ms when the run reaches 5000 ms, else its last 500 ms after the 500 ms transient."""
    assert analysis.raster_window_ms(12_500.0)[:2] == (4000.0, 5000.0)
    assert analysis.raster_window_ms(5_000.0)[:2] == (4000.0, 5000.0)
    assert analysis.raster_window_ms(2_500.0)[:2] == (2000.0, 2500.0)
    assert analysis.raster_window_ms(800.0)[:2] == (500.0, 800.0)
    assert analysis.raster_window_ms(300.0)[:2] == (0.0, 300.0)
    assert analysis.raster_window_ms(2_500.0, 500.0, 750.0)[:2] == (500.0, 750.0)  # a given window
    for bad in ({"t_start_ms": 500.0}, {"t_start_ms": 750.0, "t_stop_ms": 500.0}):
        with pytest.raises(ParameterError, match="analysis.raster"):
            analysis.resolve_params({"raster": bad})


def test_spike_count_histograms_equal_numpy_per_group():
    rng = np.random.default_rng(5)
    values = rng.integers(0, 400, 3000).astype(float)
    group = rng.integers(0, 7, 3000)
    group[group == 3] = 2  # group 3 empty
    values[group == 5] = 17.0  # a single value
    counts, edges = analysis.grouped_histograms(values, group, 7, bins=250)
    for g in range(7):
        c, e = np.histogram(values[group == g], bins=250)
        np.testing.assert_array_equal(counts[g], c)
        np.testing.assert_array_equal(edges[g], e)


# ---------------------------------------------------------------------------------------------
# Synaptic current (§8.9, Q16)


def test_synaptic_current_kernel_decays_with_an_effective_20_ms_constant():
    kernel = analysis.current_kernel(2.0, dt_ms=0.1, samples=400)
    assert kernel.size == 400 and kernel.sum() == pytest.approx(1.0, rel=1e-14)
    T, spike_bin = 600, 100
    h = np.zeros((N_POP, T))
    source, target = tables.population_index("cuneus", "IV", "E"), tables.population_index("bankssts", "II/III", "I")
    n = np.ones(N_POP, dtype=np.int64) * 10
    n[target] = 40
    h[source, spike_bin] = 1.0 / n[source]  # one spike in a 1 ms bin, in spikes/ms per neuron
    weights = np.full((N_POP, N_POP), -3.0)
    indegrees = np.zeros((N_POP, N_POP))
    indegrees[target, source] = 2.5
    current = analysis.area_synaptic_currents(h, weights, indegrees, n, np.full(N_POP, 2.0), dt_ms=0.1)
    bankssts = current[0]
    assert np.all(np.abs(bankssts[:spike_bin]) < 1e-12)  # causal, starting at the spike bin
    # |J| K tau h k[m], weighted by N_target / N_area
    peak = 3.0 * 2.5 * 2.0 * h[source, spike_bin] * kernel[0] * 40 / (40 + 7 * 10)
    assert bankssts[spike_bin] == pytest.approx(peak, rel=1e-9)
    assert bankssts[spike_bin + 20] / bankssts[spike_bin] == pytest.approx(math.exp(-1.0), rel=1e-9)  # 20 bins = 20 ms
    assert bankssts[spike_bin + 400] == pytest.approx(0.0, abs=1e-12)  # the kernel has 400 samples
    assert np.all(np.abs(current[1:]) < 1e-12)


# ---------------------------------------------------------------------------------------------
# BOLD and FC (§8.10, §8.11)


def test_bold_reaches_the_analytic_steady_state_for_constant_input():
    rate = 12.0  # spikes/s
    t, bold, y = analysis.balloon_windkessel(np.full(60_000, rate), 0.001, 60.0)
    steady = analysis.bold_steady_state(rate)
    assert steady["f"] == pytest.approx(1 + rate / 0.41)
    assert t[0] == 0.0 and t[-1] == 60.0
    # the solver's default tolerances (rtol 1e-3) bound the agreement
    np.testing.assert_allclose(y[:, -1], [steady["s"], steady["f"], steady["v"], steady["q"]], rtol=1e-3, atol=1e-6)
    assert bold[-1] == pytest.approx(steady["bold"], rel=1e-3)
    assert bold[0] == 0.0  # (s, f, v, q) = (0, 1, 1, 1)


def test_fc_of_identical_signals_is_one_and_the_comparison_vector_is_the_lower_triangle():
    rng = np.random.default_rng(6)
    rates = rng.uniform(0.005, 0.02, size=(34, 1500))
    rates[7] = rates[3]
    bold = analysis.bold_signals(rates, 1.0, 1500.0, t_start_ms=500.0)
    assert bold["time_s"][0] == 0.5 and bold["time_s"][-1] == 1.5 and bold["area"].shape == (34, 1001)
    fc = analysis.fc_matrix(bold["area"])
    assert fc[3, 7] == pytest.approx(1.0, abs=1e-12)
    assert analysis.fc_matrix(np.vstack([rates[0], rates[0]]))[0, 1] == pytest.approx(1.0)
    vector = analysis.fc_vector(fc, exclude_diagonal=False)
    assert vector.size == 34 * 35 // 2 and vector[0] == pytest.approx(1.0)  # includes the diagonal (docs/quirks.md Q17)
    assert np.isnan(analysis.fc_vector(fc, exclude_diagonal=True)).sum() == 34
    assert analysis.fc_similarity(fc, fc, exclude_diagonal=True) == pytest.approx(1.0)


def test_bold_resampling_extrapolates_linearly():
    out = analysis.interpolate_linear_extrapolate([1.0, 2.0, 3.0], [10.0, 20.0, 40.0], [0.0, 1.5, 4.0])
    np.testing.assert_allclose(out, [0.0, 15.0, 60.0])


def test_experimental_fc_is_averaged_per_subject_and_ordered_alphabetically():
    rng = np.random.default_rng(7)
    data, roi_names = synthetic_fmri(rng)
    fc = analysis.experimental_fc(np.moveaxis(data, 2, 0), roi_names)  # axis order is recognised by length
    a, b = tables.AREAS.index("bankssts"), tables.AREAS.index("insula")
    assert fc["lh_subjects"].shape == (19, 34, 34) and fc["lh"].shape == (34, 34)
    assert fc["lh"][a, b] == pytest.approx(1.0) and abs(fc["rh"][a, b]) < 0.2
    expected = np.mean([np.corrcoef(data[:, 14:48, s].T) for s in range(19)], axis=0)
    order = [tables.AREAS_FILE_ORDER.index(area) for area in tables.AREAS]
    np.testing.assert_allclose(fc["lh"], expected[np.ix_(order, order)], atol=1e-12)
    compared = analysis.compare_with_experimental_fc(fc, fc["lh"], fc["rh"], exclude_diagonal=False)
    assert compared["lh_vs_synaptic"] == pytest.approx(1.0) and compared["rh_vs_bold"] == pytest.approx(1.0)
    assert compared["lh_subject_similarity"].shape == (19, 19) and compared["rh_subject_vs_bold"].shape == (19,)
    assert -1.0 < compared["lh_inter_subject_mean"] < 1.0


def test_missing_fmri_is_reported_unavailable(tmp_path, monkeypatch):
    from humam import data

    monkeypatch.setenv("HUMAM_DATA_DIR", str(tmp_path))
    data._verified_mirror_file.cache_clear()
    with pytest.raises(OptionalDataMissing):
        analysis.load_experimental_fc()
    st = make_trains({k: [poisson_train(np.random.default_rng(k), 20.0, 0.0, 1000.0)] for k in range(0, N_POP, 8)},
                     t_sim_ms=1000.0)
    net = _toy_network(st.neuron_numbers)
    results = analysis.analyse_spike_trains(st, net)
    assert results["fc"]["experimental"]["available"] is False
    assert "optional" in results["fc"]["experimental"]["reason"]
    assert results["ks_rates"]["available"] is False
    data._verified_mirror_file.cache_clear()


def test_available_fmri_gives_the_reported_comparisons(monkeypatch):
    rng = np.random.default_rng(9)
    data, roi_names = synthetic_fmri(rng)
    monkeypatch.setattr(analysis.fc, "load_experimental_fc", lambda: analysis.experimental_fc(data, roi_names))
    st = make_trains({k: [poisson_train(np.random.default_rng(k), 20.0, 0.0, 1000.0)] for k in range(0, N_POP, 8)},
                     t_sim_ms=1000.0)
    results = analysis.analyse_spike_trains(st, _toy_network(st.neuron_numbers))
    experimental = results["fc"]["experimental"]
    assert experimental["available"] is True and experimental["lh"].shape == (34, 34)
    for key in ("lh_vs_synaptic", "lh_vs_bold", "rh_vs_synaptic", "rh_vs_bold", "lh_inter_subject_mean"):
        assert -1.0 <= experimental[key] <= 1.0, key
    assert experimental["rh_subject_vs_synaptic"].shape == (19,)


def _toy_network(neuron_numbers):
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    return SimpleNamespace(neuron_numbers=neuron_numbers, weights_pA=rng.normal(0, 50, (N_POP, N_POP)),
                           indegrees=rng.uniform(0, 10, (N_POP, N_POP)), resolution_ms=0.1,
                           neuron_params={"tau_syn_ex_ms": np.full(N_POP, 2.0), "tau_syn_in_ms": np.full(N_POP, 2.0)})


def test_ks_rate_similarity_with_an_mfc_file_of_the_assumed_layout(tmp_path):
    from scipy.io import savemat

    spikes = np.empty((2, 3), dtype=object)
    for unit in range(2):
        for trial in range(3):
            spikes[unit, trial] = np.array([0.1, 0.5, 1.2, 1.9, 2.5]) if unit == 0 else np.array([0.3])
    savemat(tmp_path / "mfc.mat", {"spike_times": spikes, "stim_onset": np.array([2.0, 2.0, 2.0])})
    rates = analysis.load_mfc_baseline_rates(tmp_path / "mfc.mat")
    np.testing.assert_allclose(np.sort(rates), [0.5] * 3 + [2.0] * 3)
    result = analysis.ks_rate_similarity(np.array([0.0, 0.5, 2.0, 3.0]), np.array([0, 0, 0, 0]), rates)
    assert result["statistic"][0] == pytest.approx(1 / 3)  # zeros removed: {0.5, 2, 3} vs {0.5 x3, 2 x3}
    assert np.isnan(result["statistic"][1])


# ---------------------------------------------------------------------------------------------
# χ scans (§8.13, docs/figures.md §3.3)


def test_ks_of_the_shipped_main_scan_samples_equals_the_shipped_json_exactly():
    from humam import data

    folder = f"simulated_data/scaling_experiment_{MAIN_SCAN}"
    ks = json.loads(data.data_path(f"{folder}/ks_rates_arr.json").read_text())
    experiment = np.load(data.data_path(f"{folder}/exp_rates.npy"), allow_pickle=True)
    bestfit = np.load(data.data_path(f"{folder}/sim_rates_bestfit.npy"), allow_pickle=True)
    groundstate = np.load(data.data_path(f"{folder}/sim_rates_groundstate.npy"), allow_pickle=True)
    assert analysis.ks_similarity(bestfit, experiment) == ks["2.5"]
    assert analysis.ks_similarity(groundstate, experiment) == ks["1.0"]


@pytest.mark.parametrize("folder", sorted(analysis.CHI_SCAN_FOLDERS))
def test_recomputed_rate_ks_matches_the_samples_chi_in_every_folder(folder):
    table = analysis.recompute_chi_scan_ks(folder)
    rates = table.loc["rates"]
    assert (rates["difference"] == 0.0).all()
    assert (rates["matching_chi"] == rates["chi"]).all()
    # CV and LvR samples used another spike-count rule: shipped values differ by a few hundredths (docs/quirks.md Q19)
    assert (table.loc[["cv", "lvr"], "difference"].abs() < 0.05).all()


def test_load_chi_scan_main_family_is_sorted_and_has_the_headline_values():
    scan = analysis.load_chi_scan(f"scaling_experiment_{MAIN_SCAN}")
    expected_chi = [0.0, 1.0, 1.25, 1.5] + [round(1.6 + 0.1 * k, 1) for k in range(15)]
    np.testing.assert_allclose(scan.index.to_numpy(), expected_chi)
    assert scan.loc[2.5, "run_id"].startswith("8c49a09f") and scan.loc[1.0, "run_id"].startswith("90523c45")
    # docs/model.md §10.4: 1 - KS at chi = 2.5 (rates, CV, LvR) against chi = 1
    assert scan.loc[2.5, ["ks_rates", "ks_cv", "ks_lvr"]].to_numpy(float) == pytest.approx([0.93, 0.90, 0.955], abs=0.005)
    assert scan.loc[1.0, ["ks_rates", "ks_cv", "ks_lvr"]].to_numpy(float) == pytest.approx([0.82, 0.46, 0.45], abs=0.006)
    # docs/figures.md §4.5: right-hemisphere fMRI similarity
    assert scan.loc[1.0, "pearson_rh"] == pytest.approx(0.335, abs=5e-4)
    assert scan.loc[2.5, "pearson_rh"] == pytest.approx(0.347, abs=5e-4)
    assert scan.loc[1.0, "rmse_similarity_rh"] == pytest.approx(0.378, abs=5e-4)
    assert scan.loc[2.5, "rmse_similarity_rh"] == pytest.approx(0.481, abs=5e-4)
    assert scan["rmse_similarity_rh"].idxmax() == 2.5
    with pytest.raises(ParameterError):
        analysis.load_chi_scan("no_such_family")


SPEC_CHI_GRIDS = {  # docs/model.md §10.4
    "lichtman_chii2_different_seed": [0, 1, 1.25, 1.5] + [1.6 + 0.1 * k for k in range(15)],
    "lichtman_chii2_distributed_params": [0] + [1 + 0.25 * k for k in range(9)] + [4],
    "lichtman_chii2_smaller_g": [0, 1, 1.25, 1.5, 1.75, 2],
    "lower_e_to_i": [0, 1] + [1.5 + 0.1 * k for k in range(6)] + [2.2 + 0.2 * k for k in range(5)],
    "lichtman_chii2_different_seed_factor10per7": [0, 1] + [1.5 + 0.1 * k for k in range(36)],
}


@pytest.mark.parametrize("folder", sorted(SPEC_CHI_GRIDS))
def test_every_chi_scan_folder_has_the_documented_grid_and_complete_tables(folder):
    scan = analysis.load_chi_scan(folder)
    np.testing.assert_allclose(scan.index.to_numpy(), SPEC_CHI_GRIDS[folder], atol=1e-9)
    assert not scan.isna().any().any()


def test_chi_scan_samples_and_fc_have_the_documented_sizes():
    samples = analysis.load_chi_scan_samples(MAIN_SCAN)
    assert samples["rates"]["groundstate"].size == 18_560 and samples["rates"]["bestfit"].size == 45_696
    assert samples["cv"]["groundstate"].size == 2_216 and samples["lvr"]["bestfit"].size == 6_145
    assert samples["rates"]["experiment"].size == 178_800
    fc = analysis.load_chi_scan_fc(MAIN_SCAN, "bestfit")
    assert fc.shape == (34, 34) and list(fc.index) == list(tables.AREAS) == list(fc.columns)


def test_chi_scan_samples_from_spikes_use_two_second_windows_and_the_strict_rule():
    area = tables.area_index("caudalanteriorcingulate") * 8
    eleven = np.linspace(2600.0, 4400.0, 11)  # 11 spikes in [2.5, 4.5) s: > 10, kept for CV/LvR
    ten = np.linspace(4600.0, 6400.0, 10)  # 10 spikes in [4.5, 6.5) s: rate kept, CV/LvR not
    st = make_trains({area: [np.concatenate([eleven, ten]), np.array([100.0])]}, t_sim_ms=6500.0)
    samples = analysis.chi_scan_samples_from_spikes(st)
    np.testing.assert_allclose(np.sort(samples["rates"]), [5.0, 5.5])
    assert samples["cv"].size == 1 and samples["lvr"].size == 1


def test_area_mean_rate_from_samples_equals_the_mean_over_all_neurons_and_windows():
    rng = np.random.default_rng(5)
    first = tables.area_index("caudalanteriorcingulate") * 8
    # Low rates, so that many neuron-windows hold no spike and are left out of the samples; 40 silent neurons.
    trains = {first: [poisson_train(rng, 0.3, 0.0, 12_500.0) for _ in range(200)] + [None] * 40,
              first + 1: [poisson_train(rng, 2.0, 0.0, 12_500.0) for _ in range(60)]}
    st = make_trains(trains, t_sim_ms=12_500.0)
    samples = analysis.chi_scan_samples_from_spikes(st)
    n_neurons = 300
    assert samples["rates"].size < n_neurons * analysis.CHI_SCAN_SAMPLE_WINDOWS
    in_window = sum(np.count_nonzero((t >= 2500.0) & (t < 12_500.0))
                    for group in trains.values() for t in group if t is not None)
    assert analysis.area_mean_rate_from_samples(samples["rates"], n_neurons) == pytest.approx(
        in_window / (10.0 * n_neurons), rel=1e-12)
    with pytest.raises(ParameterError, match="cannot come from"):
        analysis.area_mean_rate_from_samples(np.ones(11), n_neurons=2)


# ---------------------------------------------------------------------------------------------
# Parameters and storage

def test_parameters_reject_unknown_keys_and_keep_the_documented_defaults():
    from humam import parameters

    p = analysis.resolve_params({"exclude_diagonal": False, "bold": {"kappa": 0.7}, "raster": {"fraction": 0.5}})
    assert p["exclude_diagonal"] is False and p["bold"]["kappa"] == 0.7 and p["bold"]["gamma"] == 0.41
    assert p["raster"] == {"fraction": 0.5, "t_start_ms": 0.0, "t_stop_ms": 0.0, "seed": 2903}
    assert analysis.resolve_params(p) == p  # a resolved section resolves to itself
    d = parameters.load_defaults()["analysis"]
    assert (d["t_start_ms"], d["bin_ms"], d["cc_sample"], d["min_spikes"], d["lvr_R_ms"]) == (500.0, 1.0, 2000, 10, 2.0)
    assert d["exclude_diagonal"] is True and d["t_stop_ms"] == 0.0 and d["mfc_mat"] == ""
    assert d["bold"] == {"epsilon": 1.0, "kappa": 0.65, "gamma": 0.41, "tau": 0.98, "alpha": 0.32, "rho": 0.34,
                         "V0": 0.02}
    assert analysis.analysis_window_ms(d, 2500.0) == (500.0, 2500.0)  # t_stop_ms 0: the simulated time
    assert analysis.analysis_window_ms({**d, "t_stop_ms": 1500.0}, 2500.0) == (500.0, 1500.0)
    for bad in ({"t_strat_ms": 400.0}, {"bin_ms": 0.0}, {"cc_sample": 2.5}, {"min_spikes": 0}, {"t_stop_ms": -1.0},
                {"bold": {"kapa": 0.7}}, {"exclude_diagonal": "no"}):
        with pytest.raises(ParameterError, match="analysis"):
            analysis.resolve_params(bad)


def test_analysis_section_in_experiments_profiles_and_the_analysis_hash(tmp_path):
    from humam import parameters

    experiment = tmp_path / "exp.yaml"
    experiment.write_text("analysis:\n  bin_ms: 2.0\n  bold: {kappa: 0.7}\n")
    params = parameters.resolve(experiment)
    assert params["analysis"]["bin_ms"] == 2.0 and params["analysis"]["bold"]["kappa"] == 0.7
    assert params["analysis"]["bold"]["gamma"] == 0.41
    profile = tmp_path / "profile.yaml"
    profile.write_text("analysis: {cc_sample: 100}\n")
    profiled = parameters.apply_profile(params, parameters.load_profile(profile))
    assert profiled["analysis"]["cc_sample"] == 100 and profiled["analysis"]["bin_ms"] == 2.0
    experiment.write_text("analysis: {bin_size: 2.0}\n")
    with pytest.raises(ParameterError, match="analysis.bin_size"):
        parameters.resolve(experiment)
    # the analysis hash follows the simulation and the analysis section; the simulation hash ignores the latter
    base = parameters.resolve()
    other_analysis = parameters.set_dotted(base, "analysis.bin_ms", 2.0)
    other_seed = parameters.set_dotted(base, "simulation.seed", 1)
    assert parameters.sim_hash(other_analysis, 1) == parameters.sim_hash(base, 1)
    hashes = {parameters.analysis_hash(p, vps) for p in (base, other_analysis, other_seed) for vps in (1, 2)}
    assert len(hashes) == 6
    assert parameters.analysis_hash(base, 1) == parameters.analysis_hash(parameters.resolve(), 1)


def test_write_and_read_analysis_round_trip(tmp_path):
    results = {"population": {"rate_hz": np.array([1.0, np.nan])}, "areas": np.array(["a", "bb"]),
               "fc": {"experimental": {"available": False, "reason": "absent"}, "value": 0.5},
               "big": np.arange(10_000.0), "nothing": None, "params": {"t_start_ms": 500.0}}
    path = analysis.write_analysis(results, tmp_path / "out" / "analysis.h5", {"sim_hash": "abc", "extra": {"k": 1}})
    assert [p.name for p in path.parent.iterdir()] == ["analysis.h5"]  # no temporary file left
    back = analysis.read_analysis(path)
    np.testing.assert_array_equal(back["population"]["rate_hz"], [1.0, np.nan])
    assert list(back["areas"]) == ["a", "bb"] and back["fc"]["value"] == 0.5 and back["nothing"] is None
    assert back["fc"]["experimental"] == {"available": False, "reason": "absent"}
    assert back["params"] == {"t_start_ms": 500.0}
    with h5py.File(path, "r") as h5:
        assert json.loads(h5.attrs["analysis"]) == {"t_start_ms": 500.0}  # the parameters as a file attribute
    np.testing.assert_array_equal(back["big"], np.arange(10_000.0))
    attrs = analysis.read_analysis_attrs(path)
    assert attrs["sim_hash"] == "abc" and json.loads(attrs["extra"]) == {"k": 1}
    assert "humam_version" in json.loads(attrs["provenance"])


# ---------------------------------------------------------------------------------------------
# A small simulated run (N = K = 0.002, 1 s)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from humam import build, layout, network_file, parameters, simulation

    params = parameters.merge(parameters.resolve("downscaled_ground"), {
        "network": {"downscaling": {"n_scaling": 0.002, "k_scaling": 0.002}},
        "simulation": {"t_sim_ms": 1000.0, "seed": 2903, "threads": 2}})
    folder = tmp_path_factory.mktemp("analysis_run")
    net = build.build_network(params["network"])
    network_file.save_network(net, folder / "network.h5")
    simulation.simulate(net, params["simulation"], folder / "run")
    spikes = folder / "run" / layout.SPIKES_FILE
    results = analysis.analyse_run(spikes, folder / "network.h5", analysis.resolve_params({"exclude_diagonal": False}))
    return {"net": net, "spikes": spikes, "results": results, "folder": folder}


def test_small_run_shapes_order_and_rates_agree_with_direct_counting(small_run):
    from humam import spikefile

    net, results = small_run["net"], small_run["results"]
    pops = results["populations"]
    assert list(zip(pops["area"], pops["layer"], pops["population"])) == list(tables.POPULATIONS)
    assert list(results["areas"]) == sorted(results["areas"]) == list(tables.AREAS)
    np.testing.assert_array_equal(pops["neuron_numbers"], net.neuron_numbers)
    raw = spikefile.read_spikes(small_run["spikes"])
    expected = np.full(N_POP, np.nan)
    total = 0
    for group in raw.values():
        i = tables.population_index(group["area"], group["layer"], group["population"])
        t = group["timestamps"]
        expected[i] = np.count_nonzero((t >= 500.0) & (t < 1000.0)) / group["size"] / 0.5
        total += t.size
    empty = net.neuron_numbers == 0
    np.testing.assert_allclose(results["population"]["rate_hz"][~empty], expected[~empty], rtol=1e-12)
    assert np.all(np.isnan(results["population"]["rate_hz"][empty]))
    assert results["summary"]["spikes"] == total > 0
    neurons = results["neurons"]
    assert np.all(np.diff(neurons["population_index"] * 10**6 + neurons["node_id"]) > 0)  # canonical, id order
    assert neurons["spike_count"].sum() == total
    T = 1000
    assert results["rate_histogram"]["population_per_ms"].shape == (N_POP, T)
    assert results["rate_histogram"]["area_per_ms"].shape == (34, T)
    assert results["synaptic_current"]["area_pA"].shape == (34, T)
    assert results["bold"]["area"].shape == (34, 501) and results["bold"]["time_s"][0] == 0.5
    assert results["fc"]["synaptic"].shape == (34, 34) == results["fc"]["bold"].shape
    assert np.allclose(np.diag(results["fc"]["synaptic"]), 1.0)
    assert -1.0 <= results["fc"]["synaptic_vs_bold"] <= 1.0
    nonempty = ~empty
    for key in ("cv_isi", "lvr", "cc"):
        assert np.all(np.isfinite(results["population"][key][nonempty])), key
    assert results["spike_count_histogram"]["population_counts"].shape == (N_POP, 250)
    histogram_spikes = results["rate_histogram"]["population_per_ms"] * net.neuron_numbers[:, None]
    before_t_sim = sum(np.count_nonzero(g["timestamps"] < 1000.0) for g in raw.values())
    assert histogram_spikes.sum() == pytest.approx(before_t_sim)


def test_small_run_analysis_file_round_trip(small_run, tmp_path):
    path = analysis.write_analysis(small_run["results"], tmp_path / "analysis.h5", {"sim_hash": "x"})
    back = analysis.read_analysis(path)
    np.testing.assert_array_equal(back["population"]["cc"], small_run["results"]["population"]["cc"])
    assert back["params"]["exclude_diagonal"] is False
    table = analysis.population_table(back)
    assert table.shape[0] == N_POP and table.index.names == ["area", "layer", "population"]
    with h5py.File(path, "r") as h5:
        assert h5.attrs["file_type"] == analysis.FILE_TYPE


@pytest.mark.slow
def test_published_downscaled_example_reproduces_the_reference_statistics(tmp_path):
    """Spec §10.5, chi = 1 column (n = k = 0.005, seed 2903, 2.5 s, 2 threads; spikes identical to the
    reference run, §7.6)."""
    from humam import build, layout, network_file, parameters, simulation

    params = parameters.set_dotted(parameters.resolve("downscaled_ground"), "simulation.threads", 2)
    net = build.build_network(params["network"])
    network_file.save_network(net, tmp_path / "network.h5")
    simulation.simulate(net, params["simulation"], tmp_path / "run")
    results = analysis.analyse_run(tmp_path / "run" / layout.SPIKES_FILE, tmp_path / "network.h5",
                                   analysis.resolve_params({"exclude_diagonal": False}))
    s = results["summary"]
    assert s["population_mean_rate_hz"] == pytest.approx(61.1, abs=0.05)
    assert s["neuron_weighted_rate_hz"] == pytest.approx(44.4, abs=0.05)
    area_rates = results["area"]["rate_hz"]
    assert area_rates[tables.area_index("caudalanteriorcingulate")] == pytest.approx(10.0, abs=0.05)
    assert area_rates[tables.area_index("pericalcarine")] == pytest.approx(80.5, abs=0.05)
    assert s["mean_cv_isi"] == pytest.approx(2.01, abs=0.005)
    assert s["mean_lvr"] == pytest.approx(0.83, abs=0.005)
    assert s["mean_cc"] == pytest.approx(0.005, abs=0.0005)
    # BOLD FC depends on the adaptive RK45 steps at the level of round-off: agreement to about 0.003
    assert s["synaptic_vs_bold_fc"] == pytest.approx(0.206, abs=0.004)


def test_analyse_command_records_the_analysis_section_and_its_hash(tmp_path, capsys):
    """``humam analyse`` on a run folder: the analysis file holds the resolved analysis section and
    analysis_hash; it is redone only when asked (--force), and other analysis parameters go to
    another file."""
    from humam import cli, parameters

    params, run = synthetic_run(tmp_path)
    target = run.analysis(params, 1)
    assert cli.main(["analyse", str(run.path)]) == 0
    attrs = analysis.read_analysis_attrs(target)
    assert attrs["analysis_hash"] == parameters.analysis_hash(params, 1)
    assert json.loads(attrs["analysis"]) == params["analysis"] == analysis.read_analysis(target)["params"]
    before = target.stat().st_mtime_ns
    assert cli.main(["analyse", str(run.path)]) == 0 and target.stat().st_mtime_ns == before
    assert "up to date" in capsys.readouterr().err
    assert cli.main(["analyse", str(run.path), "--force"]) == 0 and target.stat().st_mtime_ns != before
    assert cli.main(["analyse", str(run.path), "--set", "analysis.bin_ms=2.0"]) == 0
    coarse = parameters.set_dotted(params, "analysis.bin_ms", 2.0)
    attrs = analysis.read_analysis_attrs(run.analysis(coarse, 1))
    assert json.loads(attrs["analysis"])["bin_ms"] == 2.0
    assert attrs["analysis_hash"] == parameters.analysis_hash(coarse, 1)
    assert cli.main(["analyse", str(run.path), "--set", "network.scaling.chi=2.0"]) == 2
    assert "analysis" in capsys.readouterr().err


def test_analyse_refuses_a_run_of_other_network_content(tmp_path, capsys):
    """A run whose network.h5 was rebuilt with other content is refused with both digests named."""
    from humam import cli, layout, network_file

    params, run = synthetic_run(tmp_path)
    recorded = network_file.content_digest(run.network)
    net = network_file.load_network(run.network)
    net.weights_pA = 2.0 * net.weights_pA  # the network changed since the run
    network_file.save_network(net, run.network)
    now = network_file.content_digest(run.network)
    assert now != recorded
    assert cli.main(["analyse", str(run.path)]) == 2
    err = capsys.readouterr().err
    assert recorded in err and now in err and "Traceback" not in err
    assert layout.RunFolder(run.path).analyses() == []
