"""Small interface shared by the figure builders: result record, input descriptors, CLI."""

from __future__ import annotations

import argparse
import functools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import humam
from humam import data, parameters

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
    """A missing-input record; logs a warning (figures.md §1.2)."""
    log.warning("figure panel %s: not available — missing %s (%s)", panel, input_name, how)
    return {"panel": panel, "input": input_name, "how": how}


def file_input(relpath: str) -> dict:
    """Sidecar descriptor of a registered data file: its path and sha256."""
    return {"kind": "file", "path": relpath, "sha256": data.sha256_of(data.data_path(relpath))}


def network_input(name: str, params: dict) -> dict:
    """Sidecar descriptor of a network: its name, net hash and scale."""
    scaling = params["network"]["downscaling"]
    return {"kind": "network", "name": name, "net_hash": parameters.net_hash(params),
            "n_scaling": scaling["n_scaling"], "k_scaling": scaling["k_scaling"], "scaling_type": scaling["scaling_type"]}


def sidecar(figure_id: str, title: str, inputs: list[dict], status: str, missing: list[dict], **extra) -> dict:
    """Sidecar metadata of figures.md §1.3."""
    return {"id": figure_id, "title": title, "inputs": inputs, "package": "humam", "package_version": humam.__version__,
            "status": status, "missing": missing, **extra}


def default_params() -> dict:
    """The published (default) parameter set."""
    return parameters.resolve()


def downscaled_params(n_scaling: float, k_scaling: float) -> dict:
    """Default parameters with the network down-scaled to (n_scaling, k_scaling)."""
    params = parameters.resolve()
    params["network"]["downscaling"]["n_scaling"] = float(n_scaling)
    params["network"]["downscaling"]["k_scaling"] = float(k_scaling)
    return params


@functools.lru_cache(maxsize=4)
def _network_for(key: str, n_scaling: float, k_scaling: float):
    from humam.network import build_network

    params = default_params() if key == "full" else downscaled_params(n_scaling, k_scaling)
    return build_network(params["network"])


def full_network():
    """NET-full: the full-scale network with default parameters (built once per process)."""
    return _network_for("full", 1.0, 1.0)


def downscaled_network(n_scaling: float, k_scaling: float):
    """NET-down(n, k) with default parameters (built once per process and scale)."""
    return _network_for("down", float(n_scaling), float(k_scaling))


