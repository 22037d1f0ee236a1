"""Figures of the dynamics: F7 (spike journey), F8 (temporal hierarchy) and S-MF (mean-field theory).

Numerics are checked on synthetic inputs with known answers and on NET-full; the simulation figures
are drawn from a short perturbed / unperturbed pair simulated here at N = K = 0.002.
"""

import heapq
import json
import sys
from collections import deque
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.ndimage import gaussian_filter1d

from humam import parameters, tables, theory
from humam.data import data_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from humam.analysis import journey  # noqa: E402
from paper_figures import fig07_spike_journey as f7  # noqa: E402
from paper_figures import fig08_temporal_hierarchy as f8  # noqa: E402
from paper_figures import figS_mean_field as smf  # noqa: E402
from helpers import figure_inputs, read_sidecar, sha256_file  # noqa: E402

#: Length of the tests' perturbation runs: just past the 100 ms window after the extra spike (ms).
PAIR_T_SIM_MS = 2100.0


@pytest.fixture(scope="module")
def pair(simulate_experiments):
    """{run name: folder} of perturbation_ground_unperturbed / _perturbed, simulated as the pipeline does."""
    return simulate_experiments(("perturbation_ground_unperturbed", "perturbation_ground_perturbed"), PAIR_T_SIM_MS)


# ---------------------------------------------------------------------------------------------
# F8 numerics on synthetic signals


def _planted_signals(delays, n_bins=9 * 600, noise=0.3, seed=5):
    """Area signals r_A(t) = s(t - d_A) + noise from one smooth random driver s."""
    rng = np.random.default_rng(seed)
    pad = max(delays) + 10
    driver = gaussian_filter1d(rng.standard_normal(n_bins + pad), 3.0)
    return np.stack([driver[pad - d: pad - d + n_bins] + noise * rng.standard_normal(n_bins) * driver.std()
                     for d in delays])


def test_lag_sign_convention():
    """τ_AB > 0 when A leads B: B(t) = A(t - 5) gives τ_AB = +5 bins."""
    a, b = _planted_signals([0, 5], noise=0.0)
    lags = f8.peak_lags(np.stack([a, b]))
    assert lags[0, 1] == 5 and lags[1, 0] == -5 and lags[0, 0] == 0


def test_planted_lags_and_hierarchy_are_recovered():
    delays = np.array([0, 3, 7, 12, 12, 20, 31])
    signals = np.vstack([_planted_signals(delays.tolist()), np.full((1, 9 * 600), 2.0)])  # last area: constant
    result = f8.temporal_hierarchy(signals)
    n = delays.size
    expected = delays[None, :] - delays[:, None]  # τ_AB = d_B - d_A
    np.testing.assert_array_equal(result["lags"][:n, :n], expected)
    assert np.isnan(result["lags"][n, :]).all() and np.isnan(result["lags"][:, n]).all()
    # every chunk sees the same planted lag: pairs with different delays are significant, equal ones are not
    np.testing.assert_array_equal(result["chunk_lags"][:, :n, :n], np.broadcast_to(expected, (f8.N_CHUNKS, n, n)))
    np.testing.assert_array_equal(result["significant"][:n, :n], expected != 0)
    assert not result["significant"][n].any()
    np.testing.assert_allclose(result["h"][:n], delays - delays.min(), atol=1e-6)
    assert np.isnan(result["h"][n]) and result["groups"][n] == -1
    order = f8.hierarchy_order(result["h"])
    assert order[-1] == n and np.all(np.diff(delays[order[:n]]) >= 0)  # earliest first, no h last


def test_hierarchy_fit_is_the_least_squares_solution():
    rng = np.random.default_rng(11)
    n = 8
    tau = rng.normal(0, 10, (n, n))
    tau = np.round(tau - tau.T)
    significant = rng.random((n, n)) < 0.6
    significant = np.triu(significant, 1)
    significant |= significant.T
    significant[np.arange(n - 1), np.arange(1, n)] = significant[np.arange(1, n), np.arange(n - 1)] = True  # connected
    fit = f8.fit_hierarchy(tau, significant, seed=2903)
    a, b = np.nonzero(np.triu(significant, 1))
    design = np.zeros((a.size, n))
    design[np.arange(a.size), b] = 1.0
    design[np.arange(a.size), a] = -1.0
    h, *_ = np.linalg.lstsq(design, tau[a, b], rcond=None)
    np.testing.assert_allclose(fit["h"], h - h.min(), atol=1e-6)
    assert fit["h"].min() == 0 and fit["groups"].max() == 0


