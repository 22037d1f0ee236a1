"""F7: spike journey after a single extra spike (docs/figures.md §4.7, docs/model.md §10.3).

Drawn from the spike-journey files of the two perturbation pairs (``humam journey``, the pipeline's
task journey; :mod:`humam.analysis.journey`): the difference rasters (D_i(b) = 1 iff the perturbed and
unperturbed spike counts of population i differ in bin b of [2000, 2100) ms, 0.1 ms bins (docs/quirks.md Q21)
and, in a second figure, 1 ms bins), the first difference per area and the hop counts and delay
distances from p* = (pericalcarine, IV, E) in the full-scale network, over its population graph
(edge j → i iff S_ij > 0, of length the mean delay of that projection).

Panels: A (ground state) and B (best fit) difference rasters, populations sorted by delay distance
and coloured by it; C first-difference time per area against the area's minimum delay distance;
D hop-count and E delay-distance histograms over all populations.

Distances are those of the full-scale network and are attached to populations by label, so they apply
to a down-scaled run as well; its difference raster covers the populations that the run simulates. The
run's own (down-scaled) graph has fewer edges (many S_ij round to 0); how much its distances differ is
recorded in the journey file and the sidecar.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.lines import Line2D

from humam import tables
from humam.analysis import journey
from humam.analysis.journey import PERTURBED_POPULATION, WINDOW_MS, distance_order
from humam.network import PERTURBATION_DELAY_MS

from . import common, style

FIGURE_ID = "F7"
TITLE = "Spike journey after a single extra spike"
STEM = "fig07_spike_journey"
#: Bin width of the main figure (docs/quirks.md Q21) and of the coarse variant (ms).
BIN_MS = 0.1
COARSE_BIN_MS = 1.0
STEMS = {BIN_MS: STEM, COARSE_BIN_MS: f"{STEM}_bin{COARSE_BIN_MS:g}ms"}

#: state -> (raster panel, label, run colour key, marker)
STATES = {
    "ground": ("A", "ground state (χ = 1)", "groundstate", "o"),
    "best": ("B", "best fit (χ = 2.5)", "bestfit", "^"),
}
SPEC = common.FigureSpec(
    stems=tuple(STEMS.values()),
    journeys={
        "ground": common.Journey(common.Source.run("perturbation_ground_unperturbed"),
                                 common.Source.run("perturbation_ground_perturbed"),
                                 common.Source.network("network_only")),
        "best": common.Journey(common.Source.run("perturbation_best_unperturbed"),
                               common.Source.run("perturbation_best_perturbed"),
                               common.Source.network("network_only")),
    })
JOURNEY_HOW = ("run the pipeline: doit (task journey, or 'humam journey UNPERTURBED_RUN PERTURBED_RUN "
               "--network NETWORK_H5')")


def scale_banner(run: dict) -> str:
    """Scale note for titles (docs/figures.md §1.4) of a journey's run descriptor: empty at full scale."""
    if float(run["n_scaling"]) == 1.0 and float(run["k_scaling"]) == 1.0:
        return ""
    scheme = {"linear": "published down-scaling"}.get(run["scaling_type"], f"{run['scaling_type']} down-scaling")
    return (f"N = {float(run['n_scaling']):g}, K = {float(run['k_scaling']):g}, {scheme}, "
            f"{float(run['t_sim_ms']) / 1000:g} s simulated — not the full-scale regime")


def journey_descriptor(name: str, path: Path, data: dict) -> dict:
    """Sidecar descriptor of a journey file and its two runs."""
    runs = {key: {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in run.items()}
            for key, run in data["runs"].items()}
    return {"kind": "journey", "name": name, "path": str(path), "network": data["attrs"].get("network"),
            "network_digest": data["attrs"].get("network_digest"), **runs}


# ---------------------------------------------------------------------------------------------
# Figure


def distance_cmap():
    """Sequential colormap of the delay distances (viridis without its lightest yellow, so that every
    mark stays visible on white)."""
    return mcolors.ListedColormap(matplotlib.colormaps["viridis"](np.linspace(0.0, 0.88, 256)), name="delay")


def _label(index: int) -> str:
    area, layer, pop = tables.POPULATIONS[index]
    return f"{style.short(area)} {style.POPULATION_LABELS[tables.LAYERS.index(layer) * 2 + (pop == 'I')]}"


