"""F7: spike journey after a single extra spike (figures.md §4.7, model §10.3).

* **Population graph** of NET-full: the 254 non-empty populations, a directed edge j → i iff
  S_ij > 0, of length the mean delay of that projection as stored in the network
  (``Network.delay_mean_ms``: 1.5 ms from local E, 0.75 ms from local I sources, distance / 3.5 mm/ms
  between areas; model §5.4).
* **Distances** from p* = (pericalcarine, IV, E): hop count (unweighted shortest path) and delay
  distance (Dijkstra over the mean delays, ms), with :mod:`scipy.sparse.csgraph`.
* **Difference raster**: D_i(b) = 1 iff the perturbed and unperturbed spike counts of population i
  differ in bin b of [2000, 2100) ms; 0.1 ms bins by default (1000 bins), counted directly from the
  spikes (quirk Q21: the published figure corresponds to 0.1 ms bins); 1 ms bins as an option. The
  extra spike reaches p* at 2001 ms, so no difference can appear earlier.

Panels: A (ground state) and B (best fit) difference rasters, populations sorted by delay distance
and coloured by it; C first-difference time per area against the area's minimum delay distance;
D hop-count and E delay-distance histograms over all populations.

Distances are those of NET-full and are attached to populations by label, so they apply to a
down-scaled run as well; its difference raster covers the populations that the run simulates. The
run's own (down-scaled) graph has fewer edges (many S_ij round to 0); how much its distances differ is
recorded in the sidecar.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.lines import Line2D
from scipy import sparse
from scipy.sparse import csgraph

from humam import analysis, tables
from humam.network import PERTURBATION_DELAY_MS

from . import common, style

FIGURE_ID = "F7"
TITLE = "Spike journey after a single extra spike"
STEM = "fig07_spike_journey"

#: p*: the population that receives the extra spike (model §5.6, §10.3).
PERTURBED_POPULATION = ("pericalcarine", "IV", "E")
#: Window of the difference raster, ms (the extra spike is emitted at its start).
WINDOW_MS = (2000.0, 2100.0)
#: Default bin width (Q21) and the option.
BIN_MS = 0.1
BIN_OPTIONS = (0.1, 1.0)

#: state -> (unperturbed run, perturbed run, raster panel, label, run colour key, marker)
STATES = {
    "ground": ("perturbation_ground_unperturbed", "perturbation_ground_perturbed", "A",
               "ground state (χ = 1)", "groundstate", "o"),
    "best": ("perturbation_best_unperturbed", "perturbation_best_perturbed", "B",
             "best fit (χ = 2.5)", "bestfit", "^"),
}
RUN_NAMES = tuple(name for state in STATES.values() for name in state[:2])


# ---------------------------------------------------------------------------------------------
# Graph (pure functions of the network)


def population_graph(synapses, delay_mean_ms) -> sparse.csr_matrix:
    """(272, 272) sparse graph in the csgraph convention (entry [j, i] = edge j → i) with an edge
    from source j to target i iff S_ij > 0, weighted by the mean delay of that projection.

    ``synapses`` and ``delay_mean_ms`` are (272, 272) with rows = target, columns = source, as in
    :class:`humam.network.Network`.
    """
    synapses = np.asarray(synapses)
    delay = np.asarray(delay_mean_ms, dtype=float)
    target, source = np.nonzero(synapses > 0)
    if np.any(delay[target, source] <= 0):
        raise ValueError("mean delays of existing projections must be > 0")
    return sparse.csr_matrix((delay[target, source], (source, target)), shape=synapses.shape)


def graph_distances(net, source=PERTURBED_POPULATION) -> dict:
    """Hop counts and delay distances (ms) from population ``source`` to every population of ``net``.

    Returns (272,) arrays ``hops`` and ``delay_ms`` (inf where unreachable, also for empty
    populations), the ``source_index``, ``nonempty`` and ``reachable`` masks (non-empty and
    finite distance) and the number of edges ``n_edges``.
    """
    graph = population_graph(net.synapses, net.delay_mean_ms)
    index = tables.population_index(*source)
    hops = csgraph.shortest_path(graph, method="D", directed=True, unweighted=True, indices=index)
    delay = csgraph.dijkstra(graph, directed=True, indices=index)
    nonempty = np.asarray(net.nonempty, dtype=bool)
    return {"hops": hops, "delay_ms": delay, "source_index": index, "nonempty": nonempty,
            "reachable": nonempty & np.isfinite(delay), "n_edges": int(graph.nnz)}


def area_min_distance(delay_ms, mask) -> np.ndarray:
    """(34,) minimum delay distance over the populations of each area selected by ``mask`` (inf if none)."""
    values = np.where(mask, delay_ms, np.inf).reshape(tables.N_AREAS, tables.N_POPULATIONS_PER_AREA)
    return values.min(axis=1)


def distance_order(delay_ms, mask) -> np.ndarray:
    """Population indices selected by ``mask``, sorted by delay distance (canonical order within ties)."""
    index = np.flatnonzero(mask)
    return index[np.lexsort((index, np.asarray(delay_ms)[index]))]


# ---------------------------------------------------------------------------------------------
# Difference raster (pure functions of spike data)


def window_counts(st: analysis.SpikeTrains, window_ms=WINDOW_MS, bin_ms: float = BIN_MS) -> np.ndarray:
    """(272, B) spike counts per population in the bins of ``window_ms``."""
    return analysis.population_counts(st, float(window_ms[0]), float(window_ms[1]), float(bin_ms))


def difference_raster(counts_unperturbed, counts_perturbed) -> np.ndarray:
    """D_i(b) = True iff the two runs' spike counts of population i differ in bin b."""
    a, b = np.asarray(counts_unperturbed), np.asarray(counts_perturbed)
    if a.shape != b.shape:
        raise ValueError(f"count arrays differ in shape: {a.shape} vs {b.shape}")
    return a != b


