"""S-RD: firing-rate distributions per population of the best fit (docs/figures.md §4.10), from the analysis of the run ``best_fit``.

4 × 2 panels: rows L2/3…L6, columns E and I. For each area that has the population, the individual
rates of its spiking neurons (docs/model.md §8.3) are histogrammed on log-spaced bins and normalised to a
density per decade of rate (the histogram integrates to 1 over log10 rate); the panel shows the mean
over areas per bin and a ±1 SD band across areas.

Bins: 40 log-spaced bins over 10⁻²…10² spikes/s (10 per decade). Rates of 0 spikes/s (neurons that
spiked only in the transient) cannot be drawn on a log axis; they are counted, reported and left out
of the densities. When a run has rates above 10² spikes/s (down-scaled runs can), bins of the same
width are appended up to the highest rate, so that no neuron is dropped; the bins used are recorded.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from humam import tables

from . import common, style
from .spike_statistics import chi_text, figure_title, not_produced

FIGURE_ID = "S-RD"
TITLE = "Firing-rate distributions per population, best fit"
RUN_NAME = "best_fit"
STEM = "figS_rate_distributions"
SPEC = common.FigureSpec(stems=(STEM,), runs={RUN_NAME: common.Source.run("best_fit")})

RATE_MIN_HZ, RATE_MAX_HZ, N_BINS = 1e-2, 1e2, 40


def rate_bin_edges(rates_hz: np.ndarray, low: float = RATE_MIN_HZ, high: float = RATE_MAX_HZ,
                   n_bins: int = N_BINS, extend: bool = True) -> np.ndarray:
    """``n_bins`` log-spaced bins over [low, high]; with ``extend``, bins of the same log width are
    appended until the highest rate is covered."""
    step = (np.log10(high) - np.log10(low)) / n_bins
    top = np.log10(high)
    highest = float(np.max(rates_hz, initial=0.0))
    extra = int(np.ceil((np.log10(highest) - top) / step - 1e-9)) if extend and highest > high else 0
    edges = 10 ** (np.log10(low) + step * np.arange(n_bins + extra + 1))
    if extend and edges[-1] < highest:  # rounding of a rate on a bin edge
        edges = np.append(edges, 10 ** (np.log10(low) + step * (n_bins + extra + 1)))
    return edges


def area_densities(rates_hz: np.ndarray, population_index: np.ndarray, neuron_numbers: np.ndarray,
                   edges: np.ndarray) -> dict:
    """Per population type, the density per decade of each area's individual rates.

    Returns ``{k: {"areas": [...], "density": (n_areas, n_bins), "neurons": n, "zero_rate": n,
    "outside": n}}`` for the 8 area-populations k; areas without the population, or without a
    rate inside the bins, are skipped (and listed under ``skipped``)."""
    log_width = np.diff(np.log10(edges))
    order = np.argsort(population_index, kind="stable")
    sorted_rates = rates_hz[order]
    bounds = np.searchsorted(population_index[order], np.arange(tables.N_POPULATIONS + 1))
    out = {}
    for k in range(tables.N_POPULATIONS_PER_AREA):
        areas, rows, skipped = [], [], []
        counts = {"neurons": 0, "zero_rate": 0, "outside": 0}
        for a, area in enumerate(tables.AREAS):
            p = a * tables.N_POPULATIONS_PER_AREA + k
            if neuron_numbers[p] == 0:
                continue
            rates = sorted_rates[bounds[p]:bounds[p + 1]]
            inside = (rates >= edges[0]) & (rates <= edges[-1])
            counts["neurons"] += rates.size
            counts["zero_rate"] += int(np.count_nonzero(rates == 0))
            counts["outside"] += int(np.count_nonzero(~inside & (rates > 0)))
            if not inside.any():
                skipped.append(area)
                continue
            hist, _ = np.histogram(rates[inside], bins=edges)
            areas.append(area)
            rows.append(hist / (inside.sum() * log_width))
        out[k] = {"areas": areas, "skipped": skipped, "density": np.array(rows).reshape(len(rows), edges.size - 1),
                  **counts}
    return out


def build(out_dir, inputs: common.FigureInputs) -> common.FigureResult:
    """Draw S-RD from the analysis of the run ``best_fit``; "not produced" without it."""
    run = inputs.run(RUN_NAME)
    if run is None:
        return not_produced(FIGURE_ID, RUN_NAME, "R-best, χ = 2.5", "A–H")
    results = run.analysis
    neurons = results["neurons"]
    rates = np.asarray(neurons["rate_hz"], dtype=float)
    population = np.asarray(neurons["population_index"])
    edges = rate_bin_edges(rates)
    densities = area_densities(rates, population, np.asarray(results["populations"]["neuron_numbers"]), edges)
    t_start, t_stop = float(results["window"]["t_start_ms"]), float(results["window"]["t_stop_ms"])
    extended = edges[-1] > RATE_MAX_HZ * (1 + 1e-9)
    full_title = f"{FIGURE_ID} — {TITLE} ({chi_text(run)})"
    status = common.status_of_runs([run], [])
    summary = {}
    with style.figure_style():
        fig, axes = plt.subplots(4, 2, figsize=(8, 10), sharex=True, gridspec_kw={"hspace": 0.35, "wspace": 0.25,
                                                                                  "top": 0.89, "bottom": 0.06,
                                                                                  "left": 0.1, "right": 0.98})
        for k in range(tables.N_POPULATIONS_PER_AREA):
            ax = axes[k // 2, k % 2]
            label = style.POPULATION_LABELS[k]
            color = style.E_COLOR if tables.AREA_POPULATION_IS_EXCITATORY[k] else style.I_COLOR
            d = densities[k]
            if d["density"].shape[0]:
                mean, sd = d["density"].mean(axis=0), d["density"].std(axis=0)
                ax.stairs(mean + sd, edges, baseline=np.clip(mean - sd, 0, None), fill=True, color=color, alpha=0.25,
                          lw=0, label="±1 SD across areas")
                ax.stairs(mean, edges, color=color, lw=1.4, label="mean across areas")
                summary[label] = {"mean": mean, "sd": sd}
            else:
                ax.text(0.5, 0.5, "no spiking neurons", transform=ax.transAxes, ha="center", va="center")
            ax.set_xscale("log")
            ax.set_xlim(edges[0], edges[-1])
            ax.set_ylim(bottom=0)
            ax.set_title(label, color=color, fontweight="bold")
            note = f"{len(d['areas'])} areas, {d['neurons']:,} spiking neurons"
            if d["zero_rate"]:
                note += f"\n{100 * d['zero_rate'] / max(d['neurons'], 1):.1f} % at 0 spikes/s (not shown)"
            ax.text(0.02, 0.97, note, transform=ax.transAxes, ha="left", va="top", fontsize=6.5, color="#333333")
            if k // 2 == 3:
                ax.set_xlabel("rate (spikes/s)")
                ax.tick_params(axis="x", labelbottom=True)
            if k % 2 == 0:
                ax.set_ylabel("density (per decade)")
            ax.grid(axis="x", color="#eeeeee", lw=0.5)
            style.panel_label(ax, "ABCDEFGH"[k], x=-0.1)
        axes[0, 1].legend(loc="upper right")
        fig.text(0.5, 0.925, f"Individual rates over {t_start:g}–{t_stop:g} ms "
                 f"of the neurons that spiked; per area a histogram on {edges.size - 1} log-spaced bins "
                 f"({edges[0]:g}–{edges[-1]:.3g} spikes/s"
                 + (f", extended beyond {RATE_MAX_HZ:g} to the highest rate" if extended else "")
                 + ") normalised to a density over log10 rate.",
                 ha="center", va="bottom", fontsize=7.5, color="#333333", wrap=True)
        figure_title(fig, full_title, run)
        bins_meta = {"edges_hz": edges, "n_bins": edges.size - 1, "spacing": "log10, width 0.1 decade",
                     "default": f"{N_BINS} bins over {RATE_MIN_HZ:g}–{RATE_MAX_HZ:g} spikes/s",
                     "extended_to_hz": float(edges[-1]) if extended else None,
                     "density": "per area: counts / (neurons inside the bins x bin width in decades); integrates "
                                "to 1 over log10 rate", "zero_rates": "not shown (log axis), counted per population"}
        per_population = {style.POPULATION_LABELS[k]: {key: d[key] for key in ("areas", "skipped", "neurons",
                                                                                "zero_rate", "outside")}
                          for k, d in densities.items()}
        meta = common.sidecar(FIGURE_ID, full_title, [run.descriptor()], status, [], scale_banner=run.scale_banner(),
                              bins=bins_meta, populations=per_population, rate_window_ms=[t_start, t_stop])
        paths = style.save_figure(fig, Path(out_dir) / STEM, meta)
    values = {"edges_hz": edges, "densities": {style.POPULATION_LABELS[k]: d for k, d in densities.items()},
              "summary": summary}
    return common.FigureResult(FIGURE_ID, status, paths, [], values)


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
