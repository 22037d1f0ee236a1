"""F5: χ scan of the main family (docs/figures.md §4.5), from the statistics of the shipped family.

Drawn from the chi-scan statistics file (``humam chi-scan FAMILY``, the pipeline's task chi_scan;
:func:`humam.analysis.chi_scan.chi_scan_statistics`). The same builder draws the variant families of
F5s (:mod:`paper_figures.fig05s_chi_scan_variants`). Panel A: similarity against χ; B–D: rate, CV ISI
and LvR distributions of ground state, best fit and experiment; E: experimental FC (optional fMRI
array, recorded by the chi-scan task when available); F, G: simulated synaptic-current FC.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter1d

from humam import analysis
from humam.analysis import fc as humam_fc

from . import common, style

FIGURE_ID = "F5"
TITLE = "χ scan"
MAIN_FOLDER = analysis.CHI_SCAN_MAIN_FOLDER
HEMISPHERE = "rh"
SPEC = common.FigureSpec(stems=("fig05_chi_scan",), chi_scans=(MAIN_FOLDER,))

MEASURES = (("rates", "1 − KS rates"), ("cv", "1 − KS CV ISI"), ("lvr", "1 − KS LvR"))
FMRI_FILE = humam_fc.FMRI_ARRAY
FMRI_HOW = (f"public 7T resting-state fMRI array: place it in the data mirror (HUMAM_DATA_DIR) at {FMRI_FILE} "
            f"and recompute the chi-scan statistics ('humam chi-scan FAMILY --force' or doit)")
CHI_SCAN_HOW = "run the pipeline: doit (task chi_scan, or 'humam chi-scan FAMILY')"


def statistics_descriptor(family: str, path: Path | None, statistics: dict) -> list[dict]:
    """Sidecar descriptors: the statistics file and the shipped files it was computed from."""
    files = [{"kind": "file", "path": str(p), "sha256": str(h)}
             for p, h in zip(statistics["inputs"]["path"], statistics["inputs"]["sha256"])]
    return [{"kind": "chi_scan", "name": family, "path": str(path)}] + files


def build(out_dir, inputs: common.FigureInputs) -> common.FigureResult:
    """Draw F5 (main family) from its chi-scan statistics."""
    return build_family(MAIN_FOLDER, out_dir, inputs)


def build_family(family: str, out_dir, inputs: common.FigureInputs, chi_star: float | None = None,
                 figure_id: str = FIGURE_ID, stem: str = "fig05_chi_scan") -> common.FigureResult:
    """Draw the χ-scan figure of one shipped family from its statistics (``inputs.chi_scan(family)``);
    χ* defaults to the family's best-fit χ."""
    statistics = inputs.chi_scan(family)
    if statistics is None:
        missing = [common.missing_item("all", f"the chi-scan statistics of {family} (chi_scan:{family})", CHI_SCAN_HOW)]
        return common.FigureResult(figure_id, common.NOT_PRODUCED, {}, missing)
    ground_chi = float(statistics["sample_chi"]["groundstate"])
    chi_star = float(statistics["sample_chi"]["bestfit"]) if chi_star is None else float(chi_star)
    descriptors = statistics_descriptor(family, inputs.path("chi_scan", family), statistics)
    experimental = statistics["experimental_fc"]
    missing = []
    if not experimental["available"]:
        missing.append(common.missing_item("E", FMRI_FILE, FMRI_HOW))
    chis = np.asarray(statistics["chi"], dtype=float)
    similarity = statistics["similarity"]
    ground_label = f"χ = {ground_chi:g}" + (" (as shipped)" if ground_chi == 0 else "")
    labels = {"groundstate": f"ground state, {ground_label}", "bestfit": f"best fit, χ = {chi_star:g}",
              "experiment": "experiment (Minxha et al. 2020)"}
    areas = list(statistics["simulated_fc"]["areas"])
    title = f"{figure_id.split(' (')[0]} — {TITLE}: scaling_experiment_{family}"
    with style.figure_style():
        fig = plt.figure(figsize=(15, 9.2))
        top = fig.add_gridspec(1, 4, left=0.05, right=0.98, top=0.9, bottom=0.6, width_ratios=[1.5, 1, 1, 1], wspace=0.3)
        bottom = fig.add_gridspec(1, 3, left=0.06, right=0.97, top=0.5, bottom=0.04, wspace=0.35)
        axes = {k: fig.add_subplot(top[0, i]) for i, k in enumerate("ABCD")}
        axes.update({k: fig.add_subplot(bottom[0, i]) for i, k in enumerate("EFG")})
        _panel_a(axes["A"], chis, similarity, chi_star)
        for letter, (q, xlabel, log) in zip("BCD", (("rates", "rate (spikes/s)", False), ("cv", "CV ISI", False),
                                                      ("lvr", "LvR", False))):
            _distribution_panel(axes[letter], statistics["samples"][q], labels, xlabel, log, show_legend=letter == "B")
        groups = style.rsn_groups(HEMISPHERE)
        if not experimental["available"]:
            style.placeholder_panel(axes["E"], FMRI_FILE, FMRI_HOW, title=f"experimental FC ({HEMISPHERE})")
        else:
            _fc_panel(axes["E"], pd.DataFrame(experimental[HEMISPHERE], index=areas, columns=areas), groups,
                      f"experimental FC ({HEMISPHERE}, fMRI)")
        for letter, sample in (("F", "groundstate"), ("G", "bestfit")):
            _fc_panel(axes[letter], pd.DataFrame(statistics["simulated_fc"][sample], index=areas, columns=areas), groups,
                      f"simulated FC, {labels[sample]}")
        for letter, ax in axes.items():
            style.panel_label(ax, letter, x=-0.1 if letter in "EFG" else -0.14)
        fig.suptitle(title, fontsize=10)
        status = common.PARTIAL if missing else common.FULL
        extra = {}
        if experimental["available"]:
            extra["experimental_fc_similarity"] = experimental["similarity"]
        meta = common.sidecar(figure_id, title, descriptors, status, missing, folder=family, chi_star=chi_star,
                              groundstate_chi=ground_chi, hemisphere=HEMISPHERE, chi_grid=chis.tolist(),
                              ks_recomputed=statistics["ks_recomputed"],
                              experimental_fc_reason=experimental.get("reason", ""), **extra,
                              notes="FC diagonal masked; areas in resting-state network order (docs/figures.md §2.4)")
        paths = style.save_figure(fig, Path(out_dir) / stem, meta)
        plt.close(fig)

    def by_chi(column):
        return {str(c): float(v) for c, v in zip(chis, similarity[column]) if np.isfinite(v)}

    values = {"ks": {m: by_chi(f"ks_{m}") for m, _ in MEASURES}, "fc_pearson": by_chi(f"pearson_{HEMISPHERE}"),
              "fc_rmse_similarity": by_chi(f"rmse_similarity_{HEMISPHERE}"), "chi_star": chi_star,
              "groundstate_chi": ground_chi, "placeholder_panels": [m["panel"] for m in missing]}
    return common.FigureResult(figure_id, status, paths, missing, values)


