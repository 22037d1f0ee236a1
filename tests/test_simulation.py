"""Simulation with NEST: output layout, determinism, perturbation, MPI/thread invariance, errors."""

import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from humam import build, layout, parameters, simulation, spikefile, tables

SCALE = 0.002  # ~6,900 neurons, ~170,000 synapses: seconds per run
T_SIM_MS = 250.0


def small_params(experiment="downscaled_ground", **simulation_overrides):
    params = parameters.resolve(experiment)
    params = parameters.merge(params, {"network": {"downscaling": {"n_scaling": SCALE, "k_scaling": SCALE}},
                                       "simulation": {"t_sim_ms": T_SIM_MS, **simulation_overrides}})
    return params


@pytest.fixture(scope="module")
def small_network():
    return build.build_network(small_params()["network"])


def spikes_content(path):
    with h5py.File(path, "r") as f:
        return {label: (g["node_ids"][()], g["timestamps"][()], dict(g.attrs)) for label, g in f["spikes"].items()}


def assert_same_spikes(a, b):
    content_a, content_b = spikes_content(a), spikes_content(b)
    assert content_a.keys() == content_b.keys()
    for label in content_a:
        np.testing.assert_array_equal(content_a[label][0], content_b[label][0])
        np.testing.assert_array_equal(content_a[label][1], content_b[label][1])
        assert content_a[label][2] == content_b[label][2]


def test_connection_plan_is_target_major_and_skips_empty_and_zero_weight(small_network):
    plan = simulation.connection_plan(small_network)
    order = plan.target * 272 + plan.source
    assert np.all(np.diff(order) > 0)  # target-major canonical order, each pair once
    assert plan.count.sum() == small_network.synapses.sum()
    assert np.all(small_network.neuron_numbers[plan.target] > 0) and np.all(small_network.neuron_numbers[plan.source] > 0)
    no_cc = build.build_network(parameters.set_dotted(small_params(), "network.scaling.chi", 0.0)["network"])
    no_cc_plan = simulation.connection_plan(no_cc)
    # chi = 0 removes every cortico-cortical E->E pair (mean weight 0), nothing else
    removed = len(plan.target) - len(no_cc_plan.target)
    cc_ee = (~tables.SAME_AREA & tables.POPULATION_IS_EXCITATORY[:, None] & tables.POPULATION_IS_EXCITATORY[None, :]
             & (small_network.synapses > 0))
    assert removed == int(cc_ee.sum())


def test_launcher_detection(monkeypatch):
    for variable in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS"):
        monkeypatch.delenv(variable, raising=False)
    assert simulation.launcher_world_size() == 1
    monkeypatch.setenv("PMI_SIZE", "4")
    assert simulation.launcher_world_size() == 4