def test_lag_p_values_are_a_one_sample_t_test():
    rng = np.random.default_rng(3)
    chunks = rng.integers(-6, 9, (9, 5, 5)).astype(float)
    expected = stats.ttest_1samp(chunks, 0.0, axis=0).pvalue
    np.testing.assert_allclose(f8.lag_p_values(chunks), expected, rtol=1e-10)
    constant = np.zeros((9, 1, 2))
    constant[:, 0, 1] = 4.0
    np.testing.assert_array_equal(f8.lag_p_values(constant), [[1.0, 0.0]])


def test_f8_window_rule():
    assert f8.analysis_window(12500.0) == ((2500.0, 12500.0), True)
    assert f8.analysis_window(2100.0) == ((500.0, 2100.0), False)


# ---------------------------------------------------------------------------------------------
# F7 graph on NET-full


def _reference_distances(synapses, delay, source):
    """Breadth-first hop counts and a heap Dijkstra written out, over edges j -> i iff S_ij > 0."""
    targets = {j: np.flatnonzero(synapses[:, j] > 0) for j in range(synapses.shape[0])}
    hops = {source: 0}
    queue = deque([source])
    while queue:
        j = queue.popleft()
        for i in targets[j]:
            if i not in hops:
                hops[i] = hops[j] + 1
                queue.append(i)
    dist = {source: 0.0}
    heap = [(0.0, source)]
    while heap:
        d, j = heapq.heappop(heap)
        if d > dist[j]:
            continue
        for i in targets[j]:
            nd = d + delay[i, j]
            if nd < dist.get(i, np.inf):
                dist[i] = nd
                heapq.heappush(heap, (nd, i))
    return hops, dist


