"""S-MF: mean-field theory against simulation (docs/figures.md §4.9, docs/model.md §9).

* Panel A: convergence of the pseudo-dynamics dν/dt = −ν + φ(ν) of the full-scale theory (the
  pipeline's theory file of NET-full, ``humam theory``, default options: published start and
  evaluation times): log10 rate of the 254 non-empty populations (rows, canonical order) over
  pseudo-time 0…9.9 (columns). The last column is the published prediction (not converged, docs/quirks.md Q20).
* Panel B: that prediction against the simulated mean rate (docs/model.md §8.2, the run's analysis) of each
  population of the ground-state run, log–log with the identity line and the Pearson r of the log rates.

The theory never includes the DC drive of down-scaled networks (docs/quirks.md Q12): against a down-scaled run large
deviations are expected, and the banner says so. Without the run, A is drawn and B is a placeholder.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from humam import data, tables, theory
from humam.tables import POPULATION_IS_EXCITATORY

from . import common, style

FIGURE_ID = "S-MF"
TITLE = "Mean-field theory against simulation"
STEM = "figS_mean_field"
RUN_NAME = "ground_state"
THEORY_NAME = "full"
SPEC = common.FigureSpec(stems=(STEM,), theories={THEORY_NAME: common.Source.network("network_only")},
                         runs={RUN_NAME: common.Source.run("ground_state")})
#: Last pseudo-time of the published prediction (docs/model.md §9.5).
T_PREDICTION = 9.9
THEORY_HOW = "run the pipeline: doit (task theory), or 'humam theory --experiment network_only'"


# ---------------------------------------------------------------------------------------------
# Inputs


def theory_descriptor(name: str, path: Path, result: theory.TheoryResult) -> dict:
    """Sidecar descriptor of a theory file: path, sha256, the network it belongs to and the options."""
    attrs = theory.read_theory_attrs(path)
    network = json.loads(attrs["parameters"]) if "parameters" in attrs else {}
    scaling = network.get("scaling", {})
    return {"kind": "theory", "name": name, "path": str(path), "sha256": data.sha256_of(path),
            "net_hash": attrs.get("net_hash"), "network_digest": attrs.get("network_digest"),
            "experiment": attrs.get("experiment"), "chi": scaling.get("chi"), "chi_I": scaling.get("chi_I"),
            "options": result.options, "converged": result.converged}


def convergence_columns(result: theory.TheoryResult, t_max: float = T_PREDICTION) -> tuple[np.ndarray, np.ndarray]:
    """(times, (254, n_times) rates) of the pseudo-dynamics up to ``t_max``: the heatmap of panel A,
    rows = non-empty populations in canonical order."""
    times = np.asarray(result.times, dtype=float)
    keep = times <= t_max + 1e-9
    rates = np.asarray(result.trajectory_hz, dtype=float)[keep][:, np.asarray(result.nonempty, dtype=bool)]
    return times[keep], rates.T


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


def build(out_dir, inputs: common.FigureInputs) -> common.FigureResult:
    """Draw S-MF from the theory ``full`` (panel A, and the prediction of B) and the analysis of the
    run ``ground_state`` (B); "not produced" without the theory, B a placeholder without the run."""
    result = inputs.theory(THEORY_NAME)
    if result is None:
        missing = [common.missing_item("A–B", "mean-field theory of the full-scale network (theory:full)", THEORY_HOW)]
        return common.FigureResult(FIGURE_ID, common.NOT_PRODUCED, {}, missing)
    theory_source = theory_descriptor(THEORY_NAME, inputs.path("theory", THEORY_NAME), result)
    run = inputs.run(RUN_NAME)
    times, rates = convergence_columns(result)
    nonempty = np.asarray(result.nonempty, dtype=bool)
    final = np.zeros(tables.N_POPULATIONS)
    final[nonempty] = rates[:, -1]

    chi, chi_i = theory_source["chi"], theory_source["chi_I"]
    chi_label = "" if chi is None else f", χ = {float(chi):g}, χ_I = {float(chi_i):g}"
    inputs_meta = [theory_source]
    missing: list[dict] = []
    if run is None:
        missing.append(common.missing_item("B", RUN_NAME, common.RUN_HOW))
    else:
        inputs_meta.append(run.descriptor())
        run_scaling = run.params["network"]["scaling"]
        if chi is not None and (float(run_scaling["chi"]), float(run_scaling["chi_I"])) != (float(chi), float(chi_i)):
            common.log.warning("S-MF: run %s has χ = %g, χ_I = %g; the theory's network has χ = %g, χ_I = %g", run.name,
                               float(run_scaling["chi"]), float(run_scaling["chi_I"]), float(chi), float(chi_i))
    status = common.status_of_runs([run], missing)

    values: dict = {"times": times, "final_rates_hz": final, "nonempty": nonempty, "theory": result,
                    "theory_source": theory_source, "chi": chi, "chi_I": chi_i,
                    "placeholder_panels": [m["panel"] for m in missing]}
    banner = ""
    extra: dict = {}
    title = f"{FIGURE_ID} — {TITLE} (theory: full-scale network{chi_label})"
    with style.figure_style():
        fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12.5, 7.2), gridspec_kw={"width_ratios": [1.25, 1], "wspace": 0.3})
        fig.subplots_adjust(top=0.84, bottom=0.08, left=0.07, right=0.97)
        _convergence_panel(fig, ax_a, times, rates, nonempty)
        if run is None:
            item = missing[0]
            style.placeholder_panel(ax_b, item["input"], item["how"], title="Theory against simulation, per population")
        else:
            simulated = np.asarray(run.analysis["population"]["rate_hz"], dtype=float)
            r, ok = log_rate_correlation(final, simulated)
            both = nonempty & np.isfinite(simulated)
            zero = both & ~ok
            note = f"{int(ok.sum())} populations" + (f"; {int(zero.sum())} with a zero rate not shown" if zero.any() else "")
            _scatter_panel(ax_b, final, simulated, ok, r, note)
            if not run.full_scale:
                banner = (run.scale_banner() + ". The theory is that of the full-scale network and excludes the "
                          "down-scaling DC term (docs/quirks.md Q12): large deviations are expected.")
            values.update({"simulated_rates_hz": simulated, "pearson_r_log": r, "compared": ok,
                           "zero_rate_populations": ["/".join(tables.POPULATIONS[i]) for i in np.flatnonzero(zero)]})
            window = run.analysis["window"]
            extra = {"simulated_rate_source": (f"analysis population/rate_hz over [{float(window['t_start_ms']):g}, "
                                               f"{float(window['t_stop_ms']):g}) ms"),
                     "pearson_r_log10_rates": r, "populations_compared": int(ok.sum()),
                     "zero_rate_populations": values["zero_rate_populations"],
                     "not_simulated": ["/".join(tables.POPULATIONS[i]) for i in np.flatnonzero(nonempty & ~np.isfinite(simulated))]}
        style.panel_label(ax_a, "A", x=-0.1)
        style.panel_label(ax_b, "B", x=-0.14)
        fig.suptitle(title, fontsize=10, y=0.985)
        fig.text(0.5, 0.945, f"Shifted-Siegert pseudo-dynamics from the published start (seed {result.options.get('seed')}); "
                 f"prediction = value at t = {times[-1]:g} (not converged, Q20)", ha="center", fontsize=8)
        if banner:
            fig.text(0.5, 0.92, "\n".join(textwrap.wrap(banner, 130)), ha="center", va="top", fontsize=8, color="#b00000")
        meta = common.sidecar(FIGURE_ID, title, inputs_meta, status, missing, theory=theory_source,
                              pseudo_time=[float(times[0]), float(times[-1])], scale_banner=banner,
                              theory_network={"net_hash": theory_source["net_hash"], "chi": chi, "chi_I": chi_i,
                                              "note": "full scale, without down-scaling and perturbation; DC drive "
                                                      "excluded (docs/quirks.md Q12)"},
                              final_mean_rate_hz=float(final[nonempty].mean()), **extra)
        paths = style.save_figure(fig, Path(out_dir) / STEM, meta)
    return common.FigureResult(FIGURE_ID, status, paths, missing, values)


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
