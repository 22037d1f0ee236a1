"""Pipeline commands: `humam analyse`, `humam theory`, the report, and the task graph's coverage."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from humam import analysis, cli, data, tables, theory

ROOT = Path(__file__).resolve().parents[1]
#: docs/model.md §9.6 / §12: mean over populations of the full-scale base theory rates.
THEORY_MEAN_HZ = 0.75453


@pytest.fixture(scope="module")
def analysed_runs(pipeline_runs, analysed):
    """{name: (run folder, analysis file)} of the ground state and the best fit."""
    files = analysed(pipeline_runs)
    return {name: (folder, files[name]) for name, folder in pipeline_runs.items()}


def test_analyse_writes_the_statistics_of_each_run(analysed_runs):
    for folder, target in analysed_runs.values():
        run = json.loads((folder / "run.json").read_text())
        results = analysis.read_analysis(target)
        assert results["summary"]["spikes"] == run["spikes"]
        assert results["summary"]["neurons"] == run["neurons"]
        assert results["window"]["t_sim_ms"] == run["simulation"]["t_sim_ms"]
        st = analysis.read_spike_trains(folder / "spikes.h5")
        np.testing.assert_allclose(results["population"]["rate_hz"],
                                   analysis.population_mean_rates(st, 500.0, st.t_sim_ms))
        attrs = analysis.read_analysis_attrs(target)
        assert attrs["sim_hash"] == folder.name and attrs["experiment"] == run["experiment"]
        assert attrs["network_digest"] == run["network_digest"]


def test_analyse_again_is_a_no_op(analysed_runs, capsys):
    folder, target = next(iter(analysed_runs.values()))
    before = target.stat().st_mtime_ns
    assert cli.main(["analyse", str(folder)]) == 0
    assert target.stat().st_mtime_ns == before
    assert "up to date" in capsys.readouterr().err


def test_analyse_refuses_a_folder_without_a_finished_run(tmp_path, capsys):
    (tmp_path / "spikes.h5").write_bytes(b"")
    assert cli.main(["analyse", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no finished simulation" in err and "humam simulate" in err
    assert list(tmp_path.iterdir()) == [tmp_path / "spikes.h5"]


@pytest.fixture(scope="module")
def theory_file(tmp_path_factory):
    from humam import layout, parameters

    out = tmp_path_factory.mktemp("theory")
    assert cli.main(["theory", "--experiment", "network_only", "--out", str(out)]) == 0
    return layout.Layout(out).theory_file(parameters.resolve("network_only"))


def test_theory_command_reproduces_the_published_base_rates(theory_file):
    result = theory.read_theory(theory_file)
    rates = result.rates_hz[result.nonempty]
    assert result.nonempty.sum() == 254 and result.times[-1] == pytest.approx(9.9)
    assert rates.mean() == pytest.approx(THEORY_MEAN_HZ, rel=1e-5)
    shipped = pd.read_pickle(data.data_path("simulated_data/base_theory_rates.pkl"))
    reference = np.array([shipped[tables.POPULATIONS[i]] for i in np.flatnonzero(result.nonempty)])
    assert np.max(np.abs(rates - reference) / reference) <= 0.03


def test_report_lists_every_figure_and_the_published_numbers(analysed_runs, theory_file, network_file, chi_scan_file,
                                                             tmp_path):
    from helpers import figure_inputs
    from paper_figures import fig03_connectome_statistics, fig05_chi_scan, report

    full = network_file("network_only")
    fig03_connectome_statistics.build(out_dir=tmp_path / "figures", inputs=figure_inputs(network={"full": full}))
    sidecar = json.loads((tmp_path / "figures" / "fig03_connectome_statistics.json").read_text())
    family = fig05_chi_scan.MAIN_FOLDER
    inputs = figure_inputs(network={"full": full}, theory={"full": theory_file}, chi_scan={family: chi_scan_file(family)},
                           run={name: target for name, (_, target) in analysed_runs.items()})
    paths = report.build_report(tmp_path, "tiny", inputs)
    text = paths["md"].read_text()
    assert f"| F3 | {sidecar['title']} | {sidecar['status']} |" in text
    assert "figures/fig03_connectome_statistics.png" in text
    assert "figures/fig03_connectome_statistics.png" in paths["html"].read_text()
    network_section = text.split("## Network")[1].split("## ")[0]
    network_rows = [line for line in network_section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(network_rows) == len(report.PUBLISHED_NETWORK) and all(row.endswith("| yes |") for row in network_rows)
    assert "| 3,468,839 | 3,468,839 | yes |" in text and "| 42,778,075,138 | 42,778,075,138 | yes |" in text
    chi_rows = [line for line in text.splitlines() if line.startswith("| Pearson r") or line.startswith("| RMSE")]
    assert len(chi_rows) == 3 and all(row.endswith("| yes |") for row in chi_rows)
    neurons = json.loads((analysed_runs["ground_state"][0] / "run.json").read_text())["neurons"]
    assert f"| neurons | {neurons:,} | {neurons:,} | 17,350 |" in text
    assert f"{THEORY_MEAN_HZ:.5f} | {THEORY_MEAN_HZ:.5f}" in text


def test_every_figure_module_has_a_task_built_from_its_declaration():
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    listing = subprocess.run([sys.executable, "-m", "doit", "list", "--all", "profile=tiny"], cwd=ROOT,
                             capture_output=True, text=True, check=True, env=env).stdout
    names = {line.split()[0] for line in listing.splitlines() if line.strip()}
    modules = {p.stem for p in (ROOT / "paper_figures").glob("fig*.py")}
    # the down-scaling validation figure is added with validate=yes
    assert {n for n in names if n.startswith("figure:")} == {f"figure:{m}" for m in modules - {"figV_downscaling"}}
    assert {"report", "theory:network_only", "network:network_only", "simulate:ground_state",
            "analyse:ground_state"} <= names
    dodo_text = (ROOT / "dodo.py").read_text()
    for module in modules:  # no figure is named in the task graph: every task comes from a SPEC
        assert module not in dodo_text


def test_the_hpc_profile_can_be_listed_on_a_laptop(tmp_path):
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    listing = subprocess.run([sys.executable, "-m", "doit", "list", "--all", "profile=hpc", f"out={tmp_path}",
                              f"dep_file={tmp_path / 'db'}"], cwd=ROOT, capture_output=True, text=True, env=env)
    assert listing.returncode == 0, listing.stderr
    assert "simulate:ground_state" in listing.stdout and "figure:fig04_spike_statistics" in listing.stdout
    assert not any(tmp_path.glob("*/network.h5"))  # listing builds nothing


def test_downscaling_validation_figure_compares_with_the_full_scale_theory(pipeline_runs, analysed, network_file,
                                                                           tmp_path):
    from humam import layout, network_file as nf, parameters
    from paper_figures import figV_downscaling

    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import figure_inputs

    folder = pipeline_runs["ground_state"]
    files = analysed({"ground_linear_0.01": folder})
    # the theories as the task graph computes them: the full-scale network's to its fixed point, and the
    # run's down-scaled network's with its DC drive, also to its fixed point (both with their stability)
    full_network = network_file("network_only")
    assert cli.main(["theory", "--experiment", "ground_state", "--until-converged",
                     "--out", str(full_network.parent.parent)]) == 0
    full_path = layout.Layout(full_network.parent.parent).theory_file(
        parameters.set_dotted(parameters.resolve("ground_state"), "theory.until_converged", True))
    assert cli.main(["theory", "--experiment", "ground_state", "--n-scaling", "0.002", "--k-scaling", "0.002",
                     "--set", "theory.include_dc=true", "--set", "theory.until_converged=true",
                     "--out", str(folder.parent.parent)]) == 0
    own_params = parameters.resolve("ground_state")
    for key, value in (("network.downscaling.n_scaling", 0.002), ("network.downscaling.k_scaling", 0.002),
                       ("theory.include_dc", True), ("theory.until_converged", True)):
        own_params = parameters.set_dotted(own_params, key, value)
    own_path = layout.Layout(folder.parent.parent).theory_file(own_params)
    assert own_path.parent == folder.parent  # beside the run's network
    family = analysis.CHI_SCAN_MAIN_FOLDER
    assert cli.main(["chi-scan", family, "--out", str(tmp_path)]) == 0
    inputs = figure_inputs(run={"ground_linear_0.01": files["ground_linear_0.01"]}, network={"full": full_network},
                           theory={"full": full_path, "ground_linear_0.01": own_path},
                           chi_scan={family: layout.Layout(tmp_path).chi_scan_file(family)})
    result = figV_downscaling.build(tmp_path, inputs)
    # missing: the other runs and the best fit's full-scale theory
    assert result.status == "partial" and {m["panel"] for m in result.missing} == set(figV_downscaling.RUNS) - {
        "ground_linear_0.01"} | {"full_best"}
    values = result.values["ground_linear_0.01"]
    # the simulated rate: every spike of the analysis window [500 ms, t_sim) over all neurons (NEST stamps
    # spikes at the end of a step, so spikes at exactly t_sim occur; they lie outside the window)
    net = nf.load_network(folder.parent / "network.h5")
    st = analysis.read_spike_trains(folder / "spikes.h5", net.neuron_numbers)
    t_start = parameters.load_defaults()["analysis"]["t_start_ms"]
    assert values["window_ms"] == [t_start, st.t_sim_ms]
    duration_s = (st.t_sim_ms - t_start) / 1000.0
    in_window = (st.times_ms >= t_start) & (st.times_ms < st.t_sim_ms)
    weighted = np.count_nonzero(in_window) / net.neuron_numbers.sum() / duration_s
    assert values["neuron_weighted_rate_hz"] == pytest.approx(weighted)
    full_net = nf.load_network(full_network)
    full_rates = theory.read_theory(full_path).rates_hz
    full = np.sum(full_rates * full_net.neuron_numbers) / full_net.neuron_numbers.sum()
    assert result.values["full_scale"]["neuron_weighted_rate_hz"] == pytest.approx(full)
    assert values["rate_ratio"] == pytest.approx(weighted / full)
    assert values["scaling_type"] == "linear" and values["n_scaling"] == 0.002
    # the published down-scaling runs far above the full-scale theory (docs/model.md §6.4)
    assert values["rate_ratio"] > 10
    # stability: the full scale at its fixed point, the down-scaled network (with DC) at the full-scale rates
    full_check = theory.stability(full_net, full_rates)
    assert result.values["full_scale"]["leading_eigenvalue"][0] == pytest.approx(full_check["leading_eigenvalue"].real)
    assert result.values["full_scale"]["leading_eigenvalue"][0] < 1
    check = theory.stability(net, net.full_scale_rates_hz, include_dc=True)
    assert values["stability_at"] == "full_scale_rates" and values["stability_includes_dc"]
    assert values["leading_eigenvalue"][0] == pytest.approx(check["leading_eigenvalue"].real)
    assert values["stable"] is check["stable"]
    assert values["mean_field_max_relative_residual"] == pytest.approx(check["max_relative_residual"])
    # the down-scaled network's own theory (with its DC) is converged and also far above the full scale
    own = theory.read_theory(own_path)
    own_weighted = np.sum(own.rates_hz * net.neuron_numbers) / net.neuron_numbers.sum()
    assert values["theory_includes_dc"] and values["own_theory_converged"] and own.options["include_dc"]
    assert values["own_theory_neuron_weighted_rate_hz"] == pytest.approx(own_weighted)
    assert values["own_theory_rate_ratio"] > 10
    assert values["own_theory_rate_ratio"] == pytest.approx(own_weighted / full)
    assert values["simulated_over_own_theory"] == pytest.approx(weighted / own_weighted)
    # the run's rate in the sampled area, counted directly from the spikes
    area = tables.area_index(analysis.CHI_SCAN_SAMPLE_AREA)
    in_area = (st.spike_population // tables.N_POPULATIONS_PER_AREA == area) & in_window
    n_area = net.neuron_numbers.reshape(tables.N_AREAS, -1)[area].sum()
    area_rate = np.count_nonzero(in_area) / n_area / duration_s
    assert values["sampled_area_rate_hz"] == pytest.approx(area_rate)
    # the published full-scale simulation of that area: every shipped sample counted, over all its neurons
    reference = result.values["full_scale"]["simulation_reference"]
    samples = analysis.load_chi_scan_samples(analysis.CHI_SCAN_MAIN_FOLDER)["rates"]["groundstate"]
    n_area_full = full_net.neuron_numbers.reshape(tables.N_AREAS, -1)[area].sum()
    assert reference["simulated_rate_hz"] * 5 * n_area_full == pytest.approx(samples.sum())
    area_pops = slice(area * tables.N_POPULATIONS_PER_AREA, (area + 1) * tables.N_POPULATIONS_PER_AREA)
    area_theory = np.sum((full_rates * full_net.neuron_numbers)[area_pops]) / n_area_full
    assert reference["theory_rate_hz"] == pytest.approx(area_theory)
    assert values["sampled_area_rate_ratio"] == pytest.approx(area_rate / area_theory)
    assert (tmp_path / "figV_downscaling.png").is_file()
    # the report's table shows the same numbers, full-scale theory and down-scaled theory side by side
    from paper_figures import report

    table = report.downscaling_table(json.loads((tmp_path / "figV_downscaling.json").read_text()))
    row, reference_row = table.rows
    assert row[:6] == ["χ = 1", "linear", "N = 0.002, K = 0.002", f"{weighted:.3g}", f"{weighted / full:.3g}",
                       f"{values['pearson_r_log_rates']:.2f}"]
    assert row[8] == f"{values['own_theory_neuron_weighted_rate_hz']:.3g} (×{values['own_theory_rate_ratio']:.3g})"
    assert f"{full:.3g} spikes/s" in table.header[4]
    # distributions: CV ISI and LvR over all neurons with enough spikes; the area samples need 2 s windows
    # after 2.5 s, which a 2.5 s run does not have, so no KS distance is claimed for it
    results = analysis.read_analysis(files["ground_linear_0.01"])
    cv = np.asarray(results["neurons"]["cv_isi"], dtype=float)
    assert values["cv_isi_quartiles"][1] == pytest.approx(np.median(cv[np.isfinite(cv)]))
    assert st.t_sim_ms < 4500.0
    for measure in ("rates", "cv", "lvr"):
        assert values["area_samples"][measure]["run_samples"] == 0
        assert np.isnan(values["area_samples"][measure]["ks_similarity"])
        assert values["area_samples"][measure]["full_scale_samples"] > 0
    assert row[-3] == f"×{area_rate / area_theory:.3g}" and reference_row[1] == "published, full scale"
    assert reference_row[-3].startswith(f"×{reference['ratio']:.3g}")
    cv_median, lvr_median = values["cv_isi_quartiles"][1], values["lvr_quartiles"][1]
    assert row[-2] == f"{cv_median:.2f} / {lvr_median:.2f}" and row[-1] == "— / — / —"  # no area samples


def test_report_shows_the_ground_state_against_the_full_scale_theory_and_the_stability(analysed_runs, theory_file,
                                                                                         network_file, tmp_path):
    from helpers import figure_inputs
    from humam import analysis as humam_analysis
    from paper_figures import report

    inputs = figure_inputs(network={"full": network_file("network_only")}, theory={"full": theory_file},
                           run={name: target for name, (_, target) in analysed_runs.items()})
    text = report.build_report(tmp_path, "tiny", inputs)["md"].read_text()
    rate = humam_analysis.read_analysis(analysed_runs["ground_state"][1])["summary"]["neuron_weighted_rate_hz"]
    assert f"| ground state: neuron-weighted rate / full-scale theory (0.436 spikes/s) | ×{rate / 0.436:.2f} |" in text
    row = next(line for line in text.splitlines() if line.startswith("| leading eigenvalue at the full-scale rates"))
    assert row.count("unstable") + row.count("stable") >= 2  # one verdict per down-scaled run
    # the Pearson r of log population rates against the full-scale theory, over populations firing in both
    simulated = humam_analysis.read_analysis(analysed_runs["ground_state"][1])["population"]["rate_hz"]
    predicted = theory.read_theory(theory_file).rates_hz
    both = (simulated > 0) & (predicted > 0)
    r = np.corrcoef(np.log(simulated[both]), np.log(predicted[both]))[0, 1]
    assert f"| ground state: Pearson r of log population rates against the full-scale theory | {r:.2f} |" in text


def test_report_names_the_indegree_scale_a_rule_chose():
    """A run whose k came from ``k_scaling_rule: smallest_stable`` is described by its network's k, not
    by the k_scaling parameter the rule ignored."""
    sys.path.insert(0, str(ROOT))
    from humam import parameters
    from paper_figures import report

    params = parameters.set_dotted(parameters.apply_profile(parameters.resolve("ground_state"),
                                                            parameters.load_profile("laptop")),
                                   "network.downscaling.k_scaling", 0.01)
    summary = {key: 1.0 for key in report.PUBLISHED_DOWNSCALED} | {"neurons": 34695}
    table = report.run_statistics_table({"ground_state": {"summary": summary}}, {"ground_state": params},
                                        k_scalings={"ground_state": 0.0284})
    run_row = next(row for row in table.rows if row[0] == "run")
    assert run_row[1].startswith("N = 0.01, K = 0.0284 (smallest stable), preserve_input_statistics")
