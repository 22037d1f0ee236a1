"""Synaptic input currents of the areas (docs/model.md §8.9)."""

from __future__ import annotations

import numpy as np

from .. import tables
from ..tables import POPULATION_IS_EXCITATORY


def current_kernel(tau_ms: float, dt_ms: float = 0.1, samples: int = 400) -> np.ndarray:
    """Causal unit-sum exponential kernel exp(-t/τ) sampled at t = 0, dt, ..., (samples-1) dt."""
    kernel = np.exp(-np.arange(samples) * float(dt_ms) / float(tau_ms))
    return kernel / kernel.sum()


def area_synaptic_currents(population_histogram: np.ndarray, weights_pA: np.ndarray, indegrees: np.ndarray,
                           neuron_numbers: np.ndarray, tau_syn_ms: np.ndarray, dt_ms: float = 0.1,
                           kernel_samples: int = 400) -> np.ndarray:
    """(34, T) area synaptic input currents in pA (§8.9).

    ``population_histogram`` (272, T) is the rate histogram of §8.7 in spikes/ms per neuron (1 ms
    bins), ``tau_syn_ms`` (272,) the synaptic time constant of each *source* population. For source j,
    PSC_j = (τ_j h_j) ⊛ k_j with the kernel of :func:`current_kernel` sampled on the ``dt_ms`` grid but
    applied to the 1 ms bins (docs/quirks.md Q16), truncated to the input length. Target i receives
    c_i = Σ_j |J_ij| K_ij PSC_j and the area signal is Σ_{i∈A} N_i c_i / Σ_{i∈A} N_i. Convolution is
    linear, so the area sums are formed before convolving (one convolution per area and τ value).
    """
    h = np.asarray(population_histogram, dtype=float)
    n = np.asarray(neuron_numbers, dtype=float)
    coupling = np.abs(np.asarray(weights_pA, dtype=float)) * np.asarray(indegrees, dtype=float)  # (272, 272)
    area_of = np.arange(tables.N_POPULATIONS) // tables.N_POPULATIONS_PER_AREA
    membership = np.zeros((tables.N_AREAS, tables.N_POPULATIONS))
    membership[area_of, np.arange(tables.N_POPULATIONS)] = n
    membership /= membership.sum(axis=1, keepdims=True)
    area_coupling = membership @ coupling  # (34, 272): Σ_{i∈A} N_i |J_ij| K_ij / N_A
    tau = np.asarray(tau_syn_ms, dtype=float)
    currents = np.zeros((tables.N_AREAS, h.shape[1]))
    for value in np.unique(tau[n > 0]):
        sources = (tau == value) & (n > 0)
        drive = area_coupling[:, sources] @ (value * h[sources])
        kernel = current_kernel(value, dt_ms, kernel_samples)
        currents += causal_convolve(drive, kernel)
    return currents


def causal_convolve(signals: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """out[..., n] = Σ_m kernel[m] signals[..., n - m] for n < T (the first T samples of the full
    convolution along the last axis), computed by FFT."""
    signals = np.asarray(signals, dtype=float)
    length = signals.shape[-1]
    n_fft = 1 << max(0, int(length + kernel.size - 2).bit_length())
    spectrum = np.fft.rfft(signals, n_fft, axis=-1) * np.fft.rfft(kernel, n_fft)
    return np.fft.irfft(spectrum, n_fft, axis=-1)[..., :length]


def source_tau_syn_ms(net) -> np.ndarray:
    """(272,) synaptic time constant of each source population: τ_syn,ex for E, τ_syn,in for I."""
    p = net.neuron_params
    return np.where(POPULATION_IS_EXCITATORY, p["tau_syn_ex_ms"], p["tau_syn_in_ms"])
