"""V-DS: does a down-scaled network behave like the full-scale model? (validation, not a paper figure)

For each down-scaled ground-state run (χ = 1) given, per population: the simulated mean rate (after a
transient) and the down-scaled network's own mean-field prediction, both against the full-scale
theory rates (the fixed point of model §9 for the full-scale network). Panels:

* one scatter per scale: simulated rate against full-scale theory rate, one colour per down-scaling
  scheme, log–log, identity line; neuron-weighted mean ratio and Pearson r of log rates in the legend;
* the mean-field check: the fixed-point residual max |φ'(ν_full) − ν_full| / ν_full of each
  down-scaled network and the leading eigenvalue of its Jacobian at ν_full (stable below 1), against
  the full-scale network's.

    python -m paper_figures.figV_downscaling --out DIR --run linear_0.01=FOLDER --run preserve_input_statistics_0.01=FOLDER ...
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from humam import analysis, theory
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


def comparison(run: common.RunInput, full_rates: np.ndarray, full_neurons: np.ndarray) -> dict:
    """Simulated and mean-field rates of one down-scaled run against the full-scale theory."""
    st = run.spike_trains
    t_start = min(TRANSIENT_MS, 0.5 * st.t_sim_ms)
    simulated = analysis.population_mean_rates(st, t_start, st.t_sim_ms)
    net = run.network
    present = net.nonempty
    positive = present & (simulated > 0)
    weighted_sim = float(np.sum(simulated[present] * net.neuron_numbers[present]) / net.neuron_numbers[present].sum())
    weighted_full = float(np.sum(full_rates * full_neurons) / full_neurons.sum())
    include_dc = run.downscaling["scaling_type"] == "preserve_input_statistics"
    check = theory.stability(net, full_rates, include_dc=include_dc)
    return {
        "n_scaling": float(run.downscaling["n_scaling"]), "k_scaling": float(run.downscaling["k_scaling"]),
        "scaling_type": run.downscaling["scaling_type"], "window_ms": [t_start, st.t_sim_ms],
        "simulated_hz": simulated, "present": present,
        "neuron_weighted_rate_hz": weighted_sim, "full_scale_neuron_weighted_rate_hz": weighted_full,
        "rate_ratio": weighted_sim / weighted_full,
        "pearson_r_log_rates": float(np.corrcoef(np.log10(simulated[positive]), np.log10(full_rates[positive]))[0, 1]),
        "silent_populations": int(np.count_nonzero(present & (simulated == 0))),
        "theory_includes_dc": include_dc,
        "mean_field_max_relative_residual": check["max_relative_residual"],
        "leading_eigenvalue": [check["leading_eigenvalue"].real, check["leading_eigenvalue"].imag],
        "stable": check["stable"],
    }


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
    results = {name: comparison(run, full_rates, full_neurons) for name, run in inputs.items()}

    scales = sorted({r["n_scaling"] for r in results.values()}, reverse=True)
    with style.figure_style():
        fig, axes = plt.subplots(1, len(scales) + 1, figsize=(4.0 * (len(scales) + 1), 4.0), squeeze=False)
        axes = axes[0]
        for ax, scale in zip(axes, scales):
            lo, hi = 1e-3, 1e3
            ax.plot([lo, hi], [lo, hi], color="0.5", lw=0.8, ls="--", zorder=0)
            for name, r in results.items():
                if r["n_scaling"] != scale:
                    continue
                shown = r["present"] & (r["simulated_hz"] > 0)
                for is_e, marker in ((True, "o"), (False, "^")):
                    sel = shown & (POPULATION_IS_EXCITATORY == is_e)
                    ax.scatter(full_rates[sel], r["simulated_hz"][sel], s=9, marker=marker, alpha=0.7,
                               color=SCHEME_COLOURS.get(r["scaling_type"], "0.3"),
                               label=(f"{SCHEME_LABELS.get(r['scaling_type'], r['scaling_type'])}: mean ×"
                                      f"{r['rate_ratio']:.2g}, r = {r['pearson_r_log_rates']:.2f}") if is_e else None)
            ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi),
                   xlabel="full-scale theory rate (spikes/s)", ylabel="simulated rate (spikes/s)",
                   title=f"N = K = {scale:g} (○ E, △ I)")
            ax.legend(fontsize=6, loc="upper left")
        ax = axes[-1]
        names = list(results)
        eig = [results[n]["leading_eigenvalue"][0] for n in names]
        labels = [f"{SCHEME_LABELS.get(results[n]['scaling_type'], '')}\nN = K = {results[n]['n_scaling']:g}"
                  for n in names]
        colours = [SCHEME_COLOURS.get(results[n]["scaling_type"], "0.3") for n in names]
        ax.barh(range(len(names)), eig, color=colours)
        ax.axvline(1.0, color="k", lw=0.8, ls="--")
        ax.axvline(full_check["leading_eigenvalue"].real, color="0.5", lw=0.8)
        ax.set_yticks(range(len(names)), labels, fontsize=6)
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set(xlabel="leading eigenvalue of the Jacobian at ν_full (stable < 1)",
               title=f"mean-field stability (full scale: {full_check['leading_eigenvalue'].real:.2f})")
        for y, n in enumerate(names):
            ax.text(0.02, y, f"residual {results[n]['mean_field_max_relative_residual']:.1%}", fontsize=6,
                    va="center", transform=ax.get_yaxis_transform())
        for letter, ax in zip("ABCD", axes):
            style.panel_label(ax, letter)
        fig.suptitle("Down-scaled ground state (χ = 1) against the full-scale theory — simulated rates after "
                     f"{TRANSIENT_MS / 1000:g} s transient", fontsize=9)
        fig.tight_layout()
        status = common.status_of_runs(list(inputs.values()), missing)
        values = {name: {k: v for k, v in r.items() if k not in ("simulated_hz", "present")} for name, r in results.items()}
        values["full_scale"] = {"leading_eigenvalue": [full_check["leading_eigenvalue"].real,
                                                       full_check["leading_eigenvalue"].imag],
                                "neuron_weighted_rate_hz": float(np.sum(full_rates * full_neurons) / full_neurons.sum())}
        meta = common.sidecar(FIGURE_ID, TITLE, [run.descriptor() for run in inputs.values()], status, missing,
                              comparison=values)
        paths = style.save_figure(fig, Path(out_dir) / "figV_downscaling", meta)
        plt.close(fig)
    return common.FigureResult(FIGURE_ID, status, paths=paths, missing=missing, values=values)


def main() -> None:
    common.cli_runs(build, __doc__.splitlines()[0], RUN_NAMES)


if __name__ == "__main__":
    main()
