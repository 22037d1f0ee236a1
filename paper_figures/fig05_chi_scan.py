"""F5: χ scan of the main family (docs/figures.md §4.5): the pipeline's own runs of the scan at the
profile's scale beside the statistics of the published full-scale runs.

Drawn from two statistics files: the shipped family's (``humam chi-scan FOLDER``, task chi_scan;
:func:`humam.analysis.chi_scan.chi_scan_statistics`) and that of the profile's runs of the family's
members (``humam scan FAMILY --statistics``, task scan; :func:`humam.analysis.scan.simulated_scan_statistics`).
The same builder draws the variant families of F5s (:mod:`paper_figures.fig05s_chi_scan_variants`).
Panel A: similarity against χ, the profile's curves (solid) and the shipped full-scale ones (dashed),
both χ* marked; B–D: rate, CV ISI and LvR distributions of the ground state and the best fit, ours
beside the shipped ones, and the experiment's; E: experimental FC (optional fMRI array); F, G: the
simulated synaptic-current FC of our ground state and best fit (the shipped ones when our scan was not run).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from scipy.ndimage import gaussian_filter1d

from humam import analysis
from humam.analysis import fc as humam_fc
from humam.analysis.chi_scan import CHI_STAR_CRITERION

from . import common, style

FIGURE_ID = "F5"
TITLE = "χ scan"
MAIN_FOLDER = analysis.CHI_SCAN_MAIN_FOLDER
MAIN_FAMILY = "chi_scan_main"
HEMISPHERE = "rh"
SPEC = common.FigureSpec(stems=("fig05_chi_scan",), chi_scans=(MAIN_FOLDER,),
                         scans={MAIN_FAMILY: common.Scan(MAIN_FAMILY)})

MEASURES = (("rates", "1 − KS rates"), ("cv", "1 − KS CV ISI"), ("lvr", "1 − KS LvR"))
FC_MEASURES = ((f"pearson_{HEMISPHERE}", "fc_pearson", f"FC Pearson r ({HEMISPHERE})"),
               (f"rmse_similarity_{HEMISPHERE}", "fc_rmse", f"FC RMSE similarity ({HEMISPHERE})"))
FMRI_FILE = humam_fc.FMRI_ARRAY
FMRI_HOW = (f"public 7T resting-state fMRI array: place it in the data mirror (HUMAM_DATA_DIR) at {FMRI_FILE} "
            f"and recompute the chi-scan statistics ('humam chi-scan FAMILY --force' or doit)")
CHI_SCAN_HOW = "run the pipeline: doit (task chi_scan, or 'humam chi-scan FAMILY')"
SCAN_HOW = ("this profile ran no member of the family: doit runs the members its profile names under "
            "scan.members (the F5s variants only with 'doit scans=all'); 'humam scan FAMILY --profile P' lists them")


def statistics_descriptor(family: str, path: Path | None, statistics: dict) -> list[dict]:
    """Sidecar descriptors: the statistics file and the shipped files it was computed from."""
    files = [{"kind": "file", "path": str(p), "sha256": str(h)}
             for p, h in zip(statistics["inputs"]["path"], statistics["inputs"]["sha256"])]
    return [{"kind": "chi_scan", "name": family, "path": str(path)}] + files


def scan_descriptor(family: str, path: Path | None, statistics: dict) -> dict:
    """Sidecar descriptor of the statistics of the profile's runs of a scan family: the file, the
    members and the scale of their runs."""
    s = statistics["scale"]
    return {"kind": "scan", "name": family, "path": str(path), "profile": statistics["profile"],
            "chi": [float(c) for c in statistics["chi"]], "sim_hash": [str(h) for h in statistics["runs"]["sim_hash"]],
            "n_scaling": [float(v) for v in s["n_scaling"]], "k_scaling": [float(v) for v in s["k_scaling"]],
            "scaling_type": s["scaling_type"], "t_sim_ms": [float(v) for v in s["t_sim_ms"]],
            "seed": [int(v) for v in s["seed"]], "full_scale": bool(s["full_scale"])}


def scale_text(statistics: dict) -> str:
    """The scale of a scan's runs, e.g. "N = 0.01, K = 0.01–0.0284, preserve_input_statistics, 12.5 s"."""
    s = statistics["scale"]
    durations = sorted({float(t) for t in s["t_sim_ms"]})
    length = ", ".join(f"{t / 1000:g}" for t in durations) + " s"
    if s["full_scale"]:
        return f"full scale, {length}"
    n, k = sorted({float(v) for v in s["n_scaling"]}), sorted({float(v) for v in s["k_scaling"]})
    k_text = f"{k[0]:.3g}" if len(k) == 1 else f"{k[0]:.3g}–{k[-1]:.3g}"
    return f"N = {', '.join(f'{v:g}' for v in n)}, K = {k_text}, {s['scaling_type']}, {length}"


