"""F8: temporal hierarchy of the areas in the best-fit state (docs/figures.md §4.8), from the analysis of
the pipeline's run ``best_fit``.

The lags, their significance and the hierarchy are part of the run's analysis (``analysis.hierarchy``,
:mod:`humam.analysis.hierarchy`): peak lags τ_AB of the area rates (1 ms bins) over [2500, 12500) ms,
or [500 ms, t_sim) for a shorter run, τ_AB > 0 when A leads B; a pair is significant when a one-sample
t-test of the peak lags of 9 chunks against 0 gives p < 0.05; h minimises Σ over significant pairs
(τ_AB − (h_B − h_A))² (L-BFGS-B from a seeded uniform start), in ms, min h = 0 per group of connected
areas, no h for areas without a significant pair.

Panels: A lag matrix ordered by h (non-significant pairs masked), B areas ranked by h, coloured by
lobe. The brain-surface view is replaced by a table (area, h, lobe, colour) written as CSV next to
the figure.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from humam import tables
from humam.analysis.hierarchy import hierarchy_order

from . import common, style

FIGURE_ID = "F8"
TITLE = "Temporal hierarchy"
STEM = "fig08_temporal_hierarchy"
RUN_NAME = "best_fit"
TABLE_NAME = f"{STEM}_hierarchy.csv"
SPEC = common.FigureSpec(stems=(STEM,), runs={RUN_NAME: common.Source.run("best_fit")}, extra_files=(TABLE_NAME,))

#: Keys of the analysis group ``hierarchy`` the figure draws.
HIERARCHY_KEYS = ("available", "reason", "window_ms", "full_length", "bin_ms", "max_lag_bins", "n_chunks", "alpha",
                  "seed", "t_start_ms", "t_stop_ms")


def run_hierarchy(run: common.RunInput) -> dict:
    """The ``hierarchy`` group of the run's analysis; :class:`common.InputError` if the analysis lacks it."""
    hierarchy = run.analysis.get("hierarchy")
    if hierarchy is None or any(key not in hierarchy for key in HIERARCHY_KEYS):
        raise common.InputError(f"{run.analysis_path}: the analysis has no temporal hierarchy; analyse the run again "
                                f"('humam analyse {run.folder} --force').")
    return hierarchy


