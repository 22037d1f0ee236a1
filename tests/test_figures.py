"""Figure builders (paper_figures): status, sidecar, published values, determinism, placeholders."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paper_figures import (fig01_overview, fig02_connectivity, fig03_connectome_statistics, fig05_chi_scan,  # noqa: E402
                           fig05s_chi_scan_variants, figS_autapses_multapses, figT_indegrees, quantities)
from helpers import figure_inputs, read_sidecar, sha256_file  # noqa: E402





@pytest.mark.parametrize("module, status", [
    (fig01_overview, "full"), (fig02_connectivity, "partial"), (fig03_connectome_statistics, "full"),
    (figS_autapses_multapses, "full"), (figT_indegrees, "full"),
])
def test_network_figures_build(module, status, network_file, tmp_path):
    inputs = figure_inputs(network={"full": network_file("network_only"), "down": network_file("tutorial")})
    result = module.build(out_dir=tmp_path, inputs=inputs)
    assert result.status == status
    meta = read_sidecar(result)
    assert meta["status"] == status and meta["id"] == module.FIGURE_ID
    assert meta["package_version"] and any(i.get("net_hash") for i in meta["inputs"])
    assert Path(result.paths["png"]).stat().st_size > 10_000
    if status == "partial":
        assert [m["panel"] for m in meta["missing"]] == ["D"]


def test_f3_numbers(network_file, tmp_path):
    inputs = figure_inputs(network={"full": network_file("network_only")})
    values = fig03_connectome_statistics.build(out_dir=tmp_path, inputs=inputs).values
    assert values["n_pairs"] == 8394 and values["n_area_pairs"] == 336
    assert 0 < values["shapiro_W"] <= 1 and values["edr_lambda_mm"] > 0


MAIN = "lichtman_chii2_different_seed"
VARIANT = "lichtman_chii2_different_seed_factor10per7"


@pytest.fixture(scope="module")
def chi_scan_files(tmp_path_factory):
    """{family: statistics file} of the main family and one variant, written by ``humam chi-scan``."""
    from humam import cli, layout

    root = tmp_path_factory.mktemp("chi_scan")
    for family in (MAIN, VARIANT):
        assert cli.main(["chi-scan", family, "--out", str(root)]) == 0
    return {family: layout.Layout(root).chi_scan_file(family) for family in (MAIN, VARIANT)}


def _shipped(name: str, family: str = MAIN) -> Path:
    from humam import data

    return data.data_path(f"simulated_data/scaling_experiment_{family}/{name}")


def test_chi_scan_statistics_hold_the_shipped_values(chi_scan_files):
    import pandas as pd
    from scipy.stats import ks_2samp

    from humam.analysis import chi_scan

    stats = chi_scan.read_chi_scan_statistics(chi_scan_files[MAIN])
    assert stats["family"] == MAIN and stats["sample_chi"] == {"groundstate": 1.0, "bestfit": 2.5}
    chis = list(stats["chi"])
    assert chis == sorted(float(c) for c in json.loads(_shipped("path_to_chi.json").read_text()))
    for measure in ("rates", "cv", "lvr"):
        shipped = json.loads(_shipped(f"ks_{measure}_arr.json").read_text())
        for chi, value in shipped.items():
            assert stats["similarity"][f"ks_{measure}"][chis.index(float(chi))] == value
    pearson = pd.read_csv(_shipped("df_corr_rh_use_corrcoeff_True.csv"))
    for chi, value in zip(pearson.iloc[:, 0], pearson.iloc[:, 1]):
        assert stats["similarity"]["pearson_rh"][chis.index(float(chi))] == value
    # the shipped distributions, and 1 - KS recomputed from them
    for measure in ("rates", "cv", "lvr"):
        for sample in ("groundstate", "bestfit"):
            values = np.load(_shipped(f"sim_{measure}_{sample}.npy"), allow_pickle=True).astype(float)
            np.testing.assert_array_equal(stats["samples"][measure][sample], values)
            experiment = np.load(_shipped(f"exp_{measure}.npy"), allow_pickle=True).astype(float)
            recomputed = stats["ks_recomputed"][measure][sample]
            assert recomputed["recomputed"] == pytest.approx(1 - ks_2samp(values, experiment).statistic, abs=1e-12)
            chi = stats["sample_chi"][sample]
            assert recomputed["shipped"] == stats["similarity"][f"ks_{measure}"][chis.index(chi)]
    # rates: the recomputed value is the shipped one (docs/quirks.md Q19)
    assert stats["ks_recomputed"]["rates"]["bestfit"]["difference"] == pytest.approx(0.0, abs=1e-12)
    # simulated FC in alphabetical area order
    shipped_fc = pd.read_csv(_shipped("simulated_fc_bestfit.csv"), index_col=0)
    areas = list(stats["simulated_fc"]["areas"])
    assert areas == sorted(areas) and len(areas) == 34
    np.testing.assert_array_equal(stats["simulated_fc"]["bestfit"], shipped_fc.loc[areas, areas].to_numpy(float))
    # the optional fMRI array is not in the test mirror: recorded as unavailable, with the reason
    assert stats["experimental_fc"]["available"] is False and "rsDATA_7T" in stats["experimental_fc"]["reason"]
    # every shipped file of the family that is read, with its checksum (df_corr_<h>.csv are not read)
    from humam import data

    folder = _shipped("ks_rates_arr.json").parent
    read = {Path(p).name for p in stats["inputs"]["path"]}
    assert read == {p.name for p in folder.iterdir()} - {"df_corr_lh.csv", "df_corr_rh.csv"}
    for path, digest in zip(stats["inputs"]["path"], stats["inputs"]["sha256"]):
        assert digest == data.sha256_of(folder / Path(path).name)


def test_f5_reads_published_values(chi_scan_files, tmp_path):
    result = fig05_chi_scan.build(out_dir=tmp_path, inputs=figure_inputs(chi_scan=chi_scan_files))
    shipped = json.loads(_shipped("ks_rates_arr.json").read_text())
    ks = result.values["ks"]
    assert ks["rates"]["2.5"] == shipped["2.5"]
    assert round(ks["rates"]["2.5"], 2) == 0.93 and round(ks["cv"]["2.5"], 2) == 0.90
    assert round(ks["lvr"]["2.5"], 3) == 0.955
    assert round(ks["rates"]["1.0"], 2) == 0.82 and round(ks["cv"]["1.0"], 2) == 0.46
    assert round(result.values["fc_pearson"]["1.0"], 3) == 0.335
    assert round(result.values["fc_rmse_similarity"]["2.5"], 3) == 0.481
    meta = read_sidecar(result)
    assert meta["inputs"][0]["kind"] == "chi_scan" and meta["chi_star"] == 2.5
    assert any(i.get("path", "").endswith("ks_rates_arr.json") for i in meta["inputs"])


def test_f5_placeholder_and_determinism(chi_scan_files, tmp_path):
    inputs = figure_inputs(chi_scan=chi_scan_files)
    first = fig05_chi_scan.build(out_dir=tmp_path / "a", inputs=inputs)
    second = fig05_chi_scan.build(out_dir=tmp_path / "b", inputs=inputs)
    assert first.status == "partial" and first.values["placeholder_panels"] == ["E"]
    assert read_sidecar(first)["missing"][0]["panel"] == "E"
    assert sha256_file(first.paths["png"]) == sha256_file(second.paths["png"])
    assert sha256_file(first.paths["pdf"]) == sha256_file(second.paths["pdf"])


def test_f5_without_statistics_is_not_produced(tmp_path):
    result = fig05_chi_scan.build(out_dir=tmp_path, inputs=figure_inputs())
    assert result.status == "not produced" and result.paths == {}


def test_f5_full_with_experimental_fc(tmp_path, monkeypatch):
    from humam.analysis import chi_scan, fc

    rng = np.random.default_rng(3)
    matrices = {}
    for h in ("lh", "rh"):
        m = rng.uniform(-0.5, 1.0, (34, 34))
        matrices[h] = (m + m.T) / 2
        np.fill_diagonal(matrices[h], 1.0)
    monkeypatch.setattr(fc, "load_experimental_fc", lambda: dict(matrices))
    stats = chi_scan.chi_scan_statistics(MAIN)
    experimental = stats["experimental_fc"]
    assert experimental["available"] is True
    off = ~np.eye(34, dtype=bool)
    for sample in ("groundstate", "bestfit"):
        for h in ("lh", "rh"):
            r = np.corrcoef(matrices[h][off], stats["simulated_fc"][sample][off])[0, 1]
            assert experimental["similarity"][sample][h] == pytest.approx(r, rel=1e-12)
    path = chi_scan.write_chi_scan_statistics(stats, tmp_path / "stats.h5")
    np.testing.assert_array_equal(chi_scan.read_chi_scan_statistics(path)["experimental_fc"]["rh"], matrices["rh"])
    result = fig05_chi_scan.build(out_dir=tmp_path, inputs=figure_inputs(chi_scan={MAIN: path}))
    assert result.status == "full" and result.missing == []


def test_f5s_variant_labelled_by_folder(chi_scan_files, tmp_path):
    (result,) = fig05s_chi_scan_variants.build(out_dir=tmp_path, inputs=figure_inputs(chi_scan=chi_scan_files),
                                              families=(VARIANT,))
    meta = read_sidecar(result)
    assert result.status == "partial" and meta["chi_star"] == 4.4
    assert "factor10per7" in meta["title"] and Path(result.paths["png"]).name.endswith("factor10per7.png")
    assert set(fig05s_chi_scan_variants.SPEC.chi_scans) == set(fig05s_chi_scan_variants.VARIANTS)


def test_autapse_multapse_formulas_hand_case():
    neurons = np.array([2, 4])
    synapses = np.array([[8, 2], [3, 4]])  # rows target
    np.testing.assert_allclose(quantities.expected_autapses_per_neuron(synapses, neurons), [8 / 4, 4 / 16])
    np.testing.assert_allclose(quantities.multapse_degree(synapses, neurons), [[2, 0.25], [0.375, 0.25]])
    np.testing.assert_allclose(quantities.mean_multapse_degree_per_target(synapses, neurons), [1.125, 0.3125])
    np.testing.assert_allclose(figS_autapses_multapses.area_mean_autapses(synapses, neurons, np.array([0, 0]), 1),
                               [(2 + 0.25) / 2])
    m = 0.5
    assert quantities.multapse_fraction(m) == pytest.approx((1 - np.exp(-m) * 1.5) / (1 - np.exp(-m)))
    # empty population: no autapse value, excluded from area means
    assert np.isnan(quantities.expected_autapses_per_neuron(np.zeros((1, 1)), np.array([0]))[0])


def test_indegree_matrix_hand_case():
    neurons = np.array([2, 4, 0])
    synapses = np.array([[2, 4, 0], [8, 0, 0], [0, 0, 0]])
    matrix = quantities.area_indegree_matrix(synapses, neurons, np.array([0, 1, 1]), 2)
    np.testing.assert_allclose(matrix, [[1, 2], [2, 0]])


#: What a figure module must not use: NEST, the network construction, the simulation, and the
#: computations of the analysis and theory stages (it reads their outputs instead).
FORBIDDEN_MODULES = ("nest", "humam.build", "humam.full_scale", "humam.downscaling", "humam.cytoarchitecture",
                     "humam.connectivity", "humam.simulation", "humam.spikefile")
FORBIDDEN_CALLS = ("build_network", "assemble_network", "theory_rates", "stability", "jacobian", "network_stability",
                   "analyse_run", "analyse_spike_trains", "read_spike_trains", "compare_runs", "chi_scan_statistics",
                   "hierarchy_of_rates", "simulate", "population_mean_rates", "raster_sample")


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[1] / "paper_figures").glob("*.py")),
                         ids=lambda p: p.stem)
def test_figure_modules_only_read_pipeline_outputs(path):
    import ast

    tree = ast.parse(path.read_text())
    imported, called = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
            called.update(alias.name for alias in node.names)  # an imported function is as good as a call
        elif isinstance(node, ast.Call):
            func = node.func
            called.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    assert not {m for m in imported if m.split(".")[0] == "nest" or m in FORBIDDEN_MODULES}, path.name
    assert not called & set(FORBIDDEN_CALLS), (path.name, called & set(FORBIDDEN_CALLS))


def test_area_sample_comparison_hand_cases():
    from paper_figures import figV_downscaling

    shipped = {m: {"groundstate": np.array([1.0, 2.0, 3.0]), "bestfit": np.array([10.0, 20.0])}
               for m in ("rates", "cv", "lvr")}
    same = {m: np.array([3.0, 1.0, 2.0, np.nan]) for m in ("rates", "cv", "lvr")}  # NaN (too few spikes) ignored
    result = figV_downscaling.area_sample_comparison(same, shipped, "groundstate")
    assert result["rates"]["ks_similarity"] == 1.0 and result["rates"]["run_samples"] == 3
    # disjoint distributions are at KS distance 1; the best-fit sample is the one compared for that state
    result = figV_downscaling.area_sample_comparison(same, shipped, "bestfit")
    assert result["cv"]["ks_similarity"] == 0.0 and result["cv"]["full_scale_samples"] == 2
    # half of the run's values below all full-scale ones: distance 1/2
    half = {m: np.array([0.0, 0.5, 10.0, 20.0]) for m in ("rates", "cv", "lvr")}
    assert figV_downscaling.area_sample_comparison(half, shipped, "bestfit")["lvr"]["ks_similarity"] == 0.5
    # without samples there is no distance
    assert np.isnan(figV_downscaling.area_sample_comparison(None, shipped, "groundstate")["rates"]["ks_similarity"])
    assert np.isnan(figV_downscaling.area_sample_comparison(same, None, "groundstate")["rates"]["ks_similarity"])


def test_validation_runs_compare_the_schemes_at_k_equal_n_under_any_profile():
    """V-DS compares the schemes at the same indegrees: its runs keep k = n even where the profile
    raises k (the laptop profile's k_scaling_rule: smallest_stable)."""
    from humam import parameters
    from paper_figures import figV_downscaling

    laptop = parameters.load_profile("laptop")
    assert laptop["overrides"]["network"]["downscaling"]["k_scaling_rule"] == "smallest_stable"
    for name, source in figV_downscaling.VALIDATION_RUNS.items():
        params = parameters.apply_profile(parameters.resolve(source.experiment), laptop)
        for key, value in source.settings:
            params = parameters.set_dotted(params, key, value)
        down = params["network"]["downscaling"]
        assert down["k_scaling_rule"] == "given" and down["k_scaling"] == down["n_scaling"], name
        assert str(down["n_scaling"]) == name.rsplit("_", 1)[1] and down["scaling_type"] in name


def test_validation_compares_the_profiles_own_runs_without_simulating_them_again():
    """V-DS also compares the pipeline's own ground-state and best-fit runs (at the profile's scale and
    k): the same sources as the spike-statistics figures, so the task graph runs them once."""
    from paper_figures import fig04_spike_statistics, fig06_spike_statistics_best_fit, figV_downscaling

    profile_runs = {figV_downscaling.RUNS[name] for name in figV_downscaling.PROFILE_RUN_NAMES}
    assert profile_runs == set(fig04_spike_statistics.SPEC.runs.values()) | set(
        fig06_spike_statistics_best_fit.SPEC.runs.values())
    assert set(figV_downscaling.RUNS) == set(figV_downscaling.RUN_NAMES) | set(figV_downscaling.PROFILE_RUN_NAMES)
