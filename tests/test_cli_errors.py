"""Bad inputs and faults at the command line: exit code 2, one message naming the problem and its
fix, no traceback, nothing half-written (one test per case of the issue's table)."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from humam import cli, layout, network_file, parameters

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "profiles" / "tiny.yaml")


def humam(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m humam ARGS`` in a subprocess (so that a traceback would show on stderr)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("HUMAM_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "humam", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=600)


def assert_refused(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr


def files_below(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture(scope="module")
def tiny_network(tmp_path_factory):
    """network.h5 of the ground state at the tiny profile's scale, and the output root holding it."""
    out = tmp_path_factory.mktemp("tiny")
    assert cli.main(["network", "--experiment", "ground_state", "--profile", TINY, "--out", str(out)]) == 0
    params = parameters.apply_profile(parameters.resolve("ground_state"), parameters.load_profile(TINY))
    return layout.Layout(out).network_file(params), out


@pytest.mark.parametrize("args, key", [
    (["--set", "network.scaling.chi=.nan"], "network.scaling.chi"),
    (["--set", "simulation.t_sim_ms=.inf"], "simulation.t_sim_ms"),
    (["--t-sim", "-100"], "simulation.t_sim_ms"),
    (["--threads", "0"], "simulation.threads"),
    (["--seed", "0"], "simulation.seed"),
])
def test_bad_numbers_fail_before_any_work(tmp_path, args, key):
    start = time.perf_counter()
    result = humam("simulate", "ground_state", "--profile", TINY, "--out", str(tmp_path / "out"), *args)
    assert_refused(result, key)
    assert time.perf_counter() - start < 30  # a process start; no network is built
    assert files_below(tmp_path / "out") == []


def test_nan_in_an_experiment_file(tmp_path):
    experiment = tmp_path / "bad.yaml"
    experiment.write_text(yaml.safe_dump({"network": {"scaling": {"chi": float("nan")}}}))
    assert_refused(humam("network", "--experiment", str(experiment), "--out", str(tmp_path / "out")), "chi")
    assert files_below(tmp_path / "out") == []


def test_a_scale_that_leaves_no_neuron(tmp_path):
    assert_refused(humam("network", "--scale", "1e-9", "--out", str(tmp_path / "out")), "leaves no neuron")
    assert files_below(tmp_path / "out") == []


def test_a_simulated_time_whose_spikes_do_not_fit_names_the_recording(tmp_path, tiny_network):
    path, _ = tiny_network
    result = humam("simulate", str(path), "--t-sim", "1e30", "--out", str(tmp_path / "out"))
    assert_refused(result, "recorded spikes", "shorter time")
    assert not list((tmp_path / "out").rglob("run.json"))


@pytest.mark.parametrize("content", [b"", b"not an HDF5 file at all\n", b"\x89HDF\r\n\x1a\n" + b"\0" * 64])
def test_simulate_a_network_file_that_is_not_one(tmp_path, content):
    bad = tmp_path / "network.h5"
    bad.write_bytes(content)
    assert_refused(humam("simulate", str(bad), "--out", str(tmp_path / "out")), str(bad))
    assert files_below(tmp_path / "out") == []


def test_simulate_a_truncated_network_file(tmp_path, tiny_network):
    path, _ = tiny_network
    truncated = tmp_path / "network.h5"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert_refused(humam("simulate", str(truncated), "--out", str(tmp_path / "out")), str(truncated))


def test_a_corrupt_cached_network_is_rebuilt_not_reported_up_to_date(tmp_path, tiny_network):
    path, out = tiny_network
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    cached = copy / path.relative_to(out)
    cached.write_bytes(cached.read_bytes()[:1000])
    result = humam("network", "--experiment", "ground_state", "--profile", TINY, "--out", str(copy))
    assert result.returncode == 0, result.stderr
    assert "up to date" not in result.stderr and "cannot be read" in result.stderr
    assert network_file.content_digest(cached) == network_file.content_digest(path)


@pytest.fixture
def finished_run(tmp_path):
    """A run folder with spikes.h5 and run.json beside a network file (synthetic spikes, no NEST)."""
    from helpers import synthetic_run

    return synthetic_run(tmp_path, spikes=5000)[1]


