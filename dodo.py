"""Task graph of the humam pipeline (run with `doit`; `doit list --status` shows what is up to date).

Every task runs a `humam` command in a subprocess, so simulations can be wrapped in an MPI
launcher; outputs are addressed by content hashes of their parameters, so a parameter change
reruns only what depends on it.
"""

from pathlib import Path

from humam import parameters
from humam.resources import experiments_dir

DOIT_CONFIG = {
    "default_tasks": ["verify_data", "network", "simulate"],
    "dep_file": ".doit.db",
    "backend": "sqlite3",
}
OUT = Path("out")
NETWORK_EXPERIMENTS = ["network_only", "downscaled_ground", "downscaled_best"]
SIMULATION_EXPERIMENTS = ["downscaled_ground", "downscaled_best"]
PACKAGE_SOURCES = sorted(str(p) for p in Path("src/humam").glob("*.py")) + ["src/humam/defaults.yaml"]


def _experiment_file(name: str) -> str:
    return str(experiments_dir() / f"{name}.yaml")


def _network_target(params: dict) -> Path:
    return OUT / parameters.net_hash(params) / "network.h5"


def task_verify_data():
    """Check every raw input file against the registry."""
    return {"actions": ["humam data verify"], "file_dep": ["data/registry.yaml"], "verbosity": 2}


def task_network():
    """Build network.h5 of each experiment."""
    for name in NETWORK_EXPERIMENTS:
        yield {
            "name": name,
            "actions": [f"humam network --experiment {name} --out {OUT} --force"],
            "file_dep": PACKAGE_SOURCES + [_experiment_file(name)],
            "targets": [str(_network_target(parameters.resolve(name)))],
            "task_dep": ["verify_data"],
            "clean": True,
        }


def task_simulate():
    """Simulate each experiment with NEST (spikes.h5 and run.json). `doit clean` keeps simulations."""
    for name in SIMULATION_EXPERIMENTS:
        params = parameters.resolve(name)
        network_file = _network_target(params)
        folder = network_file.parent / parameters.sim_hash(params)
        yield {
            "name": name,
            "actions": [f"humam simulate {name} --out {OUT} --progress"],
            "file_dep": [str(network_file), _experiment_file(name)],
            "targets": [str(folder / "run.json"), str(folder / "spikes.h5")],
            "verbosity": 2,
        }
