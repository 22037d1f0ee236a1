"""Figures drawn from the analyses of simulation runs (F4, F6, S-RD, S-RA): status, drawn values,
raster sampling, determinism, missing inputs."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from humam import analysis, tables  # noqa: E402
from humam.network_file import load_network  # noqa: E402
from paper_figures import (fig04_spike_statistics, fig06_spike_statistics_best_fit, figS_rasters,  # noqa: E402
                           figS_rate_distributions)
from helpers import figure_inputs, read_sidecar, sha256_file  # noqa: E402

MODULES = (fig04_spike_statistics, fig06_spike_statistics_best_fit, figS_rate_distributions, figS_rasters)

TRANSIENT_MS = 500.0  # docs/model.md §8.1


@pytest.fixture(scope="module")
def inputs(pipeline_runs):
    """Per run name: its network, spike trains and the docs/model.md §8 statistics computed from them here
    (window [500 ms, t_sim])."""
    out = {}
    for name, folder in pipeline_runs.items():
        net = load_network(folder.parent / "network.h5")
        st = analysis.read_spike_trains(folder / "spikes.h5", net.neuron_numbers)
        t0, t1 = TRANSIENT_MS, st.t_sim_ms
        population = {"rate_hz": analysis.population_mean_rates(st, t0, t1),
                      "cv_isi": analysis.spike_irregularity(st, t0, t1)["population_cv_isi"],
                      "cc": analysis.correlation_coefficients(st, t0, t1)[0]}
        out[name] = {"net": net, "spikes": st, "population": population,
                     "neuron_rate_hz": analysis.individual_rates(st, t0, t1)}
    return out


@pytest.fixture(scope="module")
def analysis_files(pipeline_runs, analysed):
    """{run name: analysis file} of the pipeline runs, analysed by 'humam analyse' (default options)."""
    return analysed(dict(pipeline_runs))


@pytest.fixture(scope="module")
def built(analysis_files, tmp_path_factory):
    """Every figure built once from the analyses of the pipeline runs."""
    out = tmp_path_factory.mktemp("simulation_figures")
    inputs = figure_inputs(run=analysis_files)
    return {module.FIGURE_ID: module.build(out_dir=out, inputs=inputs) for module in MODULES}


def _window(spikes):
    """Raster window of a run of length t_sim: 4000–5000 ms if reached, else the last 500 ms after 500 ms."""
    t_sim = spikes.t_sim_ms
    return (4000.0, 5000.0) if t_sim >= 5000.0 else (max(500.0, t_sim - 500.0), t_sim)


@pytest.mark.parametrize("figure_id, run_name", [("F4", "ground_state"), ("F6", "best_fit")])
def test_spike_statistics_status_and_boxes(built, inputs, figure_id, run_name):
    result = built[figure_id]
    run = inputs[run_name]
    assert result.status == "scaled" and not result.missing
    meta = read_sidecar(result)
    assert meta["status"] == "scaled" and meta["id"] == figure_id
    assert meta["inputs"][0]["name"] == run_name and meta["inputs"][0]["n_scaling"] < 1
    assert "not the full-scale regime" in meta["scale_banner"]
    assert "sampled from spiking neurons" in meta["raster"]["neuron_pool"]
    assert Path(result.paths["png"]).stat().st_size > 20_000 and Path(result.paths["pdf"]).is_file()
    # box values: the analysis values of the non-empty populations, one box per population type
    nonempty = np.asarray(run["net"].neuron_numbers) > 0
    type_of = np.arange(tables.N_POPULATIONS) % tables.N_POPULATIONS_PER_AREA
    for key in ("rate_hz", "cv_isi", "cc"):
        boxes = result.values["boxes"][key]["values"]
        assert len(boxes) == tables.N_POPULATIONS_PER_AREA
        assert sum(b.size for b in boxes) == nonempty.sum()
        for k, box in enumerate(boxes):
            expected = run["population"][key][nonempty & (type_of == k)]
            np.testing.assert_allclose(box, expected, rtol=1e-12)
            assert np.all(np.isfinite(box))


@pytest.mark.parametrize("figure_id, run_name", [("F4", "ground_state"), ("F6", "best_fit")])
def test_rasters_sample_the_named_areas_in_the_window(built, inputs, figure_id, run_name):
    spikes = inputs[run_name]["spikes"]
    start, stop = _window(spikes)
    values = built[figure_id].values
    assert tuple(values["raster_window_ms"]) == (start, stop)
    assert list(values["raster"]) == ["caudalanteriorcingulate", "pericalcarine", "fusiform"]
    present = np.bincount(spikes.present_population, minlength=tables.N_POPULATIONS)
    spike_keys = set(zip(spikes.neuron.tolist(), spikes.times_ms.tolist()))
    # the same neurons as a seeded (2903) 2.5 % sample drawn here from the spikes of the whole run
    whole = analysis.raster_sample(spikes, 0.025, -np.inf, np.inf, 2903)
    expected_neurons = set(zip(whole["population_index"].tolist(), whole["node_id"].tolist()))
    for area, raster in values["raster"].items():
        a = tables.area_index(area)
        pops = np.arange(a * 8, a * 8 + 8)
        assert np.all(raster["population_index"] // tables.N_POPULATIONS_PER_AREA == a)
        assert np.all((raster["times_ms"] >= start) & (raster["times_ms"] < stop))
        # ceil(2.5 % of the spiking neurons) rows per population; only neurons that spiked; none silent
        rows = np.bincount(raster["row_population_index"] - a * 8, minlength=8)
        np.testing.assert_array_equal(rows, np.ceil(0.025 * present[pops] - 1e-9).astype(int))
        assert set(zip(raster["row_population_index"].tolist(), raster["row_node_id"].tolist())) == \
            {n for n in expected_neurons if n[0] // tables.N_POPULATIONS_PER_AREA == a}
        global_id = spikes.offsets[raster["population_index"]] + raster["node_id"]
        assert all((n, t) in spike_keys for n, t in zip(global_id.tolist(), raster["times_ms"].tolist()))
        # every spike of a sampled neuron inside the window is drawn, in that neuron's row
        sampled = spikes.offsets[raster["row_population_index"]] + raster["row_node_id"]
        in_window = np.isin(spikes.neuron, sampled) & (spikes.times_ms >= start) & (spikes.times_ms < stop)
        assert in_window.sum() == raster["times_ms"].size
        np.testing.assert_array_equal(sampled[raster["row"]], global_id)


def test_rate_distributions(built, inputs):
    result = built["S-RD"]
    run = inputs["best_fit"]
    assert result.status == "scaled" and read_sidecar(result)["status"] == "scaled"
    edges = result.values["edges_hz"]
    rates = run["neuron_rate_hz"]
    assert edges[0] == pytest.approx(1e-2) and edges[-1] >= rates.max()
    np.testing.assert_allclose(edges[:41], np.logspace(-2, 2, 41), rtol=1e-9)  # the 40 default bins
    np.testing.assert_allclose(np.diff(np.log10(edges)), 0.1, rtol=1e-9)
    neuron_numbers = np.asarray(run["net"].neuron_numbers).reshape(tables.N_AREAS, 8)
    population = run["spikes"].present_population
    for k, label in enumerate(("2/3E", "2/3I", "4E", "4I", "5E", "5I", "6E", "6I")):
        d = result.values["densities"][label]
        with_population = [a for i, a in enumerate(tables.AREAS) if neuron_numbers[i, k] > 0]
        assert sorted(d["areas"] + d["skipped"]) == with_population
        assert d["neurons"] == np.count_nonzero(population % 8 == k)
        assert d["zero_rate"] == np.count_nonzero((population % 8 == k) & (rates == 0)) and d["outside"] == 0
        integrals = d["density"] @ np.diff(np.log10(edges))
        np.testing.assert_allclose(integrals, 1.0, rtol=1e-12)
        np.testing.assert_allclose(result.values["summary"][label]["mean"], d["density"].mean(axis=0))


def test_rasters_of_all_areas(built, inputs):
    results = built["S-RA"]
    assert [r.figure_id for r in results] == ["S-RA (1/3)", "S-RA (2/3)", "S-RA (3/3)"]
    assert [len(r.values["areas"]) for r in results] == [12, 12, 10]
    assert [a for r in results for a in r.values["areas"]] == list(tables.AREAS)
    assert len({sha256_file(r.paths["png"]) for r in results}) == 3
    start, stop = _window(inputs["best_fit"]["spikes"])
    for result in results:
        assert result.status == "scaled" and read_sidecar(result)["raster"]["areas"] == result.values["areas"]
        for area, raster in result.values["raster"].items():
            assert np.all(raster["population_index"] // 8 == tables.area_index(area))
            assert np.all((raster["times_ms"] >= start) & (raster["times_ms"] < stop))
    # the rasters of S-RA and F6 (same run, same seed) are the same sample
    f6 = built["F6"].values["raster"]["fusiform"]
    sra = next(r for r in results if "fusiform" in r.values["areas"]).values["raster"]["fusiform"]
    np.testing.assert_array_equal(f6["times_ms"], sra["times_ms"])


def test_rebuild_is_byte_identical(built, analysis_files, tmp_path):
    again = fig06_spike_statistics_best_fit.build(out_dir=tmp_path, inputs=figure_inputs(run=analysis_files))
    for kind in ("png", "pdf", "json"):
        assert sha256_file(again.paths[kind]) == sha256_file(built["F6"].paths[kind])


def test_figures_read_the_analysis_not_the_spikes(built, analysis_files, pipeline_runs, tmp_path):
    """With spikes.h5 unreadable, the figures are drawn the same from the analysis file alone."""
    import shutil

    folder = pipeline_runs["best_fit"]
    copy = tmp_path / folder.parent.name
    shutil.copytree(folder.parent, copy, ignore=shutil.ignore_patterns("spikes.h5"))
    run_copy = copy / folder.name
    (run_copy / "spikes.h5").write_bytes(b"not a spike file")
    inputs = figure_inputs(run={"best_fit": run_copy / analysis_files["best_fit"].name})
    again = fig06_spike_statistics_best_fit.build(out_dir=tmp_path / "out", inputs=inputs)
    assert sha256_file(again.paths["png"]) == sha256_file(built["F6"].paths["png"])


@pytest.mark.parametrize("module", MODULES)
def test_missing_run_is_not_produced(module, tmp_path):
    results = module.build(out_dir=tmp_path / "out", inputs=figure_inputs())
    for result in results if isinstance(results, list) else [results]:
        assert result.status == "not produced" and not result.paths
        assert result.missing and "run" in result.missing[0]["input"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("module", MODULES)
def test_cli_without_run(module, tmp_path):
    proc = subprocess.run([sys.executable, "-m", module.__name__, "--out", str(tmp_path)],
                          check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "not produced" in proc.stdout
    assert not any(tmp_path.iterdir())


def test_cli_with_a_folder_that_is_not_a_run(tmp_path):
    """An analysis path whose folder holds no finished run: one error line, exit 2, no traceback."""
    (tmp_path / "run").mkdir()
    proc = subprocess.run([sys.executable, "-m", "paper_figures.fig04_spike_statistics", "--out", str(tmp_path / "out"),
                           "--input", f"run:ground_state={tmp_path / 'run' / 'analysis.h5'}"],
                          check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "error:" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_analysis_raster_section_is_the_figures_sample():
    """The default raster options: 2.5 % of the spiking neurons, seed 2903, automatic window."""
    from humam import parameters

    assert parameters.resolve_analysis()["raster"] == {"fraction": 0.025, "t_start_ms": 0.0, "t_stop_ms": 0.0,
                                                       "seed": 2903}


@pytest.mark.parametrize("highest", [5.0, 100.0, 100.5, 1000.0, 2345.0])
def test_rate_bins_cover_the_rates(highest):
    edges = figS_rate_distributions.rate_bin_edges(np.array([0.0, 0.5, highest]))
    np.testing.assert_allclose(edges[:41], np.logspace(-2, 2, 41), rtol=1e-9)
    assert edges[-1] >= highest and (edges.size == 41 or edges[-2] < highest)
