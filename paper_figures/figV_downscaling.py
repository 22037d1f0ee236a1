"""V-DS: does a down-scaled network behave like the full-scale model? (validation, not a paper figure)

For each down-scaled run given, the ground state (χ = 1) and the best fit (χ = 2.5), 11 s simulated,
with the published and the input-statistics-preserving scheme at N = K = 0.01 and 0.005, per
population: the simulated mean rate (the run's analysis: its analysis window, after the initial
transient) and the down-scaled network's own mean-field rates, both against the full-scale theory
rates of the same state (the fixed point of docs/model.md §9 for the full-scale network). The
down-scaled network's theory includes its DC drive (it is part of the mean input of the simulated
network) and starts, as published, from uniform random rates; it is integrated until it reaches a
fixed point. Every number drawn comes from pipeline outputs: the runs' analysis files, the theory
files (``humam theory``, which also records the stability checks) and the statistics of the main
χ-scan family. Panels:

* first and third row, one scatter per scale: simulated rate against full-scale theory rate of the
  ground state and of the best fit, one colour per down-scaling scheme, log–log, identity line;
  neuron-weighted mean ratio and Pearson r of log rates in the legend;
* second row, one scatter per scale: ground-state rate against the down-scaled network's own
  mean-field rate: where the full-scale rates are not a stable fixed point of the down-scaled
  theory, this is the state the theory predicts instead;
* the mean-field check, recorded in the theory files: the leading eigenvalue of the Jacobian of each
  down-scaled network at the full-scale rates of its DC compensation (stable below 1) against the
  full-scale network's at its own fixed point, with the fixed-point residual max |φ'(ν_full) − ν_full| / ν_full;
* neuron-weighted mean rates: simulated, down-scaled theory and full-scale theory of each run's
  state; below them, how close the published full-scale simulation comes to the full-scale theory
  in the one area whose full-scale rates are shipped (caudalanteriorcingulate, ground state of the
  main χ-scan family, :func:`humam.analysis.area_mean_rate_from_samples`);
* distributions in that area (rates, CV ISI, LvR; the windows and rules of docs/model.md §8.13, from
  each run's analysis): 1 − KS distance between each run and the shipped full-scale samples of the
  same state, and box plots of all of them.

The sidecar holds every number, including the quartiles of CV ISI and LvR over all neurons of each run.

Run with ``doit validate=yes`` (the task graph passes every input).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter
import numpy as np

from humam import analysis, tables, theory
from humam.analysis import ks_similarity
from humam.tables import POPULATION_IS_EXCITATORY

from . import common, style
from .quantities import pearson_r_log_rates

FIGURE_ID = "V-DS"
TITLE = "Down-scaled networks against the full-scale theory"
SCHEMES = ("linear", "preserve_input_statistics")
SCALES = ("0.01", "0.005")
#: The two states of the paper: experiment, χ, the name of the shipped χ-scan sample of that state.
STATES = {"ground": ("ground_state", 1.0, "groundstate"), "best": ("best_fit", 2.5, "bestfit")}
STATE_LABELS = {"ground": "ground state (χ = 1)", "best": "best fit (χ = 2.5)"}


def run_name(state: str, scheme: str, scale: str) -> str:
    return f"{state}_{scheme}_{scale}"


RUN_NAMES = tuple(run_name(state, scheme, scale) for state in STATES for scale in SCALES for scheme in SCHEMES)
#: The profile's own runs of both states (the pipeline's ground_state and best_fit, at the profile's
#: scale, scheme and k, e.g. the laptop profile's k > n), compared in the same way.
PROFILE_RUN_NAMES = {"ground_profile": "ground", "best_profile": "best"}
#: Distributions compared with the shipped full-scale samples (docs/model.md §8.13).
SAMPLE_MEASURES = {"rates": "rate (spikes/s)", "cv": "CV ISI", "lvr": "LvR"}
#: Simulated time of the validation runs (ms).
T_SIM_MS = 11000.0
SCHEME_LABELS = {"linear": "published (linear + DC)", "preserve_input_statistics": "preserve_input_statistics"}
SCHEME_COLOURS = {"linear": "#D55E00", "preserve_input_statistics": "#0072B2"}
#: Colour of a run whose indegrees are scaled less than its neuron numbers (k > n).
K_ABOVE_N_COLOUR = "#56B4E9"
#: Options of each down-scaled network's own theory: with its DC drive, to the fixed point.
OWN_THEORY = (("theory.include_dc", True), ("theory.until_converged", True))


def run_source(state: str, scheme: str, scale: str) -> common.Source:
    """The validation run of ``state`` with ``scheme`` at n = k = ``scale``, 11 s (k as given, whatever
    the profile's ``k_scaling_rule``: the schemes are compared at the same indegrees)."""
    return common.Source.run(STATES[state][0], network__downscaling__n_scaling=float(scale),
                             network__downscaling__k_scaling=float(scale),
                             network__downscaling__k_scaling_rule="given", network__downscaling__scaling_type=scheme,
                             simulation__t_sim_ms=T_SIM_MS)


def own_theory_source(run: common.Source) -> common.Source:
    """The mean-field theory of the network of ``run`` (DC included, converged)."""
    return common.Source(run.experiment, run.settings + OWN_THEORY, True)


VALIDATION_RUNS = {run_name(state, scheme, scale): run_source(state, scheme, scale)
                   for state in STATES for scale in SCALES for scheme in SCHEMES}
RUNS = VALIDATION_RUNS | {name: common.Source.run(STATES[state][0]) for name, state in PROFILE_RUN_NAMES.items()}
#: The full-scale theory of each state (the ground state's under the name "full").
FULL_THEORIES = {"ground": "full", "best": "full_best"}
SPEC = common.FigureSpec(
    stems=("figV_downscaling",),
    networks={"full": common.Source.network("ground_state")},
    runs=RUNS,
    theories={FULL_THEORIES[state]: common.Source.network(STATES[state][0], theory__until_converged=True)
              for state in STATES} | {name: own_theory_source(source) for name, source in RUNS.items()},
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


def _finite(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]


def _quartiles(values: np.ndarray) -> list[float]:
    return np.percentile(values, [25, 50, 75]).tolist() if values.size else [float("nan")] * 3


def area_sample_comparison(run_samples: dict | None, shipped: dict | None, sample: str) -> dict:
    """1 − KS distance between a run's rates, CV ISI and LvR in the sampled area (its analysis'
    ``area_samples``) and the shipped full-scale samples of the same state (``sample``:
    groundstate or bestfit), with the sample sizes; NaN where either sample is empty or missing."""
    out = {}
    for measure in SAMPLE_MEASURES:
        ours = _finite(run_samples[measure]) if run_samples is not None else np.zeros(0)
        theirs = _finite(shipped[measure][sample]) if shipped is not None else np.zeros(0)
        out[measure] = {"ks_similarity": ks_similarity(ours, theirs) if ours.size and theirs.size else float("nan"),
                        "run_samples": int(ours.size), "full_scale_samples": int(theirs.size),
                        "run_median": float(np.median(ours)) if ours.size else float("nan"),
                        "full_scale_median": float(np.median(theirs)) if theirs.size else float("nan")}
    return out


def comparison(run: common.RunInput, own: theory.TheoryResult, check: dict, full_rates: np.ndarray,
               full_neurons: np.ndarray, state: str = "ground", shipped: dict | None = None) -> dict:
    """Simulated (the run's analysis) and mean-field rates (``own``, with its stability ``check`` at the
    full-scale rates) of one down-scaled run of ``state`` against the full-scale theory rates
    ``full_rates`` of that state; the run's CV ISI and LvR distributions; and its samples in the
    sampled area against the ``shipped`` full-scale samples (``statistics["samples"]`` of the main
    χ-scan family, or None)."""
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
    cv, lvr = _finite(results["neurons"]["cv_isi"]), _finite(results["neurons"]["lvr"])
    run_samples = results.get("area_samples")
    return {
        "state": state, "chi": STATES[state][1], "full_theory_hz": full_rates,
        "cv_isi_quartiles": _quartiles(cv), "lvr_quartiles": _quartiles(lvr), "cv_lvr_neurons": int(cv.size),
        "area_samples": area_sample_comparison(run_samples, shipped, STATES[state][2]),
        "sample_arrays": {m: _finite(run_samples[m]) if run_samples is not None else np.zeros(0)
                          for m in SAMPLE_MEASURES},
        "n_scaling": float(net.n_scaling), "k_scaling": float(net.k_scaling),
        "scaling_type": run.downscaling["scaling_type"],
        "window_ms": [float(window["t_start_ms"]), float(window["t_stop_ms"])],
        "simulated_hz": simulated, "own_theory_hz": own.rates_hz, "present": present,
        "neuron_weighted_rate_hz": weighted_sim, "full_scale_neuron_weighted_rate_hz": weighted_full,
        "rate_ratio": weighted_sim / weighted_full,
        "pearson_r_log_rates": pearson_r_log_rates(simulated, full_rates, present),
        "silent_populations": int(np.count_nonzero(present & (simulated == 0))),
        "theory_includes_dc": bool(own.options.get("include_dc")),
        "stability_at": check["at"], "stability_includes_dc": check["include_dc"],
        "mean_field_max_relative_residual": check["max_relative_residual"],
        "leading_eigenvalue": [check["leading_eigenvalue"].real, check["leading_eigenvalue"].imag],
        "stable": check["stable"],
        "own_theory_neuron_weighted_rate_hz": weighted_own,
        "own_theory_rate_ratio": weighted_own / weighted_full,
        "own_theory_converged": bool(own.converged),
        "pearson_r_log_rates_own_theory": pearson_r_log_rates(simulated, own.rates_hz, present),
        "simulated_over_own_theory": weighted_sim / weighted_own,
        "sampled_area": area, "sampled_area_rate_hz": area_rate, "sampled_area_rate_ratio": area_rate / area_full,
    }


#: Per-run arrays kept for drawing, not written to the sidecar.
ARRAY_KEYS = ("simulated_hz", "own_theory_hz", "present", "full_theory_hz", "sample_arrays")


def _label(r: dict) -> str:
    return (f"{'best fit' if r['state'] == 'best' else 'ground'}, "
            f"{SCHEME_LABELS.get(r['scaling_type'], r['scaling_type'])}\nN = {r['n_scaling']:g}, K = {r['k_scaling']:.3g}"
            + (" (profile)" if r.get("profile_run") else ""))


def _colour(r: dict) -> str:
    """The scheme's colour; its own for runs with k > n."""
    return K_ABOVE_N_COLOUR if r["k_scaling"] > r["n_scaling"] else SCHEME_COLOURS.get(r["scaling_type"], "0.3")


def _scheme_text(r: dict) -> str:
    return SCHEME_LABELS.get(r["scaling_type"], r["scaling_type"]) + (
        f", K = {r['k_scaling']:.3g}" if r["k_scaling"] != r["n_scaling"] else "")


def _scatter(ax, results: dict, state: str, scale: float, reference: str, xlabel: str) -> None:
    """Simulated population rates of the runs of ``state`` at ``scale`` against the full-scale theory
    (``reference`` "full_theory_hz") or against each run's own mean-field rates ("own_theory_hz")."""
    lo, hi = 1e-3, 1e3
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=0.8, ls="--", zorder=0)
    for r in results.values():
        if r["n_scaling"] != scale or r["state"] != state:
            continue
        x = r[reference]
        shown = r["present"] & (r["simulated_hz"] > 0) & (x > 0)
        if reference == "full_theory_hz":
            summary = f"mean ×{r['rate_ratio']:.2g}, r = {r['pearson_r_log_rates']:.2f}"
        else:
            summary = f"mean ×{r['simulated_over_own_theory']:.2g}, r = {r['pearson_r_log_rates_own_theory']:.2f}"
        for is_e, marker in ((True, "o"), (False, "^")):
            sel = shown & (POPULATION_IS_EXCITATORY == is_e)
            ax.scatter(x[sel], r["simulated_hz"][sel], s=9, marker=marker, alpha=0.7, color=_colour(r),
                       label=f"{_scheme_text(r)}: {summary}" if is_e else None)
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi), xlabel=xlabel, ylabel="simulated rate (spikes/s)",
           title=f"{STATE_LABELS[state]}, N = {scale:g} (○ E, △ I)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6, loc="upper left")
    else:
        ax.text(0.5, 0.5, "no run", transform=ax.transAxes, ha="center", color="0.5")


