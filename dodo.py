"""Task graph of the humam pipeline: `doit` (profile laptop), `doit profile=tiny`, `doit profile=hpc`.

`doit list --status` shows what is up to date. Every task runs a `humam` command in a subprocess,
so simulations can be started by an MPI launcher (the profile's `launcher`); outputs are addressed
by content hashes of their parameters, so a parameter change reruns only what depends on it.
A code change rebuilds the networks (seconds) but reruns a simulation only if its network's data
changed (or simulation.py did). Simulations are not removed by `doit clean`.
"""

from pathlib import Path

from doit import get_var
from doit.tools import config_changed, result_dep

from humam import network, parameters
from humam.resources import experiments_dir


def _var(name: str, default: str) -> str:
    """Command-line variable ``name=VALUE`` of doit (``default`` also when the file is imported)."""
    value = get_var(name, default)
    return default if value is None else value


DEP_FILE = Path(_var("dep_file", ".doit.db"))
DEP_FILE.parent.mkdir(parents=True, exist_ok=True)
DOIT_CONFIG = {
    "default_tasks": ["verify_data", "network", "simulate", "analyse", "theory", "figure"]
    + (["validate"] if _var("validate", "no") == "yes" else []) + ["report"],
    "dep_file": str(DEP_FILE),
    "backend": "sqlite3",
}
PROFILE = parameters.load_profile(_var("profile", "laptop"))
OUT = Path(_var("out", "out"))
#: Full-scale network of the connectivity figures (independent of the profile).
NETWORK_ONLY = "network_only"
#: Runs of the paper's figures (figures.md §3.2), at the profile's scale.
SIMULATIONS = [
    "ground_state", "best_fit",
    "perturbation_ground_unperturbed", "perturbation_ground_perturbed",
    "perturbation_best_unperturbed", "perturbation_best_perturbed",
]
PACKAGE_SOURCES = sorted(str(p) for p in Path("src/humam").glob("*.py")) + ["src/humam/defaults.yaml"]
#: Code of the analysis: the package humam.analysis and the spike-file reader.
ANALYSIS_SOURCES = sorted(str(p) for p in Path("src/humam/analysis").glob("*.py")) + ["src/humam/spikefile.py"]


#: Folder of the experiment YAML files (``doit experiments=DIR``: a copy of the shipped
#: ``experiments/`` to edit; only what depends on an edited file reruns).
EXPERIMENTS = Path(_var("experiments", str(experiments_dir())))


def _experiment_file(name: str) -> str:
    path = EXPERIMENTS / f"{name}.yaml"
    if not path.is_file():
        raise SystemExit(f"dodo.py: experiment file {path} not found (experiments={EXPERIMENTS}); copy the shipped "
                         f"folder {experiments_dir()} to start from.")
    return str(path)


def _params(name: str, profile: dict | None = PROFILE) -> dict:
    return parameters.apply_profile(parameters.resolve(_experiment_file(name)), profile)


def _network_file(params: dict) -> Path:
    return OUT / parameters.net_hash(params) / "network.h5"


def _profile_option(profile) -> str:
    return f" --profile {profile['path']}" if profile else ""


def task_verify_data():
    """Check every raw input file against the registry."""
    return {"actions": ["humam data verify"], "file_dep": ["data/registry.yaml"], "verbosity": 2}


def _network_digest(path: Path) -> str:
    """The task's result: the digest of the network's data. Simulations depend on it (result_dep), not
    on the file's bytes, so a rebuild that gives the same network (e.g. after a code change that does
    not touch it) simulates nothing again."""
    return network.content_digest(path)


#: network task name of each network file (the first experiment that needs it).
NETWORK_TASKS: dict[Path, str] = {}


def task_network():
    """Build network.h5 of each experiment (once per distinct network: runs that differ only in
    simulation settings share it)."""
    built = set()
    for name, profile in [(NETWORK_ONLY, None)] + [(name, PROFILE) for name in SIMULATIONS]:
        target = _network_file(_params(name, profile))
        if target in built:
            continue
        built.add(target)
        NETWORK_TASKS[target] = f"network:{name}"
        yield {
            "name": name,
            "actions": [f"humam network --experiment {_experiment_file(name)}{_profile_option(profile)} --out {OUT} --force",
                        (_network_digest, [target])],
            "file_dep": PACKAGE_SOURCES + [_experiment_file(name)],
            "targets": [str(target)],
            "task_dep": ["verify_data"],
            "clean": True,
        }


def _network_task(params: dict) -> str:
    """Name of the task that builds the network of ``params``."""
    target = _network_file(params)
    if not NETWORK_TASKS:
        list(task_network())
    return NETWORK_TASKS[target]


