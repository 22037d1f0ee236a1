"""The network description (:class:`Network`): everything the simulator and the theory need about one network.

A :class:`Network` holds neuron and synapse numbers, weights, delays, drive, perturbation and the
area-level data, every population-resolved array covering the 272 populations in canonical order.
It is built by :func:`humam.build.build_network` (full-scale construction in :mod:`humam.full_scale`,
then :mod:`humam.downscaling`), stored by :mod:`humam.network_file` and read by the simulation,
theory and analysis stages, which therefore depend on this module but not on the construction code.
"""


from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import tables
from .tables import POPULATION_IS_EXCITATORY, SAME_AREA


#: Neuron-model parameters (keys of ``network.neuron.<type>`` in defaults.yaml), with units in the names.
NEURON_PARAMETERS: tuple[str, ...] = (
    "E_L_mV", "V_th_mV", "V_reset_mV", "C_m_pF", "tau_m_ms", "tau_syn_ex_ms", "tau_syn_in_ms", "t_ref_ms",
)

#: Delay of the single-spike generator's connection (NEST 3 default delay), ms (§5.6).
PERTURBATION_DELAY_MS = 1.0


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