def _stability_panel(ax, results: dict, full_check: dict) -> None:
    names = list(results)
    eig = [results[n]["leading_eigenvalue"][0] for n in names]
    ax.barh(range(len(names)), eig, color=[_colour(results[n]) for n in names])
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


def _weighted_rates_panel(ax, results: dict, reference: dict | None) -> None:
    """Neuron-weighted mean rates per run: simulated, down-scaled theory, and (ticks) the full-scale
    theory of the run's state."""
    names = list(results)
    y = np.arange(len(names))
    ax.barh(y + 0.2, [results[n]["own_theory_neuron_weighted_rate_hz"] for n in names], height=0.4,
            color="0.7", label="down-scaled theory")
    ax.barh(y - 0.2, [results[n]["neuron_weighted_rate_hz"] for n in names], height=0.4,
            color=[_colour(results[n]) for n in names], label="simulated")
    ax.scatter([results[n]["full_scale_neuron_weighted_rate_hz"] for n in names], y, marker="|", s=120, color="k",
               zorder=3, label="full-scale theory")
    ax.set_yticks(y, [_label(results[n]) for n in names], fontsize=6)
    ax.set_xscale("log")
    ax.set(xlabel="neuron-weighted mean rate (spikes/s)", title="mean rates")
    ax.legend(fontsize=6, loc="best")
    if reference is not None:
        ax.text(0.02, 0.01, f"{reference['area']}, full scale: published simulation "
                f"{reference['simulated_rate_hz']:.3g}, theory {reference['theory_rate_hz']:.3g} spikes/s "
                f"(×{reference['ratio']:.2f})", fontsize=5.5, transform=ax.transAxes, va="bottom")


