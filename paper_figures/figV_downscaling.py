"""V-DS: does a down-scaled network behave like the full-scale model? (validation, not a paper figure)

For each down-scaled ground-state run (χ = 1, 11 s simulated) given, per population: the simulated mean
rate (the run's analysis: its analysis window, after the initial transient) and the down-scaled
network's own mean-field rates, both against the full-scale theory rates (the fixed point of docs/model.md §9
for the full-scale network). The down-scaled network's theory includes its DC drive (it is part of the
mean input of the simulated network) and starts, as published, from uniform random rates; it is
integrated until it reaches a fixed point. Every number drawn comes from pipeline outputs: the runs'
analysis files, the theory files (``humam theory``, which also records the stability checks) and the
statistics of the main chi-scan family. Panels:

* top row, one scatter per scale: simulated rate against full-scale theory rate, one colour per
  down-scaling scheme, log–log, identity line; neuron-weighted mean ratio and Pearson r of log rates in
  the legend;
* bottom row, one scatter per scale: simulated rate against the down-scaled network's own mean-field
  rate: where the full-scale rates are not a stable fixed point of the down-scaled theory, this is
  the state the theory predicts instead;
* the mean-field check, recorded in the theory files: the leading eigenvalue of the Jacobian of each
  down-scaled network at the full-scale rates of its DC compensation (stable below 1) against the
  full-scale network's at its own fixed point, with the fixed-point residual max |φ'(ν_full) − ν_full| / ν_full;
* neuron-weighted mean rates: full-scale theory, down-scaled theory and simulation; below them, how
  close the published full-scale simulation comes to the full-scale theory in the one area whose
  full-scale rates are shipped (caudalanteriorcingulate, ground state of the main χ-scan family,
  :func:`humam.analysis.area_mean_rate_from_samples`). The sidecar also holds each run's rate in
  that area against the full-scale theory.

Run with ``doit validate=yes`` (the task graph passes every input).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from humam import analysis, tables, theory
from humam.tables import POPULATION_IS_EXCITATORY

from . import common, style

FIGURE_ID = "V-DS"
TITLE = "Down-scaled networks against the full-scale theory"
SCHEMES = ("linear", "preserve_input_statistics")
SCALES = ("0.01", "0.005")
RUN_NAMES = tuple(f"{scheme}_{scale}" for scale in SCALES for scheme in SCHEMES)
#: Simulated time of the validation runs (ms).
T_SIM_MS = 11000.0
SCHEME_LABELS = {"linear": "published (linear + DC)", "preserve_input_statistics": "preserve_input_statistics"}
SCHEME_COLOURS = {"linear": "#D55E00", "preserve_input_statistics": "#0072B2"}
#: Options of each down-scaled network's own theory: with its DC drive, to the fixed point.
OWN_THEORY = (("theory.include_dc", True), ("theory.until_converged", True))


def run_source(scheme: str, scale: str) -> common.Source:
    """The validation run of ``scheme`` at ``scale``: the ground state, down-scaled, 11 s."""
    return common.Source.run("ground_state", network__downscaling__n_scaling=float(scale),
                             network__downscaling__k_scaling=float(scale), network__downscaling__scaling_type=scheme,
                             simulation__t_sim_ms=T_SIM_MS)


def own_theory_source(run: common.Source) -> common.Source:
    """The mean-field theory of the network of ``run`` (DC included, converged)."""
    return common.Source(run.experiment, run.settings + OWN_THEORY, True)


RUNS = {f"{scheme}_{scale}": run_source(scheme, scale) for scale in SCALES for scheme in SCHEMES}
SPEC = common.FigureSpec(
    stems=("figV_downscaling",),
    networks={"full": common.Source.network("ground_state")},
    runs=RUNS,
    theories={"full": common.Source.network("ground_state", theory__until_converged=True),
              **{name: own_theory_source(source) for name, source in RUNS.items()}},
    chi_scans=(analysis.CHI_SCAN_MAIN_FOLDER,),
    group="validate",
)

log = logging.getLogger(__name__)


def _area_mask(area: str) -> np.ndarray:
    return np.arange(tables.N_POPULATIONS) // tables.N_POPULATIONS_PER_AREA == tables.area_index(area)


def full_scale_simulation_reference(statistics: dict | None, full_rates: np.ndarray,
                                    full_neurons: np.ndarray) -> dict | None:
    """The published full-scale ground state (χ = 1 of the main χ-scan family) in the one area whose
    rates are shipped (§8.13 samples, [2.5, 12.5) s, from the family's chi-scan statistics), against the
    full-scale theory of that area: how close the full-scale simulation itself comes to its theory.
    None without the statistics."""
    if statistics is None:
        log.warning("full-scale simulation reference left out: the chi-scan statistics of %s were not given",
                    analysis.CHI_SCAN_MAIN_FOLDER)
        return None
    area = analysis.CHI_SCAN_SAMPLE_AREA
    samples = statistics["samples"]["rates"]["groundstate"]
    in_area = _area_mask(area)
    simulated = analysis.area_mean_rate_from_samples(samples, int(full_neurons[in_area].sum()))
    predicted = _neuron_weighted(full_rates, full_neurons, in_area)
    return {"area": area, "folder": analysis.CHI_SCAN_MAIN_FOLDER, "window_ms": [2500.0, 12500.0],
            "simulated_rate_hz": simulated, "theory_rate_hz": predicted, "ratio": simulated / predicted}


def _neuron_weighted(rates_hz: np.ndarray, neurons: np.ndarray, present: np.ndarray) -> float:
    return float(np.sum(rates_hz[present] * neurons[present]) / neurons[present].sum())


def _pearson_log(x: np.ndarray, y: np.ndarray, selected: np.ndarray) -> float:
    selected = selected & (x > 0) & (y > 0)
    return float(np.corrcoef(np.log10(x[selected]), np.log10(y[selected]))[0, 1])


def comparison(run: common.RunInput, own: theory.TheoryResult, check: dict, full_rates: np.ndarray,
               full_neurons: np.ndarray) -> dict:
    """Simulated (the run's analysis) and mean-field rates (``own``, with its stability ``check`` at the
    full-scale rates) of one down-scaled run against the full-scale theory rates ``full_rates``."""
    results = run.analysis
    net = run.network
    present = net.nonempty
    simulated = np.where(present, np.nan_to_num(np.asarray(results["population"]["rate_hz"], dtype=float)), 0.0)
    window = results["window"]
    weighted_sim = _neuron_weighted(simulated, net.neuron_numbers, present)
    weighted_full = float(np.sum(full_rates * full_neurons) / full_neurons.sum())
    weighted_own = _neuron_weighted(own.rates_hz, net.neuron_numbers, present)
    area = analysis.CHI_SCAN_SAMPLE_AREA
    area_rate = float(np.asarray(results["area"]["rate_hz"])[tables.area_index(area)])
    area_full = _neuron_weighted(full_rates, full_neurons, _area_mask(area))
    return {
        "n_scaling": float(net.n_scaling), "k_scaling": float(net.k_scaling),
        "scaling_type": run.downscaling["scaling_type"],
        "window_ms": [float(window["t_start_ms"]), float(window["t_stop_ms"])],
        "simulated_hz": simulated, "own_theory_hz": own.rates_hz, "present": present,
        "neuron_weighted_rate_hz": weighted_sim, "full_scale_neuron_weighted_rate_hz": weighted_full,
        "rate_ratio": weighted_sim / weighted_full,
        "pearson_r_log_rates": _pearson_log(simulated, full_rates, present),
        "silent_populations": int(np.count_nonzero(present & (simulated == 0))),
        "theory_includes_dc": bool(own.options.get("include_dc")),
        "stability_at": check["at"], "stability_includes_dc": check["include_dc"],
        "mean_field_max_relative_residual": check["max_relative_residual"],
        "leading_eigenvalue": [check["leading_eigenvalue"].real, check["leading_eigenvalue"].imag],
        "stable": check["stable"],
        "own_theory_neuron_weighted_rate_hz": weighted_own,
        "own_theory_rate_ratio": weighted_own / weighted_full,
        "own_theory_converged": bool(own.converged),
        "pearson_r_log_rates_own_theory": _pearson_log(simulated, own.rates_hz, present),
        "simulated_over_own_theory": weighted_sim / weighted_own,
        "sampled_area": area, "sampled_area_rate_hz": area_rate, "sampled_area_rate_ratio": area_rate / area_full,
    }


def _label(r: dict) -> str:
    return f"{SCHEME_LABELS.get(r['scaling_type'], r['scaling_type'])}\nN = {r['n_scaling']:g}, K = {r['k_scaling']:g}"


def _scatter(ax, results: dict, scale: float, full_rates: np.ndarray, reference: str | None, xlabel: str) -> None:
    """Simulated population rates of the runs at ``scale`` against the full-scale theory (``reference``
    None) or against each run's own mean-field rates."""
    lo, hi = 1e-3, 1e3
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=0.8, ls="--", zorder=0)
    for r in results.values():
        if r["n_scaling"] != scale:
            continue
        x = full_rates if reference is None else r[reference]
        shown = r["present"] & (r["simulated_hz"] > 0) & (x > 0)
        if reference is None:
            summary = f"mean ×{r['rate_ratio']:.2g}, r = {r['pearson_r_log_rates']:.2f}"
        else:
            summary = f"mean ×{r['simulated_over_own_theory']:.2g}, r = {r['pearson_r_log_rates_own_theory']:.2f}"
        for is_e, marker in ((True, "o"), (False, "^")):
            sel = shown & (POPULATION_IS_EXCITATORY == is_e)
            ax.scatter(x[sel], r["simulated_hz"][sel], s=9, marker=marker, alpha=0.7,
                       color=SCHEME_COLOURS.get(r["scaling_type"], "0.3"),
                       label=f"{SCHEME_LABELS.get(r['scaling_type'], r['scaling_type'])}: {summary}" if is_e else None)
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi), xlabel=xlabel, ylabel="simulated rate (spikes/s)",
           title=f"N = K = {scale:g} (○ E, △ I)")
    ax.legend(fontsize=6, loc="upper left")


