"""F3: connectome statistics (docs/figures.md §4.3), panels A–D, from NET-full."""

from __future__ import annotations

import warnings
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from humam import tables
from humam.tables import POPULATION_AREA_INDEX

from . import common, style
from .quantities import area_synapse_counts, outdegree_to_areas

FIGURE_ID = "F3"
TITLE = "Connectome statistics"
SPEC = common.FigureSpec(stems=("fig03_connectome_statistics",), networks={"full": common.Source.network("network_only")})
DIRECTIONS = ("FF", "lateral", "FB")
STRONG_OUTDEGREE = 100.0


def exponential_distance_rule(distance_mm, counts) -> dict:
    """Least-squares line log10(count) = a + b · distance and λ_EDR = −1 / (ln 10 · b) in mm."""
    fit = stats.linregress(np.asarray(distance_mm, float), np.log10(np.asarray(counts, float)))
    return {"slope_per_mm": fit.slope, "intercept": fit.intercept, "r": fit.rvalue,
            "lambda_mm": -1.0 / (np.log(10.0) * fit.slope)}


def build(out_dir, inputs: common.FigureInputs) -> common.FigureResult:
    """Draw F3."""
    net = common.require(inputs.network("full"), "the full-scale network", "network:full")
    values = {}
    with style.figure_style():
        fig, axs = plt.subplots(2, 2, figsize=(10, 7.6))
        fig.subplots_adjust(hspace=0.38, wspace=0.28)
        axes = dict(zip("ABCD", axs.ravel()))
        values.update(_panel_a(axes["A"], net))
        values.update(_panel_b(axes["B"], net))
        outdeg, direction = _outdegrees(net)
        _panel_c(axes["C"], outdeg, direction)
        values["strong_targets"] = _panel_d(axes["D"], outdeg, direction)
        for letter, ax in axes.items():
            style.panel_label(ax, letter)
        fig.suptitle(f"F3 — {TITLE} (full-scale network)", fontsize=10)
        meta = common.sidecar(FIGURE_ID, TITLE, [inputs.network_descriptor("full")], common.FULL, [],
                              values={k: v for k, v in values.items() if k != "strong_targets"})
        paths = style.save_figure(fig, Path(out_dir) / "fig03_connectome_statistics", meta)
    return common.FigureResult(FIGURE_ID, common.FULL, paths, [], values)


def _panel_a(ax, net) -> dict:
    s = np.asarray(net.synapses, dtype=float)
    logs = np.log10(s[s > 0])
    mean, sd = logs.mean(), logs.std(ddof=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SciPy: p may be inaccurate for N > 5000
        w, p = stats.shapiro(logs)
    ax.hist(logs, bins=60, density=True, color="#bbbbbb", edgecolor="white", lw=0.3, label="population pairs")
    x = np.linspace(logs.min(), logs.max(), 300)
    ax.plot(x, stats.norm.pdf(x, mean, sd), color="black", lw=1.2, label="normal fit")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.25)
    ax.text(0.02, 0.97, f"N = {logs.size:,} non-zero pairs\nnormal fit: μ = {mean:.2f}, σ = {sd:.2f}\n"
            f"Shapiro–Wilk W = {w:.4f}, p = {p:.2g}",
            transform=ax.transAxes, va="top", fontsize=7)
    ax.set_xlabel("log10 synapses S_ij (population pair)")
    ax.set_ylabel("probability density (per log10 unit)")
    ax.set_title("Synapse numbers are log-normal")
    ax.legend(loc="upper right")
    return {"n_pairs": int(logs.size), "log10_mean": float(mean), "log10_sd": float(sd),
            "shapiro_W": float(w), "shapiro_p": float(p)}


