"""The analysis of one run (docs/model.md §8): every metric of its spikes, and the file ``analysis.h5``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import provenance, tables
from ..errors import DataError, ParameterError
from ..h5io import atomic_h5, attribute_value, open_h5, read_tree, write_tree
from ..network_file import load_network
from ..parameters import resolve_analysis
from . import fc
from .bold import bold_signals
from .chi_scan import CHI_SCAN_SAMPLE_AREA, chi_scan_samples_from_spikes
from .currents import area_synaptic_currents, source_tau_syn_ms
from .hierarchy import hierarchy_of_rates
from .spike_trains import SpikeTrains, read_spike_trains
from .statistics import (area_mean_rates, correlation_coefficients, individual_rates, ks_rate_similarity,
                         load_mfc_baseline_rates, population_mean_rates, raster_sample, raster_window_ms,
                         rate_histograms, spike_count_histograms, spike_irregularity)

FILE_TYPE = "humam.analysis"
#: 2: the analysis parameters are stored as the file attribute ``analysis`` (1: ``params``).
FORMAT_VERSION = 2

# ---------------------------------------------------------------------------------------------
# Parameters


def resolve_params(params: dict | None = None) -> dict:
    """The ``analysis`` parameters: the section of ``defaults.yaml`` overridden by ``params`` (a
    resolved section or any part of one), validated (:func:`humam.parameters.resolve_analysis`)."""
    return resolve_analysis(params)


def analysis_window_ms(params: dict, t_sim_ms: float) -> tuple[float, float]:
    """(t_start, t_stop) of the analysis window in ms for resolved parameters ``params``; a
    ``t_stop_ms`` of 0 stands for the simulated time ``t_sim_ms``."""
    t_start = float(params["t_start_ms"])
    t_stop = float(params["t_stop_ms"]) if float(params["t_stop_ms"]) > 0 else float(t_sim_ms)
    return t_start, t_stop


# ---------------------------------------------------------------------------------------------
# The whole run


def analyse_spike_trains(st: SpikeTrains, net, params: dict | None = None) -> dict[str, Any]:
    """Every metric of docs/model.md §8 for spikes ``st`` of network ``net`` with the ``analysis`` parameters
    ``params`` (None: the defaults); see :func:`analyse_run`."""
    p = resolve_params(params)
    t_start, t_stop = analysis_window_ms(p, st.t_sim_ms)
    if not t_start < t_stop <= st.t_sim_ms:
        raise ParameterError(f"The analysis window [{t_start}, {t_stop}] ms must lie within [0, {st.t_sim_ms}] ms.")
    bin_ms = float(p["bin_ms"])
    timings: dict[str, float] = {}
    cpu_timings: dict[str, float] = {}
    results: dict[str, Any] = {}

    def timed(name, fn, *args, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        value = fn(*args, **kwargs)
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
        cpu_timings[name] = cpu_timings.get(name, 0.0) + time.process_time() - cpu
        return value

    area, layer, pop = (np.array(x, dtype=str) for x in zip(*tables.POPULATIONS))
    results["populations"] = {"area": area, "layer": layer, "population": pop, "neuron_numbers": st.neuron_numbers}
    results["areas"] = np.array(tables.AREAS, dtype=str)
    results["window"] = {"t_start_ms": t_start, "t_stop_ms": t_stop, "t_sim_ms": st.t_sim_ms, "bin_ms": bin_ms,
                         "cc_window_ms": np.array([t_start, st.t_sim_ms])}

    pop_rates = timed("population_rates", population_mean_rates, st, t_start, t_stop)
    area_rates = timed("population_rates", area_mean_rates, st, t_start, t_stop)
    rates = timed("individual_rates", individual_rates, st, t_start, t_stop)
    irregularity = timed("cv_lvr", spike_irregularity, st, t_start, t_stop, int(p["min_spikes"]), float(p["lvr_R_ms"]))
    cc, cc_trains = timed("correlation", correlation_coefficients, st, t_start, st.t_sim_ms, bin_ms, int(p["cc_sample"]))
    results["population"] = {
        "rate_hz": pop_rates, "cv_isi": irregularity["population_cv_isi"], "lvr": irregularity["population_lvr"],
        "cc": cc, "cv_lvr_neurons": irregularity["qualifying_neurons"], "cc_trains": cc_trains,
    }
    results["area"] = {"rate_hz": area_rates}
    results["neurons"] = {
        "population_index": st.present_population, "node_id": st.present_node_id, "spike_count": st.spike_counts,
        "rate_hz": rates, "cv_isi": irregularity["cv_isi"], "lvr": irregularity["lvr"],
    }

    histograms = timed("rate_histograms", rate_histograms, st, bin_ms)
    results["rate_histogram"] = {"time_ms": histograms["time_ms"], "population_per_ms": histograms["population"],
                                 "area_per_ms": histograms["area"]}
    raster = p["raster"]
    raster_start, raster_stop, raster_choice = raster_window_ms(st.t_sim_ms, raster["t_start_ms"], raster["t_stop_ms"])
    results["raster"] = {**timed("raster", raster_sample, st, raster["fraction"], raster_start, raster_stop,
                                 raster["seed"]), **raster,
                         "window_ms": np.array([raster_start, raster_stop]), "window_choice": raster_choice}
    results["hierarchy"] = {**timed("hierarchy", hierarchy_of_rates, histograms["area"], histograms["time_ms"],
                                    st.t_sim_ms, p["hierarchy"], t_start), **p["hierarchy"]}
    results["area_samples"] = {**timed("area_samples", chi_scan_samples_from_spikes, st, CHI_SCAN_SAMPLE_AREA,
                                       R_ms=float(p["lvr_R_ms"])), "area": CHI_SCAN_SAMPLE_AREA}
    results["spike_count_histogram"] = timed("spike_count_histograms", spike_count_histograms, st,
                                             int(p["count_histogram_bins"]))

    currents = timed("synaptic_current", area_synaptic_currents, histograms["population"], net.weights_pA,
                     net.indegrees, net.neuron_numbers, source_tau_syn_ms(net), float(net.resolution_ms),
                     int(p["current_kernel_samples"]))
    results["synaptic_current"] = {"time_ms": histograms["time_ms"], "area_pA": currents}
    bold = timed("bold", bold_signals, histograms["area"], bin_ms, st.t_sim_ms, t_start, p["bold"])
    results["bold"] = {"time_s": bold["time_s"], "area": bold["area"], "solver_points": bold["solver_points"]}

    exclude = bool(p["exclude_diagonal"])
    start, cpu = time.perf_counter(), time.process_time()
    synaptic_fc = fc.fc_matrix(currents[:, histograms["time_ms"] >= t_start])
    bold_fc = fc.fc_matrix(bold["area"])
    fc_results: dict[str, Any] = {"synaptic": synaptic_fc, "bold": bold_fc, "exclude_diagonal": exclude,
                                  "synaptic_vs_bold": fc.fc_similarity(synaptic_fc, bold_fc, exclude)}
    experimental: dict[str, Any] = {"available": False, "reason": "switched off (analysis.experimental_fc = false)"}
    if p["experimental_fc"]:
        try:
            exp_fc = fc.load_experimental_fc()
        except DataError as exc:  # missing (OptionalDataMissing) or unusable: reported, never raised
            experimental = {"available": False, "reason": str(exc)}
        else:
            experimental = {"available": True, "reason": "", "lh": exp_fc["lh"], "rh": exp_fc["rh"],
                            **fc.compare_with_experimental_fc(exp_fc, synaptic_fc, bold_fc, exclude)}
    fc_results["experimental"] = experimental
    results["fc"] = fc_results
    timings["fc"], cpu_timings["fc"] = time.perf_counter() - start, time.process_time() - cpu

    start, cpu = time.perf_counter(), time.process_time()
    if p["mfc_mat"]:
        try:
            experimental_rates = load_mfc_baseline_rates(p["mfc_mat"])
        except (DataError, OSError, ValueError) as exc:
            results["ks_rates"] = {"available": False, "reason": f"{p['mfc_mat']} could not be used: {exc}"}
        else:
            results["ks_rates"] = {"available": True, "reason": "", "experimental_samples": experimental_rates.size,
                                   **ks_rate_similarity(rates, st.present_population // tables.N_POPULATIONS_PER_AREA,
                                                        experimental_rates)}
    else:
        results["ks_rates"] = {"available": False, "reason": "mfc.mat not given (analysis.mfc_mat); KS rate "
                                                             "similarity skipped"}
    timings["ks_rates"], cpu_timings["ks_rates"] = time.perf_counter() - start, time.process_time() - cpu

    nonempty = st.neuron_numbers > 0
    n_total = st.neuron_numbers.sum()
    results["summary"] = {
        "neurons": int(n_total),
        "spikes": st.n_spikes,
        "population_mean_rate_hz": float(np.mean(pop_rates[nonempty])),
        "neuron_weighted_rate_hz": float(np.sum(pop_rates[nonempty] * st.neuron_numbers[nonempty]) / n_total),
        "mean_cv_isi": float(np.mean(irregularity["population_cv_isi"][nonempty])),
        "mean_lvr": float(np.mean(irregularity["population_lvr"][nonempty])),
        "mean_cc": float(np.mean(cc[nonempty])),
        "synaptic_vs_bold_fc": fc_results["synaptic_vs_bold"],
    }
    results["timings_s"] = timings
    results["cpu_timings_s"] = cpu_timings
    return results


def analyse_run(spikes_path: str | Path, network_path: str | Path, params: dict | None = None) -> dict[str, Any]:
    """Analyse one simulation: ``spikes.h5`` of the network stored at ``network_path``, with the
    resolved ``analysis`` section ``params`` of the run's parameters (None: the defaults).

    Returns a nested dict of arrays and scalars (groups: ``populations``, ``areas``, ``window``,
    ``population`` (272,) rate_hz / cv_isi / lvr / cc, ``area``, ``neurons`` (one row per present
    neuron), ``rate_histogram``, ``raster`` (sampled neurons and their spikes in the raster window),
    ``hierarchy`` (temporal hierarchy of the areas, :mod:`.hierarchy`), ``area_samples`` (rates, CV ISI
    and LvR in the area and windows of the shipped full-scale χ-scan samples, docs/model.md §8.13, for
    comparison with them), ``spike_count_histogram``, ``synaptic_current``, ``bold``,
    ``fc`` (with ``experimental``), ``ks_rates``, ``summary``, ``params`` (the resolved ``analysis``
    parameters), and wall-clock and CPU
    ``timings_s`` / ``cpu_timings_s`` per metric). Optional inputs that
    are missing are reported as ``available = False`` with a reason, never raised.
    """
    start, cpu = time.perf_counter(), time.process_time()
    net = load_network(network_path)
    st = read_spike_trains(spikes_path, net.neuron_numbers)
    read_s, read_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    p = resolve_params(params)
    results = analyse_spike_trains(st, net, p)
    results["timings_s"] = {"read": read_s, **results["timings_s"]}
    results["cpu_timings_s"] = {"read": read_cpu_s, **results["cpu_timings_s"]}
    results["params"] = p
    return results


def population_table(results: dict):
    """Per-population statistics as a pandas DataFrame indexed by (area, layer, population)."""
    pops = results["populations"]
    index = pd.MultiIndex.from_arrays([pops["area"], pops["layer"], pops["population"]],
                                      names=["area", "layer", "population"])
    columns = {"neurons": pops["neuron_numbers"], **{k: v for k, v in results["population"].items()}}
    return pd.DataFrame(columns, index=index)


# ---------------------------------------------------------------------------------------------
# Storage


def write_analysis(results: dict, path: str | Path, attrs: dict | None = None) -> Path:
    """Write ``results`` of :func:`analyse_run` to one HDF5 file, atomically (temporary file, then
    ``os.replace``). Nested dicts become groups. File attributes: file type, format version,
    provenance (package and library versions, git commit, date), ``analysis`` (the parameters
    ``results["params"]`` as JSON) and ``attrs`` (non-scalar values are stored as JSON), e.g. the
    ``analysis_hash`` of :func:`humam.parameters.analysis_hash`."""
    reserved = sorted(set(attrs or {}) & {"provenance", "analysis"})
    if reserved:
        raise ValueError(f"attribute name {reserved[0]!r} is reserved by the analysis file format")
    tree = dict(results)
    file_attrs = {"provenance": json.dumps(provenance.record(), sort_keys=True), **(attrs or {})}
    if "params" in tree:
        file_attrs["analysis"] = attribute_value(tree.pop("params"))
    with atomic_h5(path, FILE_TYPE, FORMAT_VERSION, file_attrs) as h5:
        write_tree(h5, tree)
    return Path(path)


_FIX = "analyse the run again: 'humam analyse RUN_FOLDER --force' (or the doit task analyse)"


def read_analysis(path: str | Path) -> dict:
    """Read a file written by :func:`write_analysis`: the results tree plus ``params`` (the analysis
    parameters, if stored)."""
    with open_h5(path, FILE_TYPE, FORMAT_VERSION, fix=_FIX) as h5:
        results = read_tree(h5)
        if "analysis" in h5.attrs:
            results["params"] = json.loads(h5.attrs["analysis"])
    return results


def read_analysis_attrs(path: str | Path) -> dict:
    """The file attributes of an analysis file (provenance, analysis parameters and the caller's ``attrs``)."""
    with open_h5(path, FILE_TYPE, FORMAT_VERSION, fix=_FIX) as h5:
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in h5.attrs.items()}