def build(out_dir, inputs: common.FigureInputs) -> common.FigureResult:
    """Draw F5 (main family) from its statistics."""
    return build_family(MAIN_FOLDER, out_dir, inputs, family=MAIN_FAMILY)


def _member(statistics: dict | None, chi: float) -> int | None:
    """Index of the member with χ = ``chi`` in our scan, or None."""
    if statistics is None:
        return None
    hits = np.flatnonzero(np.asarray(statistics["chi"], dtype=float) == float(chi))
    return int(hits[0]) if hits.size else None


def build_family(folder: str, out_dir, inputs: common.FigureInputs, chi_star: float | None = None,
                 figure_id: str = FIGURE_ID, stem: str = "fig05_chi_scan", family: str | None = None) -> common.FigureResult:
    """Draw the χ-scan figure of one family: the shipped statistics of ``folder``
    (``inputs.chi_scan(folder)``) and, where given, those of the profile's runs of the scan family
    ``family`` (``inputs.scan(family)``). The published χ* defaults to the shipped best-fit χ."""
    shipped = inputs.chi_scan(folder)
    ours = inputs.scan(family) if family else None
    if shipped is None:
        missing = [common.missing_item("all", f"the chi-scan statistics of {folder} (chi_scan:{folder})", CHI_SCAN_HOW)]
        return common.FigureResult(figure_id, common.NOT_PRODUCED, {}, missing)
    ground_chi = float(shipped["sample_chi"]["groundstate"])
    best_chi = float(shipped["sample_chi"]["bestfit"])
    published_star = best_chi if chi_star is None else float(chi_star)
    descriptors = statistics_descriptor(folder, inputs.path("chi_scan", folder), shipped)
    if ours is not None:
        descriptors.append(scan_descriptor(family, inputs.path("scan", family), ours))
    experimental = shipped["experimental_fc"]
    if not experimental["available"] and ours is not None and ours["experimental_fc"]["available"]:
        experimental = ours["experimental_fc"]
    missing = []
    if not experimental["available"]:
        missing.append(common.missing_item("E", FMRI_FILE, FMRI_HOW))
    own_scale = scale_text(ours) if ours is not None else ""
    own_fmri = ours is not None and bool(ours["experimental_fc"]["available"])
    own_star = float(ours["chi_star"]["chi_star"]) if ours is not None else float("nan")
    notes = []
    if ours is None:
        notes.append(f"This profile's runs of the scan: not available ({SCAN_HOW}).")
    elif not own_fmri:
        notes.append("This profile's fMRI similarities: not available — missing the fMRI array "
                     f"{FMRI_FILE}; its χ* uses the three 1 − KS only.")
    ground_label = f"χ = {ground_chi:g}" + (" (as shipped)" if ground_chi == 0 else "")
    labels = {"groundstate": f"ground state, {ground_label}", "bestfit": f"best fit, χ = {best_chi:g}",
              "experiment": "experiment (Minxha et al. 2020)"}
    areas = list(shipped["simulated_fc"]["areas"])
    title = f"{figure_id.split(' (')[0]} — {TITLE}: scaling_experiment_{folder}"
    if ours is not None and not ours["scale"]["full_scale"]:
        title += f"; this profile's runs: {own_scale} — not the full-scale regime"
    with style.figure_style():
        fig = plt.figure(figsize=(15, 9.6))
        top = fig.add_gridspec(1, 4, left=0.05, right=0.98, top=0.88, bottom=0.58, width_ratios=[1.6, 1, 1, 1],
                               wspace=0.3)
        bottom = fig.add_gridspec(1, 3, left=0.06, right=0.97, top=0.47, bottom=0.04, wspace=0.35)
        axes = {k: fig.add_subplot(top[0, i]) for i, k in enumerate("ABCD")}
        axes.update({k: fig.add_subplot(bottom[0, i]) for i, k in enumerate("EFG")})
        _panel_a(axes["A"], shipped, ours, published_star, own_star, own_fmri)
        for letter, (q, xlabel) in zip("BCD", (("rates", "rate (spikes/s)"), ("cv", "CV ISI"), ("lvr", "LvR"))):
            _distribution_panel(axes[letter], q, shipped, ours, ground_chi, best_chi, labels, xlabel,
                                show_legend=letter == "B")
        groups = style.rsn_groups(HEMISPHERE)
        if not experimental["available"]:
            style.placeholder_panel(axes["E"], FMRI_FILE, FMRI_HOW, title=f"experimental FC ({HEMISPHERE})")
        else:
            _fc_panel(axes["E"], pd.DataFrame(experimental[HEMISPHERE], index=areas, columns=areas), groups,
                      f"experimental FC ({HEMISPHERE}, fMRI)")
        fc_shown = {}
        for letter, sample, chi in (("F", "groundstate", ground_chi), ("G", "bestfit", best_chi)):
            index = _member(ours, chi)
            if index is not None:
                matrix, source = ours["simulated_fc"]["matrices"][index], "this profile"
            else:
                matrix, source = shipped["simulated_fc"][sample], "published full scale (shipped)"
            fc_shown[sample] = source
            _fc_panel(axes[letter], pd.DataFrame(matrix, index=areas, columns=areas), groups,
                      f"simulated FC, {labels[sample]}, {source}")
        for letter, ax in axes.items():
            style.panel_label(ax, letter, x=-0.1 if letter in "EFG" else -0.14)
        fig.suptitle(title, fontsize=10)
        fig.text(0.05, 0.935, f"χ*: {CHI_STAR_CRITERION} (docs/model.md §8.13).", fontsize=7.5)
        if notes:
            fig.text(0.05, 0.915, " ".join(notes), fontsize=7.5, color="#b00000")
        if missing:
            status = common.PARTIAL
        elif ours is not None and not ours["scale"]["full_scale"]:
            status = common.SCALED
        else:
            status = common.FULL
        extra = {}
        if experimental["available"] and "similarity" in experimental:
            extra["experimental_fc_similarity"] = experimental["similarity"]
        own = _own_values(ours) if ours is not None else {"available": False, "how": SCAN_HOW}
        meta = common.sidecar(figure_id, title, descriptors, status, missing, folder=folder, family=family or "",
                              chi_star=published_star, groundstate_chi=ground_chi, hemisphere=HEMISPHERE,
                              chi_grid=[float(c) for c in shipped["chi"]], ks_recomputed=shipped["ks_recomputed"],
                              chi_star_criterion=CHI_STAR_CRITERION,
                              chi_star_of_shipped_curves=float(shipped["chi_star"]["chi_star"]),
                              experimental_fc_reason=experimental.get("reason", ""), own_scan=own,
                              simulated_fc_shown=fc_shown, **extra,
                              notes=" ".join(notes + ["FC diagonal masked; areas in resting-state network order "
                                                      "(docs/figures.md §2.4)"]))
        paths = style.save_figure(fig, Path(out_dir) / stem, meta)
        plt.close(fig)

    chis, similarity = np.asarray(shipped["chi"], dtype=float), shipped["similarity"]

    def by_chi(column):
        return {str(c): float(v) for c, v in zip(chis, similarity[column]) if np.isfinite(v)}

    values = {"ks": {m: by_chi(f"ks_{m}") for m, _ in MEASURES}, "fc_pearson": by_chi(f"pearson_{HEMISPHERE}"),
              "fc_rmse_similarity": by_chi(f"rmse_similarity_{HEMISPHERE}"), "chi_star": published_star,
              "groundstate_chi": ground_chi, "placeholder_panels": [m["panel"] for m in missing],
              "own": own, "simulated_fc_shown": fc_shown}
    return common.FigureResult(figure_id, status, paths, missing, values)


