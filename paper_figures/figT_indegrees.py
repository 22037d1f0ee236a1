"""T-IN: area-level indegree matrices, down-scaled and full-scale (figures.md §4.13).

Entry (A, B) = Σ_{i∈A} Σ_{j∈B} S_ij / N_i (rows target, columns source), log10 colour scale.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from humam.network import POPULATION_AREA_INDEX

from . import common, style
from .quantities import area_indegree_matrix

FIGURE_ID = "T-IN"
TITLE = "Area-level indegree matrices"
TUTORIAL_SCALE = 0.004


def build(out_dir, n_scaling: float = TUTORIAL_SCALE, k_scaling: float = TUTORIAL_SCALE) -> common.FigureResult:
    """Draw T-IN for NET-down(n_scaling, k_scaling) and NET-full."""
    nets = {"down": common.downscaled_network(n_scaling, k_scaling), "full": common.full_network()}
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
        params = {"down": common.downscaled_params(n_scaling, k_scaling), "full": common.default_params()}
        inputs = [common.network_input(f"NET-down({n_scaling:g}, {k_scaling:g})", params["down"]),
                  common.network_input("NET-full", params["full"])]
        meta = common.sidecar(FIGURE_ID, TITLE, inputs, common.FULL, [], n_scaling=n_scaling, k_scaling=k_scaling)
        paths = style.save_figure(fig, Path(out_dir) / "figT_indegrees", meta)
    ratio = matrices["down"][matrices["full"] > 0] / matrices["full"][matrices["full"] > 0]
    return common.FigureResult(FIGURE_ID, common.FULL, paths, [], {"matrices": matrices, "median_ratio": float(np.median(ratio))})


def main():
    common.cli(build, __doc__)


if __name__ == "__main__":
    main()