def _raster_panel(ax, raster, delay_ms, populations, bin_ms, cmap, norm, title):
    order = distance_order(delay_ms, populations)
    rank = np.empty(tables.N_POPULATIONS, dtype=int)
    rank[order] = np.arange(order.size)
    pop, b = np.nonzero(raster[order])
    pops = order[pop]
    size = (1.2 if bin_ms < 0.5 else 4.0) if pops.size > 500 else 9.0
    ax.scatter(b * bin_ms + bin_ms / 2, rank[pops], c=delay_ms[pops], cmap=cmap, norm=norm, s=size, marker="s",
               linewidths=0, rasterized=True)
    arrival = PERTURBATION_DELAY_MS
    ax.axvline(arrival, color="#444444", lw=0.6, ls=":")
    ax.text(arrival, 1.0, " spike arrives at p*", transform=ax.get_xaxis_transform(), fontsize=6, va="bottom",
            color="#444444")
    n_pops = np.unique(pops).size
    ax.text(0.99, 0.99, f"{pops.size:,} differing bins in {n_pops} of {order.size} populations", ha="right", va="top",
            transform=ax.transAxes, fontsize=7)
    ax.set_xlim(0, WINDOW_MS[1] - WINDOW_MS[0])
    ax.set_ylim(-4, order.size + 3)
    ax.set_xlabel(f"time after {WINDOW_MS[0]:g} ms (ms; {bin_ms:g} ms bins)")
    ax.set_ylabel(f"population, sorted by delay distance ({order.size})")
    ax.set_title(title)
    return order


def _hops_panel(ax, hops):
    counts = np.bincount(hops.astype(int))
    bars = ax.bar(np.arange(counts.size), counts, color="#666666", width=0.7)
    ax.bar_label(bars, fontsize=6, padding=1)
    ax.set_xticks(np.arange(counts.size))
    ax.set_xlabel("hop count from p*")
    ax.set_ylabel("populations")
    ax.set_ylim(0, counts.max() * 1.15)
    ax.set_title("Shortest paths (hops)")


def _delay_panel(ax, delay, cmap, norm):
    edges = np.arange(0.0, np.ceil(delay.max()) + 1.0, 1.0)
    counts, _ = np.histogram(delay, bins=edges)
    ax.bar(edges[:-1], counts, width=1.0, align="edge", color=cmap(norm(edges[:-1] + 0.5)), edgecolor="white", lw=0.3)
    ax.set_xlabel("delay distance from p* (ms; 1 ms bins)")
    ax.set_ylabel("populations")
    ax.set_title("Delay distances (Dijkstra over mean delays)")


def _first_difference_panel(ax, first, area_distance):
    handles = []
    top = 0.0
    labelled = max(first, key=lambda state: int(np.isfinite(first[state]).sum()))  # name the points of one state
    for state, (_, label, color_key, marker) in STATES.items():
        if state not in first:
            continue
        t = first[state]
        ok = np.isfinite(t) & np.isfinite(area_distance)
        color = style.RUN_COLORS[color_key]
        ax.scatter(area_distance[ok], t[ok], marker=marker, s=22, facecolors="none" if marker == "o" else color,
                   edgecolors=color, linewidths=1.0, alpha=0.9, zorder=3)
        n_none = int((~np.isfinite(t)).sum())
        handles.append(Line2D([], [], ls="", marker=marker, color=color, mfc="none" if marker == "o" else color,
                              label=label + (f"; {n_none} areas without difference" if n_none else "")))
        top = max(top, np.nanmax(t[ok]) if ok.any() else 0.0)
        if state == labelled:
            for a in np.flatnonzero(ok):
                ax.annotate(style.short(tables.AREAS[a]), (area_distance[a], t[a]), fontsize=4.5, xytext=(2, 1),
                            textcoords="offset points", color="#555555")
    finite = area_distance[np.isfinite(area_distance)]
    x = np.array([0.0, finite.max() * 1.05])
    ax.plot(x, x + PERTURBATION_DELAY_MS, color="black", lw=0.8, ls="--", zorder=1)
    handles.append(Line2D([], [], color="black", lw=0.8, ls="--", label="arrival at p* (1 ms) + delay distance"))
    ax.set_xlim(-1, x[1])
    ax.set_ylim(-2, max(top, x[1]) * 1.08)
    ax.set_xlabel("minimum delay distance of the area from p* (ms)")
    ax.set_ylabel(f"first difference (ms after {WINDOW_MS[0]:g} ms)")
    ax.set_title("First difference per area")
    ax.legend(handles=handles, loc="lower right", fontsize=6)


