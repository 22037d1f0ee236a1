"""T-IN: area-level indegree matrices, down-scaled and full-scale (docs/figures.md §4.13).

Entry (A, B) = Σ_{i∈A} Σ_{j∈B} S_ij / N_i (rows target, columns source), log10 colour scale.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from humam.tables import POPULATION_AREA_INDEX

from . import common, style
from .quantities import area_indegree_matrix

FIGURE_ID = "T-IN"
TITLE = "Area-level indegree matrices"
SPEC = common.FigureSpec(stems=("figT_indegrees",), networks={"down": common.Source.network("tutorial"),
                                                               "full": common.Source.network("network_only")})


def build(out_dir, inputs: common.FigureInputs) -> common.FigureResult:
    """Draw T-IN for the tutorial's down-scaled network and the full-scale network."""
    nets = {key: common.require(inputs.network(key), f"the {key} network", f"network:{key}") for key in ("down", "full")}
    n_scaling, k_scaling = float(nets["down"].n_scaling), float(nets["down"].k_scaling)
    matrices = {k: area_indegree_matrix(np.asarray(v.synapses), np.asarray(v.neuron_numbers), POPULATION_AREA_INDEX)
                for k, v in nets.items()}
    titles = {"down": f"down-scaled, N = {n_scaling:g}, K = {k_scaling:g}", "full": "full scale"}
    with style.figure_style():
        fig, axes = plt.subplots(1, 2, figsize=(12, 5.6), gridspec_kw={"wspace": 0.35})
        for ax, key, letter in zip(axes, ("down", "full"), "AB"):
            im = ax.imshow(style.log10_masked(matrices[key]), cmap=style.sequential_cmap())
            style.area_ticks(ax, nets[key].areas, fontsize=5.5)
            ax.set_xlabel("source area")
            ax.set_ylabel("target area")
            ax.set_title(titles[key])
            style.colorbar(im, ax, "log10 summed indegree (synapses per target neuron)")
            style.panel_label(ax, letter)
        fig.suptitle(f"{FIGURE_ID} — {TITLE}: Σ_(i∈A) Σ_(j∈B) S_ij / N_i", fontsize=10)
        fig.text(0.5, 0.0, f"Down-scaled indegrees are about K = {k_scaling:g} times the full-scale ones "
                 "(published linear down-scaling; not the full-scale regime). Zeros masked in grey.",
                 ha="center", fontsize=7)
        meta = common.sidecar(FIGURE_ID, TITLE, [inputs.network_descriptor(k) for k in ("down", "full")], common.FULL,
                              [], n_scaling=n_scaling, k_scaling=k_scaling)
        paths = style.save_figure(fig, Path(out_dir) / "figT_indegrees", meta)
    ratio = matrices["down"][matrices["full"] > 0] / matrices["full"][matrices["full"] > 0]
    return common.FigureResult(FIGURE_ID, common.FULL, paths, [], {"matrices": matrices, "median_ratio": float(np.median(ratio))})


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
