"""F2: construction of the connectivity (docs/figures.md §4.2), panels A–F, from NET-full."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm

from humam import tables
from humam.tables import POPULATION_AREA_INDEX

from . import common, style
from .quantities import target_layer_probability

FIGURE_ID = "F2"
TITLE = "Construction of the connectivity"
SPEC = common.FigureSpec(stems=("fig02_connectivity",), networks={"full": common.Source.network("network_only")})
MACAQUE_HOW = "macaque SLN and density data (Schmidt et al. 2018); pass macaque={'x': ln density ratio, 'sln': SLN}"


def build(out_dir, inputs: common.FigureInputs, macaque: dict | None = None) -> common.FigureResult:
    """Draw F2. ``macaque`` (optional): {"x": ln(ρ_target/ρ_source), "sln": SLN} of the macaque data."""
    net = common.require(inputs.network("full"), "the full-scale network", "network:full")
    conn = inputs.network_parameters("full")["connectivity"]
    missing = [] if macaque is not None else [common.missing_item("D", "macaque SLN/density data", MACAQUE_HOW)]

    with style.figure_style():
        fig = plt.figure(figsize=(13, 8.6))
        grid = fig.add_gridspec(2, 3, hspace=0.42, wspace=0.38)
        axes = {k: fig.add_subplot(grid[i, j]) for k, (i, j) in zip("ABCDEF", np.ndindex(2, 3))}
        _panel_a(axes["A"])
        _panel_b(axes["B"], net)
        _panel_c(axes["C"])
        x_pairs = _panel_d(axes["D"], net, conn, macaque)
        _panel_e(axes["E"], net, conn)
        _panel_f(axes["F"], net)
        for letter, ax in axes.items():
            style.panel_label(ax, letter, x=-0.16)
        fig.suptitle(f"F2 — {TITLE} (full-scale network)", fontsize=10)
        status = common.PARTIAL if missing else common.FULL
        meta = common.sidecar(FIGURE_ID, TITLE, [inputs.network_descriptor("full")], status, missing,
                              notes="panel D: fit curve and thresholds only" if missing else "")
        paths = style.save_figure(fig, Path(out_dir) / "fig02_connectivity", meta)
    return common.FigureResult(FIGURE_ID, status, paths, missing, {"x_range": [float(x_pairs.min()), float(x_pairs.max())]})


def _panel_a(ax):
    p = style.masked(tables.pd_synapses_per_pair())
    im = ax.imshow(style.log10_masked(p), cmap=style.sequential_cmap())
    ticks = np.arange(8)
    ax.set_xticks(ticks, style.POPULATION_LABELS, rotation=90)
    ax.set_yticks(ticks, style.POPULATION_LABELS)
    ax.set_xlabel("source population")
    ax.set_ylabel("target population")
    ax.set_title("Potjans–Diesmann synapses per neuron pair")
    style.colorbar(im, ax, "log10 synapses per neuron pair")


def _panel_b(ax, net):
    nos = np.array(net.nos, dtype=float)
    nos[np.eye(len(nos), dtype=bool)] = 0
    im = ax.imshow(style.log10_masked(nos), cmap=style.sequential_cmap())
    style.area_ticks(ax, net.areas)
    ax.set_xlabel("source area")
    ax.set_ylabel("target area")
    ax.set_title("DTI streamline counts (NOS)")
    style.colorbar(im, ax, "log10 NOS (streamlines)")


def _panel_c(ax):
    values = target_layer_probability()
    im = ax.imshow(values, cmap=style.sequential_cmap(), vmin=0, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v < 0.55 else "black")
    ax.set_xticks(np.arange(5), style.SYNAPSE_LAYER_LABELS)
    ax.set_yticks(np.arange(4), style.LAYER_LABELS)
    ax.set_xlabel("layer of the synapse")
    ax.set_ylabel("layer of the target cell body")
    ax.set_title("Synapse-to-cell-body probability")
    style.colorbar(im, ax, "probability (E + I of the layer)")


def _pair_x(net) -> np.ndarray:
    rho = np.asarray(net.mean_density_per_mm3, dtype=float)
    x = np.log(rho[:, None] / rho[None, :])
    connected = (np.asarray(net.nos) > 0) & ~np.eye(len(rho), dtype=bool)
    return x[connected]


def _panel_d(ax, net, conn, macaque):
    x_pairs = _pair_x(net)
    margin = 0.15 * (x_pairs.max() - x_pairs.min())
    x = np.linspace(x_pairs.min() - margin, x_pairs.max() + margin, 300)
    if macaque is not None:
        ax.scatter(macaque["x"], macaque["sln"], s=8, color="#999999", label="macaque data", zorder=1)
    ax.plot(x, norm.cdf(conn["sln_a0"] + conn["sln_a1"] * x), color="black", lw=1.5,
            label=f"SLN = Φ({conn['sln_a0']} {conn['sln_a1']:+} x)".replace("-", "−"))
    ax.axhline(conn["sln_ff"], ls="--", color=style.DIRECTIONALITY_COLORS["FF"], lw=1, label=f"FF ≥ {conn['sln_ff']}")
    ax.axhline(conn["sln_fb"], ls="--", color=style.DIRECTIONALITY_COLORS["FB"], lw=1, label=f"FB < {conn['sln_fb']}")
    ax.plot(x_pairs, np.full_like(x_pairs, -0.03), "|", color="#555555", ms=6, alpha=0.5, label="human pairs (rug)")
    ax.set_ylim(-0.07, 1.02)
    ax.set_xlabel("x = ln(ρ_target / ρ_source)")
    ax.set_ylabel("SLN")
    ax.set_title("SLN against log density ratio")
    ax.legend(loc="upper right")
    if macaque is None:
        ax.text(0.97, 0.22, "macaque data not available", transform=ax.transAxes, fontsize=7, color="#b00000", ha="right")
    return x_pairs


def _panel_e(ax, net, conn):
    sln = np.array(net.sln, dtype=float)
    connected = (np.asarray(net.nos) > 0) & ~np.eye(len(sln), dtype=bool)
    im = ax.imshow(np.ma.masked_array(sln, ~connected), cmap=style.sln_cmap(), vmin=0, vmax=1)
    style.area_ticks(ax, net.areas)
    ax.set_xlabel("source area")
    ax.set_ylabel("target area")
    ax.set_title(f"Predicted SLN ({int(connected.sum())} connected pairs)")
    cb = style.colorbar(im, ax, "SLN (fraction supragranular)")
    for level in (conn["sln_fb"], conn["sln_ff"]):
        cb.ax.axhline(level, color="white", lw=1.2)
    cb.set_ticks([0, conn["sln_fb"], conn["sln_ff"], 1])


def _panel_f(ax, net):
    s = np.asarray(net.synapses, dtype=float)
    im = ax.imshow(style.log10_masked(s), cmap=style.sequential_cmap())
    edges = np.arange(1, tables.N_AREAS) * tables.N_POPULATIONS_PER_AREA - 0.5
    for e in edges:
        ax.axhline(e, color="white", lw=0.2)
        ax.axvline(e, color="white", lw=0.2)
    centres = np.arange(tables.N_AREAS) * tables.N_POPULATIONS_PER_AREA + 3.5
    labels = [style.short(a) for a in net.areas]
    ax.set_xticks(centres, labels, rotation=90, fontsize=4.5)
    ax.set_yticks(centres, labels, fontsize=4.5)
    ax.tick_params(length=1.5, pad=1)
    ax.set_xlabel("source population (grouped by area)")
    ax.set_ylabel("target population (grouped by area)")
    ax.set_title("Population-level mesoconnectome")
    style.colorbar(im, ax, "log10 synapses")
    assert len(POPULATION_AREA_INDEX) == s.shape[0]


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
