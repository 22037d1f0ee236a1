"""F8: temporal hierarchy of the areas in the best-fit state (figures.md §4.8).

1. Area rates r_A(t): the area rate histograms of the best-fit run (1 ms bins, model §8.7) over
   [2500, 12500) ms when the run is that long, else over [500 ms, t_sim) (recorded in the sidecar);
   mean subtracted per area.
2. Peak lag τ_AB: the lag k in −50…+50 bins that maximises Σ_t r_A(t) r_B(t + k); τ_AB > 0 means A
   leads B. τ_BA = −τ_AB by construction; pairs with a constant signal have no lag.
3. Significance: the window is split into 9 equal chunks (each mean-subtracted), τ_AB is computed
   per chunk, and a pair is significant when a one-sample t-test of the chunk lags against 0 gives
   p < 0.05 (the package's definition; chunk lags that are all equal give p = 0 if non-zero, else 1).
4. Hierarchy h: minimises Σ over significant pairs (τ_AB − (h_B − h_A))² with L-BFGS-B from a
   uniform random start (seed 2903); h is in ms (not rescaled) and shifted so that min h = 0. Areas
   without significant pairs have no h (NaN); if the significant pairs split the areas into several
   groups, each group is shifted to min h = 0 and the groups are listed in the sidecar.

Panels: A lag matrix ordered by h (non-significant pairs masked), B areas ranked by h, coloured by
lobe. The brain-surface view is replaced by a table (area, h, lobe, colour) written as CSV next to
the figure.
"""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch
from scipy import optimize, sparse, stats
from scipy.fft import next_fast_len
from scipy.sparse import csgraph

from humam import analysis, tables

from . import common, style

FIGURE_ID = "F8"
TITLE = "Temporal hierarchy"
STEM = "fig08_temporal_hierarchy"
RUN_NAME = "best_fit"
RUN_NAMES = (RUN_NAME,)

#: Window of the full-length run, ms; shorter runs use [SHORT_RUN_START_MS, t_sim).
WINDOW_MS = (2500.0, 12500.0)
SHORT_RUN_START_MS = 500.0
MAX_LAG_BINS = 50
N_CHUNKS = 9
ALPHA = 0.05
SEED = 2903


# ---------------------------------------------------------------------------------------------
# Numerics (pure functions)


def analysis_window(t_sim_ms: float) -> tuple[tuple[float, float], bool]:
    """(window, full_length): [2500, 12500) ms if the run reaches 12.5 s, else [500 ms, t_sim)."""
    if t_sim_ms >= WINDOW_MS[1]:
        return WINDOW_MS, True
    return (SHORT_RUN_START_MS, float(t_sim_ms)), False


def cross_correlation(signals, max_lag: int = MAX_LAG_BINS) -> np.ndarray:
    """(A, A, 2 max_lag + 1) c_AB(k) = Σ_t x_A(t) x_B(t + k) for k = −max_lag…max_lag, x = r − mean(r)
    (sum over the overlap; signals are not wrapped)."""
    x = np.asarray(signals, dtype=float)
    x = x - x.mean(axis=1, keepdims=True)
    n_areas, n_t = x.shape
    n = next_fast_len(n_t + max_lag)
    spectra = np.fft.rfft(x, n)
    lags = np.arange(-max_lag, max_lag + 1) % n
    out = np.empty((n_areas, n_areas, lags.size))
    for a in range(n_areas):
        out[a] = np.fft.irfft(np.conj(spectra[a])[None, :] * spectra, n)[:, lags]
    return out


