"""S-MF: mean-field theory against simulation (figures.md §4.9, model §9).

* Panel A: convergence of the pseudo-dynamics dν/dt = −ν + φ(ν) of the full-scale theory
  (:func:`humam.theory.theory_rates`, published start and evaluation times): log10 rate of the 254
  non-empty populations (rows, canonical order) over pseudo-time 0…9.9 (columns). The last column is
  the published prediction (not converged, quirk Q20).
* Panel B: that prediction against the simulated mean rate (model §8.2) of each population of the
  ground-state run, log–log with the identity line and the Pearson r of the log rates.

The theory is that of the full-scale network with the run's network parameters (χ, χ_I; no
down-scaling, no perturbation), or of NET-full with the ground-state parameters when no run is given.
It never includes the DC drive of down-scaled networks (Q12): against a down-scaled run large
deviations are expected, and the banner says so. A precomputed theory file (``humam theory``) can be
passed with ``--theory``; it is used when it belongs to the same network, else the theory is computed.
"""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from humam import analysis, data, parameters, tables, theory
from humam.network import POPULATION_IS_EXCITATORY

from . import common, style

FIGURE_ID = "S-MF"
TITLE = "Mean-field theory against simulation"
STEM = "figS_mean_field"
RUN_NAME = "ground_state"
RUN_NAMES = (RUN_NAME,)
#: Last pseudo-time of the published prediction (model §9.5).
T_PREDICTION = 9.9


# ---------------------------------------------------------------------------------------------
# Inputs


def theory_params(run: common.RunInput | None) -> dict:
    """Parameters of the theory's network: the run's network section at full scale without a
    perturbation, or the defaults (ground state) without a run."""
    params = common.default_params()
    if run is None:
        return params
    network = copy.deepcopy(run.params["network"])
    network["downscaling"] = copy.deepcopy(params["network"]["downscaling"])
    network["perturbation"] = []
    return parameters.merge(params, {"network": network})


def theory_network(params: dict):
    """The full-scale network of ``params`` (NET-full itself, built once, for the defaults)."""
    if parameters.net_hash(params) == parameters.net_hash(common.default_params()):
        return common.full_network()
    from humam.network import build_network

    return build_network(params["network"])


def load_or_compute_theory(net, digest: str, theory_path=None) -> tuple[theory.TheoryResult, dict]:
    """The theory of ``net`` from ``theory_path`` if that file belongs to the same network (its
    ``net_hash`` attribute, when present, must equal ``digest``, and the non-empty populations must
    agree), else computed. Returns the result and a sidecar descriptor of its source."""
    if theory_path is not None:
        path = Path(theory_path)
        try:
            result = theory.read_theory(path)
            attrs = theory.read_theory_attrs(path)
        except (OSError, KeyError, ValueError) as exc:  # unreadable file: computed instead, and said so
            common.log.warning("S-MF: theory file %s could not be read (%s); computing the theory", path, exc)
            reason = f"could not be read: {exc}"
        else:
            file_hash = attrs.get("net_hash")
            if file_hash not in (None, digest):
                reason = f"belongs to network {file_hash}, not {digest}"
            elif not np.array_equal(np.asarray(result.nonempty, dtype=bool), np.asarray(net.nonempty, dtype=bool)):
                reason = "its non-empty populations differ from the network's"
            else:
                return result, {"kind": "file", "path": str(path), "sha256": data.sha256_of(path),
                                "net_hash": file_hash, "net_hash_checked": file_hash is not None,
                                "options": result.options}
            common.log.warning("S-MF: theory file %s %s; computing the theory", path, reason)
        result = theory.theory_rates(net)
        return result, {"kind": "computed", "options": result.options, "net_hash": digest,
                        "ignored_file": str(path), "ignored_because": reason}
    result = theory.theory_rates(net)
    return result, {"kind": "computed", "options": result.options, "net_hash": digest}


def convergence_columns(result: theory.TheoryResult, t_max: float = T_PREDICTION) -> tuple[np.ndarray, np.ndarray]:
    """(times, (254, n_times) rates) of the pseudo-dynamics up to ``t_max``: the heatmap of panel A,
    rows = non-empty populations in canonical order."""
    times = np.asarray(result.times, dtype=float)
    keep = times <= t_max + 1e-9
    rates = np.asarray(result.trajectory_hz, dtype=float)[keep][:, np.asarray(result.nonempty, dtype=bool)]
    return times[keep], rates.T


