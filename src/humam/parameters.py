"""Parameters: the documented defaults (``defaults.yaml``), experiment files that override them,
validation, and the content hashes that address every output.

An experiment file (``experiments/<name>.yaml``) may hold:

``description``
    one line saying what the experiment is;
``network``, ``simulation``, ``analysis``
    overrides of any subset of the keys of ``defaults.yaml`` (same nesting);
``scan``
    a family of experiments: ``{parameter: <dotted key>, values: [...], linked: {<dotted key>: factor}}``
    makes one member per value, with each linked key set to factor × value (e.g. χ_I = 2χ).

Unknown keys and values of the wrong type are rejected with the key's dotted path in the message.
Integers are accepted where the default is a float and are stored as floats, so ``chi: 1`` and
``chi: 1.0`` give the same hash. Every number must be finite and lie in its range in
:data:`PARAMETER_RANGES`; relations between keys (e.g. V_th > V_reset) are checked by
:func:`validate`, which :func:`merge` (and so :func:`resolve` and :func:`set_dotted`) applies to
every result.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from .errors import ParameterError
from .resources import experiments_dir, profiles_dir

DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")
_SECTIONS = ("network", "simulation", "analysis", "theory")
_EXPERIMENT_KEYS = {"description", "scan", *_SECTIONS}
_PERTURBATION_KEYS = {"area": str, "layer": str, "population": str, "time_ms": float}


def load_defaults() -> dict:
    """The default parameters (a fresh copy)."""
    return yaml.safe_load(DEFAULTS_FILE.read_text())


def _read_yaml(path: Path) -> dict:
    try:
        content = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path} is not valid YAML: {exc}") from exc
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ParameterError(f"{path} must hold a mapping of parameter sections, not {type(content).__name__}.")
    return content


def available_experiments() -> list[str]:
    """Names of the experiments shipped with humam."""
    return sorted(p.stem for p in experiments_dir().glob("*.yaml"))


def experiment_file(name_or_path: str | Path) -> Path:
    """The YAML file of an experiment given by shipped name or by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    candidate = experiments_dir() / f"{name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    raise ParameterError(
        f"Unknown experiment '{name_or_path}': it is neither a YAML file nor a shipped experiment. "
        f"Shipped experiments: {', '.join(available_experiments())}."
    )


class Range(NamedTuple):
    """An interval of allowed values; ``str`` gives the usual notation, e.g. ``(0, 1]``."""

    low: float
    high: float
    low_closed: bool
    high_closed: bool
    reason: str

    def __contains__(self, value) -> bool:
        above = value >= self.low if self.low_closed else value > self.low
        below = value <= self.high if self.high_closed else value < self.high
        return above and below

    def __str__(self) -> str:
        def number(x: float) -> str:
            if math.isinf(x):
                return "inf" if x > 0 else "-inf"
            return str(int(x)) if x.is_integer() else f"{x:g}"
        return (f"{'[' if self.low_closed else '('}{number(self.low)}, {number(self.high)}"
                f"{']' if self.high_closed else ')'}")


def _range(interval: str, reason: str) -> Range:
    """A :class:`Range` from its notation, e.g. ``_range("(0, 1]", "a fraction")``."""
    low, high = (float(part) for part in interval[1:-1].split(","))
    return Range(low, high, interval[0] == "[", interval[-1] == "]", reason)


#: Largest seed NEST accepts for ``rng_seed`` (an unsigned 32-bit value; 0 is refused).
NEST_MAX_SEED = 2**32 - 1
#: NEST's default time grid: every time is a multiple of this tic (ms).
NEST_TIC_MS = 0.001