def peak_lags(signals, max_lag: int = MAX_LAG_BINS) -> np.ndarray:
    """(A, A) lag of the cross-correlation maximum in bins, τ_AB > 0 when A leads B.

    Computed for A < B and mirrored (τ_BA = −τ_AB, τ_AA = 0); NaN for pairs with a constant signal.
    """
    x = np.asarray(signals, dtype=float)
    n_areas = x.shape[0]
    corr = cross_correlation(x, max_lag)
    lags = np.argmax(corr, axis=2).astype(float) - max_lag
    upper = np.triu(np.ones((n_areas, n_areas), dtype=bool), 1)
    tau = np.where(upper, lags, 0.0)
    tau = tau - tau.T
    flat = np.ptp(x, axis=1) == 0
    tau[flat, :] = np.nan
    tau[:, flat] = np.nan
    return tau


def chunk_peak_lags(signals, n_chunks: int = N_CHUNKS, max_lag: int = MAX_LAG_BINS) -> np.ndarray:
    """(n_chunks, A, A) peak lags of ``n_chunks`` equal consecutive chunks (the remainder bins at the
    end are dropped); each chunk is mean-subtracted on its own."""
    x = np.asarray(signals, dtype=float)
    length = x.shape[1] // n_chunks
    if length <= 2 * max_lag:
        raise ValueError(f"chunks of {length} bins are too short for lags of ±{max_lag} bins")
    return np.stack([peak_lags(x[:, c * length:(c + 1) * length], max_lag) for c in range(n_chunks)])


def lag_p_values(chunk_lags) -> np.ndarray:
    """(A, A) two-sided p-value of a one-sample t-test of the chunk lags against 0.

    Chunk lags that are all equal: p = 0 if they are non-zero, 1 if they are 0 (the t statistic is
    ±inf or undefined). NaN where any chunk lag is NaN.
    """
    lags = np.asarray(chunk_lags, dtype=float)
    n = lags.shape[0]
    mean = lags.mean(axis=0)
    sd = lags.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / (sd / np.sqrt(n))
        p = 2.0 * stats.t.sf(np.abs(t), n - 1)
    p = np.where(sd == 0, np.where(mean == 0, 1.0, 0.0), p)
    return np.where(np.isnan(lags).any(axis=0), np.nan, p)


def significant_pairs(lags, p_values, alpha: float = ALPHA) -> np.ndarray:
    """(A, A) True for pairs with p < alpha and a defined lag (diagonal excluded)."""
    p = np.asarray(p_values, dtype=float)
    sig = np.isfinite(np.asarray(lags, dtype=float)) & (np.nan_to_num(p, nan=1.0) < alpha)
    np.fill_diagonal(sig, False)
    return sig


def significance_groups(significant) -> np.ndarray:
    """(A,) group label of each area (connected components of the significant pairs); −1 for areas
    without any significant pair."""
    sig = np.asarray(significant, dtype=bool)
    _, labels = csgraph.connected_components(sparse.csr_matrix(sig | sig.T), directed=False)
    isolated = ~(sig | sig.T).any(axis=1)
    labels = labels.astype(int)
    labels[isolated] = -1
    kept = sorted(set(labels[~isolated].tolist()), key=lambda g: np.flatnonzero(labels == g)[0])
    relabel = {g: k for k, g in enumerate(kept)}
    return np.array([relabel.get(g, -1) for g in labels])


def hierarchy_cost(h, pair_a, pair_b, tau) -> tuple[float, np.ndarray]:
    """Σ (τ_AB − (h_B − h_A))² over the given pairs and its gradient with respect to h."""
    residual = tau - (h[pair_b] - h[pair_a])
    grad = np.zeros_like(h)
    np.add.at(grad, pair_b, -2.0 * residual)
    np.add.at(grad, pair_a, 2.0 * residual)
    return float(residual @ residual), grad