def test_graph_distances_on_net_full(net):
    dist = journey.graph_distances(net)
    p_star = tables.population_index(*journey.PERTURBED_POPULATION)
    assert dist["source_index"] == p_star and dist["hops"][p_star] == 0 and dist["delay_ms"][p_star] == 0
    # every non-empty population is reachable from p*, the empty ones are not nodes of the graph
    np.testing.assert_array_equal(dist["reachable"], net.nonempty)
    assert not np.isfinite(dist["delay_ms"][~net.nonempty]).any()
    assert dist["n_edges"] == int((net.synapses > 0).sum())
    # a direct local target of p*: one hop, and its delay distance is the mean local delay of an E source
    local_e = parameters.resolve()["network"]["delays"]["local_mean_ms"]["E"]
    same_area = np.flatnonzero(np.array(net.area) == journey.PERTURBED_POPULATION[0])
    neighbours = [i for i in same_area if i != p_star and net.synapses[i, p_star] > 0]
    assert neighbours
    for i in neighbours:
        assert dist["hops"][i] == 1
        assert dist["delay_ms"][i] == net.delay_mean_ms[i, p_star] == local_e
    hops, delay = _reference_distances(np.asarray(net.synapses), np.asarray(net.delay_mean_ms), p_star)
    index = np.array(sorted(hops))
    np.testing.assert_array_equal(dist["hops"][index], [hops[i] for i in index])
    np.testing.assert_allclose(dist["delay_ms"][index], [delay[i] for i in index], rtol=1e-12)
    # per area: the smallest distance of its populations; the order sorts by distance, ties canonically
    area_min = journey.area_min_distance(dist["delay_ms"], dist["reachable"])
    for a in range(tables.N_AREAS):
        own = [delay[i] for i in index if i // tables.N_POPULATIONS_PER_AREA == a]
        assert area_min[a] == pytest.approx(min(own), rel=1e-12)
    order = journey.distance_order(dist["delay_ms"], dist["reachable"])
    assert sorted(order) == list(index) and np.all(np.diff(dist["delay_ms"][order]) >= 0)


def test_difference_raster_helpers():
    raster = np.zeros((tables.N_POPULATIONS, 20), dtype=bool)
    raster[tables.population_index("cuneus", "V", "I"), 7] = True
    raster[tables.population_index("cuneus", "II/III", "E"), 12] = True
    first = journey.first_difference_by_area(raster, 0.1)
    assert first[tables.area_index("cuneus")] == pytest.approx(0.7)
    assert np.isnan(np.delete(first, tables.area_index("cuneus"))).all()
    np.testing.assert_array_equal(journey.difference_raster([[1, 2]], [[1, 3]]), [[False, True]])
    with pytest.raises(ValueError, match="shape"):
        journey.difference_raster([[1, 2]], [[1, 2, 3]])
    # two spike tables that differ in one spike of one population, 0.35 ms after the window start
    from humam.analysis import spike_trains_from_arrays

    neurons = np.zeros(tables.N_POPULATIONS, dtype=np.int64)
    a, b = tables.population_index("cuneus", "IV", "E"), tables.population_index("fusiform", "V", "I")
    neurons[[a, b]] = 3
    common = dict(neuron_numbers=neurons, t_sim_ms=2200.0)
    st_u = spike_trains_from_arrays(population_index=np.array([a, b, b]), node_id=np.array([0, 1, 2]),
                                    times_ms=np.array([1500.0, 2000.05, 2050.0]), **common)
    st_p = spike_trains_from_arrays(population_index=np.array([a, b, b, a]), node_id=np.array([0, 1, 2, 1]),
                                    times_ms=np.array([1500.0, 2000.05, 2050.0, 2000.35]), **common)
    assert journey.identical_before(st_u, st_p, 2000.0) and not journey.identical_before(st_u, st_p, 2001.0)
    pair = journey.pair_difference(st_u, st_p, 0.1)
    assert pair["raster"].shape == (tables.N_POPULATIONS, 1000)
    assert list(zip(*np.nonzero(pair["raster"]))) == [(a, 3)]
    assert pair["differences_before_arrival"] == 1  # 0.35 ms < the 1 ms the extra spike takes to reach p*
    assert pair["first_difference_ms"][tables.area_index("cuneus")] == pytest.approx(0.3)


def test_f7_without_journeys_is_partial_and_deterministic(tmp_path):
    first = f7.build(out_dir=tmp_path / "a", inputs=figure_inputs())
    second = f7.build(out_dir=tmp_path / "b", inputs=figure_inputs())
    assert [r.status for r in first] == ["partial", "partial"]
    assert first[0].values["placeholder_panels"] == ["A", "B", "C", "D", "E"]
    meta = read_sidecar(first[0])
    assert meta["status"] == "partial" and [m["panel"] for m in meta["missing"]] == ["A", "B", "C", "D", "E"]
    for a, b in zip(first, second):
        assert sha256_file(a.paths["png"]) == sha256_file(b.paths["png"])
        assert sha256_file(a.paths["pdf"]) == sha256_file(b.paths["pdf"])


# ---------------------------------------------------------------------------------------------
# F7, F8, S-MF from simulated runs


@pytest.fixture(scope="module")
def journey_path(pair, network_file):
    """The journey file of the simulated ground pair, written by ``humam journey`` as the pipeline does."""
    from humam import cli, layout

    unperturbed, perturbed = pair["perturbation_ground_unperturbed"], pair["perturbation_ground_perturbed"]
    assert cli.main(["journey", str(unperturbed), str(perturbed), "--network", str(network_file("network_only")),
                     "--force"]) == 0
    return layout.journey_file(layout.RunFolder(perturbed), layout.RunFolder(unperturbed))


def test_f7_journey_of_a_real_pair(pair, journey_path, net):
    from humam.network_file import load_network
    from humam.spikefile import read_spike_trains

    data = journey.read_journey(journey_path)
    folders = {k: pair[f"perturbation_ground_{k}"] for k in ("unperturbed", "perturbed")}
    run_net = load_network(folders["unperturbed"].parent / "network.h5")
    trains = {k: read_spike_trains(folder / "spikes.h5", run_net.neuron_numbers) for k, folder in folders.items()}
    fine = data[journey.bin_key(0.1)]
    raster = fine["raster"]
    n_bins = round((journey.WINDOW_MS[1] - journey.WINDOW_MS[0]) / 0.1)
    assert raster.shape == (tables.N_POPULATIONS, n_bins) and raster.dtype == bool
    # recounted here: spikes per population and 0.1 ms bin of [2000, 2100) in each run
    counts = {}
    for key, st in trains.items():
        in_window = (st.times_ms >= 2000.0) & (st.times_ms < 2100.0)
        b = np.floor((st.times_ms[in_window] - 2000.0) / 0.1 + 1e-9).astype(int)
        counts[key] = np.zeros((tables.N_POPULATIONS, n_bins), dtype=int)
        np.add.at(counts[key], (st.spike_population[in_window], b), 1)
    np.testing.assert_array_equal(raster, counts["unperturbed"] != counts["perturbed"])
    arrival_bins = round(1.0 / 0.1)  # the extra spike reaches p* 1 ms after it is emitted
    assert not raster[:, :arrival_bins].any() and fine["differences_before_arrival"] == 0
    assert raster[tables.population_index(*journey.PERTURBED_POPULATION)].any()  # the forced spike itself
    # before the extra spike the two runs are the same, spike for spike
    early = {k: st.times_ms < 2000.0 for k, st in trains.items()}
    assert data["pair"]["identical_before_perturbation"]
    np.testing.assert_array_equal(trains["unperturbed"].times_ms[early["unperturbed"]],
                                  trains["perturbed"].times_ms[early["perturbed"]])
    np.testing.assert_array_equal(data["pair"]["simulated"], run_net.neuron_numbers > 0)
    # the 1 ms raster differs where a 1 ms bin's counts differ; that needs a differing 0.1 ms bin within it
    coarse = data[journey.bin_key(1.0)]["raster"]
    assert coarse.shape == (tables.N_POPULATIONS, n_bins // 10) and not coarse[:, 0].any()
    np.testing.assert_array_equal(coarse, counts["unperturbed"].reshape(tables.N_POPULATIONS, -1, 10).sum(axis=2)
                                  != counts["perturbed"].reshape(tables.N_POPULATIONS, -1, 10).sum(axis=2))
    assert not (coarse & ~raster.reshape(tables.N_POPULATIONS, -1, 10).any(axis=2)).any()
    # distances are those of the full-scale network, the first difference per area that of the raster
    full = journey.graph_distances(net)
    np.testing.assert_array_equal(data["graph"]["delay_ms"], full["delay_ms"])
    np.testing.assert_array_equal(data["graph"]["hops"], full["hops"])
    np.testing.assert_array_equal(fine["first_difference_ms"], journey.first_difference_by_area(raster, 0.1))
    own = journey.graph_distances(run_net)
    assert data["run_graph"]["n_edges"] == int((run_net.synapses > 0).sum()) == own["n_edges"]
    assert data["runs"]["perturbed"]["perturbation_times_ms"].tolist() == [journey.WINDOW_MS[0]]
    assert data["runs"]["unperturbed"]["perturbation_times_ms"].size == 0
    assert data["runs"]["perturbed"]["n_scaling"] == 0.002


def test_f7_draws_the_journeys(journey_path, tmp_path):
    data = journey.read_journey(journey_path)
    fine, coarse = f7.build(out_dir=tmp_path / "ground", inputs=figure_inputs(journey={"ground": journey_path}))
    assert fine.status == "partial" and fine.values["placeholder_panels"] == ["B"]
    np.testing.assert_array_equal(fine.values["rasters"]["ground"], data[journey.bin_key(0.1)]["raster"])
    meta = read_sidecar(fine)["pairs"]["ground"]
    assert meta["identical_before_perturbation"] and meta["differences_before_arrival"] == 0
    assert meta["perturbation_times_ms"] == [journey.WINDOW_MS[0]]
    assert Path(coarse.paths["png"]).name == "fig07_spike_journey_bin1ms.png"

    # both states given (the ground journey standing in for the best-fit one): drawn from down-scaled runs
    both = figure_inputs(journey={"ground": journey_path, "best": journey_path})
    fine, coarse = f7.build(out_dir=tmp_path / "both", inputs=both)
    assert fine.status == coarse.status == "scaled" and fine.missing == coarse.missing == []
    np.testing.assert_array_equal(coarse.values["rasters"]["best"], data[journey.bin_key(1.0)]["raster"])
    assert "not the full-scale regime" in read_sidecar(coarse)["pairs"]["best"]["scale_banner"]
    assert read_sidecar(fine)["graph"]["unreachable"] == []


def test_f8_from_a_short_run(pair, tmp_path):
    runs = {"best_fit": pair["perturbation_ground_unperturbed"]}
    first = f8.build(out_dir=tmp_path / "a", runs=runs)
    second = f8.build(out_dir=tmp_path / "b", runs=runs)
    assert first.status == "scaled"
    assert first.values["window_ms"] == (500.0, 2100.0) and not first.values["full_length"]
    meta = read_sidecar(first)
    assert meta["window_ms"] == [500.0, 2100.0] and "shorter than" in meta["window_note"]
    h = first.values["h_ms"]
    assert np.nanmin(h) == 0
    lags = first.values["lags_ms"]
    assert np.all(np.abs(lags[np.isfinite(lags)]) <= f8.MAX_LAG_BINS)
    rows = Path(first.paths["csv"]).read_text().splitlines()
    assert rows[0] == "area,label,h_ms,lobe,colour" and len(rows) == 1 + tables.N_AREAS
    assert sha256_file(first.paths["png"]) == sha256_file(second.paths["png"])
    assert Path(first.paths["csv"]).read_bytes() == Path(second.paths["csv"]).read_bytes()
    assert f8.build(out_dir=tmp_path / "none", runs={}).status == "not produced"
    assert not (tmp_path / "none").exists()


@pytest.fixture(scope="module")
def pickle_rates():
    import pandas as pd

    series = pd.read_pickle(data_path("simulated_data/base_theory_rates.pkl"))
    rates = np.zeros(tables.N_POPULATIONS)
    for key, value in series.items():
        rates[tables.population_index(*key)] = value
    return rates


def test_smf_final_column_matches_the_shipped_theory(pickle_rates, tmp_path):
    result = smf.build(out_dir=tmp_path)
    assert result.status == "partial" and result.values["placeholder_panels"] == ["B"]
    times = result.values["times"]
    np.testing.assert_allclose(times, theory.DEFAULT_TIMES, atol=1e-12)
    final, nz = result.values["final_rates_hz"], result.values["nonempty"]
    np.testing.assert_array_equal(nz, pickle_rates > 0)
    # tolerances of tests/test_theory.py (model §9.6: t = 9.9 is not converged, Q20)
    assert np.abs(final[nz] / pickle_rates[nz] - 1).max() <= 0.03
    assert np.abs(final[nz] - pickle_rates[nz]).max() < 0.002
    assert np.corrcoef(final[nz], pickle_rates[nz])[0, 1] >= 0.9999999


def test_smf_with_a_downscaled_run_and_a_theory_file(pair, tmp_path):
    run = {"ground_state": pair["perturbation_ground_unperturbed"]}
    computed = smf.build(out_dir=tmp_path / "computed", runs=run)
    assert computed.status == "scaled" and computed.missing == []
    meta = read_sidecar(computed)
    assert "DC term" in meta["scale_banner"] and "not the full-scale regime" in meta["scale_banner"]
    assert meta["theory"]["kind"] == "computed"
    assert np.isfinite(computed.values["pearson_r_log"])
    # the same theory from a file: used, and the figure is unchanged
    digest = meta["theory_network"]["net_hash"]
    path = theory.write_theory(computed.values["theory"], tmp_path / "theory.h5", {"net_hash": digest})
    smf.main(["--out", str(tmp_path / "file"), "--run", f"ground_state={run['ground_state']}", "--theory", str(path)])
    from_file = json.loads((tmp_path / "file" / "figS_mean_field.json").read_text())
    assert from_file["theory"]["kind"] == "file" and from_file["theory"]["net_hash_checked"]
    assert sha256_file(tmp_path / "file" / "figS_mean_field.png") == sha256_file(computed.paths["png"])
    # a theory file of another network is not used
    other = theory.write_theory(computed.values["theory"], tmp_path / "other.h5", {"net_hash": "0" * 64})
    ignored = smf.build(out_dir=tmp_path / "other", theory_path=other)
    assert ignored.values["theory_source"]["kind"] == "computed"
