"""`doit profile=tiny` from raw data to every figure and the report; then incremental reruns."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from humam.resources import experiments_dir

ROOT = Path(__file__).resolve().parents[1]
FIGURE_MODULES = sorted(p.stem for p in (ROOT / "paper_figures").glob("fig*.py") if p.stem != "figV_downscaling")
#: Figures drawn from the profile's own (down-scaled) simulations (figures.md §1.4).
SIMULATION_FIGURES = {"fig04_spike_statistics", "fig06_spike_statistics_best_fit", "fig07_spike_journey",
                      "fig08_temporal_hierarchy", "figS_mean_field", "figS_rate_distributions", "figS_rasters"}


def doit(out: Path, experiments: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "doit", *args, "profile=tiny", f"out={out}", f"dep_file={out / '.doit.db'}",
               f"experiments={experiments}"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)


def status(out: Path, experiments: Path) -> dict[str, str]:
    """Task name -> doit status letter (R: will run, U: up to date)."""
    listing = doit(out, experiments, "list", "--all", "--status")
    assert listing.returncode == 0, listing.stderr
    return {m.group(2): m.group(1) for m in re.finditer(r"^([RUI])\s+(\S+)", listing.stdout, re.MULTILINE)}


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    experiments = root / "experiments"
    shutil.copytree(experiments_dir(), experiments)
    out = root / "out"
    result = doit(out, experiments)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out, experiments


def figure_files() -> dict[str, list[str]]:
    """Figure module -> the image stems its task declares (dodo.py)."""
    sys.path.insert(0, str(ROOT))
    import dodo

    return {**dodo.NETWORK_FIGURES, **{module: stems for module, (_, stems) in dodo.SIMULATION_FIGURES.items()}}


def test_every_figure_and_the_report_are_produced(tiny_pipeline):
    out, _ = tiny_pipeline
    sidecars = {p.stem: json.loads(p.read_text()) for p in (out / "figures").glob("*.json")}
    files = figure_files()
    assert set(files) == set(FIGURE_MODULES)
    for module, stems in files.items():
        for stem in stems:
            assert (out / "figures" / f"{stem}.png").stat().st_size > 0, stem
            expected = {"scaled", "partial"} if module in SIMULATION_FIGURES else {"full", "partial"}
            assert sidecars[stem]["status"] in expected, (stem, sidecars[stem]["status"])
    assert set(sidecars) == {stem for stems in files.values() for stem in stems}
    report = (out / "report.md").read_text()
    for sidecar in sidecars.values():
        assert f"| {sidecar['id']} | {sidecar['title']} | {sidecar['status']} |" in report
    assert (out / "report.html").is_file()


def pipeline_tasks(states: dict[str, str]) -> dict[str, str]:
    """The tasks `doit` runs by default, without the task groups (always listed R) and the optional
    validation."""
    return {name: state for name, state in states.items()
            if (":" in name or name in ("report", "theory", "verify_data")) and not name.startswith("validate")}


def test_second_run_does_nothing(tiny_pipeline):
    out, experiments = tiny_pipeline
    states = pipeline_tasks(status(out, experiments))
    assert len(states) > 20 and all(state == "U" for state in states.values()), \
        {k: v for k, v in states.items() if v != "U"}


def test_changing_chi_of_the_best_fit_reruns_only_what_depends_on_it(tiny_pipeline):
    out, experiments = tiny_pipeline
    edited = experiments / "best_fit.yaml"
    content = yaml.safe_load(edited.read_text())
    content["network"]["scaling"]["chi"] = 2.0
    edited.write_text(yaml.safe_dump(content))
    states = pipeline_tasks(status(out, experiments))
    to_run = {name for name, state in states.items() if state == "R"}
    # the best-fit run and what is drawn from it; at this profile the shortened best fit was also the
    # unperturbed member of its perturbation pair, which now gets its own (existing) run
    assert {"network:best_fit", "simulate:best_fit", "analyse:best_fit", "figure:fig06_spike_statistics_best_fit",
            "figure:fig08_temporal_hierarchy", "figure:figS_rate_distributions", "figure:figS_rasters",
            "report"} <= to_run
    unaffected = {name for name in states if "ground" in name or name in (
        "theory", "verify_data", "network:network_only", "figure:fig04_spike_statistics", "figure:figS_mean_field",
        "figure:fig02_connectivity", "figure:fig05_chi_scan", "figure:fig07_spike_journey")}
    assert unaffected and not unaffected & to_run, unaffected & to_run