def smooth_density(values, grid) -> np.ndarray:
    """Gaussian kernel density (Scott bandwidth) on an even ``grid``, by binning and smoothing."""
    step = grid[1] - grid[0]
    counts, _ = np.histogram(values, bins=np.append(grid - step / 2, grid[-1] + step / 2))
    bandwidth = values.std(ddof=1) * values.size ** (-1 / 5)
    return gaussian_filter1d(counts.astype(float), bandwidth / step, mode="constant") / (values.size * step)


def _panel_a(ax, chis, similarity, chi_star):
    for (m, label) in MEASURES:
        y = np.asarray(similarity[f"ks_{m}"], dtype=float)
        ok = np.isfinite(y)
        ax.plot(chis[ok], y[ok], "o-", ms=3, lw=1.2, color=style.MEASURE_COLORS[m], label=label)
    for column, key, label in ((f"pearson_{HEMISPHERE}", "fc_pearson", f"FC Pearson r ({HEMISPHERE})"),
                               (f"rmse_similarity_{HEMISPHERE}", "fc_rmse", f"FC RMSE similarity ({HEMISPHERE})")):
        y = np.asarray(similarity[column], dtype=float)
        ok = np.isfinite(y)
        ax.plot(chis[ok], y[ok], "s--", ms=3, lw=1.2, color=style.MEASURE_COLORS[key], label=label)
    if chi_star is not None:
        ax.axvline(chi_star, color="black", ls=":", lw=1)
        ax.text(chi_star, 0.01, f" χ* = {chi_star:g}", transform=ax.get_xaxis_transform(), fontsize=7, va="bottom")
    ax.set_xlabel("χ (cortico-cortical E→E scaling)")
    ax.set_ylabel("similarity to data")
    ax.set_ylim(min(-0.1, ax.get_ylim()[0]), 1.32)
    ax.set_yticks(np.arange(0, 1.01, 0.2))
    ax.set_title("Similarity against χ", pad=12)
    ax.legend(loc="upper left", ncol=2, fontsize=6.5)


