"""Task graph of the humam pipeline: `doit` (profile laptop), `doit profile=tiny`, `doit profile=hpc`.

`doit list --status` shows what is up to date. Every task runs a `humam` command in a subprocess,
so simulations can be started by an MPI launcher (the profile's `launcher`); outputs are addressed
by content hashes of their parameters, so a parameter change reruns only what depends on it.
Simulations are not removed by `doit clean`.
"""

from pathlib import Path

from doit import get_var

from humam import parameters
from humam.resources import experiments_dir

DOIT_CONFIG = {
    "default_tasks": ["verify_data", "network", "simulate", "figure"],
    "dep_file": get_var("dep_file", ".doit.db"),
    "backend": "sqlite3",
}
PROFILE = parameters.load_profile(get_var("profile", "laptop"))
OUT = Path(get_var("out", "out"))
#: Full-scale network of the connectivity figures (independent of the profile).
NETWORK_ONLY = "network_only"
#: Runs of the paper's figures (figures.md §3.2), at the profile's scale.
SIMULATIONS = [
    "ground_state", "best_fit",
    "perturbation_ground_unperturbed", "perturbation_ground_perturbed",
    "perturbation_best_unperturbed", "perturbation_best_perturbed",
]
PACKAGE_SOURCES = sorted(str(p) for p in Path("src/humam").glob("*.py")) + ["src/humam/defaults.yaml"]


def _experiment_file(name: str) -> str:
    return str(experiments_dir() / f"{name}.yaml")


def _params(name: str, profile: dict | None = PROFILE) -> dict:
    return parameters.apply_profile(parameters.resolve(name), profile)


def _network_file(params: dict) -> Path:
    return OUT / parameters.net_hash(params) / "network.h5"


def _profile_option(profile) -> str:
    return f" --profile {profile['name']}" if profile else ""


def task_verify_data():
    """Check every raw input file against the registry."""
    return {"actions": ["humam data verify"], "file_dep": ["data/registry.yaml"], "verbosity": 2}


def task_network():
    """Build network.h5 of each experiment (once per distinct network: runs that differ only in
    simulation settings share it)."""
    built = set()
    for name, profile in [(NETWORK_ONLY, None)] + [(name, PROFILE) for name in SIMULATIONS]:
        target = _network_file(_params(name, profile))
        if target in built:
            continue
        built.add(target)
        yield {
            "name": name,
            "actions": [f"humam network --experiment {name}{_profile_option(profile)} --out {OUT} --force"],
            "file_dep": PACKAGE_SOURCES + [_experiment_file(name)],
            "targets": [str(target)],
            "task_dep": ["verify_data"],
            "clean": True,
        }


def task_simulate():
    """Simulate each run of the paper's figures with NEST (spikes.h5, run.json); runs that a profile
    makes identical (e.g. a shortened ground state and the unperturbed member of its perturbation
    pair) are simulated once."""
    simulated = set()
    for name in SIMULATIONS:
        params = _params(name)
        network_file = _network_file(params)
        vps = PROFILE["processes"] * params["simulation"]["threads"]
        folder = network_file.parent / parameters.sim_hash(params, vps)
        if folder in simulated:
            continue
        simulated.add(folder)
        command = f"humam simulate {name} --profile {PROFILE['name']} --out {OUT} --progress"
        yield {
            "name": name,
            "actions": [f"{PROFILE['launcher']} {command}".strip()],
            "file_dep": [str(network_file), _experiment_file(name)],
            "targets": [str(folder / "run.json"), str(folder / "spikes.h5")],
            "verbosity": 2,
        }


#: Figures drawn from the full-scale network and the shipped chi-scan statistics (figure module ->
#: the image files it writes).
NETWORK_FIGURES = {
    "fig01_overview": ["fig01_overview"],
    "fig02_connectivity": ["fig02_connectivity"],
    "fig03_connectome_statistics": ["fig03_connectome_statistics"],
    "fig05_chi_scan": ["fig05_chi_scan"],
    "fig05s_chi_scan_variants": [f"fig05s_chi_scan_{family}" for family in (
        "lichtman_chii2_different_seed_factor10per7", "lichtman_chii2_distributed_params",
        "lichtman_chii2_smaller_g", "lower_e_to_i")],
    "figS_autapses_multapses": ["figS_autapses_multapses"],
    "figT_indegrees": ["figT_indegrees"],
}
FIGURE_SOURCES = sorted(str(p) for p in Path("paper_figures").glob("*.py") if not p.stem.startswith("fig"))


def task_figure():
    """Draw each paper figure (PNG, PDF and a JSON sidecar with inputs and status) into OUT/figures."""
    folder = OUT / "figures"
    for module, stems in NETWORK_FIGURES.items():
        yield {
            "name": module,
            "actions": [f"python -m paper_figures.{module} --out {folder}"],
            "file_dep": PACKAGE_SOURCES + FIGURE_SOURCES + [f"paper_figures/{module}.py"],
            "targets": [str(folder / f"{stem}.{ext}") for stem in stems for ext in ("png", "json")],
            "task_dep": ["verify_data"],
            "clean": True,
            "verbosity": 2,
        }
