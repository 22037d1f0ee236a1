"""What every figure module shares: its declaration (:class:`FigureSpec`), its inputs
(:class:`FigureInputs`, pipeline outputs only), its result record and its command line.

A figure module declares once, in ``SPEC``, the files it writes and the pipeline outputs it reads:
networks (``network.h5``), runs (run folder and its analysis file), mean-field results
(``theory-*.h5``), spike-journey comparisons of perturbation pairs, the statistics of shipped
chi-scan families and those of the pipeline's own runs of a scan family. ``dodo.py`` builds the figure's task from that declaration, and the module's
``build(out_dir, inputs)`` receives the same outputs by name. A figure never builds a network,
simulates, analyses spikes or computes theory: what it draws that needs computing is a package
function run by a pipeline task.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import humam
from humam import data, layout, network_file, run_record
from humam.errors import HumamError

log = logging.getLogger("paper_figures")

FULL, PARTIAL, SCALED, NOT_PRODUCED = "full", "partial", "scaled", "not produced"


@dataclass
class FigureResult:
    """Outcome of one figure build.

    ``status`` is full / partial / scaled / not produced; ``missing`` lists dicts with ``panel``,
    ``input`` and ``how`` (how to obtain it); ``paths`` the written files by kind; ``values`` the
    numbers the figure shows (for checks and tests).
    """

    figure_id: str
    status: str
    paths: dict[str, Path] = field(default_factory=dict)
    missing: list[dict] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


def missing_item(panel: str, input_name: str, how: str) -> dict:
    """A missing-input record; logs a warning (docs/figures.md §1.2)."""
    log.warning("figure panel %s: not available — missing %s (%s)", panel, input_name, how)
    return {"panel": panel, "input": input_name, "how": how}


def file_input(relpath: str) -> dict:
    """Sidecar descriptor of a registered data file: its path and sha256."""
    return {"kind": "file", "path": relpath, "sha256": data.sha256_of(data.data_path(relpath))}


def sidecar(figure_id: str, title: str, inputs: list[dict], status: str, missing: list[dict], **extra) -> dict:
    """Sidecar metadata of docs/figures.md §1.3."""
    return {"id": figure_id, "title": title, "inputs": inputs, "package": "humam", "package_version": humam.__version__,
            "status": status, "missing": missing, **extra}


# ---------------------------------------------------------------------------------------------
# Simulation runs (docs/figures.md §1.4): figures drawn from the pipeline's own runs



#: The module that reads each kind of figure input. A figure task depends on the code of the readers
#: of the kinds it declares (``dodo.py``), not on every stage's code: a change of the analysis code
#: reaches a figure through the analysis files it reads.
READER_MODULES = {"network": "humam.network_file", "run": "humam.analysis.run", "theory": "humam.theory",
                  "journey": "humam.analysis.journey", "chi_scan": "humam.analysis.chi_scan",
                  "scan": "humam.analysis.scan"}


def reader(kind: str):
    """The module that reads inputs of ``kind`` (imported when first needed)."""
    import importlib

    return importlib.import_module(READER_MODULES[kind])


RUN_HOW = "run the pipeline: doit (or 'humam simulate <experiment> --profile <profile>' and 'humam analyse')"


@dataclass(frozen=True)
class Source:
    """A pipeline output a figure reads: the network, run or theory of ``experiment`` (a shipped
    experiment name), with ``settings`` (dotted key -> value, like ``--set``) applied, at the
    pipeline profile's scale when ``profiled`` (runs) or as the experiment says (networks)."""

    experiment: str
    settings: tuple[tuple[str, Any], ...] = ()
    profiled: bool = False
    member: str = ""  #: the member of a scan family (``chi=2.5``, :mod:`humam.scans`); "" for a plain experiment

    @classmethod
    def run(cls, experiment: str, **settings) -> "Source":
        """A simulation at the profile's scale; ``settings`` use ``__`` for the dots of a key."""
        return cls(experiment, tuple((k.replace("__", "."), v) for k, v in settings.items()), True)

    @classmethod
    def network(cls, experiment: str, **settings) -> "Source":
        """A network as the experiment defines it (the profile does not apply)."""
        return cls(experiment, tuple((k.replace("__", "."), v) for k, v in settings.items()), False)


@dataclass(frozen=True)
class Scan:
    """The pipeline's own runs of a scan family (an experiment with a ``scan`` entry): the members
    that the profile's ``scan`` section names, each a run with its analysis, and the statistics
    gathered from them (``OUT/chi_scan/<family>-<hash>.h5``). A ``variant`` family is simulated only
    when asked (``doit scans=all``)."""

    experiment: str
    variant: bool = False


@dataclass(frozen=True)
class Journey:
    """The spike journey of a perturbation pair: the same run without and with one extra spike."""

    unperturbed: Source
    perturbed: Source
    network: Source  #: the full-scale network whose graph distances order the populations


