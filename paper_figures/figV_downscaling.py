"""V-DS: does a down-scaled network behave like the full-scale model? (validation, not a paper figure)

For each down-scaled ground-state run (χ = 1) given, per population: the simulated mean rate (after a
transient) and the down-scaled network's own mean-field rates, both against the full-scale theory rates
(the fixed point of model §9 for the full-scale network). The down-scaled network's theory includes its
DC drive (it is part of the mean input of the simulated network) and starts, as published, from
uniform random rates; it is integrated until it reaches a fixed point. Panels:

* top row, one scatter per scale: simulated rate against full-scale theory rate, one colour per
  down-scaling scheme, log–log, identity line; neuron-weighted mean ratio and Pearson r of log rates in
  the legend;
* bottom row, one scatter per scale: simulated rate against the down-scaled network's own mean-field
  rate: where the full-scale rates are not a stable fixed point of the down-scaled theory, this is
  the state the theory predicts instead;
* the mean-field check: the leading eigenvalue of the Jacobian at ν_full of each down-scaled network
  (stable below 1) against the full-scale network's, with the fixed-point residual
  max |φ'(ν_full) − ν_full| / ν_full;
* neuron-weighted mean rates: full-scale theory, down-scaled theory and simulation; below them, how
  close the published full-scale simulation comes to the full-scale theory in the one area whose
  full-scale rates are shipped (caudalanteriorcingulate, ground state of the main χ-scan family,
  :func:`humam.analysis.area_mean_rate_from_samples`). The sidecar also holds each run's rate in
  that area against the full-scale theory.

    python -m paper_figures.figV_downscaling --out DIR --run linear_0.01=FOLDER --run preserve_input_statistics_0.01=FOLDER ...
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from humam import analysis, tables, theory
from humam.errors import DataError
from humam.network import POPULATION_IS_EXCITATORY

from . import common, style

FIGURE_ID = "V-DS"
TITLE = "Down-scaled networks against the full-scale theory"
SCHEMES = ("linear", "preserve_input_statistics")
SCALES = ("0.01", "0.005")
RUN_NAMES = tuple(f"{scheme}_{scale}" for scale in SCALES for scheme in SCHEMES)
#: Transient excluded from the simulated rates (ms).
TRANSIENT_MS = 1000.0
SCHEME_LABELS = {"linear": "published (linear + DC)", "preserve_input_statistics": "preserve_input_statistics"}
SCHEME_COLOURS = {"linear": "#D55E00", "preserve_input_statistics": "#0072B2"}

log = logging.getLogger(__name__)


def full_scale_fixed_point(params: dict):
    """(full-scale network of ``params``, its theory rates (272,) at the fixed point)."""
    import copy

    from humam.network import build_network

    full_params = copy.deepcopy(params["network"])
    full_params["downscaling"].update(n_scaling=1.0, k_scaling=1.0)
    net = build_network(full_params)
    return net, theory.theory_rates(net, until_converged=True).rates_hz


def _area_mask(area: str) -> np.ndarray:
    return np.arange(tables.N_POPULATIONS) // tables.N_POPULATIONS_PER_AREA == tables.area_index(area)


def full_scale_simulation_reference(full_rates: np.ndarray, full_neurons: np.ndarray) -> dict | None:
    """The published full-scale ground state (χ = 1 of the main χ-scan family) in the one area whose
    rates are shipped (§8.13 samples, [2.5, 12.5) s), against the full-scale theory of that area: how
    close the full-scale simulation itself comes to its theory. None when the samples cannot be had."""
    area = analysis.CHI_SCAN_SAMPLE_AREA
    try:
        samples = analysis.load_chi_scan_samples(analysis.CHI_SCAN_MAIN_FOLDER)["rates"]["groundstate"]
    except DataError as exc:
        log.warning("full-scale simulation reference left out: %s", exc)
        return None
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


def comparison(run: common.RunInput, full_rates: np.ndarray, full_neurons: np.ndarray) -> dict:
    """Simulated and mean-field rates of one down-scaled run against the full-scale theory."""
    st = run.spike_trains
    t_start = min(TRANSIENT_MS, 0.5 * st.t_sim_ms)
    simulated = analysis.population_mean_rates(st, t_start, st.t_sim_ms)
    net = run.network
    present = net.nonempty
    weighted_sim = _neuron_weighted(simulated, net.neuron_numbers, present)
    weighted_full = float(np.sum(full_rates * full_neurons) / full_neurons.sum())
    check = theory.stability(net, full_rates, include_dc=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # recorded below as own_theory_converged
        own = theory.theory_rates(net, include_dc=True, until_converged=True)
    weighted_own = _neuron_weighted(own.rates_hz, net.neuron_numbers, present)
    area = analysis.CHI_SCAN_SAMPLE_AREA
    area_rate = float(analysis.area_mean_rates(st, t_start, st.t_sim_ms)[tables.area_index(area)])
    area_full = _neuron_weighted(full_rates, full_neurons, _area_mask(area))
    return {
        "n_scaling": float(run.downscaling["n_scaling"]), "k_scaling": float(run.downscaling["k_scaling"]),
        "scaling_type": run.downscaling["scaling_type"], "window_ms": [t_start, st.t_sim_ms],
        "simulated_hz": simulated, "own_theory_hz": own.rates_hz, "present": present,
        "neuron_weighted_rate_hz": weighted_sim, "full_scale_neuron_weighted_rate_hz": weighted_full,
        "rate_ratio": weighted_sim / weighted_full,
        "pearson_r_log_rates": _pearson_log(simulated, full_rates, present),
        "silent_populations": int(np.count_nonzero(present & (simulated == 0))),
        "theory_includes_dc": True,
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
    ax.set(xlabel="leading eigenvalue of the Jacobian at ν_full (stable < 1)",
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


def build(out_dir: Path, runs: dict[str, Path]) -> common.FigureResult:
    inputs = {name: common.run_input(name, folder) for name, folder in runs.items()}
    inputs = {name: run for name, run in inputs.items() if run is not None}
    missing = [common.missing_item(name, f"run {name}", common.RUN_HOW) for name in RUN_NAMES if name not in inputs]
    if not inputs:
        return common.FigureResult(FIGURE_ID, common.NOT_PRODUCED, missing=missing)
    first = next(iter(inputs.values()))
    full_net, full_rates = full_scale_fixed_point(first.params)
    full_neurons = full_net.neuron_numbers
    full_check = theory.stability(full_net, full_rates)
    simulation_reference = full_scale_simulation_reference(full_rates, full_neurons)
    results = {name: comparison(run, full_rates, full_neurons) for name, run in inputs.items()}

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
        fig.suptitle("Down-scaled ground state (χ = 1) against the full-scale theory — simulated rates after "
                     f"{TRANSIENT_MS / 1000:g} s transient", fontsize=9)
        fig.tight_layout()
        status = common.status_of_runs(list(inputs.values()), missing)
        values = {name: {k: v for k, v in r.items() if k not in ("simulated_hz", "own_theory_hz", "present")}
                  for name, r in results.items()}
        values["full_scale"] = {"leading_eigenvalue": [full_check["leading_eigenvalue"].real,
                                                       full_check["leading_eigenvalue"].imag],
                                "neuron_weighted_rate_hz": full_weighted,
                                "simulation_reference": simulation_reference}
        meta = common.sidecar(FIGURE_ID, TITLE, [run.descriptor() for run in inputs.values()], status, missing,
                              comparison=values)
        paths = style.save_figure(fig, Path(out_dir) / "figV_downscaling", meta)
        plt.close(fig)
    return common.FigureResult(FIGURE_ID, status, paths=paths, missing=missing, values=values)


def main() -> None:
    common.cli_runs(build, __doc__.splitlines()[0], RUN_NAMES)


if __name__ == "__main__":
    main()
