"""Task graph of the humam pipeline: `doit` (profile laptop), `doit profile=tiny`, `doit profile=hpc`.

Built from the figure modules' declarations (``SPEC`` in each module of ``paper_figures``): every
network, simulation, analysis, mean-field result, spike-journey comparison and chi-scan statistic
a figure reads becomes one task (shared between figures), placed where :mod:`humam.layout` says.
doit alone decides what is stale: each task depends on its inputs and on the code of its stage
(:mod:`humam.stage_code`), and its action always rewrites its targets (``--force``). A simulation
depends on the *content* of its network (its digest), so a code change that rebuilds a network
without changing it simulates nothing again. Simulations are not removed by ``doit clean``.

Variables: ``profile=NAME_OR_FILE``, ``out=DIR``, ``experiments=DIR`` (an edited copy of the
shipped experiments), ``validate=yes`` (adds the down-scaling validation), ``scans=all`` (adds the
variant χ-scan families of F5s to the main one), ``dep_file=PATH``.

The members of a scan family that the profile's ``scan`` section names are runs like any other
(tasks ``simulate:<family>@chi2.5`` …); a member whose run is another experiment's (the χ = 1 member
of the main family and ``ground_state``) is that experiment's task, simulated once.
"""

import importlib
import pkgutil
from pathlib import Path

from doit import get_var
from doit.tools import config_changed, result_dep

import paper_figures
from humam import layout, network_file, parameters, scans, stage_code
from humam.errors import HumamError
from humam.resources import experiments_dir
from paper_figures import common, report


def _var(name: str, default: str) -> str:
    """Command-line variable ``name=VALUE`` of doit (``default`` also when the file is imported)."""
    value = get_var(name, default)
    return default if value is None else value


def _fail(message: str):
    """Stop with one line naming the problem (exit code 2), before any task runs."""
    import sys

    print(f"dodo.py: {message}", file=sys.stderr)
    raise SystemExit(2)


VALIDATE = _var("validate", "no")
if VALIDATE not in ("yes", "no"):
    _fail(f"validate={VALIDATE!r}: use validate=yes or validate=no.")
SCANS = _var("scans", "main")
if SCANS not in ("main", "all"):
    _fail(f"scans={SCANS!r}: use scans=main (the main chi-scan family) or scans=all (with the F5s variants).")
DEP_FILE = Path(_var("dep_file", ".doit.db"))
DEP_FILE.parent.mkdir(parents=True, exist_ok=True)
DOIT_CONFIG = {
    "default_tasks": ["verify_data", "network", "simulate", "analyse", "theory", "journey", "chi_scan", "scan",
                      "figure", "report"],
    "dep_file": str(DEP_FILE),
    "backend": "sqlite3",
}
try:
    PROFILE = parameters.load_profile(_var("profile", "laptop"))
except HumamError as exc:
    _fail(str(exc))
LAYOUT = layout.Layout(Path(_var("out", "out")))
#: Folder of the experiment YAML files (``doit experiments=DIR``: a copy of the shipped
#: ``experiments/`` to edit; only what depends on an edited file reruns).
EXPERIMENTS = Path(_var("experiments", str(experiments_dir())))
if not EXPERIMENTS.is_dir():
    _fail(f"experiments={EXPERIMENTS} is not a folder; copy the shipped folder {experiments_dir()} to start from.")


def _experiment_file(name: str) -> str:
    path = EXPERIMENTS / f"{name}.yaml"
    if not path.is_file():
        _fail(f"experiment file {path} not found (experiments={EXPERIMENTS}); copy the shipped "
              f"folder {experiments_dir()} to start from.")
    return str(path)


def _sources(*paths) -> list[str]:
    return sorted({str(Path(p).resolve().relative_to(Path.cwd().resolve())) if Path(p).is_absolute()
                   and Path(p).resolve().is_relative_to(Path.cwd().resolve()) else str(p) for p in paths})


# ---------------------------------------------------------------------------------------------
# What the figures read


