"""F4: spike statistics of the ground state, χ = 1 (figures.md §4.4), from the pipeline's run ``ground_state``.

Panels A–C: rasters of caudalanteriorcingulate, pericalcarine and fusiform; D–F: box plots across
areas of the population mean rate, CV ISI and correlation coefficient per population type. The
drawing is shared with F6 (:mod:`paper_figures.spike_statistics`).
"""

from __future__ import annotations

from . import common
from .spike_statistics import build_spike_statistics

FIGURE_ID = "F4"
TITLE = "Spike statistics, ground state"
RUN_NAME = "ground_state"
RUN_NAMES = (RUN_NAME,)
STEM = "fig04_spike_statistics"


def build(out_dir, runs: dict) -> common.FigureResult:
    """Draw F4 from ``runs["ground_state"]`` (a run folder); "not produced" without it."""
    return build_spike_statistics(out_dir, runs, run_name=RUN_NAME, run_label="R-base, χ = 1", figure_id=FIGURE_ID,
                                  title=TITLE, stem=STEM, expected_chi=1.0)


def main():
    common.cli_runs(build, __doc__, RUN_NAMES)


if __name__ == "__main__":
    main()
