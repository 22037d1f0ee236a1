"""Figures of the dynamics: F7 (spike journey), F8 (temporal hierarchy) and S-MF (mean-field theory).

Numerics are checked on synthetic inputs with known answers and on NET-full (those of F8 in
tests/test_hierarchy.py); the simulation figures are drawn from a short perturbed / unperturbed pair
simulated here at N = K = 0.002, F8 and S-MF from its analysis and the pipeline's theory file.
"""

import heapq
import sys
from collections import deque
from pathlib import Path

import numpy as np
import pytest

from humam import analysis, cli, parameters, tables, theory
from humam.analysis import hierarchy
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
    from humam.analysis import read_spike_trains

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


@pytest.fixture(scope="module")
def pair_analysis(pair, analysed):
    """Analysis file of the unperturbed run of the pair (2.1 s), standing in for the best fit and the ground state."""
    return analysed({"run": pair["perturbation_ground_unperturbed"]})["run"]


def test_f8_from_a_short_run(pair, pair_analysis, tmp_path):
    inputs = figure_inputs(run={"best_fit": pair_analysis})
    first = f8.build(out_dir=tmp_path / "a", inputs=inputs)
    second = f8.build(out_dir=tmp_path / "b", inputs=inputs)
    assert first.status == "scaled"
    assert first.values["window_ms"] == (500.0, 2100.0) and not first.values["full_length"]
    meta = read_sidecar(first)
    assert meta["window_ms"] == [500.0, 2100.0] and "shorter than" in meta["window_note"]
    assert meta["max_lag_bins"] == 50 and meta["n_chunks"] == 9 and meta["alpha"] == 0.05 and meta["seed"] == 2903
    # the drawn lags, significance and hierarchy: those of the area rates computed here from the spikes
    st = analysis.read_spike_trains(pair["perturbation_ground_unperturbed"] / "spikes.h5")
    hist = analysis.rate_histograms(st, 1.0)
    inside = (hist["time_ms"] >= 500.0) & (hist["time_ms"] < 2100.0)
    expected = hierarchy.temporal_hierarchy(hist["area"][:, inside], 50, 9, 0.05, 2903)
    np.testing.assert_array_equal(first.values["lags_ms"], expected["lags"])
    np.testing.assert_array_equal(first.values["significant"], expected["significant"])
    np.testing.assert_allclose(first.values["p_values"], expected["p_values"], rtol=1e-12)
    np.testing.assert_allclose(first.values["h_ms"], expected["h"], atol=1e-9)
    assert first.values["n_significant_pairs"] == int(np.triu(expected["significant"], 1).sum())
    h = first.values["h_ms"]
    assert np.nanmin(h) == 0
    lags = first.values["lags_ms"]
    assert np.all(np.abs(lags[np.isfinite(lags)]) <= 50)
    rows = Path(first.paths["csv"]).read_text().splitlines()
    assert rows[0] == "area,label,h_ms,lobe,colour" and len(rows) == 1 + tables.N_AREAS
    ranked = [row.split(",")[0] for row in rows[1:]]
    assert ranked == first.values["order"]
    assert sha256_file(first.paths["png"]) == sha256_file(second.paths["png"])
    assert Path(first.paths["csv"]).read_bytes() == Path(second.paths["csv"]).read_bytes()
    assert Path(first.paths["csv"]).name in f8.SPEC.extra_files
    assert f8.build(out_dir=tmp_path / "none", inputs=figure_inputs()).status == "not produced"
    assert not (tmp_path / "none").exists()


def test_f8_of_a_run_too_short_for_the_chunks_is_not_produced(pipeline_runs, analysed, tmp_path):
    """A 1 s run leaves 500 bins, 55 per chunk, too few for lags of ±50 bins: the analysis says so."""
    files = analysed({"best_fit": pipeline_runs["best_fit"]})
    assert analysis.read_analysis(files["best_fit"])["hierarchy"]["available"] is False
    result = f8.build(out_dir=tmp_path, inputs=figure_inputs(run=files))
    assert result.status == "not produced" and "too short" in result.missing[0]["how"] and not result.paths