def _run_folder(name: str) -> Path:
    """OUT/<net_hash>/<sim_hash> of experiment ``name`` under the profile."""
    params = _params(name)
    vps = PROFILE["processes"] * params["simulation"]["threads"]
    return _network_file(params).parent / parameters.sim_hash(params, vps)


#: Run folder of every simulation of the paper's figures, by experiment name.
RUNS = {name: _run_folder(name) for name in SIMULATIONS}


def _distinct_runs():
    """(first experiment name, folder) of each distinct run folder of :data:`RUNS`."""
    seen = set()
    for name, folder in RUNS.items():
        if folder not in seen:
            seen.add(folder)
            yield name, folder


def task_simulate():
    """Simulate each run of the paper's figures with NEST (spikes.h5, run.json); runs that a profile
    makes identical (e.g. a shortened ground state and the unperturbed member of its perturbation
    pair) are simulated once."""
    for name, folder in _distinct_runs():
        params = _params(name)
        command = f"humam simulate {_experiment_file(name)} --profile {PROFILE['path']} --out {OUT} --progress"
        yield {
            "name": name,
            "actions": [f"{PROFILE['launcher']} {command}".strip()],
            "file_dep": [_experiment_file(name), "src/humam/simulation.py"],
            "targets": [str(folder / "run.json"), str(folder / "spikes.h5")],
            "uptodate": [config_changed(parameters.canonical_json({key: params[key] for key in ("network", "simulation")})),
                         result_dep(_network_task(params))],
            "verbosity": 2,
        }


def task_analyse():
    """Spike statistics, synaptic currents, BOLD and FC of each run (analysis.h5 beside spikes.h5)."""
    for name, folder in _distinct_runs():
        yield {
            "name": name,
            "actions": [f"humam analyse {folder} --experiment {_experiment_file(name)} --profile {PROFILE['path']}"],
            "file_dep": [str(folder / "spikes.h5"), str(folder / "run.json"), *ANALYSIS_SOURCES],
            "uptodate": [config_changed(parameters.canonical_json(_params(name)["analysis"]))],
            "targets": [str(folder / "analysis.h5")],
            "clean": True,
            "verbosity": 2,
        }


#: Mean-field theory of the full-scale base network (model §9; published pseudo-time 9.9).
THEORY_FILE = _network_file(_params(NETWORK_ONLY, None)).parent / "theory.h5"


