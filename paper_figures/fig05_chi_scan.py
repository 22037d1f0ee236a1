"""F5: χ scan of the main family (figures.md §4.5), from the shipped statistics only.

The same builder draws the variant families of F5s (:mod:`paper_figures.fig05s_chi_scan_variants`).
Panel A: similarity against χ; B–D: rate, CV ISI and LvR distributions of ground state, best fit and
experiment; E: experimental FC (optional fMRI array); F, G: simulated synaptic-current FC.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter1d

from humam import analysis, config, data
from humam.errors import DataError

from . import common, style

FIGURE_ID = "F5"
TITLE = "χ scan"
MAIN_FOLDER = analysis.CHI_SCAN_MAIN_FOLDER
HEMISPHERE = "rh"

#: folder → (χ of the "groundstate" samples, best-fit χ*) (figures.md §3.3).
FAMILIES: dict[str, tuple[float, float]] = {
    "lichtman_chii2_different_seed": (1.0, 2.5),
    "lichtman_chii2_distributed_params": (0.0, 2.5),
    "lichtman_chii2_smaller_g": (1.0, 1.75),
    "lower_e_to_i": (1.0, 2.0),
    "lichtman_chii2_different_seed_factor10per7": (1.0, 4.4),
}
MEASURES = (("rates", "1 − KS rates"), ("cv", "1 − KS CV ISI"), ("lvr", "1 − KS LvR"))
FMRI_FILE = "experimental_data/senden/rsData_7T_DKparcel/rsDATA_7T_DKparcel.npy"
FMRI_ROIS = "experimental_data/senden/rsData_7T_DKparcel/ROIs.txt"
FMRI_HOW = (f"public 7T resting-state fMRI array: download {data.entry(FMRI_FILE).url} into the data mirror "
            f"(HUMAM_DATA_DIR) at {FMRI_FILE}")


def folder_path(folder: str, name: str) -> str:
    """Registry path of a file of a shipped χ-scan folder."""
    return f"simulated_data/scaling_experiment_{folder}/{name}"


def read_chi_json(folder: str, name: str) -> dict[str, float]:
    """A χ → value JSON file, sorted by numeric χ."""
    values = json.loads(data.data_path(folder_path(folder, name)).read_text())
    return {k: float(values[k]) for k in sorted(values, key=float)}


def read_chi_csv(folder: str, name: str) -> dict[str, float]:
    """A ``df_corr_*`` CSV (header ",0"; χ, value) as χ-string → value, sorted by χ."""
    frame = pd.read_csv(data.data_path(folder_path(folder, name)))
    return {str(float(c)): float(v) for c, v in sorted(zip(frame.iloc[:, 0], frame.iloc[:, 1]))}


def read_samples(folder: str, name: str) -> np.ndarray:
    """A pickled 1-D sample array (files are sha256-verified by the registry before loading)."""
    return np.asarray(np.load(data.data_path(folder_path(folder, name)), allow_pickle=True), dtype=float)


def read_fc(folder: str, name: str) -> pd.DataFrame:
    """A 34 × 34 simulated FC CSV (index and header: area names)."""
    return pd.read_csv(data.data_path(folder_path(folder, name)), index_col=0)


def load_experimental_fc_auto(hemisphere: str = HEMISPHERE):
    """Subject-averaged experimental FC (34 × 34, alphabetical) if the fMRI array is in the local
    mirror, else None. Never downloads (figures perform no network access)."""
    mirror = config.data_dir()
    if mirror is None or not (Path(mirror) / FMRI_FILE).is_file():
        return None
    try:
        return np.asarray(analysis.load_experimental_fc()[hemisphere])
    except (DataError, OSError, ValueError) as exc:
        common.log.warning("experimental FC could not be computed: %s", exc)
        return None


def build(out_dir, experimental_fc="auto") -> common.FigureResult:
    """Draw F5 (main family). ``experimental_fc``: "auto" (mirror), None (absent) or a 34 × 34 array."""
    return build_family(MAIN_FOLDER, out_dir, experimental_fc=experimental_fc)


def build_family(folder: str, out_dir, chi_star: float | None = None, experimental_fc="auto",
                 figure_id: str = FIGURE_ID, stem: str = "fig05_chi_scan") -> common.FigureResult:
    """Draw the χ-scan figure of one shipped folder; χ* defaults to the §3.3 table."""
    ground_chi, default_star = FAMILIES.get(folder, (1.0, None))
    chi_star = default_star if chi_star is None else float(chi_star)
    names = ["path_to_chi.json"] + [f"ks_{m}_arr.json" for m, _ in MEASURES] + [
        f"df_corr_{HEMISPHERE}_use_corrcoeff_{b}.csv" for b in (True, False)] + [
        f"{kind}_{q}.npy" for q in ("rates", "cv", "lvr") for kind in ("exp",)] + [
        f"sim_{q}_{r}.npy" for q in ("rates", "cv", "lvr") for r in ("groundstate", "bestfit")] + [
        f"simulated_fc_{r}.csv" for r in ("groundstate", "bestfit")]
    try:
        inputs = [common.file_input(folder_path(folder, n)) for n in names]
    except DataError as exc:
        missing = [common.missing_item("all", f"simulated_data/scaling_experiment_{folder}", str(exc))]
        return common.FigureResult(figure_id, common.NOT_PRODUCED, {}, missing)
    if isinstance(experimental_fc, str) and experimental_fc == "auto":
        experimental_fc = load_experimental_fc_auto()
    missing = []
    if experimental_fc is None:
        missing.append(common.missing_item("E", FMRI_FILE, FMRI_HOW))
    else:
        inputs += [common.file_input(FMRI_FILE), common.file_input(FMRI_ROIS)] if config.data_dir() and (
            Path(config.data_dir()) / FMRI_FILE).is_file() else [{"kind": "array", "name": "experimental FC (given)"}]

    ks = {m: read_chi_json(folder, f"ks_{m}_arr.json") for m, _ in MEASURES}
    fmri = {b: read_chi_csv(folder, f"df_corr_{HEMISPHERE}_use_corrcoeff_{b}.csv") for b in (True, False)}
    chis = sorted(json.loads(data.data_path(folder_path(folder, "path_to_chi.json")).read_text()), key=float)
    ground_label = f"χ = {ground_chi:g}" + (" (as shipped)" if ground_chi == 0 else "")
    labels = {"groundstate": f"ground state, {ground_label}", "bestfit": f"best fit, χ = {chi_star:g}",
              "experiment": "experiment (Minxha et al. 2020)"}
    title = f"{figure_id.split(' (')[0]} — {TITLE}: scaling_experiment_{folder}"
    with style.figure_style():
        fig = plt.figure(figsize=(15, 9.2))
        top = fig.add_gridspec(1, 4, left=0.05, right=0.98, top=0.9, bottom=0.6, width_ratios=[1.5, 1, 1, 1], wspace=0.3)
        bottom = fig.add_gridspec(1, 3, left=0.06, right=0.97, top=0.5, bottom=0.04, wspace=0.35)
        axes = {k: fig.add_subplot(top[0, i]) for i, k in enumerate("ABCD")}
        axes.update({k: fig.add_subplot(bottom[0, i]) for i, k in enumerate("EFG")})
        _panel_a(axes["A"], ks, fmri, chi_star)
        for letter, (q, xlabel, log) in zip("BCD", (("rates", "rate (spikes/s)", False), ("cv", "CV ISI", False),
                                                      ("lvr", "LvR", False))):
            samples = {"groundstate": read_samples(folder, f"sim_{q}_groundstate.npy"),
                       "bestfit": read_samples(folder, f"sim_{q}_bestfit.npy"), "experiment": read_samples(folder, f"exp_{q}.npy")}
            _distribution_panel(axes[letter], samples, labels, xlabel, log, show_legend=letter == "B")
        groups = style.rsn_groups(HEMISPHERE)
        if experimental_fc is None:
            style.placeholder_panel(axes["E"], FMRI_FILE, FMRI_HOW, title=f"experimental FC ({HEMISPHERE})")
        else:
            _fc_panel(axes["E"], pd.DataFrame(experimental_fc, index=style.ALPHABETICAL, columns=style.ALPHABETICAL),
                      groups, f"experimental FC ({HEMISPHERE}, fMRI)")
        _fc_panel(axes["F"], read_fc(folder, "simulated_fc_groundstate.csv"), groups, f"simulated FC, {labels['groundstate']}")
        _fc_panel(axes["G"], read_fc(folder, "simulated_fc_bestfit.csv"), groups, f"simulated FC, {labels['bestfit']}")
        for letter, ax in axes.items():
            style.panel_label(ax, letter, x=-0.1 if letter in "EFG" else -0.14)
        fig.suptitle(title, fontsize=10)
        status = common.PARTIAL if missing else common.FULL
        meta = common.sidecar(figure_id, title, inputs, status, missing, folder=folder, chi_star=chi_star,
                              groundstate_chi=ground_chi, hemisphere=HEMISPHERE, chi_grid=[float(c) for c in chis],
                              notes="FC diagonal masked; areas in resting-state network order (figures.md §2.4)")
        paths = style.save_figure(fig, Path(out_dir) / stem, meta)
    values = {"ks": ks, "fc_pearson": fmri[True], "fc_rmse_similarity": fmri[False], "chi_star": chi_star,
              "groundstate_chi": ground_chi, "placeholder_panels": [m["panel"] for m in missing]}
    return common.FigureResult(figure_id, status, paths, missing, values)


def smooth_density(values, grid) -> np.ndarray:
    """Gaussian kernel density (Scott bandwidth) on an even ``grid``, by binning and smoothing."""
    step = grid[1] - grid[0]
    counts, _ = np.histogram(values, bins=np.append(grid - step / 2, grid[-1] + step / 2))
    bandwidth = values.std(ddof=1) * values.size ** (-1 / 5)
    return gaussian_filter1d(counts.astype(float), bandwidth / step, mode="constant") / (values.size * step)


def _panel_a(ax, ks, fmri, chi_star):
    for (m, label) in MEASURES:
        x = [float(c) for c in ks[m]]
        ax.plot(x, list(ks[m].values()), "o-", ms=3, lw=1.2, color=style.MEASURE_COLORS[m], label=label)
    for b, key, label in ((True, "fc_pearson", f"FC Pearson r ({HEMISPHERE})"),
                          (False, "fc_rmse", f"FC RMSE similarity ({HEMISPHERE})")):
        x = [float(c) for c in fmri[b]]
        ax.plot(x, list(fmri[b].values()), "s--", ms=3, lw=1.2, color=style.MEASURE_COLORS[key], label=label)
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


def main():
    common.cli(build, __doc__)


if __name__ == "__main__":
    main()
