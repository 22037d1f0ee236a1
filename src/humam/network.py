"""Network parameters (spec §5) and assembly of the complete network description.

Pure, vectorised functions turn the neuron numbers and synapse numbers of
:mod:`humam.cytoarchitecture` and :mod:`humam.connectivity` into weights, delays and drive:

* PSC per mV of PSP peak, base weights ``J`` (272 x 272, rows target) and external weights ``J_ext``;
* external indegree ``K_ext`` and the rate per external synapse ``nu_ext`` (from the *unscaled*
  ``J_ext``, quirk Q9);
* recurrent scaling factors (4E->2/3E, chi, chi_I, optional local 5E->I and E->I), weight SDs,
  external 5E/6E factors and their SDs;
* delay means, SDs, lognormal parameters and lower clips per pair;
* lognormal parameters of the optional per-neuron heterogeneity (§5.2);
* the single-spike perturbation table (§5.6).

:func:`build_network` applies them in the normative order of §5.8 and, for n or k != 1, down-scales
with :mod:`humam.downscaling`. :func:`save_network` / :func:`load_network` store the result as one
self-describing HDF5 file.

All population-resolved arrays cover the 272 population keys in canonical order (the flat C order
of a ``(34, 4, 2)`` array = [area, layer II/III..VI, E/I]); see :class:`Network`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from . import tables
from .errors import ParameterError

# ---------------------------------------------------------------------------------------------
# Population bookkeeping (canonical order)

#: Area index (0..33, alphabetical) of each of the 272 populations.
POPULATION_AREA_INDEX: np.ndarray = np.repeat(np.arange(tables.N_AREAS), tables.N_POPULATIONS_PER_AREA)
#: Layer index (0..3 = II/III, IV, V, VI) of each population.
POPULATION_LAYER_INDEX: np.ndarray = np.tile(np.repeat(np.arange(tables.N_LAYERS), tables.N_TYPES), tables.N_AREAS)
#: True for excitatory populations.
POPULATION_IS_EXCITATORY: np.ndarray = np.tile(np.arange(tables.N_TYPES) == 0, tables.N_AREAS * tables.N_LAYERS)
#: (272, 272) True where target and source population lie in the same area (rows target).
SAME_AREA: np.ndarray = POPULATION_AREA_INDEX[:, None] == POPULATION_AREA_INDEX[None, :]

for _array in (POPULATION_AREA_INDEX, POPULATION_LAYER_INDEX, POPULATION_IS_EXCITATORY, SAME_AREA):
    _array.setflags(write=False)
del _array

_LAYER_II_III, _LAYER_IV, _LAYER_V, _LAYER_VI = (tables.LAYERS.index(x) for x in ("II/III", "IV", "V", "VI"))

#: Neuron-model parameters (keys of ``network.neuron.<type>`` in defaults.yaml), with units in the names.
NEURON_PARAMETERS: tuple[str, ...] = (
    "E_L_mV", "V_th_mV", "V_reset_mV", "C_m_pF", "tau_m_ms", "tau_syn_ex_ms", "tau_syn_in_ms", "t_ref_ms",
)
#: Parameters that can be drawn per neuron (§5.2): heterogeneity key -> neuron parameter.
HETEROGENEOUS_PARAMETERS: dict[str, str] = {"V_th": "V_th_mV", "C_m": "C_m_pF", "tau_m": "tau_m_ms"}

#: Delay of the single-spike generator's connection (NEST 3 default delay), ms (§5.6).
PERTURBATION_DELAY_MS = 1.0
#: Factor of the single-spike weight J_ext * 1000 * K_ext (§5.6, quirk Q10).
PERTURBATION_WEIGHT_FACTOR = 1000.0

DELAY_DISTRIBUTIONS = ("lognormal", "normal")


def population_mask(*, layer: str | None = None, pop: str | None = None) -> np.ndarray:
    """(272,) boolean mask of the populations in ``layer`` and/or of type ``pop``."""
    mask = np.ones(tables.N_POPULATIONS, dtype=bool)
    if layer is not None:
        mask &= POPULATION_LAYER_INDEX == tables.layer_index(layer)
    if pop is not None:
        mask &= POPULATION_IS_EXCITATORY == (tables.population_type_index(pop) == 0)
    return mask


def population_key_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(area, layer, population) string arrays of the 272 keys in canonical order."""
    area, layer, pop = zip(*tables.POPULATIONS)
    return np.array(area, dtype=str), np.array(layer, dtype=str), np.array(pop, dtype=str)


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
    mu = ln(mean / sqrt(1 + c^2)), sigma = sqrt(ln(1 + c^2)) (spec §5.2, §5.4)."""
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

    ``weights_ext_pA`` must be the unscaled J_ext, before the 5E/6E factors (quirk Q9), so that the
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
    full-scale, unscaled J_ext and K_ext at step 5 of §5.8 (deliberately huge, quirk Q10).

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


def _units(units: str, **metadata) -> Any:
    return field(metadata={"units": units, **metadata})


def _optional(units: str) -> Any:
    return field(default=None, metadata={"units": units})


@dataclass(eq=False)
class Network:
    """Complete description of one network, ready for the simulator and the theory.

    **Every population-resolved array covers all 272 population keys** in canonical order (areas
    alphabetical, layers II/III < IV < V < VI, E < I; the flat C order of a (34, 4, 2) array), also the
    populations that are empty (0 neurons, 18 with default parameters). This keeps indices identical
    across networks and parameter sets. Empty populations have 0 neurons, 0 synapses, K_ext = 0,
    nu_ext = 0, Poisson rate 0 and DC 0; their weights and delays hold the regular values (weights
    depend only on type, layer and area pair). The simulator creates only populations with
    ``neuron_numbers > 0``; see :attr:`nonempty`.

    Matrices are (272, 272) with rows = target, columns = source. Values are the simulated ones: after
    down-scaling when n or k != 1; the full-scale counts are then kept in the ``*_full_scale`` fields
    (None at full scale).

    Fields (units in the names; dimensionless otherwise):

    * ``area``, ``layer``, ``population``: the population keys; ``areas``: the 34 areas.
    * ``neuron_numbers`` (272,) int64; ``synapses`` (272, 272) int64; ``synapses_external`` (272,) int64.
    * ``weights_pA``, ``weights_sd_pA``: mean and SD of the recurrent weights, all factors applied.
      Excitatory sources draw max(Normal, 0), inhibitory ones min(Normal, 0).
    * ``delay_distribution`` ("lognormal" or "normal"), ``delay_mean_ms``, ``delay_sd_ms``,
      ``delay_lognormal_mu`` / ``delay_lognormal_sigma`` (underlying normal, ln ms), ``delay_min_ms``
      (lower clip of the draws).
    * ``weights_ext_pA``, ``weights_ext_sd_pA``: Poisson-input weights (5E/6E factors applied);
      ``indegree_ext`` K_ext; ``rate_ext_hz`` nu_ext per external synapse; ``poisson_rate_hz`` the
      generator rate per neuron nu_ext K_ext; ``dc_drive_pA`` the constant current I_e.
    * ``neuron_params``: {"E_L_mV", "V_th_mV", "V_reset_mV", "C_m_pF", "tau_m_ms", "tau_syn_ex_ms",
      "tau_syn_in_ms", "t_ref_ms"} -> (272,) means.
    * ``heterogeneity``: {"V_th_mV", "C_m_pF", "tau_m_ms"} -> {"rel_sd", "offset", "mu", "sigma"} (272,):
      per-neuron value = offset + lognormal(mu, sigma) where rel_sd > 0 (§5.2).
    * ``perturbation``: columns area, layer, population, population_index, time_ms, weight_pA, delay_ms,
      one row per single spike (§5.6).
    * area level (34,) / (34, 34), rows target: ``area_synapses``, ``nos``, ``sln``, ``directionality``,
      ``distance_mm``, ``total_thickness_mm``, ``surface_mm2``, ``volume_mm3``, ``local_fraction``,
      ``mean_density_per_mm3``.
    * ``n_scaling``, ``k_scaling``, ``scaling_type``, ``weight_divisor`` (f); ``neuron_numbers_full_scale``,
      ``synapses_full_scale``, ``synapses_external_full_scale`` and ``full_scale_rates_hz`` (the rates of
      the DC compensation) when down-scaled.
    """

    # population keys
    area: np.ndarray = _units("")
    layer: np.ndarray = _units("")
    population: np.ndarray = _units("")
    # numbers
    neuron_numbers: np.ndarray = _units("neurons")
    synapses: np.ndarray = _units("synapses")
    synapses_external: np.ndarray = _units("synapses")
    # recurrent weights and delays
    weights_pA: np.ndarray = _units("pA")
    weights_sd_pA: np.ndarray = _units("pA")
    delay_distribution: str = _units("")
    delay_mean_ms: np.ndarray = _units("ms")
    delay_sd_ms: np.ndarray = _units("ms")
    delay_lognormal_mu: np.ndarray = _units("ln(ms)")
    delay_lognormal_sigma: np.ndarray = _units("")
    delay_min_ms: np.ndarray = _units("ms")
    transmission_probability: float = _units("")
    resolution_ms: float = _units("ms")  #: simulation grid: delays are clipped at and rounded to it
    delay_cap_ms: float = _units("ms")  #: upper clip of drawn delays, 0 = none (published model)
    # external drive
    weights_ext_pA: np.ndarray = _units("pA")
    weights_ext_sd_pA: np.ndarray = _units("pA")
    indegree_ext: np.ndarray = _units("synapses per neuron")
    rate_ext_hz: np.ndarray = _units("spikes/s per synapse")
    poisson_rate_hz: np.ndarray = _units("spikes/s per neuron")
    dc_drive_pA: np.ndarray = _units("pA")
    # neurons
    neuron_params: dict = _units("in the key names")
    heterogeneity: dict = _units("rel_sd: 1; offset: unit of the parameter; mu: ln(unit); sigma: 1")
    perturbation: dict = _units("time_ms, delay_ms: ms; weight_pA: pA")
    # area level (rows target)
    areas: np.ndarray = _units("")
    area_synapses: np.ndarray = _units("synapses")
    nos: np.ndarray = _units("streamlines")
    sln: np.ndarray = _units("")
    directionality: np.ndarray = _units("")
    distance_mm: np.ndarray = _units("mm")
    total_thickness_mm: np.ndarray = _units("mm")
    surface_mm2: np.ndarray = _units("mm^2")
    volume_mm3: np.ndarray = _units("mm^3")
    local_fraction: np.ndarray = _units("")
    mean_density_per_mm3: np.ndarray = _units("neurons/mm^3")
    # down-scaling
    n_scaling: float = _units("")
    k_scaling: float = _units("")
    scaling_type: str = _units("")
    weight_divisor: float = _units("")
    neuron_numbers_full_scale: np.ndarray | None = _optional("neurons")
    synapses_full_scale: np.ndarray | None = _optional("synapses")
    synapses_external_full_scale: np.ndarray | None = _optional("synapses")
    full_scale_rates_hz: np.ndarray | None = _optional("spikes/s")

    # ----- derived views
    @property
    def keys(self) -> list[tuple[str, str, str]]:
        """The 272 population keys (area, layer, pop) in canonical order."""
        return list(zip(self.area.tolist(), self.layer.tolist(), self.population.tolist()))

    @property
    def nonempty(self) -> np.ndarray:
        """(272,) True for populations with at least one neuron (the ones the simulator creates)."""
        return self.neuron_numbers > 0

    @property
    def is_downscaled(self) -> bool:
        return self.n_scaling != 1.0 or self.k_scaling != 1.0

    @property
    def indegrees(self) -> np.ndarray:
        """K = S / N_target (272 x 272, rows target); 0 for empty targets."""
        n = self.neuron_numbers[:, None]
        return np.divide(self.synapses.astype(float), n, out=np.zeros(self.synapses.shape), where=n > 0)

    def index(self, area: str, layer: str, pop: str) -> int:
        """Canonical index of a population key."""
        return tables.population_index(area, layer, pop)


def _require(params: dict, *path: str):
    node = params
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise ParameterError(f"Missing parameter 'network.{'.'.join(path)}'.")
        node = node[key]
    return node


def _check_delay_params(delays: dict) -> None:
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


def build_network(params: dict) -> Network:
    """The network defined by the resolved ``network`` parameter section (spec §3–6, order of §5.8)."""
    from . import downscaling
    from .connectivity import build_connectome
    from .cytoarchitecture import build_cytoarchitecture

    down = _require(params, "downscaling")
    downscaling.check_scales(down["n_scaling"], down["k_scaling"], down["scaling_type"])  # fail before the build
    _check_delay_params(_require(params, "delays"))
    cyto = build_cytoarchitecture(_require(params, "cytoarchitecture"))
    connectome = build_connectome(cyto, _require(params, "connectivity"))
    return assemble_network(cyto, connectome, params)


def assemble_network(cyto, connectome, params: dict) -> Network:
    """Weights, delays and drive for a given cytoarchitecture and connectome (§5.8 steps 3–12).

    The connectome does not depend on weight, scaling, delay or down-scaling parameters, so one
    connectome can be assembled into many networks (e.g. a chi scan).
    """
    from . import downscaling

    weights = _require(params, "weights")
    scaling = _require(params, "scaling")
    external = _require(params, "external")
    delays = _require(params, "delays")
    _check_delay_params(delays)
    transmission_probability = float(weights["transmission_probability"])
    if not 0.0 < transmission_probability <= 1.0:
        raise ParameterError(f"network.weights.transmission_probability must be in (0, 1], got {transmission_probability}.")
    down = _require(params, "downscaling")
    n_scaling, k_scaling = downscaling.check_scales(down["n_scaling"], down["k_scaling"], down["scaling_type"])

    # 1.–2. neuron numbers, SLN, synapse numbers (canonical order = flat C order)
    neuron_numbers = np.asarray(cyto.neuron_numbers, dtype=np.int64).reshape(tables.N_POPULATIONS)
    synapses = np.asarray(connectome.synapses, dtype=np.int64)
    synapses_external = np.asarray(connectome.synapses_external, dtype=np.int64)

    # 3. base J and J_ext
    neuron_params = neuron_parameter_arrays(_require(params, "neuron"))
    weights_pA = base_weights_pA(neuron_params, float(weights["g"]), float(weights["psp_e_mV"]))
    weights_ext_pA = base_external_weights_pA(neuron_params, float(weights["psp_ext_mV"]))

    # 4. external rates from the unscaled J_ext (Q9)
    indegree_ext = external_indegree(synapses_external, neuron_numbers)
    rate_ext_hz = external_rate_per_synapse_hz(neuron_params, indegree_ext, weights_ext_pA, float(external["eta_ext"]))

    # 5. single-spike table; DC = 0
    perturbation = perturbation_table(params.get("perturbation") or [], neuron_numbers, weights_ext_pA, indegree_ext)
    dc_drive_pA = np.zeros(tables.N_POPULATIONS)

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

    # 10. down-scaling
    full = {}
    poisson_rate_hz = rate_ext_hz * indegree_ext
    weight_divisor = 1.0
    if n_scaling != 1.0 or k_scaling != 1.0:
        rates_full = downscaling.resolve_full_scale_rates(cyto, connectome, params, neuron_numbers)
        scaled = downscaling.downscale(
            neuron_numbers=neuron_numbers, synapses=synapses, synapses_external=synapses_external,
            weights_pA=weights_pA, weights_sd_pA=weights_sd_pA, weights_ext_pA=weights_ext_pA,
            weights_ext_sd_pA=weights_ext_sd_pA, rate_ext_hz=rate_ext_hz, neuron_params=neuron_params,
            full_scale_rates_hz=rates_full, n_scaling=n_scaling, k_scaling=k_scaling,
            scaling_type=down["scaling_type"],
        )
        full = {"neuron_numbers_full_scale": neuron_numbers, "synapses_full_scale": synapses,
                "synapses_external_full_scale": synapses_external, "full_scale_rates_hz": rates_full}
        neuron_numbers, synapses, synapses_external = scaled.neuron_numbers, scaled.synapses, scaled.synapses_external
        weights_pA, weights_sd_pA = scaled.weights_pA, scaled.weights_sd_pA
        weights_ext_pA, weights_ext_sd_pA = scaled.weights_ext_pA, scaled.weights_ext_sd_pA
        indegree_ext, poisson_rate_hz, dc_drive_pA = scaled.indegree_ext, scaled.poisson_rate_hz, scaled.dc_drive_pA
        rate_ext_hz = np.where(neuron_numbers > 0, rate_ext_hz, 0.0)
        weight_divisor = scaled.weight_divisor
        lost = [i for i in perturbation["population_index"].tolist() if neuron_numbers[i] == 0]
        if lost:
            names = ", ".join("/".join(tables.POPULATIONS[i]) for i in lost)
            raise ParameterError(
                f"network.perturbation targets {names}, which has no neurons after down-scaling with "
                f"n_scaling = {n_scaling:g}. Use a larger n_scaling or another population."
            )

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
        rate_ext_hz=rate_ext_hz, poisson_rate_hz=poisson_rate_hz, dc_drive_pA=dc_drive_pA,
        neuron_params=neuron_params,
        heterogeneity=heterogeneity_parameters(neuron_params, _require(params, "heterogeneity")),
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
        n_scaling=n_scaling, k_scaling=k_scaling, scaling_type=str(down["scaling_type"]),
        weight_divisor=weight_divisor, **full,
    )


def _range(values: np.ndarray) -> list[float] | None:
    return [float(values.min()), float(values.max())] if values.size else None


def summary(network: Network) -> dict:
    """Headline numbers of a network (JSON-serialisable)."""
    nonempty = network.nonempty
    n = network.neuron_numbers
    return {
        "neurons": int(n.sum()),
        "neurons_E": int(n[POPULATION_IS_EXCITATORY].sum()),
        "neurons_I": int(n[~POPULATION_IS_EXCITATORY].sum()),
        "populations_nonempty": int(nonempty.sum()),
        "synapses_internal": int(network.synapses.sum()),
        "synapses_local": int(network.synapses[SAME_AREA].sum()),
        "synapses_cortico_cortical": int(network.synapses[~SAME_AREA].sum()),
        "synapses_external": int(network.synapses_external.sum()),
        "nonzero_pairs": int(np.count_nonzero(network.synapses)),
        "poisson_rate_hz_range": _range(network.poisson_rate_hz[nonempty]),
        "dc_drive_pA_range": _range(network.dc_drive_pA[nonempty]),
        "n_scaling": network.n_scaling,
        "k_scaling": network.k_scaling,
        "scaling_type": network.scaling_type,
        "perturbations": int(len(network.perturbation["time_ms"])),
    }


# ---------------------------------------------------------------------------------------------
# HDF5 storage

FILE_TYPE = "humam.network"
FORMAT_VERSION = 1


def _is_matrix(value: np.ndarray) -> bool:
    return value.ndim == 2 and value.shape == (tables.N_POPULATIONS, tables.N_POPULATIONS)


def _write_value(group, name: str, value, units: str | None) -> None:
    import h5py

    if value is None:
        return
    if isinstance(value, dict):
        sub = group.create_group(name, track_order=True)
        if units:
            sub.attrs["units"] = units
        for key, item in value.items():
            _write_value(sub, key, item, None)
        return
    if isinstance(value, str):
        dset = group.create_dataset(name, data=value, dtype=h5py.string_dtype("utf-8"))
    elif isinstance(value, np.ndarray) and value.dtype.kind == "U":
        dset = group.create_dataset(name, data=value.astype(object), dtype=h5py.string_dtype("utf-8"))
    elif isinstance(value, np.ndarray):
        options = {"compression": "gzip", "shuffle": True} if _is_matrix(value) else {}
        dset = group.create_dataset(name, data=value, **options)
    elif isinstance(value, (bool, int, float, np.number)):
        dset = group.create_dataset(name, data=value)
        dset.attrs["python_type"] = type(value).__name__ if isinstance(value, (bool, int, float)) else "numpy"
    else:
        raise TypeError(f"cannot store {name!r} of type {type(value).__name__} in a network file")
    if units:
        dset.attrs["units"] = units


def _read_value(node):
    import h5py

    if isinstance(node, h5py.Group):
        return {key: _read_value(node[key]) for key in node}
    if h5py.check_string_dtype(node.dtype) is not None:
        value = node.asstr()[()]
        return value if node.shape == () else np.array(value.tolist(), dtype=str).reshape(node.shape)
    value = node[()]
    python_type = {"bool": bool, "int": int, "float": float}.get(node.attrs.get("python_type"))
    return python_type(value.item()) if node.shape == () and python_type is not None else value


def save_network(network: Network, path: str | Path, attrs: dict | None = None) -> Path:
    """Write ``network`` to one HDF5 file at ``path``, atomically.

    The file is written to a temporary file in the same folder and moved into place with
    ``os.replace``, so ``path`` is either the complete new file or untouched. Datasets are named
    like the :class:`Network` fields (units in the names and in a ``units`` attribute), dict fields
    become groups, strings are UTF-8 variable-length strings and the (272, 272) matrices are gzip
    compressed. ``attrs`` (e.g. resolved parameters as JSON and provenance) become file attributes.
    """
    from .h5io import atomic_h5

    with atomic_h5(path, FILE_TYPE, FORMAT_VERSION, attrs) as h5:
        for item in fields(Network):
            _write_value(h5, item.name, getattr(network, item.name), item.metadata.get("units"))
    return Path(path)


def load_network(path: str | Path) -> Network:
    """Read a network file written by :func:`save_network`."""
    from .h5io import open_h5

    path = Path(path)
    with open_h5(path, FILE_TYPE, FORMAT_VERSION) as h5:
        values = {item.name: _read_value(h5[item.name]) if item.name in h5 else None for item in fields(Network)}
    missing = [item.name for item in fields(Network) if values[item.name] is None and item.default is not None]
    if missing:
        raise ValueError(f"{path} lacks the dataset(s) {', '.join(missing)}; it is incomplete. Rebuild it.")
    return Network(**values)


def read_network_attrs(path: str | Path) -> dict:
    """The file attributes passed to :func:`save_network` (without the format's own attributes)."""
    import h5py

    from .h5io import RESERVED_ATTRS

    with h5py.File(Path(path), "r") as h5:
        return {key: (value.item() if isinstance(value, np.generic) else value)
                for key, value in h5.attrs.items() if key not in RESERVED_ATTRS}


def content_digest(path: str | Path) -> str:
    """sha256 of the data of a network file: every dataset's name, dtype, shape and bytes, in name
    order; attributes (provenance, dates) are left out, so rebuilding the same network gives the
    same digest (the pipeline reruns simulations only when it changes)."""
    import hashlib

    import h5py

    digest = hashlib.sha256()
    with h5py.File(Path(path), "r") as h5:
        names: list[str] = []
        h5.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        for name in sorted(names):
            data = np.ascontiguousarray(h5[name][()])
            digest.update(f"{name}|{data.dtype.str}|{data.shape}|".encode())
            digest.update(data.tobytes() if data.dtype.kind != "O" else repr(data.tolist()).encode())
    return digest.hexdigest()
