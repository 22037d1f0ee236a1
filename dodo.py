"""Task graph of the humam pipeline (run with `doit`; `doit list` shows the tasks).

Every task runs a `humam` command, so simulations can later be wrapped in an MPI launcher;
targets are addressed by content hashes, so a parameter change reruns only what depends on it.
"""

from pathlib import Path

from humam import parameters
from humam.resources import experiments_dir

DOIT_CONFIG = {"default_tasks": ["verify_data", "network"], "dep_file": ".doit.db", "backend": "sqlite3"}
OUT = Path("out")
NETWORK_EXPERIMENTS = ["network_only", "downscaled_ground", "downscaled_best"]
PACKAGE_SOURCES = sorted(str(p) for p in Path("src/humam").glob("*.py")) + ["src/humam/defaults.yaml"]


def task_verify_data():
    """Check every raw input file against the registry."""
    return {"actions": ["humam data verify"], "file_dep": ["data/registry.yaml"], "verbosity": 2}


def task_network():
    """Build network.h5 of each experiment."""
    for name in NETWORK_EXPERIMENTS:
        params = parameters.resolve(name)
        target = OUT / parameters.net_hash(params) / "network.h5"
        yield {
            "name": name,
            "actions": [f"humam network --experiment {name} --out {OUT} --force"],
            "file_dep": PACKAGE_SOURCES + [str(experiments_dir() / f"{name}.yaml")],
            "targets": [str(target)],
            "task_dep": ["verify_data"],
            "clean": True,
        }
