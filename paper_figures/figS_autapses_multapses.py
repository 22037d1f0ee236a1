"""S-AM: expected autapses and multapses of NET-full (docs/figures.md §4.12).

Fixed-total-number wiring with autapses and multapses allowed places the S_ij synapses of a pair
uniformly on the N_i N_j ordered neuron pairs. Hence (see :mod:`paper_figures.quantities`):

* panel A: autapses per neuron of population i = S_ii / N_i²; area value = mean over its non-empty populations;
* panel B: multapse degree m_ij = S_ij / (N_i N_j); per target population, the mean of m_ij over its
  sources with S_ij > 0; the annotation is the fraction of connected pairs with ≥ 2 synapses at the
  median m, (1 − e^(−m)(1 + m)) / (1 − e^(−m)).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from humam import tables
from humam.tables import POPULATION_AREA_INDEX

from . import common, style
from .quantities import expected_autapses_per_neuron, mean_multapse_degree_per_target, multapse_fraction

FIGURE_ID = "S-AM"
TITLE = "Expected autapses and multapses"
SPEC = common.FigureSpec(stems=("figS_autapses_multapses",), networks={"full": common.Source.network("network_only")})


def area_mean_autapses(synapses, neurons, area_index, n_areas=tables.N_AREAS) -> np.ndarray:
    """Per area, the mean of S_ii / N_i² over its non-empty populations."""
    per_pop = expected_autapses_per_neuron(synapses, neurons)
    return np.array([np.nanmean(per_pop[area_index == a]) for a in range(n_areas)])


def build(out_dir, inputs: common.FigureInputs) -> common.FigureResult:
    """Draw S-AM."""
    net = common.require(inputs.network("full"), "the full-scale network", "network:full")
    s, n = np.asarray(net.synapses), np.asarray(net.neuron_numbers)
    autapses = area_mean_autapses(s, n, POPULATION_AREA_INDEX)
    multapse = mean_multapse_degree_per_target(s, n).reshape(tables.N_AREAS, tables.N_POPULATIONS_PER_AREA)
    order, spans = style.lobe_order()
    idx = [tables.area_index(a) for a in order]
    with style.figure_style():
        fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1.6, 1], "wspace": 0.25})
        colors = [style.LOBE_COLORS[style.area_lobe(a)] for a in order]
        ax_a.bar(np.arange(len(order)), autapses[idx], color=colors)
        ax_a.set_xticks(np.arange(len(order)), [style.short(a) for a in order], rotation=90, fontsize=6)
        ax_a.set_ylabel("expected autapses per neuron")
        ax_a.set_title("Autapses (mean of S_ii / N_i² over the area's populations)")
        handles = [Patch(color=color, label=lobe) for lobe, color in style.LOBE_COLORS.items()]
        ax_a.legend(handles=handles, ncol=3, loc="upper left")
        ax_a.set_ylim(0, autapses.max() * 1.3)
        data = [multapse[:, k][np.isfinite(multapse[:, k])] for k in range(tables.N_POPULATIONS_PER_AREA)]
        box = ax_b.boxplot(data, patch_artist=True, widths=0.6, medianprops={"color": "black"})
        for k, patch in enumerate(box["boxes"]):
            patch.set_facecolor(style.E_COLOR if k % 2 == 0 else style.I_COLOR)
            patch.set_alpha(0.7)
        top = max(d.max() for d in data)
        for k, d in enumerate(data):
            ax_b.text(k + 1, top * 1.08, f"{100 * multapse_fraction(np.median(d)):.1f}%", ha="center", fontsize=6)
        ax_b.text(0.5, top * 1.2, "≥ 2 synapses among connected pairs (at median m):", fontsize=6, ha="left")
        ax_b.set_ylim(0, top * 1.3)
        ax_b.set_xticks(np.arange(1, 9), style.POPULATION_LABELS)
        ax_b.set_xlabel("target population (boxes over areas)")
        ax_b.set_ylabel("mean synapses per connected neuron pair m")
        ax_b.set_title("Multapse degree m_ij = S_ij / (N_i N_j)")
        style.panel_label(ax_a, "A", x=-0.07)
        style.panel_label(ax_b, "B")
        fig.suptitle(f"{FIGURE_ID} — {TITLE} (full-scale network, fixed total number, autapses and multapses allowed)",
                     fontsize=10, y=1.0)
        meta = common.sidecar(FIGURE_ID, TITLE, [inputs.network_descriptor("full")],
                              common.FULL, [], area_order="lobes")
        paths = style.save_figure(fig, Path(out_dir) / "figS_autapses_multapses", meta)
    values = {"autapses_per_neuron_by_area": dict(zip(tables.AREAS, autapses.tolist())),
              "multapse_median_by_population": dict(zip(style.POPULATION_LABELS, [float(np.median(d)) for d in data]))}
    return common.FigureResult(FIGURE_ID, common.FULL, paths, [], values)


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