def build(out_dir, inputs: common.FigureInputs) -> list[common.FigureResult]:
    """Draw F7 from the journey files ``ground`` and ``best``: the 0.1 ms figure and the 1 ms variant.
    A missing journey leaves placeholder panels; without any the distance panels are placeholders too."""
    journeys, missing = {}, []
    for state, (panel, label, _, _) in STATES.items():
        data = inputs.journey(state)
        if data is None:
            missing.append(common.missing_item(panel, f"the spike journey {state} (journey:{state})", JOURNEY_HOW))
        else:
            journeys[state] = data
    if not journeys:
        missing.append(common.missing_item("C", "the spike journeys", JOURNEY_HOW))
        missing.append(common.missing_item("D", "the graph distances (in the spike journeys)", JOURNEY_HOW))
        missing.append(common.missing_item("E", "the graph distances (in the spike journeys)", JOURNEY_HOW))
    graphs = {state: data["graph"] for state, data in journeys.items()}
    if len(graphs) == 2 and not np.array_equal(graphs["ground"]["delay_ms"], graphs["best"]["delay_ms"]):
        raise common.InputError("the two spike journeys were ordered by different networks; compute them with the "
                                "same --network (doit does).")
    return [_draw(out_dir, inputs, journeys, bin_ms, missing) for bin_ms in STEMS]


