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


def test_f5_reads_published_values(tmp_path):
    result = fig05_chi_scan.build(out_dir=tmp_path, experimental_fc=None)
    folder = "simulated_data/scaling_experiment_lichtman_chii2_different_seed/"
    from humam import data

    shipped = json.loads(data.data_path(folder + "ks_rates_arr.json").read_text())
    ks = result.values["ks"]
    assert ks["rates"]["2.5"] == shipped["2.5"]
    assert round(ks["rates"]["2.5"], 2) == 0.93 and round(ks["cv"]["2.5"], 2) == 0.90
    assert round(ks["lvr"]["2.5"], 3) == 0.955
    assert round(ks["rates"]["1.0"], 2) == 0.82 and round(ks["cv"]["1.0"], 2) == 0.46
    assert round(result.values["fc_pearson"]["1.0"], 3) == 0.335
    assert round(result.values["fc_rmse_similarity"]["2.5"], 3) == 0.481
    # the plotted samples reproduce the rate KS value of the best fit
    from scipy.stats import ks_2samp

    sim = fig05_chi_scan.read_samples("lichtman_chii2_different_seed", "sim_rates_bestfit.npy")
    exp = fig05_chi_scan.read_samples("lichtman_chii2_different_seed", "exp_rates.npy")
    assert 1 - ks_2samp(sim, exp).statistic == pytest.approx(shipped["2.5"], abs=1e-12)


def test_f5_placeholder_and_determinism(tmp_path):
    first = fig05_chi_scan.build(out_dir=tmp_path / "a", experimental_fc=None)
    second = fig05_chi_scan.build(out_dir=tmp_path / "b", experimental_fc=None)
    assert first.status == "partial" and first.values["placeholder_panels"] == ["E"]
    assert read_sidecar(first)["missing"][0]["panel"] == "E"
    assert sha256_file(first.paths["png"]) == sha256_file(second.paths["png"])
    assert sha256_file(first.paths["pdf"]) == sha256_file(second.paths["pdf"])


def test_f5_full_with_experimental_fc(tmp_path):
    fc = np.eye(34) * 0.5 + 0.1
    result = fig05_chi_scan.build(out_dir=tmp_path, experimental_fc=fc)
    assert result.status == "full" and result.missing == []


def test_f5s_variant_labelled_by_folder(tmp_path):
    (result,) = fig05s_chi_scan_variants.build(out_dir=tmp_path, folders=("lichtman_chii2_different_seed_factor10per7",),
                                              experimental_fc=None)
    meta = read_sidecar(result)
    assert result.status == "partial" and meta["chi_star"] == 4.4
    assert "factor10per7" in meta["title"] and Path(result.paths["png"]).name.endswith("factor10per7.png")


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