def _own_values(ours: dict) -> dict:
    """What the figure shows of the profile's scan (sidecar and values)."""
    chis = np.asarray(ours["chi"], dtype=float)

    def by_chi(column):
        return {str(c): float(v) for c, v in zip(chis, ours["similarity"][column]) if np.isfinite(v)}

    return {"available": True, "scale": scale_text(ours), "profile": ours["profile"], "chi": chis.tolist(),
            "chi_star": float(ours["chi_star"]["chi_star"]),
            "chi_star_measures": [str(m) for m in np.atleast_1d(ours["chi_star"]["measures"])],
            "ks": {m: by_chi(f"ks_{m}") for m, _ in MEASURES}, "fc_pearson": by_chi(f"pearson_{HEMISPHERE}"),
            "fc_rmse_similarity": by_chi(f"rmse_similarity_{HEMISPHERE}"),
            "fmri_available": bool(ours["experimental_fc"]["available"]),
            "sample_sizes": {m: [int(v) for v in ours["sample_sizes"][m]] for m, _ in MEASURES}}


def smooth_density(values, grid) -> np.ndarray | None:
    """Gaussian kernel density (Scott bandwidth) on an even ``grid``, by binning and smoothing; None
    for fewer than two distinct values."""
    values = np.asarray(values, dtype=float)
    if values.size < 2 or np.ptp(values) == 0:
        return None
    step = grid[1] - grid[0]
    counts, _ = np.histogram(values, bins=np.append(grid - step / 2, grid[-1] + step / 2))
    bandwidth = values.std(ddof=1) * values.size ** (-1 / 5)
    return gaussian_filter1d(counts.astype(float), bandwidth / step, mode="constant") / (values.size * step)