def _ks_panel(ax, results: dict) -> None:
    """1 − KS distance to the shipped full-scale samples of the same state, per run and measure."""
    names = list(results)
    y = np.arange(len(names))
    height = 0.8 / len(SAMPLE_MEASURES)
    for i, (measure, colour) in enumerate(zip(SAMPLE_MEASURES, ("#009E73", "#CC79A7", "#E69F00"))):
        values = [results[n]["area_samples"][measure]["ks_similarity"] for n in names]
        ax.barh(y - 0.4 + (i + 0.5) * height, np.nan_to_num(values), height=height, color=colour,
                label=SAMPLE_MEASURES[measure])
    ax.set_yticks(y, [_label(results[n]) for n in names], fontsize=6)
    ax.set(xlim=(0, 1), xlabel="1 − KS distance to the full-scale samples",
           title=f"{analysis.CHI_SCAN_SAMPLE_AREA}: distributions against full scale")
    ax.legend(fontsize=6, loc="lower right")


def _distribution_panel(ax, results: dict, shipped: dict | None, measure: str) -> None:
    """Box plots of one measure in the sampled area: the shipped full-scale samples of both states,
    then every run's."""
    boxes, labels, colours = [], [], []
    if shipped is not None:
        for state, (_, _, sample) in STATES.items():
            boxes.append(_finite(shipped[measure][sample]))
            labels.append(f"full scale, {'best fit' if state == 'best' else 'ground'}")
            colours.append("0.4")
    for r in results.values():
        boxes.append(r["sample_arrays"][measure])
        labels.append(_label(r).replace("\n", ", "))
        colours.append(_colour(r))
    shown = [i for i, b in enumerate(boxes) if b.size]
    parts = ax.boxplot([boxes[i] for i in shown], orientation="horizontal", showfliers=False, patch_artist=True, widths=0.6)
    for patch, i in zip(parts["boxes"], shown):
        patch.set(facecolor=colours[i], alpha=0.6)
    ax.set_yticks(range(1, len(shown) + 1), [labels[i] for i in shown], fontsize=5.5)
    ax.set(xlabel=SAMPLE_MEASURES[measure], title=f"{analysis.CHI_SCAN_SAMPLE_AREA}: {SAMPLE_MEASURES[measure]}")
    if measure == "rates":
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())