@pytest.fixture(scope="module")
def theory_file(tmp_path_factory):
    """The pipeline's theory file of the full-scale network (``humam theory``, default options)."""
    out = tmp_path_factory.mktemp("theory")
    assert cli.main(["theory", "--experiment", "network_only", "--out", str(out)]) == 0
    from humam import layout

    return layout.Layout(out).theory_file(parameters.resolve("network_only"))


@pytest.fixture(scope="module")
def pickle_rates():
    import pandas as pd

    series = pd.read_pickle(data_path("simulated_data/base_theory_rates.pkl"))
    rates = np.zeros(tables.N_POPULATIONS)
    for key, value in series.items():
        rates[tables.population_index(*key)] = value
    return rates


def test_smf_final_column_matches_the_shipped_theory(theory_file, pickle_rates, tmp_path):
    result = smf.build(out_dir=tmp_path, inputs=figure_inputs(theory={"full": theory_file}))
    assert result.status == "partial" and result.values["placeholder_panels"] == ["B"]
    times = result.values["times"]
    np.testing.assert_allclose(times, theory.DEFAULT_TIMES, atol=1e-12)
    final, nz = result.values["final_rates_hz"], result.values["nonempty"]
    np.testing.assert_array_equal(nz, pickle_rates > 0)
    # tolerances of tests/test_theory.py (docs/model.md §9.6: t = 9.9 is not converged, Q20)
    assert np.abs(final[nz] / pickle_rates[nz] - 1).max() <= 0.03
    assert np.abs(final[nz] - pickle_rates[nz]).max() < 0.002
    assert np.corrcoef(final[nz], pickle_rates[nz])[0, 1] >= 0.9999999
    meta = read_sidecar(result)
    assert meta["theory"]["kind"] == "theory" and meta["theory"]["path"] == str(theory_file)
    assert meta["theory"]["net_hash"] == parameters.net_hash(parameters.resolve("network_only"))
    assert meta["theory"]["chi"] == 1.0


def test_smf_with_a_downscaled_run(theory_file, pair_analysis, tmp_path):
    inputs = figure_inputs(theory={"full": theory_file}, run={"ground_state": pair_analysis})
    result = smf.build(out_dir=tmp_path / "a", inputs=inputs)
    assert result.status == "scaled" and result.missing == []
    meta = read_sidecar(result)
    assert "DC term" in meta["scale_banner"] and "not the full-scale regime" in meta["scale_banner"]
    assert [item["kind"] for item in meta["inputs"]] == ["theory", "run"]
    # the simulated rates are the population mean rates over [500 ms, t_sim) computed here from the spikes
    st = analysis.read_spike_trains(pair_analysis.parent / "spikes.h5")
    simulated = analysis.population_mean_rates(st, 500.0, st.t_sim_ms)
    np.testing.assert_allclose(result.values["simulated_rates_hz"], simulated, rtol=1e-12)
    final = result.values["final_rates_hz"]
    ok = np.isfinite(simulated) & (simulated > 0) & (final > 0)
    np.testing.assert_array_equal(result.values["compared"], ok)
    assert result.values["pearson_r_log"] == pytest.approx(np.corrcoef(np.log10(final[ok]), np.log10(simulated[ok]))[0, 1],
                                                           rel=1e-12)
    # the command line with the same inputs draws the same figure
    assert smf.main(["--out", str(tmp_path / "b"), "--input", f"theory:full={theory_file}",
                     "--input", f"run:ground_state={pair_analysis}"]) == 0
    assert sha256_file(tmp_path / "b" / "figS_mean_field.png") == sha256_file(result.paths["png"])


def test_smf_f8_command_lines_without_inputs(tmp_path):
    import subprocess

    root = Path(__file__).resolve().parents[1]
    for module in ("paper_figures.figS_mean_field", "paper_figures.fig08_temporal_hierarchy"):
        proc = subprocess.run([sys.executable, "-m", module, "--out", str(tmp_path)], check=False, cwd=root,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and "not produced" in proc.stdout, proc.stderr
    assert not any(tmp_path.iterdir())
