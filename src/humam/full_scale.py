"""Network parameters (docs/model.md §5) and the full-scale network description.

Pure, vectorised functions turn the neuron numbers and synapse numbers of
:mod:`humam.cytoarchitecture` and :mod:`humam.connectivity` into weights, delays and drive:

* PSC per mV of PSP peak, base weights ``J`` (272 x 272, rows target) and external weights ``J_ext``;
* external indegree ``K_ext`` and the rate per external synapse ``nu_ext`` (from the *unscaled*
  ``J_ext``, docs/quirks.md Q9);
* recurrent scaling factors (4E->2/3E, chi, chi_I, optional local 5E->I and E->I), weight SDs,
  external 5E/6E factors and their SDs;
* delay means, SDs, lognormal parameters and lower clips per pair;
* lognormal parameters of the optional per-neuron heterogeneity (§5.2);
* the single-spike perturbation table (§5.6).

:func:`full_scale_network` applies them in the normative order of §5.8 and returns the full-scale
:class:`~humam.network.Network`; down-scaling is a separate step (:mod:`humam.downscaling`),
composed with this one in :func:`humam.build.build_network`.

All population-resolved arrays cover the 272 population keys in canonical order (the flat C order
of a ``(34, 4, 2)`` array = [area, layer II/III..VI, E/I]); see :class:`Network`.
"""

from __future__ import annotations

import math
import numpy as np

from . import tables
from .errors import ParameterError
from .network import NEURON_PARAMETERS, PERTURBATION_DELAY_MS, Network
from .parameters import require_section
from .tables import (POPULATION_AREA_INDEX, POPULATION_IS_EXCITATORY, POPULATION_LAYER_INDEX, SAME_AREA,
                     population_key_arrays)

_LAYER_II_III, _LAYER_IV, _LAYER_V, _LAYER_VI = (tables.LAYERS.index(x) for x in ("II/III", "IV", "V", "VI"))

#: Parameters that can be drawn per neuron (§5.2): heterogeneity key -> neuron parameter.
HETEROGENEOUS_PARAMETERS: dict[str, str] = {"V_th": "V_th_mV", "C_m": "C_m_pF", "tau_m": "tau_m_ms"}

#: Factor of the single-spike weight J_ext * 1000 * K_ext (§5.6, docs/quirks.md Q10).
PERTURBATION_WEIGHT_FACTOR = 1000.0

DELAY_DISTRIBUTIONS = ("lognormal", "normal")


# ---------------------------------------------------------------------------------------------
# Neuron parameters (§5.1, §5.2)


def neuron_parameter_arrays(neuron: dict) -> dict[str, np.ndarray]:
    """Per-population (272,) arrays of every neuron parameter from ``network.neuron`` ({E: {...}, I: {...}})."""
    arrays = {}
    for name in NEURON_PARAMETERS:
        try:
            by_type = np.array([float(neuron[t][name]) for t in tables.POPULATION_TYPES])
        except KeyError as exc:
            raise ParameterError(f"network.neuron is missing {exc.args[0]!r} (needed: {', '.join(NEURON_PARAMETERS)}).")
        arrays[name] = np.where(POPULATION_IS_EXCITATORY, by_type[0], by_type[1])
    return arrays