def fit_hierarchy(lags, significant, seed: int = SEED) -> dict:
    """Hierarchy h (A,) from the significant lags by numerical least squares (L-BFGS-B, tight
    tolerances) from a Uniform[0, 1) start of ``np.random.default_rng(seed)``.

    Returns ``h`` (each group of connected areas shifted to min h = 0; NaN for areas without
    significant pairs), ``groups`` (:func:`significance_groups`), ``cost`` and ``n_pairs``.
    """
    tau = np.asarray(lags, dtype=float)
    sig = np.asarray(significant, dtype=bool)
    n_areas = tau.shape[0]
    pair_a, pair_b = np.nonzero(np.triu(sig | sig.T, 1))
    values = tau[pair_a, pair_b]
    start = np.random.default_rng(seed).uniform(0.0, 1.0, n_areas)
    result = optimize.minimize(hierarchy_cost, start, args=(pair_a, pair_b, values), jac=True, method="L-BFGS-B",
                               options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10_000})
    groups = significance_groups(sig)
    h = np.full(n_areas, np.nan)
    for g in range(groups.max() + 1):
        members = groups == g
        h[members] = result.x[members] - result.x[members].min()
    return {"h": h, "groups": groups, "cost": float(result.fun), "n_pairs": int(pair_a.size),
            "success": bool(result.success)}


def temporal_hierarchy(signals, max_lag: int = MAX_LAG_BINS, n_chunks: int = N_CHUNKS, alpha: float = ALPHA,
                       seed: int = SEED) -> dict:
    """All of steps 2–4 for (A, T) area signals: ``lags`` (bins), ``chunk_lags``, ``p_values``,
    ``significant`` and the :func:`fit_hierarchy` results (h in bins)."""
    x = np.asarray(signals, dtype=float)
    lags = peak_lags(x, max_lag)
    chunks = chunk_peak_lags(x, n_chunks, max_lag)
    p = lag_p_values(chunks)
    sig = significant_pairs(lags, p, alpha)
    return {"lags": lags, "chunk_lags": chunks, "p_values": p, "significant": sig, **fit_hierarchy(lags, sig, seed)}


def hierarchy_order(h) -> np.ndarray:
    """Area indices by increasing h (alphabetical within ties); areas without h last."""
    h = np.asarray(h, dtype=float)
    index = np.arange(h.size)
    return index[np.lexsort((index, np.where(np.isfinite(h), h, np.inf)))]


# ---------------------------------------------------------------------------------------------
# Inputs


def area_rate_signals(run: common.RunInput) -> tuple[np.ndarray, np.ndarray, float, str]:
    """(34, T) area rate histograms (spikes/ms per neuron), bin start times (ms), bin width (ms) and the
    source: the run's analysis.h5 if present, else computed from its spikes (model §8.7)."""
    if run.analysis_path.is_file():
        hist = run.analysis["rate_histogram"]
        time_ms, area = np.asarray(hist["time_ms"], dtype=float), np.asarray(hist["area_per_ms"], dtype=float)
        source = "analysis.h5 rate_histogram/area_per_ms"
    else:
        bin_ms = float(analysis.resolve_params(run.params.get("analysis"))["bin_ms"])
        hist = analysis.rate_histograms(run.spike_trains, bin_ms)
        time_ms, area = hist["time_ms"], hist["area"]
        source = "area rate histograms computed from spikes.h5 (model §8.7)"
    bin_ms = float(time_ms[1] - time_ms[0]) if time_ms.size > 1 else 1.0
    return area, time_ms, bin_ms, source


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