def test_refuses_a_run_that_cannot_fit(small_network, tmp_path, monkeypatch):
    monkeypatch.setattr(simulation, "available_memory_bytes", lambda: 1e8)
    with pytest.raises(simulation.SimulationError, match="GB"):
        simulation.simulate(small_network, small_params()["simulation"], tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_nest_without_mpi_under_a_launcher_fails_clearly(small_network, tmp_path, monkeypatch):
    monkeypatch.setattr(simulation, "nest_has_mpi", lambda nest: False)  # as in the PyPI wheel
    monkeypatch.setenv("PMI_SIZE", "2")
    with pytest.raises(simulation.SimulationError, match="without MPI"):
        simulation.simulate(small_network, small_params()["simulation"], tmp_path / "run")


@pytest.fixture(scope="module")
def reference_run(small_network, tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "run"
    simulation.simulate(small_network, small_params(threads=2)["simulation"], out, metadata={"sim_hash": "x"})
    return out


def test_run_writes_sonata_style_spikes_and_run_record(reference_run, small_network):
    with h5py.File(reference_run / layout.SPIKES_FILE, "r") as f:
        groups = f["spikes"]
        assert len(groups) == int((small_network.neuron_numbers > 0).sum())
        total = 0
        for label, group in groups.items():
            times, ids = group["timestamps"][()], group["node_ids"][()]
            assert np.all(np.diff(times) >= 0)  # sorted by time
            assert np.all(ids < group.attrs["size"])
            assert np.all((times > 0) & (times <= T_SIM_MS))
            total += times.size
        assert total == f.attrs["spikes"] > 0
    record = json.loads((reference_run / layout.RUN_FILE).read_text())
    assert record["spikes"] == total
    assert record["virtual_processes"] == 2 and record["threads"] == 2
    assert record["neurons"] == int(small_network.neuron_numbers.sum())
    nonempty = int((small_network.neuron_numbers > 0).sum())
    # connections: recurrent synapses + one Poisson connection and one recorder connection per neuron
    assert record["connections"] == small_network.synapses.sum() + 2 * record["neurons"]
    assert {"create_connect_s", "simulate_s", "real_time_factor"} <= set(record["timings"])
    assert record["nest"]["version"] == "3.10.0"
    assert len(record["peak_memory_bytes_per_rank"]) == 1 and nonempty == 254


def test_run_spikes_are_a_valid_sonata_file(reference_run):
    libsonata = pytest.importorskip("libsonata")
    content = spikes_content(reference_run / layout.SPIKES_FILE)
    reader = libsonata.SpikeReader(str(reference_run / layout.SPIKES_FILE))
    assert set(reader.get_population_names()) == set(content)
    for label, (ids, times, _) in content.items():
        spikes = reader[label].get_dict()
        assert reader[label].sorting == "by_time" and len(spikes["node_ids"]) == ids.size
        np.testing.assert_array_equal(np.asarray(spikes["node_ids"], dtype=np.int64), ids)
        np.testing.assert_array_equal(np.asarray(spikes["timestamps"]), times)


def test_same_seed_gives_identical_spikes(reference_run, small_network, tmp_path):
    again = simulation.simulate(small_network, small_params(threads=2)["simulation"], tmp_path / "again",
                                metadata={"sim_hash": "x"})
    assert_same_spikes(reference_run / layout.SPIKES_FILE, again / layout.SPIKES_FILE)


def test_other_seed_gives_other_spikes(reference_run, small_network, tmp_path):
    other = simulation.simulate(small_network, small_params(threads=2, seed=1)["simulation"], tmp_path / "other")
    a = spikes_content(reference_run / layout.SPIKES_FILE)
    b = spikes_content(other / layout.SPIKES_FILE)
    assert any(not np.array_equal(a[k][1], b[k][1]) for k in a)


def test_perturbation_changes_nothing_before_the_extra_spike(tmp_path):
    spike_time = 200.0
    runs = {}
    for name, perturbation in (("unperturbed", []), ("perturbed", [
            {"area": "pericalcarine", "layer": "IV", "population": "E", "time_ms": spike_time}])):
        params = parameters.set_dotted(small_params(threads=2), "network.perturbation", perturbation)
        net = build.build_network(params["network"])
        runs[name] = spikes_content(simulation.simulate(net, params["simulation"], tmp_path / name) / layout.SPIKES_FILE)
    before = {k: (v[0][v[1] <= spike_time], v[1][v[1] <= spike_time]) for k, v in runs["unperturbed"].items()}
    after = {k: (v[0][v[1] <= spike_time], v[1][v[1] <= spike_time]) for k, v in runs["perturbed"].items()}
    for label in before:
        np.testing.assert_array_equal(before[label][0], after[label][0])
        np.testing.assert_array_equal(before[label][1], after[label][1])
    # the forced spike: the first neuron of pericalcarine 4E receives it 1 ms after the generator's
    # spike and fires at once, or right after its refractory period (t_ref = 2 ms)
    arrival = spike_time + 1.0
    first_after = {name: run["pericalcarine_4E"][1][(run["pericalcarine_4E"][0] == 0)
                                                    & (run["pericalcarine_4E"][1] > arrival)].min()
                   for name, run in runs.items()}
    assert first_after["perturbed"] <= arrival + 2.0 + 0.2
    assert first_after["perturbed"] != first_after["unperturbed"]


def _mpi_nest_available() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import nest; print(nest.build_info['have_mpi'])"],
                           capture_output=True, text=True, env={**os.environ, "PYNEST_QUIET": "1"})
    return probe.stdout.strip().endswith("True") and shutil.which("mpiexec") is not None


def _require_mpi_nest() -> None:
    if not _mpi_nest_available():
        if os.environ.get("HUMAM_REQUIRE_MPI") == "1":
            pytest.fail("HUMAM_REQUIRE_MPI=1 but NEST has no MPI or mpiexec is missing: run scripts/provision-nest.sh")
        pytest.skip("needs NEST built with MPI (scripts/provision-nest.sh) and mpiexec")


@pytest.fixture(scope="module")
def decompositions(tmp_path_factory):
    """The same run on 4 virtual processes split as 1 x 4, 2 x 2 and 4 x 1 (MPI processes x threads;
    oversubscribed on a small machine, which changes the time, not the spikes): {(ranks, threads): folder}."""
    _require_mpi_nest()
    root = tmp_path_factory.mktemp("decompositions")
    experiment = root / "small.yaml"
    experiment.write_text(
        f"network:\n  downscaling: {{n_scaling: {SCALE}, k_scaling: {SCALE}}}\n"
        f"simulation: {{t_sim_ms: {T_SIM_MS}, seed: 2903}}\n"
    )
    base = [sys.executable, "-m", "humam", "simulate", str(experiment)]
    folders = {}
    for ranks, threads in ((1, 4), (2, 2), (4, 1)):
        out = root / f"{ranks}x{threads}"
        launcher = ["mpiexec", "-n", str(ranks)] if ranks > 1 else []
        subprocess.run([*launcher, *base, "--out", str(out), "--threads", str(threads)], check=True,
                       capture_output=True, timeout=900)
        folders[(ranks, threads)] = next(out.glob("*/*/spikes.h5")).parent
    return folders


@pytest.mark.mpi
@pytest.mark.parametrize("ranks, threads", [(2, 2), (4, 1)])
def test_spikes_do_not_depend_on_the_split_into_ranks_and_threads(decompositions, ranks, threads):
    reference, other = decompositions[(1, 4)], decompositions[(ranks, threads)]
    assert reference.name == other.name  # same sim_hash: the same 4 virtual processes
    assert_same_spikes(reference / layout.SPIKES_FILE, other / layout.SPIKES_FILE)
    record = json.loads((other / layout.RUN_FILE).read_text())
    assert record["mpi_processes"] == ranks and record["threads"] == threads
    assert len(record["peak_memory_bytes_per_rank"]) == ranks
    assert record["spikes"] > 0


def test_run_record_carries_nests_timers(reference_run):
    timers = json.loads((reference_run / layout.RUN_FILE).read_text())["nest_timers"]
    for name in ("time_construction_create", "time_construction_connect", "time_communicate_prepare",
                 "time_simulate"):
        assert min(np.ravel(timers[name])) >= 0.0
    assert np.max(timers["time_simulate"]) > 0.0


def test_progress_display_gives_the_same_spikes(reference_run, small_network, tmp_path, monkeypatch):
    monkeypatch.setattr(simulation, "PROGRESS_CHUNK_MS", 70.0)  # several chunks, one of them partial
    chunked = simulation.simulate(small_network, small_params(threads=2)["simulation"], tmp_path / "chunked",
                                  metadata={"sim_hash": "x"}, show_progress=True)
    assert_same_spikes(reference_run / layout.SPIKES_FILE, chunked / layout.SPIKES_FILE)


def test_killed_run_is_redone_completely(tmp_path):
    """kill -9 while NEST simulates leaves nothing that looks complete; the rerun completes it."""
    import signal

    experiment = tmp_path / "small.yaml"
    experiment.write_text(
        f"network:\n  downscaling: {{n_scaling: {SCALE}, k_scaling: {SCALE}}}\n"
        f"simulation: {{t_sim_ms: 1500.0, seed: 2903, threads: 2}}\n"
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "humam", "simulate", str(experiment), "--out", str(out)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:  # NEST is simulating once the network is built
        if "network built" in line:
            process.send_signal(signal.SIGKILL)
            break
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not any(layout.RunFolder(folder).is_complete() for folder in out.glob("*/*/"))
    subprocess.run(command, check=True, capture_output=True)
    complete = [folder for folder in out.glob("*/*/") if layout.RunFolder(folder).is_complete()]
    assert len(complete) == 1
    record = json.loads((complete[0] / layout.RUN_FILE).read_text())
    spikes = spikefile.read_spikes(complete[0] / layout.SPIKES_FILE)
    assert record["spikes"] == sum(group["timestamps"].size for group in spikes.values()) > 0
    assert not list(complete[0].glob("*.tmp*")) + list(complete[0].glob(".*.tmp"))


def test_interrupted_write_leaves_an_incomplete_run_that_is_redone(small_network, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    params = small_params(threads=2)["simulation"]
    with monkeypatch.context() as patch:
        patch.setattr(simulation, "atomic_write_text", fail)
        with pytest.raises(OSError):
            simulation.simulate(small_network, params, tmp_path / "run")
    assert (tmp_path / "run" / layout.SPIKES_FILE).exists()
    assert not layout.RunFolder(tmp_path / "run").is_complete()
    simulation.simulate(small_network, params, tmp_path / "run")
    assert layout.RunFolder(tmp_path / "run").is_complete()


@pytest.mark.slow
def test_published_downscaled_example_emits_the_published_spike_count(tmp_path):
    """Spec §7.6 fingerprint: N = K = 0.005, published down-scaling, chi = 1, seed 2903, 2,500 ms,
    1 process x 2 threads under NEST 3.10.0 emits exactly 1,910,451 spikes."""
    params = parameters.set_dotted(parameters.resolve("downscaled_ground"), "simulation.threads", 2)
    assert params["simulation"]["t_sim_ms"] == 2500.0 and params["simulation"]["seed"] == 2903
    net = build.build_network(params["network"])
    out = simulation.simulate(net, params["simulation"], tmp_path / "run")
    record = json.loads((out / layout.RUN_FILE).read_text())
    assert record["spikes"] == 1_910_451
    assert record["connections"] == 1_104_123  # docs/model.md §7.4


def test_delay_cap_bounds_the_largest_delay(tmp_path):
    params = parameters.set_dotted(small_params(threads=2), "network.delays.cap_ms", 10.0)
    capped = build.build_network(params["network"])
    assert simulation.expected_max_delay_ms(capped) == 10.0
    out = simulation.simulate(capped, params["simulation"], tmp_path / "capped")
    assert json.loads((out / layout.RUN_FILE).read_text())["max_delay_ms"] <= 10.0


def test_uncapped_largest_delay_is_the_expected_one(reference_run, small_network):
    record = json.loads((reference_run / layout.RUN_FILE).read_text())
    assert record["max_delay_ms"] == pytest.approx(simulation.expected_max_delay_ms(small_network), rel=0.25)


def test_memory_estimate_beyond_the_fitted_scales():
    # measured (benchmarks/README.md, static_synapse, 2 threads): 10.3 GB peak at N = K = 0.03, a scale
    # above those the model was fitted to; the published code needed 13.6 GB there
    params = parameters.merge(parameters.resolve(), {"network": {"downscaling": {"n_scaling": 0.03, "k_scaling": 0.03}}})
    estimate = simulation.estimate_memory_bytes(build.build_network(params["network"]), 10.0, "static_synapse")
    assert estimate["total"] == pytest.approx(10.3e9, rel=0.25)


def test_memory_estimate_predicts_the_peak_of_a_run(tmp_path):
    # a fresh process: the peak resident memory of this test process includes everything before
    experiment = tmp_path / "small.yaml"
    experiment.write_text(
        f"network:\n  downscaling: {{n_scaling: {SCALE}, k_scaling: {SCALE}}}\n"
        f"simulation: {{t_sim_ms: {T_SIM_MS}, seed: 2903, threads: 2}}\n"
    )
    subprocess.run([sys.executable, "-m", "humam", "simulate", str(experiment), "--out", str(tmp_path / "out")],
                   check=True, capture_output=True)
    record = json.loads(next((tmp_path / "out").glob("*/*/run.json")).read_text())
    assert record["memory_estimate_bytes"]["total"] == pytest.approx(record["peak_memory_bytes_per_rank"][0], rel=0.25)