def write_table(path: Path, h) -> Path:
    """CSV of (area, label, h_ms, lobe, colour), areas ranked by h."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["area", "label", "h_ms", "lobe", "colour"])
        for a in hierarchy_order(h):
            area = tables.AREAS[a]
            lobe = style.area_lobe(area)
            writer.writerow([area, style.short(area), "" if not np.isfinite(h[a]) else f"{h[a]:.6g}", lobe,
                             style.LOBE_COLORS[lobe]])
    return path


# ---------------------------------------------------------------------------------------------
# Figure


def _lag_panel(ax, lags_ms, significant, order):
    matrix = np.ma.masked_array(lags_ms[np.ix_(order, order)], mask=~significant[np.ix_(order, order)])
    finite = np.abs(lags_ms[significant])
    vmax = max(float(finite.max()) if finite.size else 1.0, 1.0)
    im = ax.imshow(matrix, cmap=style.diverging_cmap(), vmin=-vmax, vmax=vmax)
    style.area_ticks(ax, [tables.AREAS[a] for a in order], fontsize=5.5)
    ax.set_xlabel("area B (ordered by h)")
    ax.set_ylabel("area A (ordered by h)")
    ax.set_title("Peak lag τ_AB (grey: not significant)")
    style.colorbar(im, ax, "peak lag τ_AB (ms); > 0: A leads B")


def _hierarchy_panel(ax, h, order):
    ranked = [a for a in order if np.isfinite(h[a])]
    y = np.arange(len(ranked))
    colors = [style.LOBE_COLORS[style.area_lobe(tables.AREAS[a])] for a in ranked]
    values = [h[a] for a in ranked]
    ax.barh(y, values, color=colors, height=0.55)
    ax.scatter(values, y, c=colors, s=18, zorder=3, edgecolors="black", linewidths=0.4)
    ax.set_yticks(y, [style.short(tables.AREAS[a]) for a in ranked], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("hierarchy h (ms; min h = 0)")
    ax.set_title("Areas ranked by h (earliest first)")
    lobes = [lobe for lobe in style.LOBE_COLORS]
    ax.legend(handles=[Patch(color=style.LOBE_COLORS[lobe], label=lobe) for lobe in lobes], loc="upper right",
              fontsize=6.5, title="lobe", title_fontsize=7)
    missing = [style.short(tables.AREAS[a]) for a in order if not np.isfinite(h[a])]
    if missing:
        ax.text(0.99, 0.01, "no significant pair: " + ", ".join(missing), transform=ax.transAxes, ha="right",
                va="bottom", fontsize=5.5, wrap=True)


def build(out_dir, inputs: common.FigureInputs) -> common.FigureResult:
    """Draw F8 from the analysis of the run ``best_fit``; "not produced" without it, or when its
    window was too short for the chunks."""
    run = inputs.run(RUN_NAME)
    if run is None:
        missing = [common.missing_item(panel, RUN_NAME, common.RUN_HOW) for panel in "AB"]
        return common.FigureResult(FIGURE_ID, common.NOT_PRODUCED, {}, missing)
    hierarchy = run_hierarchy(run)
    if not hierarchy["available"]:
        how = f"the analysis has no hierarchy: {hierarchy['reason']}; simulate a longer run"
        missing = [common.missing_item(panel, f"{RUN_NAME} hierarchy", how) for panel in "AB"]
        return common.FigureResult(FIGURE_ID, common.NOT_PRODUCED, {}, missing)
    window = (float(hierarchy["window_ms"][0]), float(hierarchy["window_ms"][1]))
    full_length = bool(hierarchy["full_length"])
    bin_ms = float(hierarchy["bin_ms"])
    max_lag, n_chunks, alpha = int(hierarchy["max_lag_bins"]), int(hierarchy["n_chunks"]), float(hierarchy["alpha"])
    lags_ms, h = np.asarray(hierarchy["lags_ms"], dtype=float), np.asarray(hierarchy["h_ms"], dtype=float)
    significant = np.asarray(hierarchy["significant"], dtype=bool)
    groups = np.asarray(hierarchy["groups"], dtype=int)
    order = hierarchy_order(h)
    missing: list[dict] = []
    status = common.status_of_runs([run], missing)
    banner = run.scale_banner()
    window_note = (f"[{window[0]:g}, {window[1]:g}) ms" + ("" if full_length else
                   f" (the run is {run.t_sim_ms:g} ms long, shorter than {float(hierarchy['t_stop_ms']):g} ms: window "
                   f"[{window[0]:g} ms, t_sim) instead of [{float(hierarchy['t_start_ms']):g}, "
                   f"{float(hierarchy['t_stop_ms']):g}) ms)"))
    title = f"{FIGURE_ID} — {TITLE} of the best-fit state (area rates over {window_note.split(' (')[0]})"
    n_sig = int(hierarchy["n_significant_pairs"])
    with style.figure_style():
        fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12.5, 7.0), gridspec_kw={"width_ratios": [1.45, 1], "wspace": 0.22})
        fig.subplots_adjust(top=0.86, bottom=0.08, left=0.07, right=0.98)
        _lag_panel(ax_a, lags_ms, significant, order)
        _hierarchy_panel(ax_b, h, order)
        style.panel_label(ax_a, "A", x=-0.1)
        style.panel_label(ax_b, "B", x=-0.12)
        fig.suptitle(title, fontsize=10, y=0.985)
        subtitle = (f"{n_sig} of {tables.N_AREAS * (tables.N_AREAS - 1) // 2} area pairs significant "
                    f"({n_chunks} chunks, one-sample t-test, p < {alpha:g}); lags ±{max_lag} bins of {bin_ms:g} ms")
        fig.text(0.5, 0.945, subtitle, ha="center", fontsize=8)
        if banner:
            fig.text(0.5, 0.915, banner, ha="center", fontsize=8, color="#b00000")
        group_lists = [[tables.AREAS[a] for a in np.flatnonzero(groups == g)] for g in range(groups.max(initial=-1) + 1)]
        meta = common.sidecar(
            FIGURE_ID, title, [run.descriptor()], status, missing,
            window_ms=list(window), window_note=window_note, full_length_window=full_length,
            signal_source="analysis rate_histogram/area_per_ms; lags, significance and h: analysis hierarchy/",
            bin_ms=bin_ms, max_lag_bins=max_lag, n_chunks=n_chunks, alpha=alpha, seed=int(hierarchy["seed"]),
            definitions=(f"τ_AB = argmax_k Σ_t r_A(t) r_B(t+k), > 0 when A leads B; significance: one-sample t-test "
                         f"of the {n_chunks} chunk lags against 0 (package definition); h: least squares over "
                         "significant pairs by L-BFGS-B from a seeded uniform start, in ms, not rescaled, min h = 0 "
                         "per group"),
            significant_pairs=n_sig, fit={"cost_ms2": float(hierarchy["cost_ms2"]), "success": bool(hierarchy["success"])},
            groups=group_lists, areas_without_significant_pair=[tables.AREAS[a] for a in np.flatnonzero(groups < 0)],
            hierarchy_ms={tables.AREAS[a]: (float(h[a]) if np.isfinite(h[a]) else None) for a in order},
            table=TABLE_NAME, scale_banner=banner)
        paths = style.save_figure(fig, Path(out_dir) / STEM, meta)
    paths["csv"] = write_table(Path(out_dir) / TABLE_NAME, h)
    values = {"lags_ms": lags_ms, "p_values": np.asarray(hierarchy["p_values"], dtype=float), "significant": significant,
              "h_ms": h, "order": [tables.AREAS[a] for a in order], "window_ms": window, "full_length": full_length,
              "groups": groups, "n_significant_pairs": n_sig}
    return common.FigureResult(FIGURE_ID, status, paths, missing, values)


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
