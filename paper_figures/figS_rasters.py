"""S-RA: rasters of all 34 areas of the best fit (docs/figures.md §4.11), from the analysis of the run ``best_fit``.

Three figures of 12, 12 and 10 raster panels (4 × 3 grids), areas in alphabetical order. Each
raster is drawn as in F4/F6 panels A–C (:func:`paper_figures.spike_statistics.draw_raster`): a
seeded 2.5 % of the spiking neurons of every population (the raster sample of the analysis),
populations from 2/3E (top) to 6I.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import matplotlib.pyplot as plt

from humam import tables

from . import common, style
from .spike_statistics import (area_raster, chi_text, draw_raster, figure_title, not_produced, raster_metadata,
                               run_raster_sample)

FIGURE_ID = "S-RA"
TITLE = "Rasters of all areas, best fit"
RUN_NAME = "best_fit"
STEM = "figS_rasters"
PAGE_SIZES = (12, 12, 10)
SPEC = common.FigureSpec(stems=tuple(f"{STEM}_{number}" for number in range(1, len(PAGE_SIZES) + 1)),
                         runs={RUN_NAME: common.Source.run("best_fit")})
ROWS, COLUMNS = 4, 3


def pages(areas=tables.AREAS, sizes=PAGE_SIZES) -> list[tuple[str, ...]]:
    """The areas of each figure, in order."""
    bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
    return [tuple(areas[a:b]) for a, b in itertools.pairwise(bounds)]


def page_id(number: int) -> str:
    return f"{FIGURE_ID} ({number}/{len(PAGE_SIZES)})"


def page_stem(number: int) -> str:
    return f"{STEM}_{number}"


def build(out_dir, inputs: common.FigureInputs) -> list[common.FigureResult]:
    """Draw the three S-RA figures from the run ``best_fit``; each "not produced" without it."""
    run = inputs.run(RUN_NAME)
    if run is None:
        return [not_produced(page_id(i), RUN_NAME, "R-best, χ = 2.5", "all") for i in range(1, len(PAGE_SIZES) + 1)]
    sample = run_raster_sample(run)
    status = common.status_of_runs([run], [])
    start, stop = sample["window_ms"]
    results, first = [], 1
    for number, areas in enumerate(pages(), start=1):
        rasters = {area: area_raster(sample, area) for area in areas}
        title = f"{page_id(number)} — {TITLE} ({chi_text(run)})"
        with style.figure_style():
            fig, axes = plt.subplots(ROWS, COLUMNS, figsize=(11, 12.5),
                                     gridspec_kw={"hspace": 0.42, "wspace": 0.22, "top": 0.905, "bottom": 0.045,
                                                  "left": 0.06, "right": 0.99})
            for ax, area in zip(axes.flat, areas):
                draw_raster(ax, rasters[area])
            for ax in axes.flat[len(areas):]:
                ax.set_visible(False)
            fig.text(0.5, 0.935, f"Areas {first}–{first + len(areas) - 1} of {tables.N_AREAS} "
                     f"(alphabetical). {100 * sample['fraction']:g} % of the spiking neurons of each population, "
                     f"{start:g}–{stop:g} ms; populations from 2/3E (top) to 6I, empty populations absent.",
                     ha="center", va="bottom", fontsize=8, color="#333333")
            figure_title(fig, title, run)
            meta = common.sidecar(page_id(number), title, [run.descriptor()], status, [],
                                  scale_banner=run.scale_banner(), page=number, pages=len(PAGE_SIZES),
                                  raster=raster_metadata(sample, areas))
            paths = style.save_figure(fig, Path(out_dir) / page_stem(number), meta)
        values = {"areas": list(areas), "raster": rasters, "raster_window_ms": sample["window_ms"]}
        results.append(common.FigureResult(page_id(number), status, paths, [], values))
        first += len(areas)
    return results


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