def _curve(ax, chis, y, color, own: bool, marker: str, label: str | None = None):
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    if not ok.any():
        return
    if own:
        ax.plot(chis[ok], y[ok], marker + "-", ms=4, lw=1.8, color=color, label=label)
    else:
        ax.plot(chis[ok], y[ok], marker + "--", ms=3.5, lw=1.0, color=color, mfc="white", alpha=0.8, label=label)


def _panel_a(ax, shipped, ours, published_star, own_star, own_fmri):
    chis = np.asarray(shipped["chi"], dtype=float)
    for m, label in MEASURES:
        _curve(ax, chis, shipped["similarity"][f"ks_{m}"], style.MEASURE_COLORS[m], False, "o")
    for column, key, label in FC_MEASURES:
        _curve(ax, chis, shipped["similarity"][column], style.MEASURE_COLORS[key], False, "s")
    if ours is not None:
        own_chis = np.asarray(ours["chi"], dtype=float)
        for m, label in MEASURES:
            _curve(ax, own_chis, ours["similarity"][f"ks_{m}"], style.MEASURE_COLORS[m], True, "o")
        if own_fmri:
            for column, key, label in FC_MEASURES:
                _curve(ax, own_chis, ours["similarity"][column], style.MEASURE_COLORS[key], True, "s")
    ax.axvline(published_star, color="#555555", ls="--", lw=1)
    same = np.isfinite(own_star) and own_star == published_star
    ax.text(published_star, 1.02, f"χ* = {published_star:g}\n({'published and this profile' if same else 'published'})",
            transform=ax.get_xaxis_transform(), fontsize=6.5, ha="right" if not same else "center", va="bottom",
            color="#555555" if not same else "black")
    if np.isfinite(own_star):
        ax.axvline(own_star, color="black", ls="-", lw=1.2)
        if not same:
            ax.text(own_star, 1.02, f"χ* = {own_star:g}\n(this profile)", transform=ax.get_xaxis_transform(),
                    fontsize=6.5, ha="left" if own_star > published_star else "right", va="bottom")
    ax.set_xlabel("χ (cortico-cortical E→E scaling)")
    ax.set_ylabel("similarity to data")
    ax.set_ylim(min(-0.1, ax.get_ylim()[0]), 1.35)
    ax.set_yticks(np.arange(0, 1.01, 0.2))
    handles = [Line2D([], [], color=style.MEASURE_COLORS[m], marker="o", lw=1.4, label=label) for m, label in MEASURES]
    handles += [Line2D([], [], color=style.MEASURE_COLORS[key], marker="s", lw=1.4, label=label)
                for _, key, label in FC_MEASURES]
    handles.append(Line2D([], [], color="#555555", ls="--", marker="o", mfc="white", lw=1.0,
                          label="published, full scale (shipped)"))
    if ours is not None:
        handles.append(Line2D([], [], color="black", ls="-", marker="o", lw=1.8,
                              label="this profile (scale in the title)" + ("" if own_fmri else ", no fMRI curves")))
    ax.legend(handles=handles, loc="upper left", ncol=2, fontsize=6)