#: The allowed range of every numeric parameter, by dotted key; ``*`` stands for any one part of the
#: key and ``[]`` for any list index. A number without an entry need only be finite.
PARAMETER_RANGES: dict[str, Range] = {
    "network.cytoarchitecture.column_area_mm2": _range("(0, inf)", "the surface of each area's column (mm^2)"),
    "network.cytoarchitecture.min_neurons_per_layer": _range("[0, inf)", "a neuron count (0 keeps every layer)"),
    "network.connectivity.fln": _range("[0, 1]", "a fraction of synapses"),
    "network.connectivity.synapse_density_per_mm3": _range("(0, inf)", "a density (synapses/mm^3)"),
    "network.connectivity.z_i": _range("[0, 1]", "a fraction of synapses"),
    "network.connectivity.sln_ff": _range("[0, 1]", "an SLN threshold (a fraction)"),
    "network.connectivity.sln_fb": _range("[0, 1]", "an SLN threshold (a fraction)"),
    "network.connectivity.lambda_um": _range("(0, inf)", "a decay length (um)"),
    "network.connectivity.sln_a0": _range("(-inf, inf)", "a fit coefficient"),
    "network.connectivity.sln_a1": _range("(-inf, inf)", "a fit coefficient"),
    "network.connectivity.integral_epsrel": _range("(0, 1]", "a relative integration tolerance"),
    "network.neuron.*.E_L_mV": _range("(-inf, inf)", "a potential (mV)"),
    "network.neuron.*.V_th_mV": _range("(-inf, inf)", "a potential (mV)"),
    "network.neuron.*.V_reset_mV": _range("(-inf, inf)", "a potential (mV)"),
    "network.neuron.*.C_m_pF": _range("(0, inf)", "a membrane capacitance (pF)"),
    "network.neuron.*.tau_m_ms": _range("(0, inf)", "a time constant (ms)"),
    "network.neuron.*.tau_syn_ex_ms": _range("(0, inf)", "a time constant (ms)"),
    "network.neuron.*.tau_syn_in_ms": _range("(0, inf)", "a time constant (ms)"),
    "network.neuron.*.t_ref_ms": _range("[0, inf)", "a refractory period (ms)"),
    "network.heterogeneity.*.*": _range("[0, inf)", "a relative SD (0 = homogeneous)"),
    "network.weights.g": _range("(-inf, 0]", "the inhibitory weight is g times the excitatory one, so g <= 0"),
    "network.weights.psp_e_mV": _range("(0, inf)", "a PSP peak (mV); the external rates divide by it"),
    "network.weights.psp_ext_mV": _range("(0, inf)", "a PSP peak (mV); the external rates divide by it"),
    "network.weights.rel_sd": _range("(0, inf)", "a relative SD; NEST draws every weight from a normal "
                                                 "distribution, which needs SD > 0"),
    "network.weights.transmission_probability": _range("(0, 1]", "a probability (0 would transmit nothing)"),
    "network.scaling.*": _range("[0, inf)", "a weight factor (0 removes the projections)"),
    "network.external.eta_ext": _range("[0, inf)", "a drive relative to threshold"),
    "network.external.e5_factor": _range("(0, inf)", "an external weight factor; NEST draws the weight from a "
                                                     "normal distribution, which needs SD > 0"),
    "network.external.e6_factor": _range("(0, inf)", "an external weight factor; NEST draws the weight from a "
                                                     "normal distribution, which needs SD > 0"),
    "network.delays.local_mean_ms.*": _range("(0, inf)", "a mean delay (ms)"),
    "network.delays.rel_sd": _range("(0, inf)", "a relative SD; NEST draws every delay from a distribution "
                                                "that needs SD > 0"),
    "network.delays.velocity_mm_per_ms": _range("(0, inf)", "a conduction velocity (mm/ms)"),
    "network.delays.cc_min_ms": _range("[0, inf)", "a delay (ms)"),
    "network.delays.cap_ms": _range("[0, inf)", "a delay (ms; 0 = no cap)"),
    "network.delays.resolution_ms": _range("(0, inf)", "the simulation time step (ms)"),
    "network.downscaling.n_scaling": _range("(0, 1]", "a fraction of the full-scale neuron numbers"),
    "network.downscaling.k_scaling": _range("(0, 1]", "a fraction of the full-scale indegrees (k > n allowed)"),
    "network.perturbation[].time_ms": _range("(0, inf)", "a spike time (ms)"),
    "simulation.t_sim_ms": _range("(0, inf)", "a simulated time (ms)"),
    "simulation.seed": _range(f"[1, {NEST_MAX_SEED}]", "NEST's rng_seed is an unsigned 32-bit number other than 0"),
    "simulation.threads": _range("[1, inf)", "a number of threads"),
    "simulation.V0_mean_mV": _range("(-inf, inf)", "a potential (mV)"),
    "simulation.V0_sd_mV": _range("(0, inf)", "an SD (mV); NEST's normal distribution needs SD > 0"),
    "simulation.poisson_delay_ms": _range("(0, inf)", "a delay (ms)"),
    "analysis.t_start_ms": _range("[0, inf)", "a time (ms)"),
    "analysis.t_stop_ms": _range("[0, inf)", "a time (ms; 0 = the simulated time)"),
    "analysis.bin_ms": _range("(0, inf)", "a bin width (ms)"),
    "analysis.cc_sample": _range("[1, inf)", "a number of spike trains"),
    "analysis.min_spikes": _range("[1, inf)", "a number of spikes"),
    "analysis.lvr_R_ms": _range("(0, inf)", "a refractoriness constant (ms)"),
    "analysis.count_histogram_bins": _range("[1, inf)", "a number of bins"),
    "analysis.current_kernel_samples": _range("[1, inf)", "a number of samples"),
    "analysis.bold.*": _range("(0, inf)", "a Balloon-Windkessel constant"),
    "analysis.raster.fraction": _range("(0, 1]", "a fraction of the neurons"),
    "analysis.raster.t_start_ms": _range("[0, inf)", "a time (ms; 0 with t_stop_ms 0 = the automatic window)"),
    "analysis.raster.t_stop_ms": _range("[0, inf)", "a time (ms; 0 = the automatic window)"),
    "analysis.raster.seed": _range(f"[0, {NEST_MAX_SEED}]", "a NumPy seed"),
    "analysis.hierarchy.t_start_ms": _range("[0, inf)", "a time (ms)"),
    "analysis.hierarchy.t_stop_ms": _range("(0, inf)", "a time (ms)"),
    "analysis.hierarchy.max_lag_bins": _range("[1, inf)", "a number of bins"),
    "analysis.hierarchy.n_chunks": _range("[2, inf)", "a number of chunks (the t-test needs at least 2)"),
    "analysis.hierarchy.alpha": _range("(0, 1)", "a significance level"),
    "analysis.hierarchy.seed": _range(f"[0, {NEST_MAX_SEED}]", "a NumPy seed"),
    "theory.seed": _range(f"[0, {NEST_MAX_SEED}]", "a NumPy seed (legacy generator: below 2**32)"),
}


