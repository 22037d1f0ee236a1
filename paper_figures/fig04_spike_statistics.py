"""F4: spike statistics of the ground state, χ = 1 (docs/figures.md §4.4), from the analysis of the pipeline's run ``ground_state``.

Panels A–C: rasters of caudalanteriorcingulate, pericalcarine and fusiform (the raster sample of the
analysis); D–F: box plots across areas of the population mean rate, CV ISI and correlation
coefficient per population type. The drawing is shared with F6 (:mod:`paper_figures.spike_statistics`).
"""

from __future__ import annotations

import sys

from . import common
from .spike_statistics import build_spike_statistics

FIGURE_ID = "F4"
TITLE = "Spike statistics, ground state"
RUN_NAME = "ground_state"
STEM = "fig04_spike_statistics"
SPEC = common.FigureSpec(stems=(STEM,), runs={RUN_NAME: common.Source.run("ground_state")})


def build(out_dir, inputs: common.FigureInputs) -> common.FigureResult:
    """Draw F4 from the run ``ground_state``; "not produced" without it."""
    return build_spike_statistics(out_dir, inputs, run_name=RUN_NAME, run_label="R-base, χ = 1", figure_id=FIGURE_ID,
                                  title=TITLE, stem=STEM, expected_chi=1.0)


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