def _distribution_panel(ax, measure, shipped, ours, ground_chi, best_chi, labels, xlabel, show_legend):
    experiment = np.asarray(shipped["samples"][measure]["experiment"], dtype=float)
    curves = [("experiment", "shipped", experiment)]
    for sample, chi in (("groundstate", ground_chi), ("bestfit", best_chi)):
        curves.append((sample, "shipped", np.asarray(shipped["samples"][measure][sample], dtype=float)))
        index = _member(ours, chi)
        if index is not None:
            own = np.asarray(ours["samples"][str(ours["label"][index])][measure], dtype=float)
            curves.append((sample, "own", own))
        elif ours is not None:
            curves.append((sample, "not run", np.zeros(0)))
    pooled = np.concatenate([values for _, _, values in curves if values.size])
    lo, hi = np.percentile(pooled, [0.0, 99.5])
    bins = np.linspace(lo, hi, 40)
    if measure == "rates":  # rates are multiples of 0.5 spikes/s: one bin per value
        lo, hi = 0.0, np.ceil(hi * 2) / 2
        bins = np.arange(0.25, hi + 0.5, 0.5)
    grid = np.linspace(lo, hi, 256)
    ax.hist(experiment, bins=bins, density=True, histtype="stepfilled", alpha=0.2, color=style.EXPERIMENT_COLOR)
    for key, source, values in curves:
        color = style.RUN_COLORS[key]
        if source == "not run":
            ax.plot([], [], color=color, lw=1.6, label=f"{labels[key]}: not run under this profile")
            continue
        density = smooth_density(values, grid)
        where = "" if key == "experiment" else (", full scale (shipped)" if source == "shipped" else ", this profile")
        label = f"{labels[key]}{where} (n = {values.size:,})"
        if density is None:
            ax.plot([], [], color=color, lw=1.6, ls="-" if source == "own" else "--", label=label)
        else:
            ax.plot(grid, density, color=color, lw=1.8 if source == "own" else 1.1,
                    ls="-" if source in ("own",) or key == "experiment" else "--", label=label)
    ax.set_ylabel("probability density")
    ax.set_xlabel(xlabel)
    ax.set_title(f"{xlabel.split(' (')[0]} distribution", pad=12)
    if show_legend:
        ax.legend(loc="upper right", fontsize=5.5)


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
    ax.set_title(title, fontsize=8)
    style.colorbar(im, ax, "FC (Pearson r, dimensionless; diagonal masked)")


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