def _stability_panel(ax, results: dict, full_check: dict) -> None:
    names = list(results)
    eig = [results[n]["leading_eigenvalue"][0] for n in names]
    colours = [SCHEME_COLOURS.get(results[n]["scaling_type"], "0.3") for n in names]
    ax.barh(range(len(names)), eig, color=colours)
    ax.axvline(1.0, color="k", lw=0.8, ls="--")
    ax.axvline(full_check["leading_eigenvalue"].real, color="0.5", lw=0.8)
    ax.set_yticks(range(len(names)), [_label(results[n]) for n in names], fontsize=6)
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set(xlabel="leading eigenvalue of the Jacobian at the full-scale rates (stable < 1)",
           title=f"mean-field stability (full scale: {full_check['leading_eigenvalue'].real:.2f})")
    for y, n in enumerate(names):
        residual = results[n]["mean_field_max_relative_residual"]
        ax.text(0.02, y, f"residual {residual:.1%}" if residual < 10 else f"residual {residual:.2g}", fontsize=6,
                va="center", transform=ax.get_yaxis_transform())


def _weighted_rates_panel(ax, results: dict, full_weighted: float, reference: dict | None) -> None:
    names = list(results)
    y = np.arange(len(names))
    ax.barh(y + 0.2, [results[n]["own_theory_neuron_weighted_rate_hz"] for n in names], height=0.4,
            color="0.7", label="down-scaled theory")
    ax.barh(y - 0.2, [results[n]["neuron_weighted_rate_hz"] for n in names], height=0.4,
            color=[SCHEME_COLOURS.get(results[n]["scaling_type"], "0.3") for n in names], label="simulated")
    ax.axvline(full_weighted, color="k", lw=0.8, ls="--", label=f"full-scale theory ({full_weighted:.2g})")
    ax.set_yticks(y, [_label(results[n]) for n in names], fontsize=6)
    ax.set_xscale("log")
    ax.set(xlabel="neuron-weighted mean rate (spikes/s)", title="mean rates")
    ax.legend(fontsize=6, loc="best")
    if reference is not None:
        ax.text(0.02, 0.01, f"{reference['area']}, full scale: published simulation "
                f"{reference['simulated_rate_hz']:.3g}, theory {reference['theory_rate_hz']:.3g} spikes/s "
                f"(×{reference['ratio']:.2f})", fontsize=5.5, transform=ax.transAxes, va="bottom")


