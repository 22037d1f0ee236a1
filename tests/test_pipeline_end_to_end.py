"""`doit profile=tiny` from raw data to every figure and the report, in a copy of the repository
(its own ``src`` first on the path); then doit alone decides what is stale:

* a second run does nothing;
* after an edit of the code of one stage, exactly the tasks that depend on it run, and their
  outputs change (network code that leaves the network unchanged, analysis, simulation, theory, one
  figure), checked on a sub-graph of the pipeline: the full-scale network and its connectome figure
  (F3), the ground-state run with its analysis and spike-statistics figure (F4), the full-scale
  theory and the figure comparing it with the run (S-MF);
* after doubling the weights and a change to every source file, every task reruns, each rewrites
  its targets, and every run records the content of the network it was now simulated from;
* an experiment change marks only what depends on it.
"""

import json
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from helpers import Pipeline, copy_repository

ROOT = Path(__file__).resolve().parents[1]
FIGURE_MODULES = sorted(p.stem for p in (ROOT / "paper_figures").glob("fig*.py") if p.stem != "figV_downscaling")
#: Figures drawn from the profile's own (down-scaled) simulations (docs/figures.md §1.4).
SIMULATION_FIGURES = {"fig04_spike_statistics", "fig05_chi_scan", "fig06_spike_statistics_best_fit", "fig07_spike_journey",
                      "fig08_temporal_hierarchy", "figS_mean_field", "figS_rate_distributions", "figS_rasters"}
FIGURES = ("figure:fig03_connectome_statistics", "figure:fig04_spike_statistics", "figure:figS_mean_field")
#: The networks of this sub-graph: the full-scale one (F3, theory) and the tiny ground state's (the run).
NETWORKS = {"network:network_only", "network:ground_state"}


def group(names, prefix: str) -> set[str]:
    return {name for name in names if name.startswith(prefix)}


def digest_of_datasets(path: Path) -> str:
    """sha256 over every dataset of an HDF5 file (names, bytes and the datasets' attributes, e.g. units;
    not the file's attributes, which hold the date of writing)."""
    import hashlib

    digest = hashlib.sha256()
    with h5py.File(path, "r") as h5:
        names = []
        h5.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        for name in sorted(names):
            data = np.asarray(h5[name][()])
            digest.update(name.encode() + (data.tobytes() if data.dtype.kind != "O" else repr(data.tolist()).encode()))
            digest.update(repr(sorted((k, str(v)) for k, v in h5[name].attrs.items())).encode())
    return digest.hexdigest()



@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pipe = Pipeline(copy_repository(tmp_path_factory.mktemp("repo")))
    first = pipe.executed()
    assert "report" in first and {f"figure:{m}" for m in FIGURE_MODULES} <= first
    return pipe


def outputs(pipe: Pipeline, task: str) -> dict[Path, str]:
    """Dataset digests of a task's HDF5 targets."""
    return {p: digest_of_datasets(p) for p in pipe.targets()[task] if p.suffix == ".h5"}


def test_every_figure_and_the_report_are_produced(tiny):
    targets = tiny.targets()
    sidecars = {p.stem: json.loads(p.read_text()) for p in (tiny.out / "figures").glob("*.json")}
    for module in FIGURE_MODULES:
        images = [p for p in targets[f"figure:{module}"] if p.suffix == ".png"]
        assert images, module
        for image in images:
            assert image.stat().st_size > 10_000, image
            expected = {"scaled", "partial", "not produced"} if module in SIMULATION_FIGURES else {"full", "partial"}
            assert sidecars[image.stem]["status"] in expected, (image.stem, sidecars[image.stem]["status"])
    report = (tiny.out / "report.md").read_text()
    for sidecar in sidecars.values():
        assert f"| {sidecar['id']} | {sidecar['title']} | {sidecar['status']} |" in report
    assert (tiny.out / "report.html").is_file()


def test_second_run_does_nothing(tiny):
    assert tiny.executed() == set()


def test_network_code_that_leaves_the_network_unchanged_reruns_nothing_downstream(tiny):
    tiny.edit("src/humam/full_scale.py", '"""Network parameters', '# the same network\n"""Network parameters')
    tiny.edit("paper_figures/fig03_connectome_statistics.py", 'TITLE = "Connectome statistics"',
              'TITLE = "Connectome statistics of the full-scale network"')
    ran = tiny.executed(*FIGURES)
    assert ran == NETWORKS | {"figure:fig03_connectome_statistics"}, ran


def test_analysis_code_reruns_the_analyses_and_what_is_drawn_from_them(tiny):
    task = "analyse:ground_state"
    before = outputs(tiny, task)
    tiny.edit("src/humam/analysis/statistics.py", "def population_mean_rates(",
              "def _unscaled_population_mean_rates(")
    tiny.edit("src/humam/analysis/statistics.py", "def area_mean_rates(",
              "def population_mean_rates(*args, **kwargs):\n    return 2.0 * _unscaled_population_mean_rates(*args, **kwargs)"
              "\n\n\ndef area_mean_rates(")
    ran = tiny.executed(*FIGURES)
    assert ran == {task, "figure:fig04_spike_statistics", "figure:figS_mean_field"}, ran
    assert outputs(tiny, task) != before


