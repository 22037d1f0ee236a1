"""Where every output of humam lives: the one owner of the output tree.

The command line, the task graph (``dodo.py``) and the figure modules all ask this module for
paths, so the folder a task expects and the one a command writes cannot disagree::

    OUT/
      <net_hash>/network.h5                      network of one resolved ``network`` section
      <net_hash>/theory-<theory_hash>.h5         its mean-field rates (``theory`` options hashed)
      <net_hash>/<sim_hash>/spikes.h5            one simulation (SONATA spike file)
      <net_hash>/<sim_hash>/run.json             its record, written last
      <net_hash>/<sim_hash>/analysis-<analysis_hash>.h5   its analysis (``analysis`` options hashed)
      <net_hash>/<sim_hash>/journey-<sim_hash>.h5   a perturbed run against its unperturbed twin
      chi_scan/<family>.h5                       statistics of a shipped chi-scan family
      chi_scan/<family>-<hash>.h5                statistics of the pipeline's runs of a scan family
      figures/<stem>.{png,pdf,json}              the paper's figures and their sidecars
      report.md, report.html

``net_hash`` hashes the ``network`` section, ``sim_hash`` the network hash, the ``simulation``
section and the number of virtual processes (MPI processes x threads), which together fix the
spikes; ``theory_hash`` and ``analysis_hash`` add their own sections (:mod:`humam.parameters`).
The hashes address parameters; whether a file still holds what the current code computes from
them is decided by the task graph, and a run records the content digest of the network it was
simulated from (:func:`humam.network_file.content_digest`), so it is never reused for another.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import parameters

NETWORK_FILE = "network.h5"
SPIKES_FILE = "spikes.h5"
RUN_FILE = "run.json"
FIGURES_DIR = "figures"
CHI_SCAN_DIR = "chi_scan"
REPORT_FILES = ("report.md", "report.html")
#: Formats every figure is written in, besides its JSON sidecar.
FIGURE_FORMATS = ("png", "pdf")


def virtual_processes(params: dict, processes: int) -> int:
    """MPI processes x threads per process of a run of ``params`` on ``processes`` processes."""
    return int(processes) * int(params["simulation"]["threads"])


@dataclass(frozen=True)
class RunFolder:
    """The files of one simulation folder ``OUT/<net_hash>/<sim_hash>``."""

    path: Path

    @property
    def spikes(self) -> Path:
        return self.path / SPIKES_FILE

    @property
    def record(self) -> Path:
        """run.json, written last: a folder without it holds no finished run."""
        return self.path / RUN_FILE

    @property
    def network(self) -> Path:
        """The network the run was simulated from (its parent folder's network.h5)."""
        return self.path.parent / NETWORK_FILE

    def analysis(self, params: dict, processes: int = 1) -> Path:
        """analysis-<analysis_hash>.h5 of the run of ``params`` (analysis options included)."""
        digest = parameters.analysis_hash(params, virtual_processes(params, processes))
        return self.path / f"analysis-{digest[:16]}.h5"

    def analyses(self) -> list[Path]:
        """Every analysis file in the folder (any analysis options)."""
        return sorted(self.path.glob("analysis-*.h5"))

    def is_complete(self) -> bool:
        return self.record.is_file() and self.spikes.is_file()


@dataclass(frozen=True)
class Layout:
    """The output tree below ``root``."""

    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    # networks and what is computed from them
    def network_dir(self, params: dict) -> Path:
        return self.root / parameters.net_hash(params)

    def network_file(self, params: dict) -> Path:
        return self.network_dir(params) / NETWORK_FILE

    def theory_file(self, params: dict) -> Path:
        """Mean-field rates of the network of ``params`` with its ``theory`` options."""
        return self.network_dir(params) / f"theory-{parameters.theory_hash(params)[:16]}.h5"

    # simulations
    def run(self, params: dict, processes: int = 1) -> RunFolder:
        """The folder of the simulation of ``params`` on ``processes`` MPI processes."""
        vps = virtual_processes(params, processes)
        return RunFolder(self.network_dir(params) / parameters.sim_hash(params, vps))

    def analysis_file(self, params: dict, processes: int = 1) -> Path:
        return self.run(params, processes).analysis(params, processes)

    # shipped chi-scan statistics
    def chi_scan_file(self, family: str) -> Path:
        return self.root / CHI_SCAN_DIR / f"{family}.h5"

    def scan_statistics_file(self, family: str, members: list[dict], processes: int = 1) -> Path:
        """Statistics of the pipeline's runs of scan family ``family`` whose members have the
        parameters ``members``: ``chi_scan/<family>-<hash>.h5``, the hash over the members' analysis
        hashes (so every scale and choice of members has its own file)."""
        digests = sorted(parameters.analysis_hash(p, virtual_processes(p, processes)) for p in members)
        return self.root / CHI_SCAN_DIR / f"{family}-{parameters.content_hash(digests)[:16]}.h5"

    # figures and report
    @property
    def figures_dir(self) -> Path:
        return self.root / FIGURES_DIR

    def figure_files(self, stem: str) -> list[Path]:
        """The image files and the JSON sidecar of figure ``stem``."""
        return [self.figures_dir / f"{stem}.{ext}" for ext in (*FIGURE_FORMATS, "json")]

    @property
    def report_files(self) -> list[Path]:
        return [self.root / name for name in REPORT_FILES]


def journey_file(perturbed: RunFolder, unperturbed: RunFolder) -> Path:
    """The spike journey of ``perturbed`` against ``unperturbed`` (in the perturbed run's folder)."""
    return perturbed.path / f"journey-{unperturbed.path.name[:16]}.h5"