def task_theory():
    """Stationary rates of the full-scale network by the shifted-Siegert theory (theory.h5)."""
    return {
        "actions": [f"humam theory --experiment {_experiment_file(NETWORK_ONLY)} --out {OUT}"],
        "targets": [str(THEORY_FILE)],
        "uptodate": [result_dep(_network_task(_params(NETWORK_ONLY, None)))],
        "clean": True,
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
#: Figures drawn from the profile's simulations: module -> (runs it reads, image files it writes).
SIMULATION_FIGURES = {
    "fig04_spike_statistics": (["ground_state"], ["fig04_spike_statistics"]),
    "fig06_spike_statistics_best_fit": (["best_fit"], ["fig06_spike_statistics_best_fit"]),
    "fig07_spike_journey": (SIMULATIONS[2:], ["fig07_spike_journey"]),
    "fig08_temporal_hierarchy": (["best_fit"], ["fig08_temporal_hierarchy"]),
    "figS_mean_field": (["ground_state"], ["figS_mean_field"]),
    "figS_rate_distributions": (["best_fit"], ["figS_rate_distributions"]),
    "figS_rasters": (["best_fit"], [f"figS_rasters_{part}" for part in (1, 2, 3)]),
}
FIGURES_DIR = OUT / "figures"
FIGURE_SOURCES = sorted(str(p) for p in Path("paper_figures").glob("*.py") if not p.stem.startswith("fig"))


def _figure_targets(stems: list[str]) -> list[str]:
    return [str(FIGURES_DIR / f"{stem}.{ext}") for stem in stems for ext in ("png", "json")]


def task_figure():
    """Draw each paper figure (PNG, PDF and a JSON sidecar with inputs and status) into OUT/figures."""
    for module, stems in NETWORK_FIGURES.items():
        yield {
            "name": module,
            "actions": [f"python -m paper_figures.{module} --out {FIGURES_DIR}"],
            "file_dep": PACKAGE_SOURCES + FIGURE_SOURCES + [f"paper_figures/{module}.py"],
            "targets": _figure_targets(stems),
            "task_dep": ["verify_data"],
            "clean": True,
            "verbosity": 2,
        }
    for module, (runs, stems) in SIMULATION_FIGURES.items():
        options = " ".join(f"--run {name}={RUNS[name]}" for name in runs)
        inputs = [str(RUNS[name] / f) for name in runs for f in ("analysis.h5", "spikes.h5", "run.json")]
        if module == "figS_mean_field":
            options += f" --theory {THEORY_FILE}"
            inputs.append(str(THEORY_FILE))
        extra_targets = [str(FIGURES_DIR / "fig08_temporal_hierarchy_hierarchy.csv")] \
            if module == "fig08_temporal_hierarchy" else []
        yield {
            "name": module,
            "actions": [f"python -m paper_figures.{module} --out {FIGURES_DIR} {options}"],
            "file_dep": PACKAGE_SOURCES + FIGURE_SOURCES + [f"paper_figures/{module}.py"] + sorted(set(inputs)),
            "targets": _figure_targets(stems) + extra_targets,
            "uptodate": [config_changed(options)],  # the runs it is drawn from
            "clean": True,
            "verbosity": 2,
        }


#: Validation of the down-scaling schemes (figV_downscaling): ground state (chi = 1) at each scale and
#: scheme, 11 s (rates after a 1 s transient). Not in the default tasks: ``doit validate=yes``.
VALIDATE = _var("validate", "no") == "yes"
VALIDATION_SETTINGS = {
    f"{scheme}_{scale}": {"network.downscaling.n_scaling": scale, "network.downscaling.k_scaling": scale,
                          "network.downscaling.scaling_type": scheme, "simulation.t_sim_ms": 11000.0,
                          "simulation.threads": PROFILE["overrides"].get("simulation", {}).get("threads", 2)}
    for scale in ("0.01", "0.005") for scheme in ("linear", "preserve_input_statistics")
}


def _validation_params(settings: dict) -> dict:
    params = parameters.resolve(_experiment_file("ground_state"))
    for key, value in settings.items():
        params = parameters.set_dotted(params, key, float(value) if key.endswith("scaling") else value)
    return params


VALIDATION_RUNS = {}
for _name, _settings in VALIDATION_SETTINGS.items():
    _p = _validation_params(_settings)
    VALIDATION_RUNS[_name] = _network_file(_p).parent / parameters.sim_hash(_p, PROFILE["processes"] * _p["simulation"]["threads"])


def task_validate():
    """Down-scaled ground states (linear and preserve_input_statistics at N = K = 0.01 and 0.005, 11 s)
    against the full-scale theory (figures/figV_downscaling)."""
    for name, settings in VALIDATION_SETTINGS.items():
        options = " ".join(f"--set {key}={value}" for key, value in settings.items())
        command = f"humam simulate {_experiment_file('ground_state')} {options} --out {OUT} --progress"
        yield {
            "name": name,
            "actions": [f"{PROFILE['launcher']} {command}".strip()],
            "file_dep": [_experiment_file("ground_state")] + PACKAGE_SOURCES,
            "targets": [str(VALIDATION_RUNS[name] / "run.json"), str(VALIDATION_RUNS[name] / "spikes.h5")],
            "verbosity": 2,
        }
    runs = " ".join(f"--run {name}={folder}" for name, folder in VALIDATION_RUNS.items())
    yield {
        "name": "figure",
        "actions": [f"python -m paper_figures.figV_downscaling --out {FIGURES_DIR} {runs}"],
        "file_dep": [str(f / "spikes.h5") for f in VALIDATION_RUNS.values()] + FIGURE_SOURCES
        + ["paper_figures/figV_downscaling.py"],
        "targets": _figure_targets(["figV_downscaling"]),
        "clean": True,
        "verbosity": 2,
    }


def task_report():
    """report.md and report.html: every figure with its scale and status, and the regenerated
    numbers against the published ones."""
    sidecars = [t for module, stems in NETWORK_FIGURES.items() for t in _figure_targets(stems) if t.endswith(".json")]
    sidecars += [t for _, (_, stems) in SIMULATION_FIGURES.items() for t in _figure_targets(stems) if t.endswith(".json")]
    if VALIDATE:
        sidecars.append(str(FIGURES_DIR / "figV_downscaling.json"))
    runs = " ".join(f"--run {name}={RUNS[name]}" for name in ("ground_state", "best_fit"))
    network_file = _network_file(_params(NETWORK_ONLY, None))
    return {
        "actions": [f"python -m paper_figures.report --out {OUT} --profile {PROFILE['path']} {runs} "
                    f"--network {network_file} --theory {THEORY_FILE}"],
        "file_dep": sidecars + [str(RUNS[n] / "analysis.h5") for n in ("ground_state", "best_fit")]
        + [str(THEORY_FILE), str(network_file), "paper_figures/report.py"],
        "targets": [str(OUT / "report.md"), str(OUT / "report.html")],
        "uptodate": [config_changed(runs)],
        "clean": True,
        "verbosity": 2,
    }
