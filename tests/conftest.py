"""Shared fixtures. Tests read raw data from the local mirror beside the checkout
(``../shared/humam-data``) unless HUMAM_DATA_DIR points elsewhere."""

import os
import subprocess
from pathlib import Path

import pytest

MIRROR = Path(__file__).resolve().parents[1].parent / "shared" / "humam-data"
if not os.environ.get("HUMAM_DATA_DIR") and MIRROR.is_dir():
    os.environ["HUMAM_DATA_DIR"] = str(MIRROR)


@pytest.fixture
def isolated_config(tmp_path, monkeypatch):
    """No user config file and an empty cache; returns the cache folder."""
    monkeypatch.setenv("HUMAM_CONFIG", str(tmp_path / "no-config.yaml"))
    monkeypatch.setenv("HUMAM_CACHE_DIR", str(tmp_path / "cache"))
    from humam import data

    data._verified_mirror_file.cache_clear()
    yield tmp_path / "cache"
    data._verified_mirror_file.cache_clear()


@pytest.fixture(scope="session")
def default_network_params():
    """The ``network`` section of the shipped defaults (a fresh copy per session)."""
    import yaml

    import humam

    return yaml.safe_load((Path(humam.__file__).parent / "defaults.yaml").read_text())["network"]


@pytest.fixture(scope="session")
def cyto_default(default_network_params):
    """Cytoarchitecture of the published model (default parameters)."""
    from humam.cytoarchitecture import build_cytoarchitecture

    return build_cytoarchitecture(default_network_params["cytoarchitecture"])


@pytest.fixture(scope="session")
def connectome_default(cyto_default, default_network_params):
    """Full-scale connectome of the published model (default parameters), built once per session."""
    from humam.connectivity import build_connectome

    return build_connectome(cyto_default, default_network_params["connectivity"])


@pytest.fixture(scope="session")
def network_default(cyto_default, connectome_default, default_network_params):
    """Full-scale network of the published model (default parameters), assembled once per session."""
    from humam.build import assemble_network

    return assemble_network(cyto_default, connectome_default, default_network_params)


@pytest.fixture
def synthetic_inputs():
    """Factory of small synthetic (cytoarchitecture, connectome) stand-ins with the real shapes.

    ``synthetic_inputs(seed=0, empty=(...))`` returns objects with the attributes that
    :func:`humam.build.assemble_network` reads; ``empty`` lists population indices with 0 neurons.
    """
    from types import SimpleNamespace

    import numpy as np

    def make(seed: int = 0, empty: tuple[int, ...] = (10, 11)):
        rng = np.random.default_rng(seed)
        neurons = rng.integers(1000, 50000, size=272).astype(np.int64)
        neurons[list(empty)] = 0
        synapses = rng.integers(0, 10**7, size=(272, 272)).astype(np.int64)
        synapses_ext = rng.integers(10**6, 10**8, size=272).astype(np.int64)
        synapses[list(empty), :] = 0
        synapses[:, list(empty)] = 0
        synapses_ext[list(empty)] = 0
        distance = rng.uniform(8.0, 150.0, size=(34, 34))
        distance = (distance + distance.T) / 2
        np.fill_diagonal(distance, 0.0)
        directionality = np.full((34, 34), "lateral")
        np.fill_diagonal(directionality, "")
        cyto = SimpleNamespace(
            neuron_numbers=neurons.reshape(34, 4, 2),
            total_thickness_mm=rng.uniform(1.5, 4.0, 34),
            mean_density_per_mm3=rng.uniform(3e4, 1e5, 34),
        )
        connectome = SimpleNamespace(
            synapses=synapses, synapses_external=synapses_ext, distance_mm=distance,
            nos=rng.uniform(0, 100, (34, 34)), sln=rng.uniform(0, 1, (34, 34)), directionality=directionality,
            area_synapses=rng.integers(0, 10**9, (34, 34)).astype(np.int64), surface_mm2=rng.uniform(900, 14000, 34),
            volume_mm3=rng.uniform(2000, 40000, 34), local_fraction=rng.uniform(0.65, 0.66, 34),
        )
        return cyto, connectome

    return make