@dataclass(frozen=True)
class FigureSpec:
    """What a figure module writes and reads, declared once; ``dodo.py`` builds its task from it.

    ``stems``: the figures written, each as PNG, PDF and a JSON sidecar in the figures folder;
    ``extra_files``: other files written there (e.g. a CSV table). The inputs, by the name the
    module's ``build`` asks for: ``networks`` (network.h5), ``runs`` (run folder with its analysis),
    ``theories`` (mean-field results of a network; ``theory.*`` settings select the options),
    ``journeys`` (spike-journey comparisons), ``chi_scans`` (statistics of shipped chi-scan families),
    ``scans`` (statistics of the pipeline's own runs of scan families, :class:`Scan`).
    ``group``: ``"figure"`` (default task set) or ``"validate"`` (only with ``doit validate=yes``).
    """

    stems: tuple[str, ...]
    networks: dict[str, Source] = field(default_factory=dict)
    runs: dict[str, Source] = field(default_factory=dict)
    theories: dict[str, Source] = field(default_factory=dict)
    journeys: dict[str, Journey] = field(default_factory=dict)
    chi_scans: tuple[str, ...] = ()
    scans: dict[str, Scan] = field(default_factory=dict)
    extra_files: tuple[str, ...] = ()
    group: str = "figure"

    def input_names(self) -> dict[str, tuple[str, ...]]:
        return {"network": tuple(self.networks), "run": tuple(self.runs), "theory": tuple(self.theories),
                "journey": tuple(self.journeys), "chi_scan": tuple(self.chi_scans), "scan": tuple(self.scans)}


class InputError(HumamError):
    """A figure's input is not a readable pipeline output of the expected kind."""


@dataclass
class RunInput:
    """One finished, analysed simulation: ``OUT/<net_hash>/<sim_hash>/`` with spikes.h5, run.json
    and an analysis file; the network is ``../network.h5``. Refused (:class:`InputError`) when the
    run was simulated from a network whose content differs from the one beside it."""

    name: str
    folder: Path
    analysis_path: Path

    @functools.cached_property
    def run(self) -> dict:
        return run_record.read_run_record(self.folder)

    @functools.cached_property
    def params(self) -> dict:
        """Resolved parameters of the run (network and simulation)."""
        return run_record.run_parameters(self.run)

    @property
    def network_path(self) -> Path:
        return layout.RunFolder(self.folder).network

    @functools.cached_property
    def network(self):
        return network_file.load_network(self.network_path)

    @functools.cached_property
    def analysis(self) -> dict:
        """The run's analysis (docs/model.md §8), read from its analysis file."""
        return reader("run").read_analysis(self.analysis_path)

    @property
    def t_sim_ms(self) -> float:
        return float(self.params["simulation"]["t_sim_ms"])

    @property
    def downscaling(self) -> dict:
        return self.params["network"]["downscaling"]

    @property
    def full_scale(self) -> bool:
        d = self.downscaling
        return float(d["n_scaling"]) == 1.0 and float(d["k_scaling"]) == 1.0

    def scale_banner(self) -> str:
        """Scale note for titles (docs/figures.md §1.4): empty at full scale."""
        if self.full_scale:
            return ""
        d = self.downscaling
        scheme = {"linear": "published down-scaling"}.get(d["scaling_type"], f"{d['scaling_type']} down-scaling")
        return (f"N = {float(self.network.n_scaling):g}, K = {float(self.network.k_scaling):g}, {scheme}, "
                f"{self.t_sim_ms / 1000:g} s simulated — not the full-scale regime")

    def descriptor(self) -> dict:
        """Sidecar descriptor of the run (docs/figures.md §1.3)."""
        d = self.downscaling
        return {"kind": "run", "name": self.name, "experiment": self.run.get("experiment"),
                "folder": str(self.folder), "net_hash": self.run.get("net_hash"), "sim_hash": self.run.get("sim_hash"),
                "network_digest": self.run.get("network_digest"), "analysis": str(self.analysis_path),
                "n_scaling": float(self.network.n_scaling), "k_scaling": float(self.network.k_scaling),
                "k_scaling_rule": d.get("k_scaling_rule", "given"), "scaling_type": d["scaling_type"],
                "t_sim_ms": self.t_sim_ms, "seed": self.run.get("seed"),
                "chi": self.params["network"]["scaling"]["chi"], "chi_I": self.params["network"]["scaling"]["chi_I"]}


def network_input(name: str, path: Path) -> dict:
    """Sidecar descriptor of a network file: its name, path, hashes and scale."""
    attrs = network_file.read_network_attrs(path)
    params = json.loads(attrs.get("parameters", "{}"))
    scaling = params.get("downscaling", {})
    return {"kind": "network", "name": name, "path": str(path), "net_hash": attrs.get("net_hash"),
            "network_digest": network_file.content_digest(path), "n_scaling": scaling.get("n_scaling"),
            "k_scaling": scaling.get("k_scaling"), "scaling_type": scaling.get("scaling_type")}