def _draw(out_dir, inputs: common.FigureInputs, journeys: dict, bin_ms: float, missing: list) -> common.FigureResult:
    key = journey.bin_key(bin_ms)
    graph = next(iter(journeys.values()))["graph"] if journeys else None
    pairs = {state: data[key] for state, data in journeys.items()}
    descriptors = [journey_descriptor(state, inputs.path("journey", state), data) for state, data in journeys.items()]
    pair_meta = {}
    for state, data in journeys.items():
        simulated = data["pair"]["simulated"]
        pair_meta[state] = {
            "runs": {k: v["experiment"] for k, v in data["runs"].items()},
            "scale_banner": scale_banner(data["runs"]["unperturbed"]),
            "identical_before_perturbation": data["pair"]["identical_before_perturbation"],
            "differences_before_arrival": pairs[state]["differences_before_arrival"],
            "perturbation_times_ms": np.asarray(data["runs"]["perturbed"]["perturbation_times_ms"]).tolist(),
            "raster_populations": int(simulated.sum()),
            "net_full_populations_not_simulated": ["/".join(tables.POPULATIONS[i])
                                                   for i in np.flatnonzero(data["graph"]["nonempty"] & ~simulated)],
            "run_graph": data["run_graph"],
        }
        if not data["pair"]["identical_before_perturbation"]:
            common.log.warning("F7: the %s pair differs before %g ms", state, WINDOW_MS[0])
    scaled = any(m["scale_banner"] for m in pair_meta.values())
    status = common.PARTIAL if missing else (common.SCALED if scaled else common.FULL)
    banner = next((m["scale_banner"] for m in pair_meta.values() if m["scale_banner"]), "")
    first = {state: pair["first_difference_ms"] for state, pair in pairs.items()}
    title = (f"{FIGURE_ID} — {TITLE} into PERI 4E at {WINDOW_MS[0]:g} ms "
             f"(delay distances and hop counts: full-scale network)")
    unreachable = []
    with style.figure_style():
        fig = plt.figure(figsize=(13, 9.6))
        top = fig.add_gridspec(1, 2, left=0.06, right=0.93, top=0.885, bottom=0.50, wspace=0.16)
        bottom = fig.add_gridspec(1, 3, left=0.06, right=0.98, top=0.40, bottom=0.06, wspace=0.3,
                                  width_ratios=[1.25, 1, 1])
        axes = {"A": fig.add_subplot(top[0, 0]), "B": fig.add_subplot(top[0, 1])}
        axes.update({k: fig.add_subplot(bottom[0, i]) for i, k in enumerate("CDE")})
        if graph is not None:
            delay, hops, reachable = graph["delay_ms"], graph["hops"], graph["reachable"]
            unreachable = [tables.POPULATIONS[i] for i in np.flatnonzero(graph["nonempty"] & ~reachable)]
            cmap = distance_cmap()
            norm = mcolors.Normalize(0.0, float(np.ceil(delay[reachable].max())))
            mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
            cax = fig.add_axes([0.945, 0.50, 0.009, 0.385])
            cb = fig.colorbar(mappable, cax=cax)
            cb.set_label("delay distance from p* (ms)")
            cb.ax.tick_params(labelsize=6)
        for state, (panel, label, _, _) in STATES.items():
            ax = axes[panel]
            if state in pairs:
                _raster_panel(ax, pairs[state]["raster"], delay, journeys[state]["pair"]["simulated"] & reachable,
                              bin_ms, cmap, norm, f"Difference raster, {label}")
            else:
                item = next(m for m in missing if m["panel"] == panel)
                style.placeholder_panel(ax, item["input"], item["how"], title=f"Difference raster, {label}")
                ax.set_box_aspect(None)
        if graph is not None:
            _first_difference_panel(axes["C"], first, graph["area_min_delay_ms"])
            _hops_panel(axes["D"], hops[reachable])
            _delay_panel(axes["E"], delay[reachable], cmap, norm)
        else:
            for panel, panel_title in (("C", "First difference per area"), ("D", "Shortest paths (hops)"),
                                       ("E", "Delay distances (Dijkstra over mean delays)")):
                item = next(m for m in missing if m["panel"] == panel)
                style.placeholder_panel(axes[panel], item["input"], item["how"], title=panel_title)
        for letter, ax in axes.items():
            style.panel_label(ax, letter, x=-0.07 if letter in "AB" else -0.14)
        fig.suptitle(title, fontsize=10, y=0.985)
        if banner:
            fig.text(0.5, 0.945, f"Rasters: {banner}. Distances are those of the full-scale network, by population label.",
                     ha="center", fontsize=8, color="#b00000")
        none = {state: [tables.AREAS[a] for a in np.flatnonzero(~np.isfinite(t))] for state, t in first.items()}
        graph_meta = None if graph is None else {
            "network": next(iter(descriptors))["network"], "nodes": int(graph["nonempty"].sum()),
            "edges": int(graph["n_edges"]), "edge": "j → i iff S_ij > 0", "length": "Network.delay_mean_ms (docs/model.md §5.4)",
            "unreachable": ["/".join(k) for k in unreachable]}
        meta = common.sidecar(
            FIGURE_ID, title, descriptors, status, missing,
            perturbed_population="/".join(PERTURBED_POPULATION), window_ms=list(WINDOW_MS), bin_ms=bin_ms,
            bin_note="0.1 ms bins counted directly from the spikes (docs/quirks.md Q21); 1 ms bins are the variant",
            graph=graph_meta,
            distances_note=("Hop counts and delay distances are computed on the full-scale network and attached to "
                            "populations by label. A down-scaled run's difference raster covers the populations that "
                            "run simulates; its own graph differs from the full-scale one (see pairs.*.run_graph)."),
            pairs=pair_meta, areas_without_difference=none,
            first_difference_ms={state: {a: (None if not np.isfinite(v) else float(v)) for a, v in zip(tables.AREAS, t)}
                                 for state, t in first.items()})
        paths = style.save_figure(fig, Path(out_dir) / STEMS[bin_ms], meta)
        plt.close(fig)
    values = {"bin_ms": bin_ms, "rasters": {state: pair["raster"] for state, pair in pairs.items()},
              "first_difference_ms": first, "pairs": pair_meta, "unreachable": unreachable,
              "placeholder_panels": [m["panel"] for m in missing]}
    if graph is not None:
        values.update(hops=graph["hops"], delay_ms=graph["delay_ms"], reachable=graph["reachable"],
                      area_min_delay_ms=graph["area_min_delay_ms"], n_edges=int(graph["n_edges"]))
    figure_id = FIGURE_ID if bin_ms == BIN_MS else f"{FIGURE_ID} ({bin_ms:g} ms bins)"
    return common.FigureResult(figure_id, status, paths, missing, values)


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