def cli(build: Callable[..., FigureResult], description: str) -> None:
    """``python -m paper_figures.<module> --out DIR``: build the figure and print its status."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=Path("figures"), help="output folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    results = build(out_dir=args.out)
    for result in results if isinstance(results, list) else [results]:
        print(f"{result.figure_id}: {result.status}; " + ", ".join(str(p) for p in result.paths.values()))
        for item in result.missing:
            print(f"  missing panel {item['panel']}: {item['input']} ({item['how']})")


# ---------------------------------------------------------------------------------------------
# Simulation runs (figures.md §1.4): figures drawn from the pipeline's own runs


RUN_HOW = "run the pipeline: doit (or 'humam simulate <experiment> --profile <profile>')"


@dataclass
class RunInput:
    """One finished simulation: ``OUT/<net_hash>/<sim_hash>/`` with spikes.h5 and run.json; the
    network is ``../network.h5`` and the analysis ``analysis.h5`` (computed here when absent)."""

    name: str
    folder: Path

    @functools.cached_property
    def run(self) -> dict:
        return json.loads((self.folder / "run.json").read_text())

    @functools.cached_property
    def params(self) -> dict:
        """Resolved parameters of the run (network and simulation)."""
        return json.loads(self.run["parameters"])

    @property
    def spikes_path(self) -> Path:
        return self.folder / "spikes.h5"

    @property
    def network_path(self) -> Path:
        return self.folder.parent / "network.h5"

    @property
    def analysis_path(self) -> Path:
        return self.folder / "analysis.h5"

    @functools.cached_property
    def network(self):
        from humam.network import load_network

        return load_network(self.network_path)

    @functools.cached_property
    def analysis(self) -> dict:
        """The run's analysis (model §8): read from analysis.h5, or computed (not written) when absent."""
        from humam import analysis

        if self.analysis_path.is_file():
            return analysis.read_analysis(self.analysis_path)
        log.info("%s: no analysis.h5, analysing %s", self.name, self.spikes_path)
        return analysis.analyse_run(self.spikes_path, self.network_path, self.params.get("analysis"))

    @functools.cached_property
    def spike_trains(self):
        from humam import analysis

        return analysis.read_spike_trains(self.spikes_path, self.network.neuron_numbers)

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
        """Scale note for titles (figures.md §1.4): empty at full scale."""
        if self.full_scale:
            return ""
        d = self.downscaling
        scheme = {"linear": "published down-scaling"}.get(d["scaling_type"], f"{d['scaling_type']} down-scaling")
        return (f"N = {float(d['n_scaling']):g}, K = {float(d['k_scaling']):g}, {scheme}, "
                f"{self.t_sim_ms / 1000:g} s simulated — not the full-scale regime")

    def descriptor(self) -> dict:
        """Sidecar descriptor of the run (figures.md §1.3)."""
        d = self.downscaling
        return {"kind": "run", "name": self.name, "experiment": self.run.get("experiment"),
                "folder": str(self.folder), "net_hash": self.run.get("net_hash"), "sim_hash": self.run.get("sim_hash"),
                "n_scaling": d["n_scaling"], "k_scaling": d["k_scaling"], "scaling_type": d["scaling_type"],
                "t_sim_ms": self.t_sim_ms, "seed": self.run.get("seed"),
                "chi": self.params["network"]["scaling"]["chi"], "chi_I": self.params["network"]["scaling"]["chi_I"]}


def run_input(name: str, folder: str | Path | None) -> RunInput | None:
    """The run ``name`` at ``folder``, or None when it was not given or is not complete."""
    if folder is None:
        return None
    folder = Path(folder)
    if not ((folder / "run.json").is_file() and (folder / "spikes.h5").is_file()):
        log.warning("run %s: %s holds no complete simulation (spikes.h5 and run.json)", name, folder)
        return None
    return RunInput(name, folder)


def status_of_runs(runs: list[RunInput | None], missing: list[dict]) -> str:
    """Status of a simulation figure: ``partial`` with missing panels, ``scaled`` when drawn from a
    down-scaled run, else ``full``."""
    if missing:
        return PARTIAL
    return SCALED if any(r is not None and not r.full_scale for r in runs) else FULL


def cli_runs(build: Callable[..., FigureResult | list], description: str, run_names: tuple[str, ...],
             extra_args: Callable[[argparse.ArgumentParser], None] | None = None, argv: list[str] | None = None) -> None:
    """``python -m paper_figures.<module> --out DIR --run NAME=FOLDER ...`` for figures drawn from
    simulations; ``build(out_dir=..., runs={name: folder}, **extra)``, where ``extra_args`` may add
    options to the parser and each added option is passed to ``build`` by its destination name."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=Path("figures"), help="output folder")
    parser.add_argument("--run", action="append", default=[], metavar="NAME=FOLDER",
                        help=f"simulation folder (OUT/<net_hash>/<sim_hash>) of a run; names: {', '.join(run_names)}")
    if extra_args is not None:
        extra_args(parser)
    args = vars(parser.parse_args(argv))
    out, items = args.pop("out"), args.pop("run")
    runs = {}
    for item in items:
        name, sep, folder = item.partition("=")
        if not sep or name not in run_names:
            parser.error(f"--run takes NAME=FOLDER with NAME one of {', '.join(run_names)}; got {item!r}")
        runs[name] = Path(folder)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    results = build(out_dir=out, runs=runs, **args)
    for result in results if isinstance(results, list) else [results]:
        print(f"{result.figure_id}: {result.status}; " + ", ".join(str(p) for p in result.paths.values()))
        for item in result.missing:
            print(f"  missing panel {item['panel']}: {item['input']} ({item['how']})")