THEORY_HOW = "run the validation: doit validate=yes (task theory, or 'humam theory ... --set theory.include_dc=true --set theory.until_converged=true')"


def _stability(inputs: common.FigureInputs, name: str) -> dict | None:
    path = inputs.path("theory", name)
    return None if path is None else theory.read_theory_stability(path)


def build(out_dir: Path, inputs: common.FigureInputs) -> common.FigureResult:
    """Draw V-DS from the runs, theories, full-scale network and chi-scan statistics of :data:`SPEC`."""
    full_theory = common.require(inputs.theory("full"), "the full-scale theory", "theory:full")
    full_net = common.require(inputs.network("full"), "the full-scale network", "network:full")
    full_check = _stability(inputs, "full")
    if full_check is None:
        raise common.InputError(f"{inputs.path('theory', 'full')} records no stability check: compute the full-scale "
                                f"theory until converged ('humam theory --until-converged', as doit does).")
    full_rates, full_neurons = np.asarray(full_theory.rates_hz, dtype=float), np.asarray(full_net.neuron_numbers)
    runs, missing = {}, []
    for name in RUN_NAMES:
        run, own, check = inputs.run(name), inputs.theory(name), _stability(inputs, name)
        if run is None:
            missing.append(common.missing_item(name, f"run {name}", common.RUN_HOW))
        elif own is None or check is None:
            missing.append(common.missing_item(name, f"the mean-field theory of run {name}'s network", THEORY_HOW))
        else:
            runs[name] = (run, own, check)
    if not runs:
        return common.FigureResult(FIGURE_ID, common.NOT_PRODUCED, missing=missing)
    simulation_reference = full_scale_simulation_reference(inputs.chi_scan(analysis.CHI_SCAN_MAIN_FOLDER),
                                                           full_rates, full_neurons)
    results = {name: comparison(run, own, check, full_rates, full_neurons) for name, (run, own, check) in runs.items()}

    scales = sorted({r["n_scaling"] for r in results.values()}, reverse=True)
    full_weighted = float(np.sum(full_rates * full_neurons) / full_neurons.sum())
    with style.figure_style():
        n_cols = len(scales) + 1
        fig, axes = plt.subplots(2, n_cols, figsize=(4.0 * n_cols, 7.6), squeeze=False)
        for column, scale in enumerate(scales):
            for row, (reference, xlabel) in enumerate((
                    (None, "full-scale theory rate (spikes/s)"),
                    ("own_theory_hz", "down-scaled network's mean-field rate (spikes/s)"))):
                _scatter(axes[row, column], results, scale, full_rates, reference, xlabel)
        _stability_panel(axes[0, -1], results, full_check)
        _weighted_rates_panel(axes[1, -1], results, full_weighted, simulation_reference)
        for letter, ax in zip("ABCDEFGH", axes.T.ravel()):
            style.panel_label(ax, letter)
        windows = sorted({tuple(r["window_ms"]) for r in results.values()})
        window_text = ", ".join(f"[{a / 1000:g}, {b / 1000:g}) s" for a, b in windows)
        fig.suptitle(f"Down-scaled ground state (χ = 1) against the full-scale theory — simulated rates in "
                     f"{window_text}", fontsize=9)
        fig.tight_layout()
        status = common.status_of_runs([run for run, _, _ in runs.values()], missing)
        values = {name: {k: v for k, v in r.items() if k not in ("simulated_hz", "own_theory_hz", "present")}
                  for name, r in results.items()}
        values["full_scale"] = {"leading_eigenvalue": [full_check["leading_eigenvalue"].real,
                                                       full_check["leading_eigenvalue"].imag],
                                "stability_at": full_check["at"],
                                "theory_converged": full_theory.converged,
                                "neuron_weighted_rate_hz": full_weighted,
                                "simulation_reference": simulation_reference}
        descriptors = [run.descriptor() for run, _, _ in runs.values()]
        descriptors += [{"kind": "theory", "name": name, "path": str(inputs.path("theory", name))}
                        for name in ("full", *runs)]
        descriptors.append(inputs.network_descriptor("full"))
        if inputs.path("chi_scan", analysis.CHI_SCAN_MAIN_FOLDER) is not None:
            descriptors.append({"kind": "chi_scan", "name": analysis.CHI_SCAN_MAIN_FOLDER,
                                "path": str(inputs.path("chi_scan", analysis.CHI_SCAN_MAIN_FOLDER))})
        meta = common.sidecar(FIGURE_ID, TITLE, descriptors, status, missing, comparison=values)
        paths = style.save_figure(fig, Path(out_dir) / "figV_downscaling", meta)
        plt.close(fig)
    return common.FigureResult(FIGURE_ID, status, paths=paths, missing=missing, values=values)


def main(argv=None) -> int:
    return common.main(SPEC, build, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