def first_difference_by_area(raster, bin_ms: float) -> np.ndarray:
    """(34,) start (ms after the window start) of the earliest bin in which any population of the area
    differs; NaN for areas without any difference."""
    raster = np.asarray(raster, dtype=bool)
    per_area = raster.reshape(tables.N_AREAS, tables.N_POPULATIONS_PER_AREA, -1).any(axis=1)
    return np.where(per_area.any(axis=1), per_area.argmax(axis=1) * float(bin_ms), np.nan)


def identical_before(st_a: analysis.SpikeTrains, st_b: analysis.SpikeTrains, t_ms: float) -> bool:
    """True if the two runs have exactly the same spikes (neuron and time) before ``t_ms``."""
    a, b = st_a.times_ms < t_ms, st_b.times_ms < t_ms
    return bool(np.array_equal(st_a.neuron[a], st_b.neuron[b]) and np.array_equal(st_a.times_ms[a], st_b.times_ms[b]))


def _perturbation_times(run: common.RunInput) -> list[float]:
    return [float(p["time_ms"]) for p in run.params["network"].get("perturbation") or []]


def pair_difference(unperturbed: common.RunInput, perturbed: common.RunInput, bin_ms: float = BIN_MS) -> dict:
    """Difference raster of one (unperturbed, perturbed) pair over :data:`WINDOW_MS`, with checks."""
    if not np.array_equal(unperturbed.network.neuron_numbers, perturbed.network.neuron_numbers):
        raise ValueError(f"{unperturbed.name} and {perturbed.name} simulate different populations")
    if _perturbation_times(unperturbed):
        common.log.warning("%s carries a perturbation: %s", unperturbed.name, _perturbation_times(unperturbed))
    times = _perturbation_times(perturbed)
    if times != [WINDOW_MS[0]]:
        common.log.warning("%s: perturbation times %s, expected [%g] ms", perturbed.name, times, WINDOW_MS[0])
    st_u, st_p = unperturbed.spike_trains, perturbed.spike_trains
    raster = difference_raster(window_counts(st_u, WINDOW_MS, bin_ms), window_counts(st_p, WINDOW_MS, bin_ms))
    arrival = WINDOW_MS[0] + PERTURBATION_DELAY_MS
    n_before_arrival = int(raster[:, : round((arrival - WINDOW_MS[0]) / bin_ms)].sum())
    return {"raster": raster, "simulated": np.asarray(unperturbed.network.neuron_numbers) > 0,
            "identical_before_ms": identical_before(st_u, st_p, WINDOW_MS[0]),
            "differences_before_arrival": n_before_arrival, "perturbation_times_ms": times,
            "t_sim_ms": min(unperturbed.t_sim_ms, perturbed.t_sim_ms)}


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
    for state, (_, _, _, label, color_key, marker) in STATES.items():
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


