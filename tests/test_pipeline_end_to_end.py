"""`doit profile=tiny` from raw data to every figure and the report, in a copy of the repository;
then: a second run does nothing, a change to every source file reruns every task and each rewrites
its targets, and an experiment change marks only what depends on it."""

import json
import time
from pathlib import Path

import pytest
import yaml

from helpers import Pipeline, copy_repository

ROOT = Path(__file__).resolve().parents[1]
FIGURE_MODULES = sorted(p.stem for p in (ROOT / "paper_figures").glob("fig*.py") if p.stem != "figV_downscaling")
#: Figures drawn from the profile's own (down-scaled) simulations (docs/figures.md §1.4).
SIMULATION_FIGURES = {"fig04_spike_statistics", "fig06_spike_statistics_best_fit", "fig07_spike_journey",
                      "fig08_temporal_hierarchy", "figS_mean_field", "figS_rate_distributions", "figS_rasters"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pipe = Pipeline(copy_repository(tmp_path_factory.mktemp("repo")))
    first = pipe.executed()
    assert "report" in first and {f"figure:{m}" for m in FIGURE_MODULES} <= first
    return pipe


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


def test_after_a_change_to_every_source_file_every_task_reruns_and_rewrites_its_targets(tiny):
    sources = sorted((tiny.repo / "src" / "humam").rglob("*.py")) + sorted((tiny.repo / "paper_figures").glob("*.py"))
    for path in sources:
        path.write_text(path.read_text() + "\n# edited\n")
    before = {task: {p: p.stat().st_mtime_ns for p in paths if p.exists()} for task, paths in tiny.targets().items()}
    time.sleep(0.01)
    ran = tiny.executed()
    expected = {task for task in before if ":" in task or task == "report"}
    assert ran == expected, ran ^ expected
    for task in ran:
        for path in tiny.targets()[task]:
            assert path.exists() and path.stat().st_mtime_ns > before[task].get(path, -1), (task, path)


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