def require_section(params: dict, *path: str):
    """The sub-section ``path`` of a resolved ``network`` section (a :class:`ParameterError` naming the
    dotted key if it is missing)."""
    node = params
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise ParameterError(f"Missing parameter 'network.{'.'.join(path)}'.")
        node = node[key]
    return node


def parameter_range(dotted: str) -> Range | None:
    """The entry of :data:`PARAMETER_RANGES` for a dotted key (``None`` if it has none)."""
    parts = re.sub(r"\[\d+\]", "[]", dotted).split(".")
    for pattern, allowed in PARAMETER_RANGES.items():
        pattern_parts = pattern.split(".")
        if len(pattern_parts) == len(parts) and all(p in ("*", q) for p, q in zip(pattern_parts, parts)):
            return allowed
    return None


def _numbers(node: Any, path: str):
    """(dotted key, value) of every number in a nested structure of dicts and lists."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numbers(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _numbers(value, f"{path}[{i}]")
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path, node


def check_ranges(params: dict) -> None:
    """ParameterError naming the first number of ``params`` that is not finite or outside its range."""
    for path, value in _numbers(params, ""):
        allowed = parameter_range(path)
        if math.isfinite(value) and (allowed is None or value in allowed):
            continue
        problem = "is outside the allowed range" if math.isfinite(value) else "is not a finite number; allowed range"
        raise ParameterError(f"'{path}' = {value!r} {problem}" + (f" {allowed}: {allowed.reason}." if allowed else "."))


def _check_relations(params: dict) -> None:
    """ParameterError for values that are each in range but inconsistent with one another."""
    net, sim = params.get("network", {}), params.get("simulation", {})
    for kind, neuron in net.get("neuron", {}).items():
        if neuron["V_th_mV"] <= neuron["V_reset_mV"]:
            raise ParameterError(
                f"'network.neuron.{kind}.V_th_mV' = {neuron['V_th_mV']!r} must be above V_reset_mV = "
                f"{neuron['V_reset_mV']!r} (NEST's iaf_psc_exp requires V_reset < V_th).")
        if net.get("heterogeneity", {}).get(kind, {}).get("V_th", 0.0) > 0 and neuron["V_th_mV"] <= neuron["E_L_mV"]:
            raise ParameterError(
                f"'network.heterogeneity.{kind}.V_th' > 0 draws V_th - E_L from a lognormal distribution, so "
                f"'network.neuron.{kind}.V_th_mV' = {neuron['V_th_mV']!r} must be above E_L_mV = {neuron['E_L_mV']!r}.")
    connectivity = net.get("connectivity", {})
    if connectivity and connectivity["sln_fb"] > connectivity["sln_ff"]:
        raise ParameterError(f"'network.connectivity.sln_fb' = {connectivity['sln_fb']!r} must not exceed "
                             f"sln_ff = {connectivity['sln_ff']!r} (feedback lies below the feedforward threshold).")
    _check_analysis_relations(params.get("analysis", {}))
    delays = net.get("delays", {})
    resolution = delays.get("resolution_ms")
    if resolution is None:
        return
    steps = resolution / NEST_TIC_MS
    if abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
        raise ParameterError(f"'network.delays.resolution_ms' = {resolution!r} must be a multiple of NEST's time "
                             f"grid of {NEST_TIC_MS:g} ms.")
    if 0 < delays["cap_ms"] < resolution:
        raise ParameterError(f"'network.delays.cap_ms' = {delays['cap_ms']!r} lies below the resolution "
                             f"{resolution!r} ms; use 0 (no cap) or at least the resolution.")
    for key in ("poisson_delay_ms", "t_sim_ms"):
        if key in sim and sim[key] < resolution:
            raise ParameterError(f"'simulation.{key}' = {sim[key]!r} is below one time step "
                                 f"(network.delays.resolution_ms = {resolution!r}); NEST refuses it.")


def _check_analysis_relations(analysis: dict) -> None:
    raster = analysis.get("raster", {})
    start, stop = raster.get("t_start_ms", 0.0), raster.get("t_stop_ms", 0.0)
    if stop == 0 and start != 0:
        raise ParameterError(f"'analysis.raster.t_start_ms' = {start!r} needs t_stop_ms > 0 (both 0 select the "
                             "automatic window).")
    if stop > 0 and not start < stop:
        raise ParameterError(f"'analysis.raster.t_start_ms' = {start!r} must be below t_stop_ms = {stop!r}.")
    hierarchy = analysis.get("hierarchy", {})
    if hierarchy and not hierarchy["t_start_ms"] < hierarchy["t_stop_ms"]:
        raise ParameterError(f"'analysis.hierarchy.t_start_ms' = {hierarchy['t_start_ms']!r} must be below "
                             f"t_stop_ms = {hierarchy['t_stop_ms']!r}.")


def validate(params: dict) -> dict:
    """``params`` after checking every number's range (:data:`PARAMETER_RANGES`) and the relations
    between keys; ParameterError names the dotted key, the value and what is allowed."""
    check_ranges(params)
    _check_relations(params)
    return params


def check_scale_leaves_neurons(n_scaling: float, neuron_numbers) -> None:
    """ParameterError unless neuron scale ``n_scaling`` leaves at least one neuron.

    ``neuron_numbers`` are the full-scale population sizes (any array shape, or the largest one as
    a number). Down-scaling keeps round(n N) neurons per population, rounding half to even
    (:func:`humam.downscaling.downscale_counts`), so the network is empty unless n N_max > 1/2.
    """
    import numpy as np

    counts = np.asarray(neuron_numbers, dtype=float).ravel()
    counts = counts[counts > 0]
    if counts.size and np.round(n_scaling * counts.max()) >= 1:
        return
    if not counts.size:
        raise ParameterError("The full-scale network has no neurons, so no scale can leave any.")
    raise ParameterError(
        f"'network.downscaling.n_scaling' = {n_scaling:g} leaves no neuron: the largest population has "
        f"{int(counts.max())} neurons at full scale and round({n_scaling:g} x {int(counts.max())}) = 0. Use "
        f"n_scaling > {0.5 / counts.max():.3g} (> {0.5 / counts.min():.3g} keeps a neuron in every population)."
    )


def _check_value(path: str, default: Any, value: Any) -> Any:
    """``value`` validated against the type of ``default``; returns the normalised value."""
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise ParameterError(f"'{path}' must be a mapping with keys {sorted(default)}, got {value!r}.")
        return _merge(default, value, path)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ParameterError(f"'{path}' must be true or false, got {value!r}.")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(
                f"'{path}' must be a number, got {value!r} ({type(value).__name__}); note that YAML reads 1e-3 and 6.6e8 "
                f"as strings: write 1.0e-3 and 6.6e+8."
            )
        return float(value)
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(f"'{path}' must be an integer, got {value!r}.")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ParameterError(f"'{path}' must be a string, got {value!r}.")
        return value
    if isinstance(default, list):
        if not isinstance(value, list):
            raise ParameterError(f"'{path}' must be a list, got {value!r}.")
        if path == "network.perturbation":
            return [_check_perturbation(f"{path}[{i}]", item) for i, item in enumerate(value)]
        return value
    raise ParameterError(f"'{path}' has a default of unsupported type {type(default).__name__}.")


def _check_perturbation(path: str, item: Any) -> dict:
    if not isinstance(item, dict) or set(item) != set(_PERTURBATION_KEYS):
        raise ParameterError(
            f"'{path}' must be a mapping with exactly the keys {sorted(_PERTURBATION_KEYS)}, got {item!r}."
        )
    return {key: _check_value(f"{path}.{key}", kind() if kind is str else 0.0, item[key])
            for key, kind in _PERTURBATION_KEYS.items()}


def _merge(defaults: dict, overrides: dict, prefix: str) -> dict:
    merged = copy.deepcopy(defaults)
    for key, value in overrides.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if key not in defaults:
            raise ParameterError(
                f"Unknown parameter '{path}'. Known keys at this level: {', '.join(sorted(map(str, defaults)))}."
            )
        merged[key] = _check_value(path, defaults[key], value)
    return merged


def merge(base: dict, overrides: dict) -> dict:
    """``base`` with ``overrides`` applied; every override is validated against ``base`` and the result
    by :func:`validate` (ranges and relations)."""
    return validate(_merge(base, overrides, ""))


def set_dotted(params: dict, dotted: str, value: Any) -> dict:
    """A copy of ``params`` with the dotted key set (validated like any override)."""
    override: dict = {}
    node = override
    keys = dotted.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return merge(params, override)


def load_experiment(name_or_path: str | Path | None = None) -> dict:
    """The raw content of an experiment file, checked for unknown top-level keys (``{}`` for None)."""
    if name_or_path is None:
        return {}
    path = experiment_file(name_or_path)
    content = _read_yaml(path)
    unknown = sorted(set(content) - _EXPERIMENT_KEYS)
    if unknown:
        raise ParameterError(
            f"Unknown top-level key(s) {', '.join(unknown)} in {path}; allowed: {', '.join(sorted(_EXPERIMENT_KEYS))}."
        )
    return content


def resolve(experiment: str | Path | None = None) -> dict:
    """Defaults overridden by the experiment's ``network``, ``simulation`` and ``analysis`` sections.

    For a scan family this is the family's common base; see :func:`scan_members`.
    """
    content = load_experiment(experiment)
    return merge(load_defaults(), {key: content[key] for key in _SECTIONS if key in content})


def scan_members(experiment: str | Path) -> list[tuple[str, dict]]:
    """(label, resolved parameters) of every member of a scan family; one member for a plain experiment."""
    content = load_experiment(experiment)
    base = resolve(experiment)
    scan = content.get("scan")
    if scan is None:
        return [(Path(str(experiment)).stem, base)]
    if not isinstance(scan, dict) or "parameter" not in scan or "values" not in scan:
        raise ParameterError(f"'scan' of {experiment} needs 'parameter' (dotted key) and 'values' (list).")
    members = []
    for value in scan["values"]:
        params = set_dotted(base, scan["parameter"], value)
        for linked, factor in (scan.get("linked") or {}).items():
            params = set_dotted(params, linked, factor * value)
        members.append((f"{scan['parameter'].rsplit('.', 1)[-1]}={value:g}", params))
    return members


_PROFILE_KEYS = {"description", "processes", "launcher", "scan", *_SECTIONS}


def check_profile_scan(scan: Any, path: Path | str) -> dict:
    """The ``scan`` section of a profile, checked and normalised: ``{"members": {family: [values] or
    "all"}, "t_sim_ms": float or None}``. ``members`` names, per scan family (an experiment with a
    ``scan`` entry), the values of its scan parameter that run under the profile ("all": its whole
    grid); ``t_sim_ms`` is the simulated time of those runs (None: the experiment's, with the profile's
    ``simulation`` overrides). Whether the families and values exist is checked where the family is
    resolved (:mod:`humam.scans`)."""
    where = f"'scan' in profile {path}"
    if scan is None:
        return {"members": {}, "t_sim_ms": None}
    if not isinstance(scan, dict) or set(scan) - {"members", "t_sim_ms"}:
        raise ParameterError(f"{where} must be a mapping with the keys 'members' (family: list of values or "
                             f"'all') and optionally 't_sim_ms', got {scan!r}.")
    t_sim = scan.get("t_sim_ms")
    if t_sim is not None and (isinstance(t_sim, bool) or not isinstance(t_sim, (int, float))
                              or not math.isfinite(t_sim) or t_sim <= 0):
        raise ParameterError(f"{where}: 't_sim_ms' must be a positive number of ms, got {t_sim!r}.")
    members = scan.get("members") or {}
    if not isinstance(members, dict):
        raise ParameterError(f"{where}: 'members' must map scan families to lists of values or 'all', got {members!r}.")
    checked: dict[str, list[float] | str] = {}
    for family, values in members.items():
        if values == "all":
            checked[str(family)] = "all"
            continue
        if (not isinstance(values, list) or not values
                or any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in values)):
            raise ParameterError(f"{where}: members of '{family}' must be 'all' or a non-empty list of numbers, "
                                 f"got {values!r}.")
        if len(set(map(float, values))) != len(values):
            raise ParameterError(f"{where}: members of '{family}' list a value twice: {values!r}.")
        checked[str(family)] = sorted(float(v) for v in values)
    return {"members": checked, "t_sim_ms": None if t_sim is None else float(t_sim)}


def available_profiles() -> list[str]:
    """Names of the pipeline profiles shipped with humam."""
    return sorted(p.stem for p in profiles_dir().glob("*.yaml"))


def load_profile(name_or_path: str | Path) -> dict:
    """A pipeline profile (``profiles/<name>.yaml`` or a YAML file): how and at which scale the
    pipeline runs. Keys: ``description``, ``network``, ``simulation`` and ``analysis`` overrides applied to every
    experiment, ``processes`` (MPI processes per simulation), ``launcher`` (command in front of
    ``humam simulate``; ``{processes}`` is replaced) and ``scan`` (which members of the χ-scan families
    run, and how long: :func:`check_profile_scan`)."""
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") and path.is_file()):
        path = profiles_dir() / f"{name_or_path}.yaml"
        if not path.is_file():
            raise ParameterError(
                f"Unknown profile '{name_or_path}'. Shipped profiles: {', '.join(available_profiles())}; "
                f"or give the path of a YAML file (copy a shipped one to start)."
            )
    content = _read_yaml(path)
    unknown = sorted(set(content) - _PROFILE_KEYS)
    if unknown:
        raise ParameterError(f"Unknown key(s) {', '.join(unknown)} in profile {path}; allowed: {', '.join(sorted(_PROFILE_KEYS))}.")
    processes = content.get("processes", 1)
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ParameterError(f"'processes' in profile {path} must be a positive integer, got {processes!r}.")
    launcher = content.get("launcher", "") or ""
    if not isinstance(launcher, str):
        raise ParameterError(f"'launcher' in profile {path} must be a string, got {launcher!r}.")
    return {"name": path.stem, "path": str(path), "description": content.get("description", ""), "processes": processes,
            "launcher": launcher.replace("{processes}", str(processes)),
            "overrides": {key: content[key] for key in _SECTIONS if key in content},
            "scan": check_profile_scan(content.get("scan"), path)}


def apply_profile(params: dict, profile: dict | None) -> dict:
    """``params`` with the profile's overrides applied (validated like experiment overrides)."""
    return params if profile is None else merge(params, profile["overrides"])