def build(out_dir, runs: dict[str, Path] | None = None, bin_ms: float = BIN_MS, network=None) -> common.FigureResult:
    """Draw F7. ``runs`` maps the names of :data:`RUN_NAMES` to run folders; ``bin_ms`` is 0.1 (default)
    or 1 ms; ``network`` defaults to NET-full."""
    bin_ms = float(bin_ms)
    if bin_ms not in BIN_OPTIONS:
        raise ValueError(f"bin_ms must be one of {BIN_OPTIONS}, got {bin_ms}")
    runs = runs or {}
    net = network if network is not None else common.full_network()
    dist = graph_distances(net)
    delay, hops, reachable = dist["delay_ms"], dist["hops"], dist["reachable"]
    unreachable = [tables.POPULATIONS[i] for i in np.flatnonzero(dist["nonempty"] & ~reachable)]
    if unreachable:
        common.log.warning("F7: %d populations are not reachable from p*: %s", len(unreachable), unreachable)
    area_distance = area_min_distance(delay, reachable)

    inputs = [common.network_input("NET-full", common.default_params())]
    missing: list[dict] = []
    loaded: list[common.RunInput] = []
    pairs: dict[str, dict] = {}
    pair_meta: dict[str, dict] = {}
    for state, (name_u, name_p, panel, label, _, _) in STATES.items():
        run_u, run_p = common.run_input(name_u, runs.get(name_u)), common.run_input(name_p, runs.get(name_p))
        absent = [name for name, run in ((name_u, run_u), (name_p, run_p)) if run is None]
        if absent:
            missing.append(common.missing_item(panel, " and ".join(absent), common.RUN_HOW))
            continue
        try:
            pairs[state] = pair_difference(run_u, run_p, bin_ms)
        except ValueError as exc:
            missing.append(common.missing_item(panel, f"a matching pair {name_u} / {name_p}", str(exc)))
            continue
        loaded += [run_u, run_p]
        inputs += [run_u.descriptor(), run_p.descriptor()]
        own = graph_distances(run_u.network)
        both = reachable & np.isfinite(own["delay_ms"])
        simulated = pairs[state]["simulated"]
        pair_meta[state] = {
            "runs": [name_u, name_p], "scale_banner": run_u.scale_banner(),
            "identical_before_perturbation": pairs[state]["identical_before_ms"],
            "differences_before_arrival": pairs[state]["differences_before_arrival"],
            "perturbation_times_ms": pairs[state]["perturbation_times_ms"],
            "raster_populations": int(simulated.sum()),
            "net_full_populations_not_simulated": ["/".join(tables.POPULATIONS[i])
                                                   for i in np.flatnonzero(dist["nonempty"] & ~simulated)],
            "run_graph": {"edges": own["n_edges"], "net_full_edges": dist["n_edges"],
                          "populations_unreachable_in_run_graph": int((simulated & ~np.isfinite(own["delay_ms"])).sum()),
                          "populations_with_other_hop_count": int((both & (own["hops"] != hops)).sum()),
                          "max_abs_delay_distance_difference_ms": float(np.max(np.abs(own["delay_ms"][both] - delay[both])))
                          if both.any() else None},
        }
        if not pairs[state]["identical_before_ms"]:
            common.log.warning("F7: %s and %s differ before %g ms", name_u, name_p, WINDOW_MS[0])
    if not pairs:
        missing.append(common.missing_item("C", "the perturbation runs", common.RUN_HOW))
    status = common.status_of_runs(loaded, missing)
    banner = next((m["scale_banner"] for m in pair_meta.values() if m["scale_banner"]), "")

    first = {state: first_difference_by_area(pair["raster"], bin_ms) for state, pair in pairs.items()}
    cmap = distance_cmap()
    norm = mcolors.Normalize(0.0, float(np.ceil(delay[reachable].max())))
    title = (f"{FIGURE_ID} — {TITLE} into PERI 4E at {WINDOW_MS[0]:g} ms "
             f"(delay distances and hop counts: full-scale network)")
    with style.figure_style():
        fig = plt.figure(figsize=(13, 9.6))
        top = fig.add_gridspec(1, 2, left=0.06, right=0.93, top=0.885, bottom=0.50, wspace=0.16)
        bottom = fig.add_gridspec(1, 3, left=0.06, right=0.98, top=0.40, bottom=0.06, wspace=0.3,
                                  width_ratios=[1.25, 1, 1])
        axes = {"A": fig.add_subplot(top[0, 0]), "B": fig.add_subplot(top[0, 1])}
        axes.update({k: fig.add_subplot(bottom[0, i]) for i, k in enumerate("CDE")})
        for state, (name_u, name_p, panel, label, _, _) in STATES.items():
            ax = axes[panel]
            if state in pairs:
                _raster_panel(ax, pairs[state]["raster"], delay, pairs[state]["simulated"] & reachable, bin_ms, cmap, norm,
                              f"Difference raster, {label}")
            else:
                item = next(m for m in missing if m["panel"] == panel)
                style.placeholder_panel(ax, item["input"], item["how"], title=f"Difference raster, {label}")
                ax.set_box_aspect(None)
        mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        cax = fig.add_axes([0.945, 0.50, 0.009, 0.385])
        cb = fig.colorbar(mappable, cax=cax)
        cb.set_label("delay distance from p* (ms)")
        cb.ax.tick_params(labelsize=6)
        if pairs:
            _first_difference_panel(axes["C"], first, area_distance)
        else:
            item = next(m for m in missing if m["panel"] == "C")
            style.placeholder_panel(axes["C"], item["input"], item["how"], title="First difference per area")
        _hops_panel(axes["D"], hops[reachable])
        _delay_panel(axes["E"], delay[reachable], cmap, norm)
        for letter, ax in axes.items():
            style.panel_label(ax, letter, x=-0.07 if letter in "AB" else -0.14)
        fig.suptitle(title, fontsize=10, y=0.985)
        if banner:
            fig.text(0.5, 0.945, f"Rasters: {banner}. Distances are those of the full-scale network, by population label.",
                     ha="center", fontsize=8, color="#b00000")
        none = {state: [tables.AREAS[a] for a in np.flatnonzero(~np.isfinite(t))] for state, t in first.items()}
        meta = common.sidecar(
            FIGURE_ID, title, inputs, status, missing,
            perturbed_population="/".join(PERTURBED_POPULATION), window_ms=list(WINDOW_MS), bin_ms=bin_ms,
            bin_note="0.1 ms bins counted directly from the spikes (Q21); 1 ms bins are the option",
            graph={"network": "NET-full", "nodes": int(dist["nonempty"].sum()), "edges": dist["n_edges"],
                   "edge": "j → i iff S_ij > 0", "length": "Network.delay_mean_ms (model §5.4)",
                   "unreachable": ["/".join(k) for k in unreachable]},
            distances_note=("Hop counts and delay distances are computed on NET-full and attached to populations by "
                            "label. A down-scaled run's difference raster covers the populations that run simulates; "
                            "its own graph differs from NET-full (see pairs.*.run_graph)."),
            pairs=pair_meta, areas_without_difference=none,
            first_difference_ms={state: {a: (None if not np.isfinite(v) else float(v)) for a, v in zip(tables.AREAS, t)}
                                 for state, t in first.items()})
        stem = STEM if bin_ms == BIN_MS else f"{STEM}_bin{bin_ms:g}ms"
        paths = style.save_figure(fig, Path(out_dir) / stem, meta)
    values = {
        "hops": hops, "delay_ms": delay, "reachable": reachable, "unreachable": unreachable,
        "area_min_delay_ms": area_distance, "n_edges": dist["n_edges"], "bin_ms": bin_ms,
        "rasters": {state: pair["raster"] for state, pair in pairs.items()},
        "first_difference_ms": first, "pairs": pair_meta,
        "placeholder_panels": [m["panel"] for m in missing],
    }
    return common.FigureResult(FIGURE_ID, status, paths, missing, values)


def _options(parser) -> None:
    parser.add_argument("--bin-ms", type=float, default=BIN_MS, choices=BIN_OPTIONS,
                        help="bin width of the difference raster (default 0.1 ms)")


def main(argv=None):
    common.cli_runs(build, __doc__.splitlines()[0], RUN_NAMES, _options, argv)


if __name__ == "__main__":
    main()
