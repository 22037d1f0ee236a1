"""F5s: χ-scan variant families (docs/figures.md §4.6), one figure per shipped family, labelled by its name,
drawn like F5 from the family's shipped statistics (``humam chi-scan FAMILY``) and, where the pipeline ran
them (``doit scans=all``), the statistics of the profile's runs of the family's members."""

from __future__ import annotations

import sys
from pathlib import Path

from humam.analysis import CHI_SCAN_FOLDERS, FAMILY_FOLDERS

from . import common
from .fig05_chi_scan import MAIN_FOLDER, build_family

FIGURE_ID = "F5s"
VARIANTS = tuple(folder for folder in CHI_SCAN_FOLDERS if folder != MAIN_FOLDER)
#: The scan family (experiment) of each variant folder; the factor10per7 folder has none (docs/model.md §13).
FAMILY_OF_FOLDER = {folder: family for family, folder in FAMILY_FOLDERS.items() if folder in VARIANTS}
SPEC = common.FigureSpec(stems=tuple(f"fig05s_chi_scan_{family}" for family in VARIANTS), chi_scans=VARIANTS,
                         scans={family: common.Scan(family, variant=True) for family in FAMILY_OF_FOLDER.values()})


def build(out_dir, inputs: common.FigureInputs, families=VARIANTS,
          chi_star: dict | None = None) -> list[common.FigureResult]:
    """Draw one χ-scan figure per variant folder; ``chi_star`` may override the published χ* per folder."""
    chi_star = chi_star or {}
    return [build_family(folder, Path(out_dir), inputs, chi_star=chi_star.get(folder),
                         figure_id=f"{FIGURE_ID} ({folder})", stem=f"fig05s_chi_scan_{folder}",
                         family=FAMILY_OF_FOLDER.get(folder)) for folder in families]


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
