"""Drawing shared by the figures made from the spike statistics of one simulation run.

* F4 (:mod:`paper_figures.fig04_spike_statistics`, ground state) and F6
  (:mod:`paper_figures.fig06_spike_statistics_best_fit`, best fit) are :func:`build_spike_statistics`
  with a different run (docs/figures.md §4.4): rasters of three areas (A–C) and box plots across areas of
  the population mean rate, CV ISI and correlation coefficient (D–F).
* S-RA (:mod:`paper_figures.figS_rasters`) draws the rasters of all areas with :func:`draw_raster`.

Raster sampling (docs/figures.md §1.5, §4.4) is part of the run's analysis (``analysis.raster``,
:func:`humam.analysis.raster_sample`): per population a seeded (2903) random 2.5 % of the neurons
that spiked at least once in the run (silent neurons are absent from the spike data, Q14), and their
spikes in 4000–5000 ms, or the last 500 ms after the 500 ms transient of a shorter run
(:func:`humam.analysis.raster_window_ms`). The figures read the sample from the analysis file.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from humam import tables

from . import common, style

#: Seed of the jitter of the box-plot points.
JITTER_SEED = 2903
RASTER_NEURON_POOL = ("sampled from spiking neurons: per population a seeded random fraction of the neurons with at "
                      "least one spike in the run (silent neurons are not in the spike data, Q14); "
                      "ceil(fraction x spiking neurons) neurons, so every population that spiked shows at least one")

#: Areas of panels A–C of F4/F6.
RASTER_AREAS = ("caudalanteriorcingulate", "pericalcarine", "fusiform")

#: Box-plot quantities of panels D–F: (key in analysis["population"], y label, panel title).
BOX_QUANTITIES = (
    ("rate_hz", "mean rate (spikes/s)", "Population mean rate"),
    ("cv_isi", "CV ISI", "Irregularity (CV ISI)"),
    ("cc", "correlation coefficient", "Pairwise correlation (1 ms bins)"),
)

N_PER_AREA = tables.N_POPULATIONS_PER_AREA


def type_color(population_index) -> str:
    """E/I colour of a population (canonical index or index within its area)."""
    return style.E_COLOR if tables.AREA_POPULATION_IS_EXCITATORY[int(population_index) % N_PER_AREA] else style.I_COLOR


# ---------------------------------------------------------------------------------------------
# Missing run, titles, sidecar


def not_produced(figure_id: str, run_name: str, run_label: str, panels: str) -> common.FigureResult:
    """Result of a figure whose only input, the run ``run_name``, is missing: no image (docs/figures.md §1.2)."""
    missing = [common.missing_item(panels, f"simulation run '{run_name}' ({run_label})", common.RUN_HOW)]
    return common.FigureResult(figure_id, common.NOT_PRODUCED, {}, missing)


def chi_text(run: common.RunInput) -> str:
    scaling = run.params["network"]["scaling"]
    return f"χ = {float(scaling['chi']):g}, χ_I = {float(scaling['chi_I']):g}"


def figure_title(fig, title: str, run: common.RunInput, y: float = 0.995):
    """Title line and, for a down-scaled run, the scale banner beneath it (docs/figures.md §1.4)."""
    banner = run.scale_banner()
    fig.suptitle(title, fontsize=11, fontweight="bold", y=y, va="top")
    if banner:
        fig.text(0.5, y - 17 / (72 * fig.get_figheight()), banner, ha="center", va="top", fontsize=8.5,
                 color="#b00000", style="italic")


def check_chi(run: common.RunInput, expected_chi: float) -> None:
    chi = float(run.params["network"]["scaling"]["chi"])
    if chi != expected_chi:
        common.log.warning("run %s at %s has χ = %g; the figure expects χ = %g", run.name, run.folder, chi,
                           expected_chi)


def analysis_window(run: common.RunInput) -> dict:
    window = run.analysis["window"]
    return {"t_start_ms": float(window["t_start_ms"]), "t_stop_ms": float(window["t_stop_ms"])}


# ---------------------------------------------------------------------------------------------
# Rasters


def run_raster_sample(run: common.RunInput) -> dict:
    """The raster sample of the run's analysis (``analysis.raster``): ``neurons`` (population_index,
    node_id of every sampled neuron, sorted), ``spikes`` (population_index, node_id, times_ms in
    [start, stop)), ``sampled_neurons`` (272,), ``window_ms``, ``window_choice``, ``fraction`` and ``seed``."""
    try:
        raster = run.analysis["raster"]
        neurons, window = raster["neurons"], raster["window_ms"]
    except KeyError as exc:
        raise common.InputError(f"{run.analysis_path}: the analysis has no raster sample of sampled neurons "
                                f"({exc}); analyse the run again ('humam analyse {run.folder} --force').") from None
    return {"neurons": {"population_index": np.asarray(neurons["population_index"], dtype=np.int64),
                        "node_id": np.asarray(neurons["node_id"], dtype=np.int64)},
            "spikes": {"population_index": np.asarray(raster["population_index"], dtype=np.int64),
                       "node_id": np.asarray(raster["node_id"], dtype=np.int64),
                       "times_ms": np.asarray(raster["times_ms"], dtype=float)},
            "sampled_neurons": np.asarray(raster["sampled_neurons"]),
            "window_ms": (float(window[0]), float(window[1])), "window_choice": str(raster["window_choice"]),
            "fraction": float(raster["fraction"]), "seed": int(raster["seed"])}


def area_raster(sample: dict, area: str) -> dict:
    """Raster rows of one area: its sampled neurons in canonical population order (2/3E at the top),
    node-id order within a population, and the row of every spike in the window."""
    a = tables.area_index(area)
    neurons, spikes = sample["neurons"], sample["spikes"]
    in_area = neurons["population_index"] // N_PER_AREA == a
    row_pop, row_id = neurons["population_index"][in_area], neurons["node_id"][in_area]
    s_in = spikes["population_index"] // N_PER_AREA == a
    s_pop, s_id, s_t = spikes["population_index"][s_in], spikes["node_id"][s_in], spikes["times_ms"][s_in]
    # rows are sorted by (population, node id): locate each spike's neuron by a combined key
    stride = int(max(row_id.max(initial=0), s_id.max(initial=0))) + 1
    row = np.searchsorted(row_pop * stride + row_id, s_pop * stride + s_id)
    return {"area": area, "row_population_index": row_pop, "row_node_id": row_id,
            "population_index": s_pop, "node_id": s_id, "times_ms": s_t, "row": row, "window_ms": sample["window_ms"]}


def draw_raster(ax, raster: dict, title: str | None = None, label_fontsize: float = 7):
    """One area's raster: a row per sampled neuron, populations from 2/3E (top) to 6I, E/I colours,
    population labels at the group centres, time in ms."""
    start, stop = raster["window_ms"]
    n_rows = raster["row_population_index"].size
    ax.set_xlim(start, stop)
    ax.set_title(title if title is not None else f"{raster['area']} ({style.short(raster['area'])})")
    ax.set_xlabel("time (ms)")
    if n_rows == 0:
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no spiking neurons", transform=ax.transAxes, ha="center", va="center", color="#666666")
        return
    ax.set_ylim(n_rows - 0.5, -0.5)  # first row (2/3E) at the top
    row_pt = ax.get_position().height * ax.figure.get_figheight() * 72 / n_rows
    if row_pt >= 1.5:  # few rows: a tick per spike, as tall as the row
        marker = {"marker": "|", "ms": min(0.85 * row_pt, 5.0), "mew": min(0.6 * row_pt, 0.8)}
    else:  # many rows: dots
        marker = {"marker": ".", "ms": 1.6, "mew": 0}
    excitatory = tables.AREA_POPULATION_IS_EXCITATORY[raster["population_index"] % N_PER_AREA]
    for mask, color in ((excitatory, style.E_COLOR), (~excitatory, style.I_COLOR)):
        ax.plot(raster["times_ms"][mask], raster["row"][mask], ls="none", color=color, rasterized=True, **marker)
    pops, starts = np.unique(raster["row_population_index"], return_index=True)
    stops = np.append(starts[1:], n_rows)
    ax.set_yticks((starts + stops - 1) / 2, [style.POPULATION_LABELS[p % N_PER_AREA] for p in pops],
                  fontsize=label_fontsize)
    for tick, p in zip(ax.get_yticklabels(), pops):
        tick.set_color(type_color(p))
    ax.tick_params(axis="y", length=0)
    for p, edge in zip(pops[1:], starts[1:]):
        ax.axhline(edge - 0.5, color="#999999" if p % 2 == 0 else "#dddddd", lw=0.5, zorder=0)


def raster_metadata(sample: dict, areas) -> dict:
    """Sidecar record of the raster sampling."""
    per_area = {}
    for area in areas:
        a = tables.area_index(area)
        counts = sample["sampled_neurons"][a * N_PER_AREA:(a + 1) * N_PER_AREA]
        per_area[area] = {label: int(c) for label, c in zip(style.POPULATION_LABELS, counts) if c > 0}
    return {"areas": list(areas), "fraction": sample["fraction"], "seed": sample["seed"],
            "window_ms": list(sample["window_ms"]), "window_choice": sample["window_choice"],
            "window_convention": "spikes with start <= t < stop", "neuron_pool": RASTER_NEURON_POOL,
            "sampled_neurons": per_area}


# ---------------------------------------------------------------------------------------------
# Box plots across areas


def box_values(results: dict) -> dict[str, dict]:
    """Per quantity and population type, the values of the non-empty populations across areas and
    their areas: ``{key: {"values": [8 arrays], "areas": [8 lists]}}``."""
    n = np.asarray(results["populations"]["neuron_numbers"])
    index = np.arange(tables.N_POPULATIONS)
    out = {}
    for key, _, _ in BOX_QUANTITIES:
        values = np.asarray(results["population"][key], dtype=float)
        groups = [index[(index % N_PER_AREA == k) & (n > 0)] for k in range(N_PER_AREA)]
        out[key] = {"values": [values[g] for g in groups],
                    "areas": [[tables.AREAS[i // N_PER_AREA] for i in g] for g in groups]}
    return out


def draw_box_panel(ax, values: list[np.ndarray], ylabel: str, title: str, seed: int = JITTER_SEED):
    """One box per population type (E/I colours; seaborn), with the areas as jittered points."""
    import pandas as pd
    import seaborn as sns

    labels = list(style.POPULATION_LABELS)
    frame = pd.DataFrame({"population": np.repeat(labels, [values[k].size for k in range(N_PER_AREA)]),
                          "value": np.concatenate([np.asarray(v, dtype=float) for v in values])})
    sns.boxplot(data=frame, x="population", y="value", hue="population", order=labels, hue_order=labels,
                palette={labels[k]: type_color(k) for k in range(N_PER_AREA)}, width=0.6, showfliers=False,
                linewidth=0.8, medianprops={"color": "black", "lw": 1.2}, boxprops={"alpha": 0.55}, legend=False, ax=ax)
    rng = np.random.default_rng(seed)  # own jitter: the same figure on every rebuild
    for k in range(N_PER_AREA):
        if values[k].size:
            jitter = rng.uniform(-0.17, 0.17, values[k].size)
            ax.scatter(k + jitter, values[k], s=4, color="#222222", alpha=0.7, lw=0, zorder=3)
    for tick, k in zip(ax.get_xticklabels(), range(N_PER_AREA)):
        tick.set_color(type_color(k))
    ax.set_xlim(-0.6, N_PER_AREA - 0.4)
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.07 * (high - low))
    for k in range(N_PER_AREA):  # areas lacking the population (empty populations are omitted)
        if values[k].size != tables.N_AREAS:
            ax.text(k, 0.995, f"n = {values[k].size}", transform=ax.get_xaxis_transform(), ha="center",
                    va="top", fontsize=6, color="#555555")
    ax.set_xlabel("")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", color="#e5e5e5", lw=0.5)
    ax.set_axisbelow(True)


# ---------------------------------------------------------------------------------------------
# F4 / F6


def build_spike_statistics(out_dir, inputs: common.FigureInputs, *, run_name: str, run_label: str, figure_id: str,
                           title: str, stem: str, expected_chi: float) -> common.FigureResult:
    """Draw F4 or F6 from the analysis of the run ``run_name``: rasters of :data:`RASTER_AREAS` (A–C)
    and box plots across areas of rate, CV ISI and correlation coefficient (D–F)."""
    run = inputs.run(run_name)
    if run is None:
        return not_produced(figure_id, run_name, run_label, "A–F")
    check_chi(run, expected_chi)
    results = run.analysis
    sample = run_raster_sample(run)
    rasters = {area: area_raster(sample, area) for area in RASTER_AREAS}
    boxes = box_values(results)
    full_title = f"{figure_id} — {title} ({chi_text(run)})"
    status = common.status_of_runs([run], [])
    with style.figure_style():
        fig = plt.figure(figsize=(12, 8.4))
        top = fig.add_gridspec(1, 3, left=0.06, right=0.99, top=0.87, bottom=0.53, wspace=0.22)
        bottom = fig.add_gridspec(1, 3, left=0.06, right=0.99, top=0.42, bottom=0.08, wspace=0.25)
        for i, area in enumerate(RASTER_AREAS):
            ax = fig.add_subplot(top[0, i])
            draw_raster(ax, rasters[area])
            style.panel_label(ax, "ABC"[i], x=-0.1)
        for i, (key, ylabel, panel_title) in enumerate(BOX_QUANTITIES):
            ax = fig.add_subplot(bottom[0, i])
            draw_box_panel(ax, boxes[key]["values"], ylabel, f"{panel_title} across areas")
            style.panel_label(ax, "DEF"[i], x=-0.1)
        start, stop = sample["window_ms"]
        window = analysis_window(run)
        fig.text(0.5, 0.925, f"A–C: {100 * sample['fraction']:g} % of the spiking neurons of each population, "
                 f"{start:g}–{stop:g} ms.   D–F: one point per area, statistics over "
                 f"{window['t_start_ms']:g}–{window['t_stop_ms']:g} ms; empty populations omitted "
                 f"(n: number of areas where fewer than {tables.N_AREAS}).",
                 ha="center", va="bottom", fontsize=8, color="#333333")
        figure_title(fig, full_title, run)
        meta = common.sidecar(figure_id, full_title, [run.descriptor()], status, [],
                              scale_banner=run.scale_banner(), raster=raster_metadata(sample, RASTER_AREAS),
                              statistics={"window_ms": window, "rate": "docs/model.md §8.2 (spikes / N_pop / duration)",
                                          "cv_isi": "docs/model.md §8.4 (0 where no neuron has ≥ 10 spikes)",
                                          "cc": "docs/model.md §8.6 (first 2000 non-constant trains, 1 ms bins)",
                                          "populations": "non-empty populations only, one value per area"})
        paths = style.save_figure(fig, Path(out_dir) / stem, meta)
    values = {"raster": rasters, "raster_window_ms": sample["window_ms"],
              "raster_window_choice": sample["window_choice"],
              "boxes": boxes, "run": run.descriptor()}
    return common.FigureResult(figure_id, status, paths, [], values)
