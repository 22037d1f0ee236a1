"""Down-scaling of the network (docs/model.md §6): the published scheme and one that preserves the input statistics.

With neuron scale n and indegree scale k (both in (0, 1]):

* N' = round(n N), S' = round(n k S) and S'_ext = round(n k S_ext), rounding half to even;
* J' = J / f, J'_ext = J_ext / f and both weight SDs divided by f, with f = k (``linear``,
  default) or f = sqrt(k) (``sqrt``, the classical van Albada et al. 2015 scheme);
* K' = S'/N' and K'_ext = S'_ext/N'; the rate per external synapse nu_ext is kept, so the
  Poisson rate per neuron becomes nu_ext K'_ext;
* a DC current per population (published recipe, docs/quirks.md Q12):
  I_DC,i = (C_m,i / tau_m,i) (1 - f) (x_ext,i + x_rec,i), where x are PSP-based mean inputs in mV,
  x_ext,i = 1e-3 tau_m,i J'^PSP_ext,i K'_ext,i nu_ext,i and
  x_rec,i = 1e-3 tau_m,i sum_j J'^PSP_ij K'_ij nu_j, with weights converted to PSP amplitudes by the
  target's tau_m / (C_m eps^(-1/(1-eps))) using tau_syn,ex for every input, and nu_j the full-scale
  rates (published: the shipped base theory rates, chi = 1, for every chi).

Known weakness (§6.4), reproduced on purpose: with linear scaling J'K' = JK already keeps the mean
input, so the DC term double counts about (1 - k) of the PSP-based mean input (10-13 mV more
depolarisation), and few, huge external kicks carry the fluctuations. Down-scaled networks therefore
fire far above the full-scale regime (tens of spikes/s instead of about 0.75): they are smoke
tests, not reproductions of the published activity.

Scaling types are looked up in :data:`SCALING_SCHEMES`; a scheme is a function with the signature of
:func:`published_scheme`.

``preserve_input_statistics`` (not published; :func:`preserving_scheme`) keeps, for every population,
the mean and the variance of the total synaptic input at the full-scale stationary rates:

* N' = round(n N), S' = round(n k S), S'_ext = round(n k S_ext) as published, K' = S'/N' (about k K);
* recurrent J'_ij = J_ij sqrt(K_ij / K'_ij) and SD'_ij = SD_ij sqrt(K_ij / K'_ij) per projection
  (about J / sqrt(k); the nominal f = sqrt(k) is recorded), so that K'_ij J'_ij^2 = K_ij J_ij^2 exactly,
  whatever the rounding of K' = S'/N': the variance sum_j K_ij J_ij^2 nu_j is kept (up to the
  projections that the rounding removes, K'_ij = 0, and sources that n leaves empty);
* the external drive keeps its full-scale statistics: the Poisson rate per neuron stays
  nu_ext,i K_ext,i with the full-scale K_ext (18,390.36 spikes/s), J_ext and its SD are not divided, and
  the network's ``indegree_ext`` is the full-scale K_ext (the drive the generator represents), while
  ``synapses_external`` holds the nominal S'_ext;
* the recurrent mean lost by K'J' = sqrt(k) K J is supplied as a DC current, derived from §9.3.

DC of ``preserve_input_statistics``. With J~ = J 1e3 tau_syn / C_m (mV; J in pA, tau_syn in s, C_m in
pF; tau_syn of the source type, §9.2), the recurrent mean input of population i is (§9.3)

    mu_i = tau_m,i sum_j K_ij J~_ij nu_j                                     (mV; tau_m in s, nu in 1/s).

A constant current I (pA) shifts the stationary membrane potential by I tau_m / C_m, i.e. by
I tau_m,i[ms] / C_m,i[pF] mV. Requiring mu_i^scaled + I_DC,i tau_m,i[ms] / C_m,i = mu_i^full gives

    I_DC,i = (C_m,i / tau_m,i[ms]) (mu_i^full - mu_i^scaled)
           = (C_m,i / tau_m,i[ms]) tau_m,i[s] 1e3 sum_j (K_ij J_ij - K'_ij J'_ij) tau_syn,ij[s] nu_j / C_m,i
           = sum_j (K_ij J_ij - K'_ij J'_ij) tau_syn,ij[s] nu_j[1/s]                          (pA),

since tau_m[s] 1e3 = tau_m[ms]: pA x s x 1/s = pA. Equivalently sum_j (K J - K'J') tau_syn[ms] nu[1/ms].
The external terms cancel (the external drive is unchanged), and the full-scale sum runs over every
full-scale source, including populations that n leaves empty (their mean input is supplied by the DC;
their variance is lost). nu_j are the full-scale rates; for this type they default to the theory rates
of the full-scale network with the same parameters (``full_scale_rates: theory``), at the fixed point.
With the DC included in mu (``humam.theory`` with ``include_dc=True``), mu and sigma of the
down-scaled network at nu^full equal the full-scale ones (the mean exactly; the variance exactly up to
the projections and sources that rounding removes), so nu^full is a fixed point of its theory.

What it cannot keep (van Albada, Helias & Diesmann 2015, PLoS Comput Biol 11:e1004490): the
effective connectivity W_ij = d phi_i / d nu_j = K_ij (a_i J~_ij + b_i J~_ij^2) has its mean part
scaled by sqrt(k), because the DC is constant while K'J' = sqrt(k) K J. The inhibitory mean
feedback that stabilises the low-rate state is weakened: the leading eigenvalue of W at nu^full
(stable below 1, :func:`humam.theory.stability`) is 0.13 at full scale, 1.95 at N = K = 0.01 and
2.37 at N = K = 0.005, but 0.32 with k = 0.05 and 0.08 with k = 0.1 (n = 0.01). Keeping the
indegrees larger than the neuron numbers (k > n) keeps the full-scale state stable.

At N = K = 0.01 nu^full is a saddle of the down-scaled rate dynamics: started from nu^full
(1 + 5 %), or from the published uniform random rates, the theory of the down-scaled network (DC
included) converges to a state with a neuron-weighted mean of 1.66 spikes/s, 3.8 times the full-scale
0.436 spikes/s; from nu^full (1 - 5 %) it converges to 0.051 spikes/s. A 2 s simulation
(seed 2106, rates over 1-2 s) fires at 1.43 spikes/s, 0.86 times the upper state (Pearson r of log
population rates 0.95), i.e. the network settles where its own theory says it does. With n = 0.01,
k = 0.1 every start converges to nu^full (0.436 spikes/s), yet the simulation fires at 0.96 spikes/s:
there the remaining excess is not a mean-field effect (ten times the full-scale connection probability,
so more shared input, and PSPs sqrt(10) times larger).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import tables
from .errors import ParameterError
from .full_scale import psp_peak_factor
from .network import Network
from .tables import POPULATION_IS_EXCITATORY

#: Name of the shipped full-scale rates (``simulated_data/base_theory_rates.pkl``).
BASE_THEORY_RATES = "base_theory_rates"
BASE_THEORY_RATES_FILE = "simulated_data/base_theory_rates.pkl"
#: ``full_scale_rates: theory``: the stationary theory rates (§9, fixed point) of the full-scale network built
#: with the same parameters (n = k = 1).
THEORY_RATES = "theory"
#: Scaling type that preserves mean and variance of every population's input.
PRESERVE_INPUT_STATISTICS = "preserve_input_statistics"


@dataclass(frozen=True)
class DownscaledNetwork:
    """The down-scaled counts, weights and drive (all (272,) or (272, 272), canonical order)."""

    neuron_numbers: np.ndarray  #: N', int64
    synapses: np.ndarray  #: S' (rows target), int64
    synapses_external: np.ndarray  #: S'_ext, int64
    weights_pA: np.ndarray  #: J'
    weights_sd_pA: np.ndarray
    weights_ext_pA: np.ndarray  #: J'_ext (5E/6E factors included)
    weights_ext_sd_pA: np.ndarray
    indegree_ext: np.ndarray  #: K'_ext = S'_ext / N' (0 for empty populations)
    poisson_rate_hz: np.ndarray  #: nu_ext K'_ext per neuron
    dc_drive_pA: np.ndarray  #: I_DC (0 for empty populations)
    weight_divisor: float  #: f


# ---------------------------------------------------------------------------------------------
# Parameters


def weight_divisor_linear(k_scaling: float) -> float:
    return float(k_scaling)


def weight_divisor_sqrt(k_scaling: float) -> float:
    return math.sqrt(k_scaling)


def check_scales(n_scaling, k_scaling, scaling_type: str) -> tuple[float, float]:
    """Validated (n, k) as floats; ParameterError unless 0 < n, k <= 1 and the scaling type is known."""
    values = []
    for name, value in (("n_scaling", n_scaling), ("k_scaling", k_scaling)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ParameterError(f"network.downscaling.{name} must be a number in (0, 1], got {value!r}.")
        value = float(value)
        if not (math.isfinite(value) and 0.0 < value <= 1.0):
            raise ParameterError(
                f"network.downscaling.{name} = {value:g} is outside (0, 1]: scales are fractions of the "
                f"full-scale model (1 = full scale, 0.005 = the published laptop example). Up-scaling "
                f"beyond the full model and non-positive scales are not supported."
            )
        values.append(value)
    if scaling_type not in SCALING_SCHEMES:
        raise ParameterError(
            f"network.downscaling.scaling_type {scaling_type!r} is unknown; valid types: {', '.join(SCALING_SCHEMES)}."
        )
    return values[0], values[1]


# ---------------------------------------------------------------------------------------------
# Full-scale rates


def full_scale_rates_series(source):
    """The full-scale rate Series (index area/layer/population, spikes/s) named by ``source``.

    ``base_theory_rates`` is the shipped pickle ``simulated_data/base_theory_rates.pkl``; a path to a
    pickled pandas Series of the same layout is also accepted; a Series is returned as is.
    """
    import pandas as pd

    if isinstance(source, pd.Series):
        return source
    if source == THEORY_RATES:
        raise ParameterError(
            f"full_scale_rates '{THEORY_RATES}' is computed from the full-scale network "
            f"(see full_scale_theory_rates), not read from a file."
        )
    if source == BASE_THEORY_RATES:
        from .data import data_path

        path = data_path(BASE_THEORY_RATES_FILE)
    else:
        path = Path(str(source)).expanduser()
        if not path.is_file():
            raise ParameterError(
                f"network.downscaling.full_scale_rates {source!r} is neither '{BASE_THEORY_RATES}' nor an existing "
                f"file with a pickled pandas Series of rates (index area, layer, population)."
            )
    series = pd.read_pickle(path)
    if not isinstance(series, pd.Series):
        raise ParameterError(f"{path} must hold a pandas Series of rates, not {type(series).__name__}.")
    return series


def rates_series_to_array(series, neuron_numbers: np.ndarray) -> np.ndarray:
    """Map a rate Series keyed by (area, layer, population) onto the 272 canonical populations.

    Populations without neurons get 0. A population with neurons that has no (finite) rate in the
    Series is an error, as is a key that is not a population key.
    """
    rates = np.zeros(tables.N_POPULATIONS)
    known = np.zeros(tables.N_POPULATIONS, dtype=bool)
    for key, value in series.items():
        if not (isinstance(key, tuple) and len(key) == 3):
            raise ParameterError(f"Full-scale rates must be indexed by (area, layer, population); found key {key!r}.")
        index = tables.population_index(*key)
        rates[index] = float(value)
        known[index] = True
    nonempty = np.asarray(neuron_numbers) > 0
    missing = np.flatnonzero(nonempty & ~(known & np.isfinite(rates)))
    if missing.size:
        names = ", ".join("/".join(tables.POPULATIONS[i]) for i in missing[:10])
        raise ParameterError(
            f"The full-scale rates lack a finite rate for {missing.size} non-empty population(s): {names}"
            f"{' ...' if missing.size > 10 else ''}. The DC compensation of down-scaling needs a rate for every "
            f"population that has neurons."
        )
    return np.where(nonempty, rates, 0.0)


def full_scale_rates_array(source, neuron_numbers: np.ndarray) -> np.ndarray:
    """(272,) full-scale rates (spikes/s) from ``network.downscaling.full_scale_rates`` (a file source)."""
    return rates_series_to_array(full_scale_rates_series(source), neuron_numbers)


def rates_source(source, scaling_type: str):
    """The full-scale rate source actually used by ``scaling_type``.

    ``preserve_input_statistics`` needs rates consistent with its own parameters (chi etc.): there the
    section default ``base_theory_rates`` (the chi = 1 pickle of the published recipe) stands for
    ``theory``; a path still selects given rates. The published types use ``source`` as given.
    """
    if scaling_type == PRESERVE_INPUT_STATISTICS and source == BASE_THEORY_RATES:
        return THEORY_RATES
    return source


# ---------------------------------------------------------------------------------------------
# Scaling steps


def downscale_counts(neuron_numbers, synapses, synapses_external, n_scaling: float, k_scaling: float):
    """(N', S', S'_ext) = round(n N), round(n k S), round(n k S_ext), half to even, as int64.

    A population whose N' rounds to 0 has no neurons in the down-scaled network; its synapses (in
    both directions) and external synapses are set to 0 and a warning names it.
    """
    n_full = np.asarray(neuron_numbers)
    n_new = np.round(n_scaling * n_full).astype(np.int64)
    s_new = np.round(n_scaling * k_scaling * np.asarray(synapses)).astype(np.int64)
    s_ext_new = np.round(n_scaling * k_scaling * np.asarray(synapses_external)).astype(np.int64)
    vanished = (n_full > 0) & (n_new == 0)
    if vanished.any():
        names = ", ".join("/".join(tables.POPULATIONS[i]) for i in np.flatnonzero(vanished))
        warnings.warn(
            f"n_scaling = {n_scaling:g} leaves {int(vanished.sum())} population(s) without neurons ({names}); "
            f"they and their synapses are left out of the down-scaled network.",
            stacklevel=2,
        )
    empty = n_new == 0
    s_new[empty, :] = 0
    s_new[:, empty] = 0
    s_ext_new[empty] = 0
    return n_new, s_new, s_ext_new


def per_neuron(counts, neuron_numbers) -> np.ndarray:
    """counts / N of the target (rows for matrices); 0 where N = 0."""
    counts = np.asarray(counts, dtype=float)
    n = np.asarray(neuron_numbers)
    n = n[:, None] if counts.ndim == 2 else n
    return np.divide(counts, n, out=np.zeros(counts.shape), where=n > 0)


def psp_per_psc(C_m_pF, tau_m_ms, tau_syn_ms):
    """PSP peak (mV) per pA of PSC in ``iaf_psc_exp``: tau_m / (C_m eps^(-1/(1-eps))), eps = tau_syn/tau_m."""
    return np.asarray(tau_m_ms, dtype=float) / (np.asarray(C_m_pF, dtype=float) * psp_peak_factor(tau_syn_ms, tau_m_ms))


def published_dc_drive_pA(*, weights_pA, weights_ext_pA, indegrees, indegree_ext, rate_ext_hz, full_scale_rates_hz,
                          neuron_params: dict, weight_divisor: float, nonempty) -> np.ndarray:
    """DC compensation of §6.3 (pA per population; 0 for empty populations).

    ``weights_pA``, ``weights_ext_pA``, ``indegrees`` and ``indegree_ext`` are the down-scaled values;
    PSP conversion uses the target's C_m, tau_m and tau_syn,ex for every input (docs/quirks.md Q12).
    """
    p = neuron_params
    tau_m, C_m = p["tau_m_ms"], p["C_m_pF"]
    to_psp = psp_per_psc(C_m, tau_m, p["tau_syn_ex_ms"])
    j_psp_ext = weights_ext_pA * to_psp
    j_psp = weights_pA * to_psp[:, None]
    x_ext = 1e-3 * tau_m * j_psp_ext * indegree_ext * rate_ext_hz
    x_rec = 1e-3 * tau_m * np.sum(j_psp * indegrees * full_scale_rates_hz[None, :], axis=1)
    dc = (C_m / tau_m) * (1.0 - weight_divisor) * (x_ext + x_rec)
    return np.where(nonempty, dc, 0.0)


def published_scheme(*, neuron_numbers, synapses, synapses_external, weights_pA, weights_sd_pA, weights_ext_pA,
                     weights_ext_sd_pA, rate_ext_hz, neuron_params, full_scale_rates_hz, n_scaling, k_scaling,
                     weight_divisor) -> DownscaledNetwork:
    """The published down-scaling (§6.2–6.3) with weight divisor f (k for linear, sqrt(k) for sqrt)."""
    n_new, s_new, s_ext_new = downscale_counts(neuron_numbers, synapses, synapses_external, n_scaling, k_scaling)
    nonempty = n_new > 0
    weights_new = np.asarray(weights_pA, dtype=float) / weight_divisor
    weights_ext_new = np.asarray(weights_ext_pA, dtype=float) / weight_divisor
    indegrees = per_neuron(s_new, n_new)
    indegree_ext = per_neuron(s_ext_new, n_new)
    rate_ext = np.where(nonempty, rate_ext_hz, 0.0)
    dc = published_dc_drive_pA(
        weights_pA=weights_new, weights_ext_pA=weights_ext_new, indegrees=indegrees, indegree_ext=indegree_ext,
        rate_ext_hz=rate_ext, full_scale_rates_hz=np.asarray(full_scale_rates_hz, dtype=float),
        neuron_params=neuron_params, weight_divisor=weight_divisor, nonempty=nonempty,
    )
    return DownscaledNetwork(
        neuron_numbers=n_new, synapses=s_new, synapses_external=s_ext_new,
        weights_pA=weights_new, weights_sd_pA=np.asarray(weights_sd_pA, dtype=float) / weight_divisor,
        weights_ext_pA=weights_ext_new, weights_ext_sd_pA=np.asarray(weights_ext_sd_pA, dtype=float) / weight_divisor,
        indegree_ext=indegree_ext, poisson_rate_hz=rate_ext * indegree_ext, dc_drive_pA=dc,
        weight_divisor=weight_divisor,
    )


def synaptic_time_constants_ms(neuron_params: dict) -> np.ndarray:
    """(272, 272) tau_syn of every recurrent input (rows target): the target's tau_syn,ex for excitatory
    sources, tau_syn,in for inhibitory ones (as in the theory, §9.2)."""
    ex = np.asarray(neuron_params["tau_syn_ex_ms"], dtype=float)[:, None]
    inh = np.asarray(neuron_params["tau_syn_in_ms"], dtype=float)[:, None]
    return np.where(POPULATION_IS_EXCITATORY[None, :], ex, inh)


def preserving_dc_drive_pA(*, weights_pA, indegrees, weights_scaled_pA, indegrees_scaled, full_scale_rates_hz,
                           neuron_params: dict, nonempty) -> np.ndarray:
    """DC of ``preserve_input_statistics`` (pA; 0 for empty populations):
    I_DC,i = sum_j (K_ij J_ij - K'_ij J'_ij) tau_syn,ij[s] nu_j[1/s], i.e. (C_m/tau_m) (mu^full - mu^scaled)
    of §9.3 (derivation in the module docstring)."""
    tau_syn_s = synaptic_time_constants_ms(neuron_params) * 1e-3
    lost = np.asarray(indegrees, dtype=float) * np.asarray(weights_pA, dtype=float) \
        - np.asarray(indegrees_scaled, dtype=float) * np.asarray(weights_scaled_pA, dtype=float)
    dc = (lost * tau_syn_s) @ np.asarray(full_scale_rates_hz, dtype=float)
    return np.where(nonempty, dc, 0.0)


def variance_preserving_factor(indegrees_full, indegrees_scaled, weight_divisor: float) -> np.ndarray:
    """(272, 272) weight factor sqrt(K_ij / K'_ij) of ``preserve_input_statistics``, so that
    K'_ij (J_ij factor_ij)^2 = K_ij J_ij^2; 1 / ``weight_divisor`` (1 / sqrt(k)) where K'_ij = 0."""
    full = np.asarray(indegrees_full, dtype=float)
    scaled = np.asarray(indegrees_scaled, dtype=float)
    ratio = np.divide(full, scaled, out=np.full(full.shape, 1.0 / weight_divisor**2), where=scaled > 0)
    return np.sqrt(ratio)


def preserving_scheme(*, neuron_numbers, synapses, synapses_external, weights_pA, weights_sd_pA, weights_ext_pA,
                      weights_ext_sd_pA, rate_ext_hz, neuron_params, full_scale_rates_hz, n_scaling, k_scaling,
                      weight_divisor) -> DownscaledNetwork:
    """``preserve_input_statistics``: mean and variance of every population's input kept at the
    full-scale rates (module docstring). ``weight_divisor`` is the nominal sqrt(k); recurrent weights
    get the exact per-projection factor sqrt(K / K') (:func:`variance_preserving_factor`)."""
    n_new, s_new, s_ext_new = downscale_counts(neuron_numbers, synapses, synapses_external, n_scaling, k_scaling)
    nonempty = n_new > 0
    indegrees_full = per_neuron(synapses, neuron_numbers)
    indegrees_new = per_neuron(s_new, n_new)
    factor = variance_preserving_factor(indegrees_full, indegrees_new, weight_divisor)
    weights_new = np.asarray(weights_pA, dtype=float) * factor
    indegree_ext_full = np.where(nonempty, per_neuron(synapses_external, neuron_numbers), 0.0)
    rate_ext = np.where(nonempty, rate_ext_hz, 0.0)
    dc = preserving_dc_drive_pA(
        weights_pA=weights_pA, indegrees=indegrees_full, weights_scaled_pA=weights_new,
        indegrees_scaled=indegrees_new, full_scale_rates_hz=full_scale_rates_hz, neuron_params=neuron_params,
        nonempty=nonempty,
    )
    return DownscaledNetwork(
        neuron_numbers=n_new, synapses=s_new, synapses_external=s_ext_new,
        weights_pA=weights_new, weights_sd_pA=np.asarray(weights_sd_pA, dtype=float) * factor,
        weights_ext_pA=np.asarray(weights_ext_pA, dtype=float).copy(),
        weights_ext_sd_pA=np.asarray(weights_ext_sd_pA, dtype=float).copy(),
        indegree_ext=indegree_ext_full, poisson_rate_hz=rate_ext * indegree_ext_full, dc_drive_pA=dc,
        weight_divisor=weight_divisor,
    )


#: scaling_type -> (weight divisor f as a function of k, scheme). Published: linear and sqrt;
#: preserve_input_statistics divides recurrent weights only, by sqrt(k).
SCALING_SCHEMES: dict[str, tuple[Callable[[float], float], Callable[..., DownscaledNetwork]]] = {
    "linear": (weight_divisor_linear, published_scheme),
    "sqrt": (weight_divisor_sqrt, published_scheme),
    PRESERVE_INPUT_STATISTICS: (weight_divisor_sqrt, preserving_scheme),
}


def downscale(*, neuron_numbers, synapses, synapses_external, weights_pA, weights_sd_pA, weights_ext_pA,
              weights_ext_sd_pA, rate_ext_hz, neuron_params, full_scale_rates_hz, n_scaling, k_scaling,
              scaling_type: str = "linear") -> DownscaledNetwork:
    """Down-scale full-scale counts, weights and drive with the scheme named by ``scaling_type``.

    Inputs are the full-scale values after all weight factors and SDs (§5.8 steps 1–9), in
    canonical order; ``rate_ext_hz`` is the rate per external synapse and ``full_scale_rates_hz``
    the (272,) full-scale population rates (0 for empty populations).
    """
    n_scaling, k_scaling = check_scales(n_scaling, k_scaling, scaling_type)
    divisor, scheme = SCALING_SCHEMES[scaling_type]
    return scheme(
        neuron_numbers=neuron_numbers, synapses=synapses, synapses_external=synapses_external, weights_pA=weights_pA,
        weights_sd_pA=weights_sd_pA, weights_ext_pA=weights_ext_pA, weights_ext_sd_pA=weights_ext_sd_pA,
        rate_ext_hz=rate_ext_hz, neuron_params=neuron_params, full_scale_rates_hz=full_scale_rates_hz,
        n_scaling=n_scaling, k_scaling=k_scaling, weight_divisor=divisor(k_scaling),
    )


def downscale_network(full: Network, full_scale_rates_hz: np.ndarray, n_scaling: float, k_scaling: float,
                      scaling_type: str = "linear") -> Network:
    """The down-scaled copy of the full-scale network ``full`` (§6; step 10 of §5.8).

    ``full_scale_rates_hz`` are the (272,) full-scale population rates of the DC compensation (0 for
    empty populations). The full-scale counts and rates are kept in the ``*_full_scale`` fields.
    Raises ParameterError when a perturbed population has no neurons left.
    """
    scaled = downscale(
        neuron_numbers=full.neuron_numbers, synapses=full.synapses, synapses_external=full.synapses_external,
        weights_pA=full.weights_pA, weights_sd_pA=full.weights_sd_pA, weights_ext_pA=full.weights_ext_pA,
        weights_ext_sd_pA=full.weights_ext_sd_pA, rate_ext_hz=full.rate_ext_hz, neuron_params=full.neuron_params,
        full_scale_rates_hz=full_scale_rates_hz, n_scaling=n_scaling, k_scaling=k_scaling, scaling_type=scaling_type,
    )
    lost = [i for i in full.perturbation["population_index"].tolist() if scaled.neuron_numbers[i] == 0]
    if lost:
        names = ", ".join("/".join(tables.POPULATIONS[i]) for i in lost)
        raise ParameterError(
            f"network.perturbation targets {names}, which has no neurons after down-scaling with "
            f"n_scaling = {n_scaling:g}. Use a larger n_scaling or another population."
        )
    return dataclasses.replace(
        full,
        neuron_numbers=scaled.neuron_numbers, synapses=scaled.synapses, synapses_external=scaled.synapses_external,
        weights_pA=scaled.weights_pA, weights_sd_pA=scaled.weights_sd_pA,
        weights_ext_pA=scaled.weights_ext_pA, weights_ext_sd_pA=scaled.weights_ext_sd_pA,
        indegree_ext=scaled.indegree_ext, poisson_rate_hz=scaled.poisson_rate_hz, dc_drive_pA=scaled.dc_drive_pA,
        rate_ext_hz=np.where(scaled.neuron_numbers > 0, full.rate_ext_hz, 0.0),
        n_scaling=float(n_scaling), k_scaling=float(k_scaling), scaling_type=str(scaling_type),
        weight_divisor=scaled.weight_divisor,
        neuron_numbers_full_scale=full.neuron_numbers, synapses_full_scale=full.synapses,
        synapses_external_full_scale=full.synapses_external,
        full_scale_rates_hz=np.asarray(full_scale_rates_hz, dtype=float),
    )
