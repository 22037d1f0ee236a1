"""F5s: χ-scan variant families (docs/figures.md §4.6), one figure per shipped family, labelled by its name,
drawn from the family's chi-scan statistics (``humam chi-scan FAMILY``)."""

from __future__ import annotations

import sys
from pathlib import Path

from humam.analysis import CHI_SCAN_FOLDERS

from . import common
from .fig05_chi_scan import MAIN_FOLDER, build_family

FIGURE_ID = "F5s"
VARIANTS = tuple(folder for folder in CHI_SCAN_FOLDERS if folder != MAIN_FOLDER)
SPEC = common.FigureSpec(stems=tuple(f"fig05s_chi_scan_{family}" for family in VARIANTS), chi_scans=VARIANTS)


def build(out_dir, inputs: common.FigureInputs, families=VARIANTS,
          chi_star: dict | None = None) -> list[common.FigureResult]:
    """Draw one χ-scan figure per variant family; ``chi_star`` may override χ* per family."""
    chi_star = chi_star or {}
    return [build_family(family, Path(out_dir), inputs, chi_star=chi_star.get(family),
                         figure_id=f"{FIGURE_ID} ({family})", stem=f"fig05s_chi_scan_{family}") for family in families]


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
