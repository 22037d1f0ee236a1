"""Temporal hierarchy of the areas (docs/figures.md §4.8): peak lags of the area rates, their
significance, and the hierarchy that fits the significant lags.

1. Area rates r_A(t): the area rate histograms (docs/model.md §8.7) over a window (:func:`hierarchy_window_ms`),
   mean subtracted per area.
2. Peak lag τ_AB: the lag k in −max_lag…+max_lag bins that maximises Σ_t r_A(t) r_B(t + k); τ_AB > 0
   means A leads B. τ_BA = −τ_AB by construction; pairs with a constant signal have no lag (NaN).
3. Significance (the package's definition): the window is split into ``n_chunks`` equal chunks (each
   mean-subtracted), τ_AB is computed per chunk, and a pair is significant when a one-sample t-test of
   the chunk lags against 0 gives p < alpha (chunk lags that are all equal give p = 0 if non-zero,
   else 1).
4. Hierarchy h: minimises Σ over significant pairs (τ_AB − (h_B − h_A))² with L-BFGS-B from a
   Uniform[0, 1) start of ``np.random.default_rng(seed)``; h is shifted so that min h = 0 in each
   group of areas connected by significant pairs; areas without a significant pair have no h (NaN).

The options are the ``analysis.hierarchy`` section of ``defaults.yaml``; :func:`hierarchy_of_rates`
is what :func:`humam.analysis.analyse_spike_trains` stores as the ``hierarchy`` group.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, sparse, stats
from scipy.fft import next_fast_len
from scipy.sparse import csgraph

#: Defaults of the ``analysis.hierarchy`` section (docs/figures.md §4.8).
MAX_LAG_BINS = 50
N_CHUNKS = 9
ALPHA = 0.05
SEED = 2903
WINDOW_MS = (2500.0, 12500.0)


def hierarchy_window_ms(t_sim_ms: float, t_start_ms: float = WINDOW_MS[0], t_stop_ms: float = WINDOW_MS[1],
                        short_run_start_ms: float = 500.0) -> tuple[tuple[float, float], bool]:
    """(window, full_length): [t_start_ms, t_stop_ms) if the run reaches t_stop_ms, else
    [short_run_start_ms, t_sim) (the analysis window's start: the transient is skipped)."""
    if float(t_sim_ms) >= float(t_stop_ms):
        return (float(t_start_ms), float(t_stop_ms)), True
    return (float(short_run_start_ms), float(t_sim_ms)), False


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


def chunk_length(n_bins: int, n_chunks: int = N_CHUNKS, max_lag: int = MAX_LAG_BINS) -> int:
    """Bins per chunk; :class:`ValueError` when a chunk is too short for lags of ±max_lag bins."""
    length = int(n_bins) // int(n_chunks)
    if length <= 2 * max_lag:
        raise ValueError(f"{n_chunks} chunks of {n_bins} bins have {length} bins each, too short for lags of "
                         f"±{max_lag} bins (more than {2 * max_lag} bins needed)")
    return length


def chunk_peak_lags(signals, n_chunks: int = N_CHUNKS, max_lag: int = MAX_LAG_BINS) -> np.ndarray:
    """(n_chunks, A, A) peak lags of ``n_chunks`` equal consecutive chunks (the remainder bins at the
    end are dropped); each chunk is mean-subtracted on its own."""
    x = np.asarray(signals, dtype=float)
    length = chunk_length(x.shape[1], n_chunks, max_lag)
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
    """(A,) group label of each area (connected components of the significant pairs, numbered in the
    order of their first area); −1 for areas without any significant pair."""
    sig = np.asarray(significant, dtype=bool)
    _, labels = csgraph.connected_components(sparse.csr_matrix(sig | sig.T), directed=False)
    isolated = ~(sig | sig.T).any(axis=1)
    labels = labels.astype(int)
    labels[isolated] = -1
    kept = sorted(set(labels[~isolated].tolist()), key=lambda g: np.flatnonzero(labels == g)[0])
    relabel = {g: k for k, g in enumerate(kept)}
    return np.array([relabel.get(g, -1) for g in labels], dtype=int)


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
    significant pairs), ``groups`` (:func:`significance_groups`), ``cost``, ``n_pairs`` and ``success``.
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
    for g in range(groups.max(initial=-1) + 1):
        members = groups == g
        h[members] = result.x[members] - result.x[members].min()
    return {"h": h, "groups": groups, "cost": float(result.fun), "n_pairs": int(pair_a.size),
            "success": bool(result.success)}


