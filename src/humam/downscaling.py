"""Down-scaling of the network (spec §6): the published scheme.

With neuron scale n and indegree scale k (both in (0, 1]):

* N' = round(n N), S' = round(n k S) and S'_ext = round(n k S_ext), rounding half to even;
* J' = J / f, J'_ext = J_ext / f and both weight SDs divided by f, with f = k (``linear``,
  default) or f = sqrt(k) (``sqrt``, the classical van Albada et al. 2015 scheme);
* K' = S'/N' and K'_ext = S'_ext/N'; the rate per external synapse nu_ext is kept, so the
  Poisson rate per neuron becomes nu_ext K'_ext;
* a DC current per population (published recipe, quirk Q12):
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
:func:`published_scheme`, so further types (e.g. one that preserves the input statistics) register
there.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import tables
from .errors import ParameterError
from .network import psp_peak_factor

#: Name of the shipped full-scale rates (``simulated_data/base_theory_rates.pkl``).
BASE_THEORY_RATES = "base_theory_rates"
BASE_THEORY_RATES_FILE = "simulated_data/base_theory_rates.pkl"


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
    """(272,) full-scale rates (spikes/s) from ``network.downscaling.full_scale_rates``."""
    return rates_series_to_array(full_scale_rates_series(source), neuron_numbers)


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
    PSP conversion uses the target's C_m, tau_m and tau_syn,ex for every input (Q12).
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


#: scaling_type -> (weight divisor f as a function of k, scheme). Published: linear and sqrt.
SCALING_SCHEMES: dict[str, tuple[Callable[[float], float], Callable[..., DownscaledNetwork]]] = {
    "linear": (weight_divisor_linear, published_scheme),
    "sqrt": (weight_divisor_sqrt, published_scheme),
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