THEORY_HOW = "run the validation: doit validate=yes (task theory, or 'humam theory ... --set theory.include_dc=true --set theory.until_converged=true')"


def _stability(inputs: common.FigureInputs, name: str) -> dict | None:
    path = inputs.path("theory", name)
    return None if path is None else theory.read_theory_stability(path)


def build(out_dir: Path, inputs: common.FigureInputs) -> common.FigureResult:
    """Draw V-DS from the runs, theories, full-scale network and chi-scan statistics of :data:`SPEC`."""
    full_net = common.require(inputs.network("full"), "the full-scale network", "network:full")
    full_neurons = np.asarray(full_net.neuron_numbers)
    full_theories, full_checks, missing = {}, {}, []
    for state, name in FULL_THEORIES.items():
        full_theory, check = inputs.theory(name), _stability(inputs, name)
        if full_theory is None:
            missing.append(common.missing_item(name, f"the full-scale theory of the {STATE_LABELS[state]}",
                                               THEORY_HOW))
        elif check is None:
            raise common.InputError(f"{inputs.path('theory', name)} records no stability check: compute the "
                                    f"full-scale theory until converged ('humam theory --until-converged', as doit does).")
        else:
            full_theories[state], full_checks[state] = full_theory, check
    if "ground" not in full_theories:
        common.require(None, "the full-scale theory", "theory:full")
    statistics = inputs.chi_scan(analysis.CHI_SCAN_MAIN_FOLDER)
    shipped = statistics["samples"] if statistics is not None else None
    runs = {}
    for name in RUNS:
        state = name.split("_", 1)[0]
        run, own, check = inputs.run(name), inputs.theory(name), _stability(inputs, name)
        if run is None:
            missing.append(common.missing_item(name, f"run {name}", common.RUN_HOW))
        elif own is None or check is None:
            missing.append(common.missing_item(name, f"the mean-field theory of run {name}'s network", THEORY_HOW))
        elif state not in full_theories:
            missing.append(common.missing_item(name, f"run {name}: the full-scale theory of its state", THEORY_HOW))
        else:
            runs[name] = (run, own, check, state)
    if not runs:
        return common.FigureResult(FIGURE_ID, common.NOT_PRODUCED, missing=missing)
    full_rates = {state: np.asarray(t.rates_hz, dtype=float) for state, t in full_theories.items()}
    simulation_reference = full_scale_simulation_reference(statistics, full_rates["ground"], full_neurons)
    results = {name: comparison(run, own, check, full_rates[state], full_neurons, state, shipped)
               | {"profile_run": name in PROFILE_RUN_NAMES}
               for name, (run, own, check, state) in runs.items()}

    scales = sorted({r["n_scaling"] for r in results.values()}, reverse=True)
    with style.figure_style():
        n_cols = max(len(scales), 2) + 1
        fig, axes = plt.subplots(4, n_cols, figsize=(4.2 * n_cols, 15.0), squeeze=False)
        for column, scale in enumerate(scales):
            _scatter(axes[0, column], results, "ground", scale, "full_theory_hz", "full-scale theory rate (spikes/s)")
            _scatter(axes[1, column], results, "ground", scale, "own_theory_hz",
                     "down-scaled network's mean-field rate (spikes/s)")
            _scatter(axes[2, column], results, "best", scale, "full_theory_hz",
                     "full-scale theory rate, χ = 2.5 (spikes/s)")
        for row in range(3):
            for column in range(len(scales), n_cols - 1):
                axes[row, column].axis("off")
        _stability_panel(axes[0, -1], results, full_checks["ground"])
        _weighted_rates_panel(axes[1, -1], results, simulation_reference)
        _ks_panel(axes[2, -1], results)
        for column, measure in enumerate(SAMPLE_MEASURES):
            _distribution_panel(axes[3, column], results, shipped, measure)
        for letter, ax in zip("ABCDEFGHIJKLMNOP", [ax for ax in axes.ravel() if ax.axison]):
            style.panel_label(ax, letter)
        windows = sorted({tuple(r["window_ms"]) for r in results.values()})
        window_text = ", ".join(f"[{a / 1000:g}, {b / 1000:g}) s" for a, b in windows)
        fig.suptitle(f"Down-scaled ground state (χ = 1) and best fit (χ = 2.5) against the full-scale model — "
                     f"simulated rates in {window_text}", fontsize=9)
        fig.tight_layout(rect=(0, 0, 1, 0.985))
        status = common.status_of_runs([run for run, _, _, _ in runs.values()], missing)
        values = {name: {k: v for k, v in r.items() if k not in ARRAY_KEYS} for name, r in results.items()}
        values["full_scale"] = {"leading_eigenvalue": [full_checks["ground"]["leading_eigenvalue"].real,
                                                       full_checks["ground"]["leading_eigenvalue"].imag],
                                "stability_at": full_checks["ground"]["at"],
                                "theory_converged": full_theories["ground"].converged,
                                "neuron_weighted_rate_hz": float(np.sum(full_rates["ground"] * full_neurons)
                                                                 / full_neurons.sum()),
                                "simulation_reference": simulation_reference}
        if "best" in full_theories:
            values["full_scale_best"] = {
                "leading_eigenvalue": [full_checks["best"]["leading_eigenvalue"].real,
                                       full_checks["best"]["leading_eigenvalue"].imag],
                "theory_converged": full_theories["best"].converged,
                "neuron_weighted_rate_hz": float(np.sum(full_rates["best"] * full_neurons) / full_neurons.sum())}
        descriptors = [run.descriptor() for run, _, _, _ in runs.values()]
        descriptors += [{"kind": "theory", "name": name, "path": str(inputs.path("theory", name))}
                        for name in (*(FULL_THEORIES[s] for s in full_theories), *runs)]
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