def simulated_rates(run: common.RunInput) -> tuple[np.ndarray, str]:
    """(272,) mean rate per population (model §8.2; NaN for populations the run does not simulate) and
    its source: the run's analysis.h5 if present, else computed from its spikes."""
    if run.analysis_path.is_file():
        return np.asarray(run.analysis["population"]["rate_hz"], dtype=float), "analysis.h5 population/rate_hz"
    t_start, t_stop = analysis.analysis_window_ms(analysis.resolve_params(run.params.get("analysis")), run.t_sim_ms)
    rates = analysis.population_mean_rates(run.spike_trains, t_start, t_stop)
    return rates, f"population mean rates over [{t_start:g}, {t_stop:g}) ms computed from spikes.h5"


def log_rate_correlation(theory_hz, simulated_hz) -> tuple[float, np.ndarray]:
    """Pearson r of log10 rates over the populations where both rates are > 0 (and finite), and that mask."""
    a, b = np.asarray(theory_hz, dtype=float), np.asarray(simulated_hz, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    if ok.sum() < 2:
        return float("nan"), ok
    return float(np.corrcoef(np.log10(a[ok]), np.log10(b[ok]))[0, 1]), ok


# ---------------------------------------------------------------------------------------------
# Figure


def _convergence_panel(fig, ax, times, rates, nonempty):
    logs = style.log10_masked(rates)
    finite = logs.compressed()
    vmin = max(float(np.floor(np.percentile(finite, 0.5))), -4.0)
    vmax = float(np.ceil(finite.max()))
    step = times[1] - times[0] if times.size > 1 else 0.1
    im = ax.imshow(logs, aspect="auto", cmap=style.sequential_cmap(), vmin=vmin, vmax=vmax, interpolation="nearest",
                   extent=(times[0] - step / 2, times[-1] + step / 2, rates.shape[0] - 0.5, -0.5))
    area_of_row = np.flatnonzero(nonempty) // tables.N_POPULATIONS_PER_AREA
    starts = np.flatnonzero(np.r_[True, area_of_row[1:] != area_of_row[:-1]])
    ends = np.r_[starts[1:], area_of_row.size]
    for s in starts[1:]:
        ax.axhline(s - 0.5, color="white", lw=0.3)
    ax.set_yticks((starts + ends - 1) / 2, [style.short(tables.AREAS[a]) for a in area_of_row[starts]], fontsize=5)
    ax.tick_params(axis="y", length=0, pad=2)
    ax.set_xlabel("pseudo-time (units of the rate time constant)")
    ax.set_ylabel(f"population ({rates.shape[0]} non-empty, canonical order; 8 per area)")
    ax.set_title(f"Pseudo-dynamics of the theory (t = {times[0]:g}…{times[-1]:g})")
    style.colorbar(im, ax, "log10 rate (log10 spikes/s)", extend="min" if finite.min() < vmin else "neither")


def _scatter_panel(ax, theory_hz, simulated_hz, ok, r, note):
    for is_e, label in ((True, "E"), (False, "I")):
        sel = ok & (POPULATION_IS_EXCITATORY == is_e)
        ax.scatter(simulated_hz[sel], theory_hz[sel], s=12, color=style.POPULATION_TYPE_COLORS[label], alpha=0.75,
                   linewidths=0, label=f"{label} ({int(sel.sum())})")
    lo = min(theory_hz[ok].min(), simulated_hz[ok].min())
    hi = max(theory_hz[ok].max(), simulated_hz[ok].max())
    lo, hi = 10 ** np.floor(np.log10(lo)), 10 ** np.ceil(np.log10(hi))
    ax.plot([lo, hi], [lo, hi], color="black", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("simulated mean rate (spikes/s)")
    ax.set_ylabel(f"theory rate at t = {T_PREDICTION:g} (spikes/s)")
    ax.set_title("Theory against simulation, per population")
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="black", lw=0.8, ls="--", label="identity"))
    ax.legend(handles=handles, loc="upper left")
    ax.text(0.97, 0.03, f"Pearson r (log10 rates) = {r:.3f}\n{note}", transform=ax.transAxes, ha="right",
            va="bottom", fontsize=7)


