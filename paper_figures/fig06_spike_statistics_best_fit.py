"""F6: spike statistics of the best fit, χ = 2.5 (docs/figures.md §4.4), from the analysis of the pipeline's run ``best_fit``.

The same figure as F4 (:mod:`paper_figures.fig04_spike_statistics`) for the best-fit run; the
drawing is shared (:mod:`paper_figures.spike_statistics`).
"""

from __future__ import annotations

import sys

from . import common
from .spike_statistics import build_spike_statistics

FIGURE_ID = "F6"
TITLE = "Spike statistics, best fit"
RUN_NAME = "best_fit"
STEM = "fig06_spike_statistics_best_fit"
SPEC = common.FigureSpec(stems=(STEM,), runs={RUN_NAME: common.Source.run("best_fit")})


def build(out_dir, inputs: common.FigureInputs) -> common.FigureResult:
    """Draw F6 from the run ``best_fit``; "not produced" without it."""
    return build_spike_statistics(out_dir, inputs, run_name=RUN_NAME, run_label="R-best, χ = 2.5", figure_id=FIGURE_ID,
                                  title=TITLE, stem=STEM, expected_chi=2.5)


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