def _distribution_panel(ax, samples, labels, xlabel, log, show_legend):
    transform = np.log10 if log else (lambda v: v)
    pooled = np.concatenate([transform(s[s > 0] if log else s) for s in samples.values()])
    lo, hi = np.percentile(pooled, [0.0, 99.5])
    bins = np.linspace(lo, hi, 40)
    if xlabel.startswith("rate"):  # rates are multiples of 0.5 spikes/s: one bin per value
        lo, hi = 0.0, np.ceil(hi * 2) / 2
        bins = np.arange(0.25, hi + 0.5, 0.5)
    grid = np.linspace(lo, hi, 256)
    for key in ("groundstate", "bestfit", "experiment"):
        values = transform(samples[key][samples[key] > 0] if log else samples[key])
        color = style.RUN_COLORS[key]
        ax.hist(values, bins=bins, density=True, histtype="stepfilled", alpha=0.2, color=color)
        ax.plot(grid, smooth_density(values, grid), color=color, lw=1.4, label=f"{labels[key]} (n = {values.size:,})")
    if log:
        ticks = np.arange(np.ceil(lo), np.floor(hi) + 1)
        ax.set_xticks(ticks, [f"{10 ** t:g}" for t in ticks])
        ax.set_ylabel("probability density (per decade)")
    else:
        ax.set_ylabel("probability density")
    ax.set_xlabel(xlabel + (" (log axis)" if log else ""))
    ax.set_title(f"{xlabel.split(' (')[0]} distribution", pad=12)
    ax.legend(loc="upper right", fontsize=6) if show_legend else None


def _fc_panel(ax, fc: pd.DataFrame, groups, title):
    order, spans = style.grouped_order(groups)
    matrix = fc.loc[order, order].to_numpy(dtype=float)
    matrix = np.ma.masked_array(matrix, np.eye(len(order), dtype=bool) | ~np.isfinite(matrix))
    im = ax.imshow(matrix, cmap=style.diverging_cmap(), vmin=-1, vmax=1)
    style.area_ticks(ax, order, fontsize=5)
    for name, start, stop in spans:
        for edge in (start - 0.5, stop - 0.5):
            ax.axhline(edge, color="black", lw=0.5)
            ax.axvline(edge, color="black", lw=0.5)
        ax.text(-4.5, (start + stop - 1) / 2, name, fontsize=5.5, ha="right", va="center")
    ax.set_title(title)
    style.colorbar(im, ax, "FC (Pearson r, dimensionless; diagonal masked)")


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