@dataclass
class FigureInputs:
    """The pipeline outputs given to a figure, by kind and name (paths from ``--input KIND:NAME=PATH``).

    Every reader returns None for an input that was not given, so that a figure can draw a
    placeholder panel; a given input that cannot be read, or a run that does not belong to the
    network beside it, raises :class:`InputError` with what to run.
    """

    paths: dict[tuple[str, str], Path] = field(default_factory=dict)

    def path(self, kind: str, name: str) -> Path | None:
        return self.paths.get((kind, name))

    def network(self, name: str):
        path = self.path("network", name)
        return None if path is None else _cached_network(str(path))

    def network_parameters(self, name: str) -> dict | None:
        """The resolved ``network`` parameter section the network ``name`` was built from."""
        path = self.path("network", name)
        return None if path is None else json.loads(network_file.read_network_attrs(path)["parameters"])

    def network_descriptor(self, name: str) -> dict | None:
        path = self.path("network", name)
        return None if path is None else network_input(name, path)

    def run(self, name: str) -> RunInput | None:
        """The analysed run ``name``: the path given is its analysis file, inside the run folder."""
        path = self.path("run", name)
        if path is None:
            return None
        folder = path.parent
        run_record.check_run_network(folder)  # exit 2 naming both digests when they differ
        if not path.is_file():
            raise InputError(f"{path}: the analysis of run {name} is missing; run 'doit' (task analyse) or "
                             f"'humam analyse {folder}'.")
        return RunInput(name, folder, path)

    def theory(self, name: str):
        path = self.path("theory", name)
        if path is None:
            return None
        return reader("theory").read_theory(path)

    def journey(self, name: str) -> dict | None:
        path = self.path("journey", name)
        if path is None:
            return None
        return reader("journey").read_journey(path)

    def chi_scan(self, name: str) -> dict | None:
        path = self.path("chi_scan", name)
        if path is None:
            return None
        return reader("chi_scan").read_chi_scan_statistics(path)

    def scan(self, name: str) -> dict | None:
        """The statistics of the pipeline's runs of scan family ``name`` (None when not given: the
        profile runs no member of it, or it is a variant family and ``doit scans=all`` was not asked)."""
        path = self.path("scan", name)
        if path is None:
            return None
        return reader("scan").read_scan_statistics(path)


def require(value, what: str, option: str):
    """``value``, or :class:`InputError` saying which ``--input`` is missing."""
    if value is None:
        raise InputError(f"this figure needs {what}: give it as --input {option}=PATH (doit does).")
    return value


@functools.lru_cache(maxsize=4)
def _cached_network(path: str):
    return network_file.load_network(Path(path))


def status_of_runs(runs: list[RunInput | None], missing: list[dict]) -> str:
    """Status of a simulation figure: ``partial`` with missing panels, ``scaled`` when drawn from a
    down-scaled run, else ``full``."""
    if missing:
        return PARTIAL
    return SCALED if any(r is not None and not r.full_scale for r in runs) else FULL


def parse_inputs(spec: FigureSpec, items: list[str], error: Callable[[str], None]) -> FigureInputs:
    """``KIND:NAME=PATH`` items checked against the names ``spec`` declares."""
    declared = spec.input_names()
    paths = {}
    for item in items:
        key, sep, path = item.partition("=")
        kind, _, name = key.partition(":")
        if not sep or name not in declared.get(kind, ()):
            choices = ", ".join(f"{k}:{n}" for k, names in declared.items() for n in names) or "none"
            error(f"--input takes KIND:NAME=PATH with KIND:NAME one of {choices}; got {item!r}")
        paths[(kind, name)] = Path(path)
    return FigureInputs(paths)


def main(spec: FigureSpec, build: Callable[..., FigureResult | list], description: str,
         argv: list[str] | None = None) -> int:
    """``python -m paper_figures.<module> --out DIR --input KIND:NAME=PATH ...``: build the figure
    from the given pipeline outputs and print its status. Errors the user can fix (an input that
    is missing, unreadable or belongs to another network) end with one message and exit code 2."""
    import sys

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=Path("figures"), help="output folder")
    parser.add_argument("--input", action="append", default=[], metavar="KIND:NAME=PATH",
                        help="a pipeline output the figure reads (doit passes them; see the module's SPEC)")
    args = parser.parse_args(argv)
    inputs = parse_inputs(spec, args.input, parser.error)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        results = build(out_dir=args.out, inputs=inputs)
    except HumamError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    for result in results if isinstance(results, list) else [results]:
        print(f"{result.figure_id}: {result.status}; " + ", ".join(str(p) for p in result.paths.values()))
        for item in result.missing:
            print(f"  missing panel {item['panel']}: {item['input']} ({item['how']})")
    return 0