def run_profile(t_sim_ms: float) -> dict:
    """Profile of the tests' simulations: N = K = 0.002 (about 7,000 neurons), 2 threads, ``t_sim_ms``."""
    return {
        "description": "test runs",
        "network": {"downscaling": {"n_scaling": 0.002, "k_scaling": 0.002, "scaling_type": "linear"}},
        "simulation": {"threads": 2, "t_sim_ms": float(t_sim_ms)},
        "processes": 1,
        "launcher": "",
    }


@pytest.fixture(scope="session")
def simulate_experiments(tmp_path_factory):
    """``simulate(names, t_sim_ms)`` -> {name: run folder OUT/<net_hash>/<sim_hash>}: the experiments
    simulated as the pipeline does (``humam simulate EXPERIMENT --profile``) under :func:`test_profile`.
    The same request is simulated once per session."""
    import json

    import yaml

    from humam import cli

    done = {}

    def simulate(names, t_sim_ms: float) -> dict:
        key = (tuple(names), float(t_sim_ms))
        if key not in done:
            done[key] = _simulate(names, t_sim_ms)
        return dict(done[key])

    def _simulate(names, t_sim_ms: float) -> dict:
        root = tmp_path_factory.mktemp("runs")
        profile = root / "profile.yaml"
        profile.write_text(yaml.safe_dump(run_profile(t_sim_ms)))
        for name in names:
            assert cli.main(["simulate", name, "--profile", str(profile), "--out", str(root / "out")]) == 0
        folders = {json.loads(p.read_text())["experiment"]: p.parent for p in (root / "out").glob("*/*/run.json")}
        return {name: folders[name] for name in names}

    return simulate


@pytest.fixture(scope="session")
def pipeline_runs(simulate_experiments):
    """Ground state and best fit at N = K = 0.002 for 1,000 ms: {name: run folder}."""
    return simulate_experiments(("ground_state", "best_fit"), 1000.0)


@pytest.fixture(scope="session")
def network_file(tmp_path_factory):
    """``network_file(experiment)`` -> network.h5 of a shipped experiment, written by
    ``humam network`` as the pipeline does (built once per experiment and session)."""
    from humam import cli, layout, parameters

    root = tmp_path_factory.mktemp("networks")
    cache = {}

    def build(experiment: str = "network_only"):
        if experiment not in cache:
            assert cli.main(["network", "--experiment", experiment, "--out", str(root)]) == 0
            cache[experiment] = layout.Layout(root).network_file(parameters.resolve(experiment))
        return cache[experiment]

    return build


@pytest.fixture(scope="session")
def net(network_file):
    """The full-scale network (experiment network_only) as the pipeline writes it."""
    from humam.network_file import load_network

    return load_network(network_file("network_only"))


@pytest.fixture(scope="session")
def analysed(tmp_path_factory):
    """``analysed(folders)`` -> {name: analysis file} of run folders {name: folder}, analysed by
    ``humam analyse`` with the default analysis options."""
    from humam import cli, layout, parameters, run_record

    def analyse(folders: dict) -> dict:
        files = {}
        for name, folder in folders.items():
            assert cli.main(["analyse", str(folder)]) == 0
            record = run_record.read_run_record(folder)
            params = parameters.merge(parameters.load_defaults(), run_record.run_parameters(record))
            files[name] = layout.RunFolder(folder).analysis(params, int(record["mpi_processes"]))
        return files

    return analyse


def _mount_tmpfs(folder: Path, options: str):
    folder.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True,
                            text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): {result.stderr.strip()}")
    return folder


@pytest.fixture
def small_fs(tmp_path):
    """A 64 KiB tmpfs."""
    folder = _mount_tmpfs(tmp_path / "small", "size=64k")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def read_only_fs(tmp_path):
    """A read-only tmpfs, which refuses writes even to root."""
    folder = _mount_tmpfs(tmp_path / "ro", "ro,size=64k")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture(scope="session")
def chi_scan_file(tmp_path_factory):
    """``chi_scan_file(family)`` -> the statistics file of a shipped chi-scan family, written by
    ``humam chi-scan`` as the pipeline does (once per family and session)."""
    from humam import cli, layout

    root = tmp_path_factory.mktemp("chi_scans")
    cache = {}

    def compute(family: str):
        if family not in cache:
            assert cli.main(["chi-scan", family, "--out", str(root)]) == 0
            cache[family] = layout.Layout(root).chi_scan_file(family)
        return cache[family]

    return compute