def test_scan_statistics_code_reruns_the_scan_and_f5_but_no_simulation(tiny):
    """The members of the main χ scan are ordinary runs: the profile's three are simulated, analysed
    and gathered into one statistics file that F5 draws; an edit of the analysis code reaches F5
    through the members' analyses and the scan statistics, and simulates nothing."""
    targets = tiny.targets()
    members = group(targets, "simulate:chi_scan_main@")
    assert members == {"simulate:chi_scan_main@chi0", "simulate:chi_scan_main@chi1", "simulate:chi_scan_main@chi1.5"}
    (statistics,) = [p for p in targets["scan:chi_scan_main"] if p.suffix == ".h5"]
    sidecar = json.loads((tiny.out / "figures" / "fig05_chi_scan.json").read_text())
    assert sidecar["own_scan"]["available"] and sidecar["own_scan"]["chi"] == [0.0, 1.0, 1.5]
    assert any(item.get("kind") == "scan" and item["path"] == str(statistics) for item in sidecar["inputs"])
    tiny.edit("src/humam/analysis/scan.py", "_SCAN_FIX = ", "# edited\n_SCAN_FIX = ")
    ran = tiny.executed("figure:fig05_chi_scan")
    assert {"scan:chi_scan_main", "figure:fig05_chi_scan"} <= ran, ran
    assert group(ran, "analyse:chi_scan_main@") == {m.replace("simulate:", "analyse:") for m in members}, ran
    assert not group(ran, "simulate:"), ran
    # the members' networks may still be stale from the network-code edit above, which brought only a
    # sub-graph up to date: rebuilt unchanged (content digest), they simulate nothing again
    assert group(ran, "network:") <= {m.replace("simulate:", "network:") for m in members}, ran


def test_simulation_code_reruns_the_run_but_not_the_network_or_the_theory(tiny):
    run = tiny.targets()["simulate:ground_state"]
    spikes = next(p for p in run if p.name == "spikes.h5")
    before = digest_of_datasets(spikes)
    tiny.edit("src/humam/simulation.py", 'nodes.V_m = nest.random.normal(mean=float(sim["V0_mean_mV"])',
              'nodes.V_m = nest.random.normal(mean=float(sim["V0_mean_mV"]) + 10.0')
    ran = tiny.executed(*FIGURES)
    assert ran == {"simulate:ground_state", "analyse:ground_state", "figure:fig04_spike_statistics",
                   "figure:figS_mean_field"}, ran
    assert digest_of_datasets(spikes) != before


def test_theory_code_reruns_the_theory_and_its_figure(tiny):
    (theory,) = group(tiny.targets(), "theory:network_only")
    before = outputs(tiny, theory)
    tiny.edit("src/humam/theory.py", '"mu_mV": "mV"', '"mu_mV": "millivolt"')  # the file's content changes
    ran = tiny.executed(*FIGURES)
    # the network stage uses the theory (down-scaling): its networks are rebuilt, unchanged, so no run reruns
    assert ran == NETWORKS | {theory, "figure:figS_mean_field"}, ran
    assert outputs(tiny, theory) != before


def test_doubled_weights_and_a_change_to_every_source_file_rerun_every_task_and_rewrite_its_targets(tiny):
    from humam import network_file

    record = next(p for p in tiny.targets()["simulate:ground_state"] if p.name == "run.json")
    recorded = json.loads(record.read_text())["network_digest"]
    tiny.edit("src/humam/full_scale.py", "    weights_pA = base_weights_pA(neuron_params,",
              "    weights_pA = 2.0 * base_weights_pA(neuron_params,")
    sources = sorted((tiny.repo / "src" / "humam").rglob("*.py")) + sorted((tiny.repo / "paper_figures").glob("*.py"))
    for path in sources:
        path.write_text(path.read_text() + "\n# edited\n")
    targets = tiny.targets()
    before = {task: {p: p.stat().st_mtime_ns for p in paths if p.exists()} for task, paths in targets.items()}
    time.sleep(0.01)
    ran = tiny.executed()
    expected = {task for task in targets if ":" in task or task == "report"}
    assert ran == expected, ran ^ expected
    for task in ran:
        for path in targets[task]:
            assert path.exists() and path.stat().st_mtime_ns > before[task].get(path, -1), (task, path)
    # the run was simulated again from the changed network, and says so
    now = json.loads(record.read_text())["network_digest"]
    assert now != recorded and now == network_file.content_digest(record.parent.parent / "network.h5")


def test_changing_chi_of_the_best_fit_marks_only_what_depends_on_it(tiny):
    edited = tiny.repo / "experiments" / "best_fit.yaml"
    content = yaml.safe_load(edited.read_text())
    content["network"]["scaling"]["chi"] = 2.0
    edited.write_text(yaml.safe_dump(content))
    states = tiny.status()
    to_run = {name for name, state in states.items() if state == "R" and (":" in name or name == "report")}
    assert {"network:best_fit", "simulate:best_fit", "analyse:best_fit", "figure:fig06_spike_statistics_best_fit",
            "figure:fig08_temporal_hierarchy", "figure:figS_rate_distributions", "figure:figS_rasters",
            "report"} <= to_run
    unaffected = {name for name in states if "ground" in name} | {
        "verify_data", "network:network_only", "theory:network_only", "figure:fig04_spike_statistics",
        "figure:figS_mean_field", "figure:fig02_connectivity", "figure:fig05_chi_scan"}
    assert unaffected and not unaffected & to_run, unaffected & to_run