def build(out_dir, runs: dict[str, Path] | None = None, theory_path=None) -> common.FigureResult:
    """Draw S-MF. ``runs = {"ground_state": folder}`` (optional, panel B); ``theory_path``: optional
    precomputed theory file of the same full-scale network."""
    runs = runs or {}
    run = common.run_input(RUN_NAME, runs.get(RUN_NAME))
    params = theory_params(run)
    digest = parameters.net_hash(params)
    net = theory_network(params)
    result, theory_source = load_or_compute_theory(net, digest, theory_path)
    times, rates = convergence_columns(result)
    nonempty = np.asarray(result.nonempty, dtype=bool)
    final = np.zeros(tables.N_POPULATIONS)
    final[nonempty] = rates[:, -1]

    chi = params["network"]["scaling"]
    net_label = "NET-full" if digest == parameters.net_hash(common.default_params()) else "full-scale network of the run"
    inputs = [common.network_input(net_label, params)]
    if theory_source["kind"] == "file":
        inputs.append({"kind": "file", "path": theory_source["path"], "sha256": theory_source["sha256"]})
    missing: list[dict] = []
    if run is None:
        missing.append(common.missing_item("B", RUN_NAME, common.RUN_HOW))
    else:
        inputs.append(run.descriptor())
    status = common.status_of_runs([run], missing)

    values: dict = {"times": times, "final_rates_hz": final, "nonempty": nonempty, "theory": result,
                    "theory_source": theory_source,
                    "chi": chi["chi"], "chi_I": chi["chi_I"], "placeholder_panels": [m["panel"] for m in missing]}
    banner = ""
    extra: dict = {}
    title = (f"{FIGURE_ID} — {TITLE} (theory: full-scale network, χ = {chi['chi']:g}, χ_I = {chi['chi_I']:g})")
    with style.figure_style():
        fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12.5, 7.2), gridspec_kw={"width_ratios": [1.25, 1], "wspace": 0.3})
        fig.subplots_adjust(top=0.84, bottom=0.08, left=0.07, right=0.97)
        _convergence_panel(fig, ax_a, times, rates, nonempty)
        if run is None:
            item = missing[0]
            style.placeholder_panel(ax_b, item["input"], item["how"], title="Theory against simulation, per population")
        else:
            simulated, source = simulated_rates(run)
            r, ok = log_rate_correlation(final, simulated)
            both = nonempty & np.isfinite(simulated)
            zero = both & ~ok
            note = f"{int(ok.sum())} populations" + (f"; {int(zero.sum())} with a zero rate not shown" if zero.any() else "")
            _scatter_panel(ax_b, final, simulated, ok, r, note)
            if not run.full_scale:
                banner = (run.scale_banner() + ". The theory is that of the full-scale network and excludes the "
                          "down-scaling DC term (Q12): large deviations are expected.")
            values.update({"simulated_rates_hz": simulated, "pearson_r_log": r, "compared": ok,
                           "zero_rate_populations": ["/".join(tables.POPULATIONS[i]) for i in np.flatnonzero(zero)]})
            extra = {"simulated_rate_source": source, "pearson_r_log10_rates": r, "populations_compared": int(ok.sum()),
                     "zero_rate_populations": values["zero_rate_populations"],
                     "not_simulated": ["/".join(tables.POPULATIONS[i]) for i in np.flatnonzero(nonempty & ~np.isfinite(simulated))]}
        style.panel_label(ax_a, "A", x=-0.1)
        style.panel_label(ax_b, "B", x=-0.14)
        fig.suptitle(title, fontsize=10, y=0.985)
        fig.text(0.5, 0.945, f"Shifted-Siegert pseudo-dynamics from the published start (seed {result.options.get('seed')}); "
                 f"prediction = value at t = {times[-1]:g} (not converged, Q20)", ha="center", fontsize=8)
        if banner:
            fig.text(0.5, 0.92, "\n".join(textwrap.wrap(banner, 130)), ha="center", va="top", fontsize=8, color="#b00000")
        meta = common.sidecar(FIGURE_ID, title, inputs, status, missing, theory=theory_source,
                              pseudo_time=[float(times[0]), float(times[-1])], scale_banner=banner,
                              theory_network={"net_hash": digest, "chi": chi["chi"], "chi_I": chi["chi_I"],
                                              "note": "full scale, run's network parameters without down-scaling "
                                                      "and perturbation; DC drive excluded (Q12)"},
                              final_mean_rate_hz=float(final[nonempty].mean()), **extra)
        paths = style.save_figure(fig, Path(out_dir) / STEM, meta)
    return common.FigureResult(FIGURE_ID, status, paths, missing, values)


def _options(parser) -> None:
    parser.add_argument("--theory", type=Path, metavar="PATH", dest="theory_path",
                        help="precomputed theory file ('humam theory'; read with humam.theory.read_theory); "
                             "computed when absent or of another network")


def main(argv=None):
    common.cli_runs(build, __doc__.splitlines()[0], RUN_NAMES, _options, argv)


if __name__ == "__main__":
    main()