def temporal_hierarchy(signals, max_lag: int = MAX_LAG_BINS, n_chunks: int = N_CHUNKS, alpha: float = ALPHA,
                       seed: int = SEED) -> dict:
    """Steps 2–4 for (A, T) area signals: ``lags`` (bins), ``chunk_lags``, ``p_values``,
    ``significant`` and the :func:`fit_hierarchy` results (h in bins)."""
    x = np.asarray(signals, dtype=float)
    lags = peak_lags(x, max_lag)
    chunks = chunk_peak_lags(x, n_chunks, max_lag)
    p = lag_p_values(chunks)
    sig = significant_pairs(lags, p, alpha)
    return {"lags": lags, "chunk_lags": chunks, "p_values": p, "significant": sig, **fit_hierarchy(lags, sig, seed)}


def hierarchy_order(h) -> np.ndarray:
    """Area indices by increasing h (index order within ties); areas without h last."""
    h = np.asarray(h, dtype=float)
    index = np.arange(h.size)
    return index[np.lexsort((index, np.where(np.isfinite(h), h, np.inf)))]


def hierarchy_of_rates(area_rates, time_ms, t_sim_ms: float, options: dict, short_run_start_ms: float = 500.0) -> dict:
    """The temporal hierarchy of a run from its (34, T) area rate histograms with bin starts ``time_ms``.

    ``options``: the resolved ``analysis.hierarchy`` section (``max_lag_bins``, ``n_chunks``, ``alpha``,
    ``seed``, ``t_start_ms``, ``t_stop_ms``); a run shorter than ``t_stop_ms`` uses
    [``short_run_start_ms``, t_sim). Returns ``available`` and ``reason`` (False and why when the window
    is too short for the chunks), ``window_ms``, ``full_length``, ``bin_ms``, and when available
    ``lags_ms``, ``chunk_lags_ms``, ``p_values``, ``significant``, ``h_ms``, ``groups``, ``cost_ms2``,
    ``n_significant_pairs``, ``success``, ``order`` (area indices by h, :func:`hierarchy_order`).
    """
    time_ms = np.asarray(time_ms, dtype=float)
    area_rates = np.asarray(area_rates, dtype=float)
    bin_ms = float(time_ms[1] - time_ms[0]) if time_ms.size > 1 else 1.0
    window, full_length = hierarchy_window_ms(t_sim_ms, options["t_start_ms"], options["t_stop_ms"],
                                              short_run_start_ms)
    out: dict = {"available": False, "reason": "", "window_ms": np.array(window), "full_length": full_length,
                 "bin_ms": bin_ms}
    inside = (time_ms >= window[0]) & (time_ms < window[1])
    max_lag, n_chunks = int(options["max_lag_bins"]), int(options["n_chunks"])
    try:
        chunk_length(int(inside.sum()), n_chunks, max_lag)
    except ValueError as exc:
        out["reason"] = f"window [{window[0]:g}, {window[1]:g}) ms: {exc}"
        return out
    result = temporal_hierarchy(area_rates[:, inside], max_lag, n_chunks, float(options["alpha"]),
                                int(options["seed"]))
    out.update({"available": True, "lags_ms": result["lags"] * bin_ms, "chunk_lags_ms": result["chunk_lags"] * bin_ms,
                "p_values": result["p_values"], "significant": result["significant"], "h_ms": result["h"] * bin_ms,
                "groups": result["groups"], "cost_ms2": result["cost"] * bin_ms ** 2,
                "n_significant_pairs": result["n_pairs"], "success": result["success"],
                "order": hierarchy_order(result["h"])})
    return out
