"""The humam command line: totals, clear errors, nothing written on bad input."""

import json
import subprocess
import sys

import pytest

from humam.cli import main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "humam", *args], capture_output=True, text=True)


@pytest.mark.slow
def test_full_scale_summary_prints_the_published_totals(tmp_path):
    result = run_cli("network", "--scale", "1", "--summary", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["neurons"] == 3_468_839
    assert (summary["neurons_E"], summary["neurons_I"]) == (2_587_152, 881_687)
    assert summary["populations_nonempty"] == 254
    assert summary["synapses_internal"] == 42_778_075_138
    assert summary["synapses_local"] == 34_265_571_151
    assert summary["synapses_cortico_cortical"] == 8_512_503_987
    assert summary["synapses_external"] == 18_025_524_840
    assert summary["nonzero_pairs"] == 8_394
    assert (tmp_path / summary["net_hash"] / "network.h5").is_file()


def test_downscaled_example_sizes(tmp_path, capsys):
    assert main(["network", "--n-scaling", "0.005", "--k-scaling", "0.005", "--summary", "--out", str(tmp_path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["neurons"] == 17_350
    assert summary["synapses_internal"] == 1_069_423
    assert summary["synapses_external"] == 450_636
    # a second call finds the file by its hash and reuses it
    assert main(["network", "--scale", "0.005", "--summary", "--out", str(tmp_path)]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["net_hash"] == summary["net_hash"] and again["neurons"] == 17_350


@pytest.mark.parametrize("args, message", [
    (["--scale", "0"], "outside (0, 1]"),
    (["--scale", "-0.1"], "outside (0, 1]"),
    (["--scale", "1.5"], "outside (0, 1]"),
    (["--n-scaling", "abc"], "not a number"),
    (["--experiment", "no_such_experiment"], "Unknown experiment"),
])
def test_bad_values_exit_nonzero_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "out"
    result = run_cli("network", *args, "--out", str(out))
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_unknown_perturbation_area_exits_nonzero_and_writes_nothing(tmp_path):
    experiment = tmp_path / "bad_area.yaml"
    experiment.write_text(
        "network:\n  perturbation:\n    - {area: V1, layer: IV, population: E, time_ms: 2000.0}\n"
    )
    out = tmp_path / "out"
    result = run_cli("network", "--experiment", str(experiment), "--out", str(out))
    assert result.returncode == 2
    assert "V1" in result.stderr and "pericalcarine" in result.stderr  # names the bad and the valid areas
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_perturbing_an_empty_population_is_refused(tmp_path):
    experiment = tmp_path / "empty_pop.yaml"
    experiment.write_text(
        "network:\n  perturbation:\n    - {area: entorhinal, layer: IV, population: E, time_ms: 2000.0}\n"
    )
    result = run_cli("network", "--experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "no neurons" in result.stderr


def test_experiments_lists_the_shipped_experiments(capsys):
    assert main(["experiments"]) == 0
    listing = capsys.readouterr().out
    assert "best_fit" in listing and "chi_scan_main" in listing


def test_data_verify_prints_a_table(capsys):
    assert main(["data", "verify"]) == 0
    table = capsys.readouterr().out
    assert "experimental_data/hcp_dti/DKAtlas_VolumeAndNames.mat" in table
    assert "optional, missing" in table  # the fMRI array is not mirrored
    assert "0 failed" in table


def test_set_overrides_one_parameter(tmp_path, capsys):
    args = ["network", "--experiment", "downscaled_ground", "--summary", "--out", str(tmp_path)]
    assert main(args) == 0
    base = json.loads(capsys.readouterr().out)
    assert main(args + ["--set", "network.downscaling.scaling_type=sqrt"]) == 0
    changed = json.loads(capsys.readouterr().out)
    assert changed["scaling_type"] == "sqrt" and base["scaling_type"] == "linear"
    assert changed["net_hash"] != base["net_hash"] and changed["neurons"] == base["neurons"]


@pytest.mark.parametrize("setting, message", [
    ("network.scaling.chii=2", "Unknown parameter 'network.scaling.chii'"),
    ("network.scaling.chi", "--set takes KEY=VALUE"),
    ("network.scaling.chi=[1", "not valid YAML"),
])
def test_bad_settings_exit_nonzero_and_write_nothing(tmp_path, setting, message):
    out = tmp_path / "out"
    result = run_cli("network", "--set", setting, "--out", str(out))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_info_names_nest_and_the_data_source(capsys):
    from humam import cli, config

    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    lines = dict(line.split(None, 1) for line in out.splitlines() if line.strip())
    assert lines["humam"].startswith(cli.__version__)
    assert "MPI:" in lines["nest"] or "not installed" in lines["nest"]
    mirror = config.data_dir()
    assert (str(mirror) if mirror else str(config.cache_dir())) in lines["raw"]


def test_quiet_and_verbose_set_the_level_of_the_humam_logger(tmp_path, capsys):
    import logging

    from humam import cli

    assert cli.main(["-q", "network", "--experiment", "tutorial", "--out", str(tmp_path)]) == 0
    assert logging.getLogger("humam").level == logging.WARNING
    assert "wrote" not in capsys.readouterr().err
    assert cli.main(["network", "--experiment", "tutorial", "--out", str(tmp_path)]) == 0
    assert "up to date" in capsys.readouterr().err
    assert cli.main(["-v", "experiments"]) == 0
    assert logging.getLogger("humam").level == logging.DEBUG


def test_plan_of_the_full_scale_model_on_the_hpc_profile(capsys):
    """The published model's size (3,468,839 neurons, 42,778,075,138 synapses), the hpc profile's
    decomposition, and nodes enough for memory (with headroom) and for every thread's core."""
    import math

    from humam import cli, parameters, simulation

    assert cli.main(["plan", "--profile", "hpc", "--json", "--memory-per-node-gb", "512", "--cores-per-node", "128"]) == 0
    plan = json.loads(capsys.readouterr().out)
    profile = parameters.load_profile("hpc")
    threads = profile["overrides"]["simulation"]["threads"]
    assert plan["neurons"] == 3_468_839 and plan["synapses"] == 42_778_075_138
    assert plan["processes"] == profile["processes"] and plan["threads"] == threads
    total = plan["memory_estimate_bytes"]["total"]
    assert plan["nodes_for_memory"] == math.ceil(total * (1 + simulation.MEMORY_HEADROOM) / 512e9)
    assert plan["nodes_for_cores"] == math.ceil(profile["processes"] * threads / 128)
    assert plan["nodes"] == max(plan["nodes_for_memory"], plan["nodes_for_cores"])
    assert plan["memory_per_node_bytes"] == pytest.approx(total / plan["nodes"])
    assert plan["expected_simulation_s"] > 0


def test_plan_prints_a_readable_summary_for_any_scale(capsys):
    from humam import cli

    assert cli.main(["plan", "--scale", "0.01", "--processes", "2", "--set", "simulation.threads=4"]) == 0
    out = capsys.readouterr().out
    assert "2 MPI processes x 4 threads = 8 virtual processes" in out and "GB per node" in out


def test_a_run_of_a_network_file_from_elsewhere_can_be_analysed(tmp_path, capsys):
    """``humam simulate X/network.h5 --out O`` places the network beside the run in O, so that
    ``humam analyse`` finds it (and the run records the network's content digest)."""
    from pathlib import Path

    from humam import cli, layout, network_file, run_record

    assert cli.main(["network", "--experiment", "downscaled_ground", "--scale", "0.002", "--out",
                     str(tmp_path / "elsewhere"), "--summary"]) == 0
    given = Path(json.loads(capsys.readouterr().out)["path"])
    out = tmp_path / "runs"
    assert cli.main(["simulate", str(given), "--out", str(out), "--t-sim", "600", "--threads", "2"]) == 0
    (record,) = out.glob("*/*/run.json")
    run = layout.RunFolder(record.parent)
    assert run.network.is_file() and run.network != given
    assert run_record.read_run_record(run.path)["network_digest"] == network_file.content_digest(given)
    assert cli.main(["analyse", str(run.path)]) == 0
    assert len(run.analyses()) == 1