def build(out_dir, runs: dict[str, Path] | None = None, seed: int = SEED) -> common.FigureResult:
    """Draw F8 from the best-fit run (``runs = {"best_fit": folder}``)."""
    runs = runs or {}
    run = common.run_input(RUN_NAME, runs.get(RUN_NAME))
    if run is None:
        missing = [common.missing_item(panel, RUN_NAME, common.RUN_HOW) for panel in "AB"]
        return common.FigureResult(FIGURE_ID, common.NOT_PRODUCED, {}, missing)
    area, time_ms, bin_ms, source = area_rate_signals(run)
    window, full_length = analysis_window(run.t_sim_ms)
    inside = (time_ms >= window[0]) & (time_ms < window[1])
    result = temporal_hierarchy(area[:, inside], MAX_LAG_BINS, N_CHUNKS, ALPHA, seed)
    lags_ms, h = result["lags"] * bin_ms, result["h"] * bin_ms
    order = hierarchy_order(h)
    missing: list[dict] = []
    status = common.status_of_runs([run], missing)
    banner = run.scale_banner()
    window_note = (f"[{window[0]:g}, {window[1]:g}) ms" + ("" if full_length else
                   f" (the run is {run.t_sim_ms:g} ms long, shorter than {WINDOW_MS[1]:g} ms: window "
                   f"[{SHORT_RUN_START_MS:g} ms, t_sim) instead of [{WINDOW_MS[0]:g}, {WINDOW_MS[1]:g}) ms)"))
    title = f"{FIGURE_ID} — {TITLE} of the best-fit state (area rates over {window_note.split(' (')[0]})"
    n_sig = int(np.triu(result["significant"], 1).sum())
    groups = result["groups"]
    with style.figure_style():
        fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12.5, 7.0), gridspec_kw={"width_ratios": [1.45, 1], "wspace": 0.22})
        fig.subplots_adjust(top=0.86, bottom=0.08, left=0.07, right=0.98)
        _lag_panel(ax_a, lags_ms, result["significant"], order)
        _hierarchy_panel(ax_b, h, order)
        style.panel_label(ax_a, "A", x=-0.1)
        style.panel_label(ax_b, "B", x=-0.12)
        fig.suptitle(title, fontsize=10, y=0.985)
        subtitle = (f"{n_sig} of {tables.N_AREAS * (tables.N_AREAS - 1) // 2} area pairs significant "
                    f"({N_CHUNKS} chunks, one-sample t-test, p < {ALPHA:g}); lags ±{MAX_LAG_BINS} bins of {bin_ms:g} ms")
        fig.text(0.5, 0.945, subtitle, ha="center", fontsize=8)
        if banner:
            fig.text(0.5, 0.915, banner, ha="center", fontsize=8, color="#b00000")
        table_name = f"{STEM}_hierarchy.csv"
        group_lists = [[tables.AREAS[a] for a in np.flatnonzero(groups == g)] for g in range(groups.max() + 1)]
        meta = common.sidecar(
            FIGURE_ID, title, [run.descriptor()], status, missing,
            window_ms=list(window), window_note=window_note, full_length_window=full_length, signal_source=source,
            bin_ms=bin_ms, max_lag_bins=MAX_LAG_BINS, n_chunks=N_CHUNKS, alpha=ALPHA, seed=seed,
            definitions=("τ_AB = argmax_k Σ_t r_A(t) r_B(t+k), > 0 when A leads B; significance: one-sample t-test "
                         "of the 9 chunk lags against 0 (package definition); h: least squares over significant "
                         "pairs by L-BFGS-B from a seeded uniform start, in ms, not rescaled, min h = 0 per group"),
            significant_pairs=n_sig, fit={"cost_ms2": result["cost"] * bin_ms ** 2, "success": result["success"]},
            groups=group_lists, areas_without_significant_pair=[tables.AREAS[a] for a in np.flatnonzero(groups < 0)],
            hierarchy_ms={tables.AREAS[a]: (float(h[a]) if np.isfinite(h[a]) else None) for a in order},
            table=table_name, scale_banner=banner)
        paths = style.save_figure(fig, Path(out_dir) / STEM, meta)
    paths["csv"] = write_table(Path(out_dir) / table_name, h)
    values = {"lags_ms": lags_ms, "p_values": result["p_values"], "significant": result["significant"], "h_ms": h,
              "order": [tables.AREAS[a] for a in order], "window_ms": window, "full_length": full_length,
              "groups": groups, "n_significant_pairs": n_sig}
    return common.FigureResult(FIGURE_ID, status, paths, missing, values)


def main():
    common.cli_runs(build, __doc__, RUN_NAMES)


if __name__ == "__main__":
    main()
