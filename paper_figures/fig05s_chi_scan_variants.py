"""F5s: χ-scan variant families (figures.md §4.6), one figure per shipped folder, labelled by folder name."""

from __future__ import annotations

from pathlib import Path

from . import common
from .fig05_chi_scan import FAMILIES, MAIN_FOLDER, build_family

FIGURE_ID = "F5s"
VARIANTS = tuple(folder for folder in FAMILIES if folder != MAIN_FOLDER)


def build(out_dir, folders=VARIANTS, chi_star: dict | None = None, experimental_fc="auto") -> list[common.FigureResult]:
    """Draw one χ-scan figure per variant folder; ``chi_star`` may override χ* per folder."""
    chi_star = chi_star or {}
    return [build_family(folder, Path(out_dir), chi_star=chi_star.get(folder), experimental_fc=experimental_fc,
                         figure_id=f"{FIGURE_ID} ({folder})", stem=f"fig05s_chi_scan_{folder}") for folder in folders]


def main():
    common.cli(build, __doc__)


if __name__ == "__main__":
    main()