def canonical_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, floats as Python's shortest repr.

    NaN and infinities have no JSON form: ParameterError names the first such key."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        bad = next(((path, value) for path, value in _numbers(obj, "") if not math.isfinite(value)), None)
        if bad is None:
            raise
        raise ParameterError(f"'{bad[0]}' = {bad[1]} is not a finite number.") from exc


def content_hash(obj: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def net_hash(params: dict) -> str:
    """Hash of everything that defines the network (the ``network`` section)."""
    return content_hash({"network": params["network"]})


def sim_hash(params: dict, virtual_processes: int | None = None) -> str:
    """Hash of a simulation: its network hash, the ``simulation`` section and the number of virtual
    processes (MPI ranks × threads), which together fix the spikes. How the virtual processes are
    split into ranks and threads does not change the result, so ``threads`` itself is not hashed."""
    simulation = dict(params["simulation"])
    threads = simulation.pop("threads")
    return content_hash({
        "net_hash": net_hash(params),
        "simulation": simulation,
        "virtual_processes": int(virtual_processes if virtual_processes is not None else threads),
    })


def theory_hash(params: dict) -> str:
    """Hash of a mean-field computation: its network hash and the ``theory`` section."""
    return content_hash({"net_hash": net_hash(params), "theory": params["theory"]})


def resolve_analysis(overrides: dict | None = None) -> dict:
    """The ``analysis`` section of the defaults overridden by ``overrides`` (a resolved section or
    any part of one), validated like an experiment's overrides (types and ranges)."""
    return merge({"analysis": load_defaults()["analysis"]}, {"analysis": overrides or {}})["analysis"]


def analysis_hash(params: dict, virtual_processes: int | None = None) -> str:
    """Hash of an analysis: the hash of the simulation it analyses (:func:`sim_hash`) and the
    ``analysis`` section, which together fix ``analysis.h5``."""
    return content_hash({"sim_hash": sim_hash(params, virtual_processes), "analysis": params["analysis"]})