def test_analyse_a_truncated_spike_file(finished_run):
    finished_run.spikes.write_bytes(finished_run.spikes.read_bytes()[:2000])
    assert_refused(humam("analyse", str(finished_run.path)), str(finished_run.spikes))
    assert finished_run.analyses() == []


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]", '{"experiment": "x"}'])
def test_analyse_a_broken_run_record(finished_run, text):
    finished_run.record.write_text(text)
    assert_refused(humam("analyse", str(finished_run.path)), "run.json")
    assert finished_run.analyses() == []


def test_out_naming_an_existing_regular_file(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("a file, not a folder\n")
    assert_refused(humam("network", "--experiment", "tutorial", "--out", str(blocker)), str(blocker))
    assert blocker.read_text() == "a file, not a folder\n"


def test_out_on_a_read_only_file_system(read_only_fs):
    assert_refused(humam("network", "--experiment", "tutorial", "--out", str(read_only_fs / "out")),
                   "Read-only file system")
    assert files_below(read_only_fs) == []


def test_disk_full_while_writing_the_network(small_fs):
    result = humam("network", "--experiment", "tutorial", "--out", str(small_fs))
    assert_refused(result, "No space left on device")
    assert files_below(small_fs) == []  # neither the file nor a temporary one


def test_a_run_folder_that_is_not_writable_is_refused_before_nest_starts(tiny_network, read_only_fs, monkeypatch):
    """The run folder is created and checked before the simulation is set up: nothing is simulated
    into a folder that cannot take the result."""
    from humam import simulation

    path, _ = tiny_network
    net = network_file.load_network(path)
    params = parameters.apply_profile(parameters.resolve("ground_state"), parameters.load_profile(TINY))

    def no_nest(world_size):
        raise AssertionError("NEST was set up before the run folder was checked")

    monkeypatch.setattr(simulation, "_import_nest", no_nest)
    from humam.errors import OutputError

    with pytest.raises(OutputError, match="Read-only file system"):
        simulation.simulate(net, params["simulation"], read_only_fs / "run")


def test_unknown_doit_profile_is_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    result = subprocess.run([sys.executable, "-m", "doit", "list", "profile=nonexistent", f"out={tmp_path}",
                             f"dep_file={tmp_path / 'db'}"], cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Unknown profile 'nonexistent'" in result.stderr and "tiny" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_internal_errors_are_one_line_with_exit_code_1(tmp_path, monkeypatch, capsys):
    from humam import build

    def broken(params):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(build, "build_network", broken)
    monkeypatch.delenv("HUMAM_DEBUG", raising=False)
    assert cli.main(["network", "--experiment", "tutorial", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError" in err and "HUMAM_DEBUG" in err
    assert files_below(tmp_path) == []


def test_a_run_record_of_other_network_content_is_refused(finished_run):
    """A finished run whose recorded network digest differs from the network beside it is refused,
    naming the recorded digest."""
    import json

    record = json.loads(finished_run.record.read_text())
    record["network_digest"] = "0" * 64
    finished_run.record.write_text(json.dumps(record))
    with h5py.File(finished_run.network, "r") as h5:
        assert h5.attrs["file_type"] == network_file.FILE_TYPE
    from humam import run_record
    from humam.run_record import RunMismatchError

    with pytest.raises(RunMismatchError, match="0" * 64):
        run_record.check_run_network(finished_run.path)


def test_a_spike_file_that_does_not_fit_is_refused_cleanly(small_fs):
    """Spike files are written directly (too large to hold twice): the free space is checked first."""
    from humam import spikefile
    from humam.errors import OutputError

    neurons = np.zeros(272, dtype=np.int64)
    neurons[0] = 1000
    senders = np.random.default_rng(0).integers(1, 1001, 100_000)  # 1.6 MB of spikes, 64 kB of disk
    with pytest.raises(OutputError, match="No space left on device"):
        spikefile.write_spikes(small_fs / "spikes.h5", neurons, {0: 1}, senders, np.linspace(0.1, 999.0, senders.size),
                               1000.0, {})
    assert files_below(small_fs) == []