def _panel_b(ax, net) -> dict:
    counts = area_synapse_counts(np.asarray(net.synapses), POPULATION_AREA_INDEX)
    connected = (np.asarray(net.nos) > 0) & ~np.eye(tables.N_AREAS, dtype=bool) & (counts > 0)
    dist, cnt = np.asarray(net.distance_mm)[connected], counts[connected]
    edr = exponential_distance_rule(dist, cnt)
    colors = [style.DIRECTIONALITY_COLORS[d] for d in np.asarray(net.directionality)[connected]]
    ax.scatter(dist, np.log10(cnt), s=8, c=colors, alpha=0.8, lw=0)
    x = np.linspace(0, dist.max() * 1.03, 50)
    ax.plot(x, edr["intercept"] + edr["slope_per_mm"] * x, color="black", lw=1.2)
    ax.text(0.97, 0.97, f"{int(connected.sum())} connected pairs\nλ_EDR = {edr['lambda_mm']:.1f} mm\n"
            f"slope = {edr['slope_per_mm']:.4f} per mm, r = {edr['r']:.2f}",
            transform=ax.transAxes, ha="right", va="top", fontsize=7)
    for d in DIRECTIONS:
        ax.scatter([], [], s=8, color=style.DIRECTIONALITY_COLORS[d], label=d)
    ax.set_ylim(np.log10(cnt).min() - 0.35, None)
    ax.legend(loc="lower left", ncol=3, title="area pair", title_fontsize=7)
    ax.set_xlabel("fibre length (mm)")
    ax.set_ylabel("log10 area-level synapses")
    ax.set_title("Exponential distance rule")
    return {"edr_lambda_mm": float(edr["lambda_mm"]), "edr_slope_per_mm": float(edr["slope_per_mm"]),
            "n_area_pairs": int(connected.sum())}


def _outdegrees(net):
    """out_{j→A} for all (A, j) with A ≠ area(j) and S > 0, and the directionality of (A, area(j))."""
    out = outdegree_to_areas(np.asarray(net.synapses), np.asarray(net.neuron_numbers), POPULATION_AREA_INDEX)
    target_area = np.arange(tables.N_AREAS)[:, None]
    keep = (out > 0) & (target_area != POPULATION_AREA_INDEX[None, :])
    direction = np.asarray(net.directionality)[target_area, POPULATION_AREA_INDEX[None, :]]
    return np.where(keep, out, 0.0), np.where(keep, direction, "")


def _panel_c(ax, outdeg, direction):
    valid = outdeg >= 1
    bins = np.logspace(0, np.log10(outdeg.max()) + 0.05, 40)
    for d in DIRECTIONS:
        values = outdeg[valid & (direction == d)]
        ax.hist(values, bins=bins, histtype="step", lw=1.4, color=style.DIRECTIONALITY_COLORS[d],
                label=f"{d} (n = {values.size})")
    ax.set_xscale("log")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    ax.set_xlabel("outdegree to a target area (synapses per source neuron)")
    ax.set_ylabel("count (population → area pairs)")
    ax.set_title("Outdegrees of cortico-cortical projections (≥ 1)")
    ax.legend(loc="upper left")


def _panel_d(ax, outdeg, direction) -> dict:
    projecting = (outdeg > 0).any(axis=0)
    result = {}
    for d in DIRECTIONS:
        result[d] = ((outdeg > STRONG_OUTDEGREE) & (direction == d)).sum(axis=0)[projecting]
    top = max(int(v.max()) for v in result.values())
    bins = np.arange(top + 2) - 0.5
    width = 0.27
    for k, d in enumerate(DIRECTIONS):
        hist, _ = np.histogram(result[d], bins=bins)
        ax.bar(np.arange(top + 1) + (k - 1) * width, hist, width=width, color=style.DIRECTIONALITY_COLORS[d],
               label=f"{d} (median {np.median(result[d]):.0f})")
    ax.set_xlabel(f"number of target areas with outdegree > {STRONG_OUTDEGREE:.0f}")
    ax.set_ylabel(f"source populations (of {int(projecting.sum())})")
    ax.set_title("Strong projections per source population")
    ax.legend(loc="upper right")
    return {d: v.tolist() for d, v in result.items()}


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
