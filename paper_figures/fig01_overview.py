"""F1: model overview (docs/figures.md §4.1) — a programmatic schematic, not the published artwork."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from . import common, style

FIGURE_ID = "F1"
TITLE = "Model overview"
SPEC = common.FigureSpec(stems=("fig01_overview",), networks={"full": common.Source.network("network_only")})
INPUTS = ("vEK cytoarchitecture", "E/I fractions", "DTI streamlines\n& fibre lengths", "area volumes",
          "Potjans–Diesmann\nmicrocircuit", "Binzegger & Mohan\ntables")
STAGES = ("neuron numbers\n(34 areas × 8 populations)",
          "synapse numbers\nlocal (type I), cortico-cortical (type III),\nexternal (type II → Poisson)",
          "network\nLIF neurons, weights (χ, χ_I), delays",
          "NEST simulation",
          "analysis\nspike statistics, synaptic currents,\nBOLD, FC, comparison with data")


def _box(ax, x, y, w, h, text, color, fontsize=7):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.01", facecolor=color,
                                edgecolor="#444444", lw=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, color="#444444", style_="-|>"):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style_, mutation_scale=9, color=color, lw=1))


def build(out_dir, inputs: common.FigureInputs) -> common.FigureResult:
    """Draw F1; the network totals are printed when the full-scale network is given."""
    net = inputs.network("full")
    with style.figure_style():
        fig, (ax, ax_col) = plt.subplots(1, 2, figsize=(12, 6), gridspec_kw={"width_ratios": [2.3, 1], "wspace": 0.05})
        for a in (ax, ax_col):
            a.set_xlim(0, 1)
            a.set_ylim(0, 1)
            a.axis("off")
        for k, text in enumerate(INPUTS):
            y = 0.9 - k * 0.155
            _box(ax, 0.12, y, 0.21, 0.11, text, "#eeeeee")
            _arrow(ax, (0.23, y), (0.34, 0.5 + (0.9 - k * 0.155 - 0.5) * 0.3))
        ys = np.linspace(0.88, 0.12, len(STAGES))
        for k, (text, y) in enumerate(zip(STAGES, ys)):
            _box(ax, 0.6, y, 0.42, 0.12, text, "#dde8f3" if k < 3 else "#f6e3d6")
            if k:
                _arrow(ax, (0.6, ys[k - 1] - 0.06), (0.6, y + 0.06))
        _arrow(ax, (0.34, 0.5), (0.39, ys[0]))
        if net is not None:
            totals = (f"NET-full: {int(np.sum(net.neuron_numbers)):,} neurons, {len(net.areas)} areas,\n"
                      f"{float(np.sum(net.synapses)):.3g} internal synapses, "
                      f"{float(np.sum(net.synapses_external)):.3g} external synapses")
            ax.set_ylim(-0.1, 1)
            ax.text(0.6, -0.09, totals, ha="center", va="bottom", fontsize=7.5, fontweight="bold")
        ax.set_title("Pipeline", fontsize=9)
        _layer_sketch(ax_col)
        fig.suptitle(f"{FIGURE_ID} — {TITLE} (schematic, not the published artwork)", fontsize=10)
        meta = common.sidecar(FIGURE_ID, TITLE, [inputs.network_descriptor("full")] if net is not None else [], common.FULL, [],
                              notes="programmatic schematic, not the published artwork")
        paths = style.save_figure(fig, Path(out_dir) / "fig01_overview", meta)
    values = {} if net is None else {"neurons": int(np.sum(net.neuron_numbers)), "synapses": int(np.sum(net.synapses))}
    return common.FigureResult(FIGURE_ID, common.FULL, paths, [], values)


def _layer_sketch(ax):
    layers = ("I", "II/III", "IV", "V", "VI")
    tops = np.linspace(0.9, 0.15, 6)
    for k, name in enumerate(layers):
        y0, y1 = tops[k + 1], tops[k]
        ax.add_patch(plt.Rectangle((0.2, y0), 0.5, y1 - y0, facecolor="#f7f7f7" if k % 2 else "#ffffff",
                                   edgecolor="#999999", lw=0.6))
        ax.text(0.17, (y0 + y1) / 2, name, ha="right", va="center", fontsize=7)
        if k:
            yc = (y0 + y1) / 2
            ax.plot(0.33, yc, "^", ms=10, color=style.E_COLOR)
            ax.plot(0.5, yc, "o", ms=8, color=style.I_COLOR)
            _arrow(ax, (0.36, yc + 0.02), (0.47, yc + 0.02), color="#555555")
            _arrow(ax, (0.47, yc - 0.02), (0.36, yc - 0.02), color="#555555")
    _arrow(ax, (0.95, 0.55), (0.72, 0.55), color=style.DIRECTIONALITY_COLORS["FF"])
    ax.text(0.97, 0.58, "type III\ncortico-cortical", fontsize=6.5, ha="right", va="bottom")
    _arrow(ax, (0.95, 0.25), (0.72, 0.25), color="#777777", style_="-|>")
    ax.text(0.97, 0.28, "type II external\n(Poisson)", fontsize=6.5, ha="right", va="bottom")
    ax.text(0.42, 0.07, "type I: local E/I synapses within the 1 mm² column", ha="center", fontsize=6.5)
    ax.plot([], [], "^", color=style.E_COLOR, label="E population")
    ax.plot([], [], "o", color=style.I_COLOR, label="I population")
    ax.legend(loc="upper center", ncol=2, bbox_to_anchor=(0.45, 1.0))
    ax.set_title("One area: layers I–VI", fontsize=9)


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
