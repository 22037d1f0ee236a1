"""Small interface shared by the figure builders: result record, input descriptors, CLI."""

from __future__ import annotations

import argparse
import functools
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