def _figure_modules() -> dict[str, object]:
    """Figure modules of ``paper_figures`` (those with a ``SPEC``), by module name."""
    modules = {}
    for info in sorted(pkgutil.iter_modules(paper_figures.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"paper_figures.{info.name}")
        spec = getattr(module, "SPEC", None)
        if isinstance(spec, common.FigureSpec) and spec.stems and (spec.group == "figure" or VALIDATE == "yes"):
            modules[info.name] = module
    return modules


FIGURES = _figure_modules()


def _params(source: common.Source) -> dict:
    if source.member:  # a member of a scan family: the profile's scale and scan length (humam.scans)
        path = _experiment_file(source.experiment)
        member = scans.member(path, scans.parse_member(path, source.member), PROFILE if source.profiled else None)
        return member.params
    params = parameters.resolve(_experiment_file(source.experiment))
    if source.profiled:
        params = parameters.apply_profile(params, PROFILE)
    for key, value in source.settings:
        params = parameters.set_dotted(params, key, value)
    return params


def _options(source: common.Source) -> str:
    """Command-line options of ``humam`` that select ``source``."""
    options = [f"--profile {PROFILE['path']}"] if source.profiled else []
    options += [f"--member {source.member}"] if source.member else []
    options += [f"--set {key}={value}" for key, value in source.settings]
    return " ".join(options)


def _name(source: common.Source, local: str, taken: dict) -> str:
    """A task name for ``source``: the experiment, or the figure's local name for a variant."""
    name = (f"{source.experiment}@{scans.task_label(source.member)}" if source.member
            else source.experiment if not source.settings else local)
    while name in taken:
        name += "+"
    return name


class _Register:
    """Distinct items of one kind (networks, runs, ...), keyed by their target file, first name wins."""

    def __init__(self):
        self.items: dict[Path, tuple[str, object]] = {}
        self.names: dict[str, Path] = {}

    def add(self, target: Path, local: str, source) -> str:
        if target not in self.items:
            name = local if isinstance(source, common.Journey) else _name(source, local, self.names)
            self.items[target] = (name, source)
            self.names[name] = target
        return self.items[target][0]


NETWORKS, RUNS, THEORIES, JOURNEYS = _Register(), _Register(), _Register(), _Register()
CHI_SCANS: set[str] = set()
#: statistics file -> (family, its experiment file, the members' analysis files) of the scans the figures show.
SCANS_GATHERED: dict[Path, tuple[str, str, list[Path]]] = {}


def _network_of(source: common.Source, local: str) -> str:
    return NETWORKS.add(LAYOUT.network_file(_params(source)), local, source)


def _run_of(source: common.Source, local: str) -> Path:
    """The analysis file of the run of ``source`` (registering its network and run)."""
    params = _params(source)
    _network_of(source, local)
    RUNS.add(LAYOUT.run(params, PROFILE["processes"]).path, local, source)
    return LAYOUT.analysis_file(params, PROFILE["processes"])


def _journey_file(journey: common.Journey) -> Path:
    unperturbed = LAYOUT.run(_params(journey.unperturbed), PROFILE["processes"])
    perturbed = LAYOUT.run(_params(journey.perturbed), PROFILE["processes"])
    return layout.journey_file(perturbed, unperturbed)


#: module -> [(kind, name, path)] of the inputs each figure is given.
FIGURE_INPUTS: dict[str, list[tuple[str, str, Path]]] = {}
for _module, _figure in list(FIGURES.items()) + [("report", report)]:
    _spec = _figure.SPEC
    _inputs = []
    for _local, _source in _spec.networks.items():
        _network_of(_source, _local)
        _inputs.append(("network", _local, LAYOUT.network_file(_params(_source))))
    for _local, _source in _spec.runs.items():
        _inputs.append(("run", _local, _run_of(_source, _local)))
    for _local, _source in _spec.theories.items():
        _network_of(_source, _local)
        THEORIES.add(LAYOUT.theory_file(_params(_source)), _local, _source)
        _inputs.append(("theory", _local, LAYOUT.theory_file(_params(_source))))
    for _local, _journey in _spec.journeys.items():
        _run_of(_journey.unperturbed, f"{_local}_unperturbed")
        _run_of(_journey.perturbed, f"{_local}_perturbed")
        _network_of(_journey.network, f"{_local}_network")
        JOURNEYS.add(_journey_file(_journey), _local, _journey)
        _inputs.append(("journey", _local, _journey_file(_journey)))
    for _family in _spec.chi_scans:
        CHI_SCANS.add(_family)
        _inputs.append(("chi_scan", _family, LAYOUT.chi_scan_file(_family)))
    FIGURE_INPUTS[_module] = _inputs


def _scan_of(scan: common.Scan) -> Path | None:
    """The statistics file of the profile's runs of ``scan`` (registering the members' networks and
    runs), or None when they are not made: a variant family without ``scans=all``, or a family the
    profile's ``scan`` section does not name."""
    if scan.variant and SCANS != "all":
        return None
    path = _experiment_file(scan.experiment)
    members = scans.members(path, PROFILE)
    if not members:
        return None
    analyses = [_run_of(common.Source(scan.experiment, (), True, m.label), scan.experiment) for m in members]
    target = LAYOUT.scan_statistics_file(scan.experiment, [m.params for m in members], PROFILE["processes"])
    SCANS_GATHERED[target] = (scan.experiment, path, analyses)
    return target


# The scans after every other input, so that a member that is another experiment's run (and network)
# keeps that experiment's task name.
try:
    for _module, _figure in list(FIGURES.items()) + [("report", report)]:
        for _local, _scan in _figure.SPEC.scans.items():
            _target = _scan_of(_scan)
            if _target is not None:
                FIGURE_INPUTS[_module].append(("scan", _local, _target))
except HumamError as exc:
    _fail(str(exc))


def _network_task(source: common.Source) -> str:
    return f"network:{NETWORKS.items[LAYOUT.network_file(_params(source))][0]}"


def _stage_sources(stage: str) -> list[str]:
    return _sources(*stage_code.stage_sources(stage))


# ---------------------------------------------------------------------------------------------
# Tasks


def task_verify_data():
    """Check every raw input file against the registry."""
    return {"actions": ["humam data verify"], "file_dep": ["data/registry.yaml"], "verbosity": 2}


def _network_digest(path: Path) -> str:
    """The network task's result: the digest of the network's data. Tasks that read a network
    depend on it (result_dep), not on the file's bytes, so a rebuild that gives the same network
    (after a code change that does not touch it) reruns nothing downstream."""
    return network_file.content_digest(path)


def task_network():
    """Build network.h5 of each network the figures need (once per distinct network)."""
    for target, (name, source) in NETWORKS.items.items():
        yield {
            "name": name,
            "actions": [f"humam network --experiment {_experiment_file(source.experiment)} {_options(source)} "
                        f"--out {LAYOUT.root} --force", (_network_digest, [target])],
            "file_dep": _stage_sources("network") + [_experiment_file(source.experiment)],
            "targets": [str(target)],
            "uptodate": [config_changed(parameters.canonical_json(_params(source)["network"]))],
            "task_dep": ["verify_data"],
            "clean": True,
        }


def task_simulate():
    """Simulate each distinct run with NEST (spikes.h5, run.json), started by the profile's launcher."""
    for folder, (name, source) in RUNS.items.items():
        params = _params(source)
        run = layout.RunFolder(folder)
        command = (f"humam simulate {_experiment_file(source.experiment)} {_options(source)} --out {LAYOUT.root} "
                   f"--progress --force")
        yield {
            "name": name,
            "actions": [f"{PROFILE['launcher']} {command}".strip()],
            "file_dep": _stage_sources("simulate") + [_experiment_file(source.experiment)],
            "targets": [str(run.record), str(run.spikes)],
            "uptodate": [config_changed(parameters.canonical_json({key: params[key] for key in ("network", "simulation")})), result_dep(_network_task(source))],
            "verbosity": 2,
        }


def task_analyse():
    """Spike statistics, synaptic currents, BOLD and FC of each run (its analysis file)."""
    for folder, (name, source) in RUNS.items.items():
        params = _params(source)
        run = layout.RunFolder(folder)
        yield {
            "name": name,
            "actions": [f"humam analyse {_experiment_file(source.experiment)} {_options(source)} "
                        f"--out {LAYOUT.root} --force"],
            "file_dep": _stage_sources("analyse") + [str(run.spikes), str(run.record)],
            "targets": [str(LAYOUT.analysis_file(params, PROFILE["processes"]))],
            "uptodate": [result_dep(_network_task(source))],
            "clean": True,
            "verbosity": 2,
        }


def task_theory():
    """Mean-field rates of each network a figure compares with (theory options in the file name)."""
    for target, (name, source) in THEORIES.items.items():
        yield {
            "name": name,
            "actions": [f"humam theory --experiment {_experiment_file(source.experiment)} {_options(source)} "
                        f"--out {LAYOUT.root} --force"],
            "file_dep": _stage_sources("theory"),
            "targets": [str(target)],
            "uptodate": [result_dep(_network_task(source))],
            "clean": True,
            "verbosity": 2,
        }


def task_journey():
    """Spike journeys: each perturbed run against its unperturbed twin, ordered by graph distance."""
    for target, (name, journey) in JOURNEYS.items.items():
        unperturbed = LAYOUT.run(_params(journey.unperturbed), PROFILE["processes"])
        perturbed = LAYOUT.run(_params(journey.perturbed), PROFILE["processes"])
        network = LAYOUT.network_file(_params(journey.network))
        yield {
            "name": name,
            "actions": [f"humam journey {unperturbed.path} {perturbed.path} --network {network} --force"],
            "file_dep": _stage_sources("analyse") + [str(unperturbed.spikes), str(unperturbed.record),
                                                     str(perturbed.spikes), str(perturbed.record)],
            "targets": [str(target)],
            "uptodate": [result_dep(_network_task(journey.network))],
            "clean": True,
            "verbosity": 2,
        }


def task_chi_scan():
    """Statistics of each shipped chi-scan family a figure shows."""
    for family in sorted(CHI_SCANS):
        yield {
            "name": family,
            "actions": [f"humam chi-scan {family} --out {LAYOUT.root} --force"],
            "file_dep": _stage_sources("analyse") + ["data/registry.yaml"],
            "targets": [str(LAYOUT.chi_scan_file(family))],
            "task_dep": ["verify_data"],
            "clean": True,
            "verbosity": 2,
        }


def task_scan():
    """Statistics of the profile's runs of each scan family a figure shows (its members' analyses)."""
    for target, (family, path, analyses) in SCANS_GATHERED.items():
        yield {
            "name": family,
            "actions": [f"humam scan {path} --profile {PROFILE['path']} --out {LAYOUT.root} --statistics --force"],
            "file_dep": _stage_sources("analyse") + [path] + [str(a) for a in analyses],
            "targets": [str(target)],
            "task_dep": ["verify_data"],
            "clean": True,
            "verbosity": 2,
        }


def _input_deps(inputs: list[tuple[str, str, Path]]) -> tuple[list[str], list, list[str]]:
    """(file_dep, uptodate, options) of a figure's inputs: networks by content (result_dep of their
    task), every other input by its file."""
    files, uptodate, options = [], [], []
    for kind, name, path in inputs:
        options.append(f"--input {kind}:{name}={path}")
        if kind == "network":
            uptodate.append(result_dep(f"network:{NETWORKS.items[path][0]}"))
        else:
            files.append(str(path))
    return files, uptodate, options


def _figure_sources(module: str, spec: common.FigureSpec) -> list[str]:
    """The figure module's code (and what it imports), and the code of the readers of the kinds of
    input it declares."""
    readers = [common.READER_MODULES[kind] for kind, names in spec.input_names().items() if names]
    return _sources(*stage_code.code_dependencies(
        f"paper_figures.{module}", *readers, roots={"paper_figures": Path("paper_figures").resolve(),
                                                    "humam": stage_code.PACKAGE_DIR}))


def task_figure():
    """Draw each paper figure (PNG, PDF and a JSON sidecar with inputs and status) into OUT/figures."""
    for module, figure in FIGURES.items():
        spec = figure.SPEC
        files, uptodate, options = _input_deps(FIGURE_INPUTS[module])
        targets = [str(p) for stem in spec.stems for p in LAYOUT.figure_files(stem)]
        targets += [str(LAYOUT.figures_dir / name) for name in spec.extra_files]
        yield {
            "name": module,
            "actions": [f"python -m paper_figures.{module} --out {LAYOUT.figures_dir} {' '.join(options)}"],
            "file_dep": _figure_sources(module, spec) + files,
            "targets": targets,
            "uptodate": [config_changed(" ".join(options))] + uptodate,
            "task_dep": ["verify_data"],
            "clean": True,
            "verbosity": 2,
        }


def task_report():
    """report.md and report.html: every figure with its scale and status, and the regenerated
    numbers against the published ones."""
    files, uptodate, options = _input_deps(FIGURE_INPUTS["report"])
    sidecars = [str(LAYOUT.figures_dir / f"{stem}.json") for figure in FIGURES.values() for stem in figure.SPEC.stems]
    return {
        "actions": [f"python -m paper_figures.report --out {LAYOUT.root} --profile {PROFILE['path']} "
                    f"{' '.join(options)}"],
        "file_dep": _figure_sources("report", report.SPEC) + files + sidecars,
        "targets": [str(p) for p in LAYOUT.report_files],
        "uptodate": [config_changed(" ".join(options))] + uptodate,
        "clean": True,
        "verbosity": 2,
    }