def lognormal_parameters(mean, rel_sd) -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma) of the underlying normal of a lognormal with the given mean and relative SD c:
    mu = ln(mean / sqrt(1 + c^2)), sigma = sqrt(ln(1 + c^2)) (docs/model.md §5.2, §5.4)."""
    mean = np.asarray(mean, dtype=float)
    rel_sd = np.asarray(rel_sd, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.log(mean / np.sqrt(1.0 + rel_sd**2))
    sigma = np.sqrt(np.log(1.0 + rel_sd**2))
    return mu, np.broadcast_to(sigma, np.broadcast(mean, rel_sd).shape).copy()


def heterogeneity_parameters(neuron_params: dict[str, np.ndarray], heterogeneity: dict) -> dict[str, dict[str, np.ndarray]]:
    """Per-neuron lognormal draws of V_th, C_m and tau_m (§5.2), per population.

    Returns ``{parameter: {"rel_sd", "offset", "mu", "sigma"}}`` with (272,) arrays, where the drawn
    value is ``offset + lognormal(mu, sigma)``. For V_th the lognormal applies to V_th - E_L and the
    offset is E_L; for C_m and tau_m the offset is 0. A relative SD of 0 means "not drawn".
    """
    result = {}
    for key, name in HETEROGENEOUS_PARAMETERS.items():
        try:
            by_type = np.array([float(heterogeneity[t][key]) for t in tables.POPULATION_TYPES])
        except KeyError as exc:
            raise ParameterError(f"network.heterogeneity is missing {exc.args[0]!r} (needs E and I with V_th, C_m, tau_m).")
        if np.any(by_type < 0) or not np.all(np.isfinite(by_type)):
            raise ParameterError(f"network.heterogeneity.*.{key} must be >= 0, got {by_type.tolist()} (E, I).")
        rel_sd = np.where(POPULATION_IS_EXCITATORY, by_type[0], by_type[1])
        offset = neuron_params["E_L_mV"] if key == "V_th" else np.zeros(tables.N_POPULATIONS)
        mean = neuron_params[name] - offset
        mu, sigma = lognormal_parameters(mean, rel_sd)
        result[name] = {"rel_sd": rel_sd, "offset": offset.copy(), "mu": mu, "sigma": sigma}
    return result


# ---------------------------------------------------------------------------------------------
# Weights (§5.3)


def psp_peak_factor(tau_syn_ms, tau_m_ms):
    """eps^(-1/(1-eps)) with eps = tau_syn / tau_m (its limit e at eps = 1): the ratio of the PSC
    amplitude (pA) to C_m/tau_m (pF/ms) for a 1 mV PSP peak in ``iaf_psc_exp``."""
    eps = np.asarray(tau_syn_ms, dtype=float) / np.asarray(tau_m_ms, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(eps == 1.0, math.e, eps ** (-1.0 / (1.0 - eps)))


def psc_per_psp(C_m_pF, tau_m_ms, tau_syn_ms):
    """PSC amplitude (pA) per mV of PSP peak in ``iaf_psc_exp``: C_m eps^(-1/(1-eps)) / tau_m,
    eps = tau_syn / tau_m. With the defaults eps = 0.2 and eps^(-1.25) = 7.476743906."""
    return np.asarray(C_m_pF, dtype=float) * psp_peak_factor(tau_syn_ms, tau_m_ms) / np.asarray(tau_m_ms, dtype=float)


def base_weights_pA(neuron_params: dict[str, np.ndarray], g: float, psp_e_mV: float) -> np.ndarray:
    """Base recurrent weights J (272 x 272, rows target, pA) before any scaling factor.

    J_ij = (PSC/PSP)_i * PSP_e for excitatory sources and g * (PSC/PSP)_i * PSP_e for inhibitory
    sources. PSC/PSP uses the target's C_m and tau_m and the synaptic time constant of the source
    type (the target's tau_syn_ex for E sources, tau_syn_in for I sources).
    """
    p = neuron_params
    source_e = POPULATION_IS_EXCITATORY[None, :]
    tau_syn = np.where(source_e, p["tau_syn_ex_ms"][:, None], p["tau_syn_in_ms"][:, None])
    psc = psc_per_psp(p["C_m_pF"][:, None], p["tau_m_ms"][:, None], tau_syn)
    return np.where(source_e, psc * psp_e_mV, g * psc * psp_e_mV)


def base_external_weights_pA(neuron_params: dict[str, np.ndarray], psp_ext_mV: float) -> np.ndarray:
    """Base (unscaled) external weights J_ext (272,) in pA: (PSC/PSP)_i with tau_syn_ex, times PSP_ext."""
    p = neuron_params
    return psc_per_psp(p["C_m_pF"], p["tau_m_ms"], p["tau_syn_ex_ms"]) * psp_ext_mV


def recurrent_scaling_masks() -> dict[str, np.ndarray]:
    """(272, 272) masks (rows target) of the recurrent scaling factors, keyed by their parameter name."""
    target_e = POPULATION_IS_EXCITATORY[:, None]
    source_e = POPULATION_IS_EXCITATORY[None, :]
    target_i = ~target_e
    target_layer = POPULATION_LAYER_INDEX[:, None]
    source_layer = POPULATION_LAYER_INDEX[None, :]
    return {
        "e4_to_e23": SAME_AREA & target_e & (target_layer == _LAYER_II_III) & source_e & (source_layer == _LAYER_IV),
        "chi": ~SAME_AREA & target_e & source_e,
        "chi_I": ~SAME_AREA & target_i & source_e,
        "local_e5_to_i": SAME_AREA & target_i & source_e & (source_layer == _LAYER_V),
        "local_e_to_i": SAME_AREA & target_i & source_e,
    }


#: Order in which the recurrent factors are applied (§5.8 step 6).
RECURRENT_FACTORS: tuple[str, ...] = ("e4_to_e23", "chi", "chi_I", "local_e5_to_i", "local_e_to_i")


def apply_recurrent_scaling(weights_pA: np.ndarray, scaling: dict) -> np.ndarray:
    """Weights with the recurrent factors of ``network.scaling`` applied (a new array).

    * ``e4_to_e23``: within an area, (II/III,E) <- (IV,E);
    * ``chi``: between different areas, every E <- E;
    * ``chi_I``: between different areas, every I <- E;
    * ``local_e5_to_i``: within an area, (.,I) <- (V,E);
    * ``local_e_to_i``: within an area, (.,I) <- (.,E).

    Factors equal to 1 are skipped. Factors that hit the same pair multiply.
    """
    scaled = np.array(weights_pA, dtype=float, copy=True)
    masks = recurrent_scaling_masks()
    for name in RECURRENT_FACTORS:
        factor = float(scaling[name])
        if not math.isfinite(factor):
            raise ParameterError(f"network.scaling.{name} must be a finite number, got {factor}.")
        if factor != 1.0:
            mask = masks[name]
            scaled[mask] = scaled[mask] * factor
    return scaled


def weight_sd_pA(weights_pA, rel_sd: float) -> np.ndarray:
    """Weight SD = |J| * rel_sd (pA)."""
    return np.abs(np.asarray(weights_pA, dtype=float)) * rel_sd


def apply_external_layer_factors(weights_ext_pA: np.ndarray, e5_factor: float, e6_factor: float) -> np.ndarray:
    """External weights with the (V,E) and (VI,E) factors applied (a new array)."""
    scaled = np.array(weights_ext_pA, dtype=float, copy=True)
    for layer, factor in ((_LAYER_V, e5_factor), (_LAYER_VI, e6_factor)):
        mask = POPULATION_IS_EXCITATORY & (POPULATION_LAYER_INDEX == layer)
        scaled[mask] = scaled[mask] * factor
    return scaled


# ---------------------------------------------------------------------------------------------
# External Poisson drive (§5.5)


def external_indegree(synapses_external, neuron_numbers) -> np.ndarray:
    """K_ext = S_ext / N per population; 0 for empty populations."""
    s = np.asarray(synapses_external, dtype=float)
    n = np.asarray(neuron_numbers)
    return np.divide(s, n, out=np.zeros(s.shape), where=n > 0)


def external_rate_per_synapse_hz(neuron_params: dict[str, np.ndarray], indegree_ext: np.ndarray,
                                 weights_ext_pA: np.ndarray, eta_ext: float) -> np.ndarray:
    """Rate per external synapse (spikes/s), 0 where K_ext = 0:

    nu_ext = 1000 eta_ext (V_th - E_L) / (tau_m K_ext tau_syn_ex J_ext / C_m).

    ``weights_ext_pA`` must be the unscaled J_ext, before the 5E/6E factors (docs/quirks.md Q9), so that the
    rate per neuron nu_ext K_ext is the same for every population.
    """
    p = neuron_params
    k = np.asarray(indegree_ext, dtype=float)
    denominator = p["tau_m_ms"] * k * p["tau_syn_ex_ms"] * weights_ext_pA / p["C_m_pF"]
    numerator = 1000.0 * eta_ext * (p["V_th_mV"] - p["E_L_mV"])
    return np.divide(numerator, denominator, out=np.zeros(k.shape), where=k > 0)


# ---------------------------------------------------------------------------------------------
# Delays (§5.4)


def delay_mean_ms(distance_mm: np.ndarray, local_mean_ms: dict, velocity_mm_per_ms: float) -> np.ndarray:
    """Mean delay per population pair (272 x 272, rows target), ms.

    Within an area it depends on the source type (``local_mean_ms`` = {E: .., I: ..}); between areas
    it is distance(target area, source area) / velocity.
    """
    if not velocity_mm_per_ms > 0:
        raise ParameterError(f"network.delays.velocity_mm_per_ms must be > 0, got {velocity_mm_per_ms}.")
    local = np.where(POPULATION_IS_EXCITATORY, float(local_mean_ms["E"]), float(local_mean_ms["I"]))
    if np.any(local <= 0):
        raise ParameterError(f"network.delays.local_mean_ms must be > 0 for E and I, got {local_mean_ms}.")
    area_delay = np.asarray(distance_mm, dtype=float) / velocity_mm_per_ms
    inter = area_delay[POPULATION_AREA_INDEX[:, None], POPULATION_AREA_INDEX[None, :]]
    return np.where(SAME_AREA, np.broadcast_to(local[None, :], SAME_AREA.shape), inter)


def delay_sd_ms(mean_ms: np.ndarray, rel_sd: float) -> np.ndarray:
    """Delay SD = rel_sd * mean (ms)."""
    return np.asarray(mean_ms, dtype=float) * rel_sd


def delay_lower_clip_ms(cc_min_ms: float, resolution_ms: float) -> np.ndarray:
    """Lower clip of the delay draws per pair (272 x 272): the resolution within areas and
    max(cc_min, resolution) between areas."""
    return np.where(SAME_AREA, resolution_ms, max(cc_min_ms, resolution_ms))


# ---------------------------------------------------------------------------------------------
# Single-spike perturbation (§5.6)


def perturbation_table(entries: list[dict], neuron_numbers: np.ndarray, weights_ext_pA: np.ndarray,
                       indegree_ext: np.ndarray) -> dict[str, np.ndarray]:
    """The single-spike perturbation table, one row per entry of ``network.perturbation``.

    Each entry ``{area, layer, population, time_ms}`` becomes one spike at ``time_ms`` delivered to
    the first neuron of that population with delay 1 ms and weight J_ext * 1000 * K_ext pA, using the
    full-scale, unscaled J_ext and K_ext at step 5 of §5.8 (deliberately huge, docs/quirks.md Q10).

    Raises ParameterError for unknown area/layer/population names, an empty population, a repeated
    population or a spike time that is not a positive finite number.
    """
    columns: dict[str, list] = {k: [] for k in ("area", "layer", "population", "population_index", "time_ms",
                                               "weight_pA", "delay_ms")}
    seen: dict[int, int] = {}
    for number, entry in enumerate(entries or []):
        where = f"network.perturbation[{number}]"
        if not isinstance(entry, dict):
            raise ParameterError(f"{where} must be a mapping with keys area, layer, population, time_ms; got {entry!r}.")
        missing = [k for k in ("area", "layer", "population", "time_ms") if k not in entry]
        if missing:
            raise ParameterError(f"{where} lacks {', '.join(missing)}; each entry needs area, layer, population, time_ms.")
        area, layer, pop = entry["area"], entry["layer"], entry["population"]
        try:
            index = tables.population_index(area, layer, pop)
        except ParameterError as exc:
            raise ParameterError(f"{where}: {exc}") from None
        if neuron_numbers[index] == 0:
            raise ParameterError(
                f"{where}: population ({area}, {layer}, {pop}) has no neurons in this network, so it cannot be "
                f"perturbed. Choose a non-empty population."
            )
        if index in seen:
            raise ParameterError(
                f"{where}: population ({area}, {layer}, {pop}) is already perturbed by entry {seen[index]}; "
                f"the perturbation maps each population to one spike time."
            )
        seen[index] = number
        time_ms = entry["time_ms"]
        is_number = isinstance(time_ms, (int, float)) and not isinstance(time_ms, bool)
        if not (is_number and math.isfinite(time_ms) and time_ms > 0):
            raise ParameterError(f"{where}.time_ms must be a positive number of ms, got {time_ms!r}.")
        columns["area"].append(area)
        columns["layer"].append(layer)
        columns["population"].append(pop)
        columns["population_index"].append(index)
        columns["time_ms"].append(float(time_ms))
        columns["weight_pA"].append(weights_ext_pA[index] * PERTURBATION_WEIGHT_FACTOR * indegree_ext[index])
        columns["delay_ms"].append(PERTURBATION_DELAY_MS)
    return {
        "area": np.array(columns["area"], dtype=str),
        "layer": np.array(columns["layer"], dtype=str),
        "population": np.array(columns["population"], dtype=str),
        "population_index": np.array(columns["population_index"], dtype=np.int64),
        "time_ms": np.array(columns["time_ms"], dtype=float),
        "weight_pA": np.array(columns["weight_pA"], dtype=float),
        "delay_ms": np.array(columns["delay_ms"], dtype=float),
    }


# ---------------------------------------------------------------------------------------------
# The network


def check_delay_params(delays: dict) -> None:
    if delays["distribution"] not in DELAY_DISTRIBUTIONS:
        raise ParameterError(
            f"network.delays.distribution must be one of {', '.join(DELAY_DISTRIBUTIONS)}, got {delays['distribution']!r}."
        )
    if not delays["resolution_ms"] > 0:
        raise ParameterError(f"network.delays.resolution_ms must be > 0, got {delays['resolution_ms']}.")
    if not delays["cap_ms"] >= 0:
        raise ParameterError(f"network.delays.cap_ms must be >= 0 (0 = no cap), got {delays['cap_ms']}.")
    if 0 < delays["cap_ms"] < delays["resolution_ms"]:
        raise ParameterError(
            f"network.delays.cap_ms = {delays['cap_ms']} ms is below the resolution {delays['resolution_ms']} ms."
        )
    if not delays["rel_sd"] >= 0:
        raise ParameterError(f"network.delays.rel_sd must be >= 0, got {delays['rel_sd']}.")


def full_scale_network(cyto, connectome, params: dict) -> Network:
    """The full-scale network (n = k = 1) of a cytoarchitecture and connectome (§5.8 steps 1–9, 11–12).

    ``params`` is the resolved ``network`` section; its ``downscaling`` entries are not used here
    (:func:`humam.build.build_network` applies the down-scaling as a separate step). The connectome
    does not depend on weight, scaling or delay parameters, so one connectome can be assembled into
    many networks (e.g. a chi scan).
    """
    weights = require_section(params, "weights")
    scaling = require_section(params, "scaling")
    external = require_section(params, "external")
    delays = require_section(params, "delays")
    check_delay_params(delays)
    transmission_probability = float(weights["transmission_probability"])
    if not 0.0 < transmission_probability <= 1.0:
        raise ParameterError(f"network.weights.transmission_probability must be in (0, 1], got {transmission_probability}.")

    # 1.–2. neuron numbers, SLN, synapse numbers (canonical order = flat C order)
    neuron_numbers = np.asarray(cyto.neuron_numbers, dtype=np.int64).reshape(tables.N_POPULATIONS)
    synapses = np.asarray(connectome.synapses, dtype=np.int64)
    synapses_external = np.asarray(connectome.synapses_external, dtype=np.int64)

    # 3. base J and J_ext
    neuron_params = neuron_parameter_arrays(require_section(params, "neuron"))
    weights_pA = base_weights_pA(neuron_params, float(weights["g"]), float(weights["psp_e_mV"]))
    weights_ext_pA = base_external_weights_pA(neuron_params, float(weights["psp_ext_mV"]))

    # 4. external rates from the unscaled J_ext (docs/quirks.md Q9)
    indegree_ext = external_indegree(synapses_external, neuron_numbers)
    rate_ext_hz = external_rate_per_synapse_hz(neuron_params, indegree_ext, weights_ext_pA, float(external["eta_ext"]))

    # 5. single-spike table; DC = 0
    perturbation = perturbation_table(params.get("perturbation") or [], neuron_numbers, weights_ext_pA, indegree_ext)

    # 6.–9. recurrent factors, SDs, external 5E/6E factors, external SDs
    weights_pA = apply_recurrent_scaling(weights_pA, scaling)
    weights_sd_pA = weight_sd_pA(weights_pA, float(weights["rel_sd"]))
    weights_ext_pA = apply_external_layer_factors(weights_ext_pA, float(external["e5_factor"]), float(external["e6_factor"]))
    weights_ext_sd_pA = weight_sd_pA(weights_ext_pA, float(weights["rel_sd"]))

    # delays
    mean_ms = delay_mean_ms(connectome.distance_mm, delays["local_mean_ms"], float(delays["velocity_mm_per_ms"]))
    sd_ms = delay_sd_ms(mean_ms, float(delays["rel_sd"]))
    mu, sigma = lognormal_parameters(mean_ms, float(delays["rel_sd"]))
    min_ms = delay_lower_clip_ms(float(delays["cc_min_ms"]), float(delays["resolution_ms"]))

    # 11.–12. area-level data; everything is already in canonical order
    area, layer, pop = population_key_arrays()
    return Network(
        area=area, layer=layer, population=pop,
        neuron_numbers=neuron_numbers, synapses=synapses, synapses_external=synapses_external,
        weights_pA=weights_pA, weights_sd_pA=weights_sd_pA,
        delay_distribution=str(delays["distribution"]), delay_mean_ms=mean_ms, delay_sd_ms=sd_ms,
        delay_lognormal_mu=mu, delay_lognormal_sigma=sigma, delay_min_ms=min_ms,
        transmission_probability=transmission_probability,
        resolution_ms=float(delays["resolution_ms"]),
        delay_cap_ms=float(delays["cap_ms"]),
        weights_ext_pA=weights_ext_pA, weights_ext_sd_pA=weights_ext_sd_pA, indegree_ext=indegree_ext,
        rate_ext_hz=rate_ext_hz, poisson_rate_hz=rate_ext_hz * indegree_ext,
        dc_drive_pA=np.zeros(tables.N_POPULATIONS),
        neuron_params=neuron_params,
        heterogeneity=heterogeneity_parameters(neuron_params, require_section(params, "heterogeneity")),
        perturbation=perturbation,
        areas=np.array(tables.AREAS, dtype=str),
        area_synapses=np.asarray(connectome.area_synapses, dtype=np.int64),
        nos=np.asarray(connectome.nos, dtype=float),
        sln=np.asarray(connectome.sln, dtype=float),
        directionality=np.asarray(connectome.directionality, dtype=str),
        distance_mm=np.asarray(connectome.distance_mm, dtype=float),
        total_thickness_mm=np.asarray(cyto.total_thickness_mm, dtype=float),
        surface_mm2=np.asarray(connectome.surface_mm2, dtype=float),
        volume_mm3=np.asarray(connectome.volume_mm3, dtype=float),
        local_fraction=np.asarray(connectome.local_fraction, dtype=float),
        mean_density_per_mm3=np.asarray(cyto.mean_density_per_mm3, dtype=float),
        n_scaling=1.0, k_scaling=1.0, scaling_type=str(params.get("downscaling", {}).get("scaling_type", "linear")),
        weight_divisor=1.0,
    )
