"""Quantities drawn by more than one figure or the report (all matrices rows = target, columns = source)."""

from __future__ import annotations

import numpy as np

from humam import tables


def block_sum(matrix: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_groups, n_groups) sums of ``matrix`` over the blocks given by the group index of each row/column."""
    one_hot = np.zeros((matrix.shape[0], n_groups))
    one_hot[np.arange(matrix.shape[0]), groups] = 1.0
    return one_hot.T @ np.asarray(matrix, dtype=float) @ one_hot


def area_synapse_counts(synapses: np.ndarray, area_index: np.ndarray, n_areas: int = tables.N_AREAS) -> np.ndarray:
    """Area-level synapse counts: the sum of the population synapses S_ij between two areas."""
    return block_sum(synapses, area_index, n_areas)


def area_indegree_matrix(synapses: np.ndarray, neurons: np.ndarray, area_index: np.ndarray,
                         n_areas: int = tables.N_AREAS) -> np.ndarray:
    """Summed population indegree: entry (A, B) = Σ_{i∈A} Σ_{j∈B} S_ij / N_i (empty targets skipped)."""
    neurons = np.asarray(neurons, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        indegree = np.where(neurons[:, None] > 0, np.asarray(synapses, dtype=float) / neurons[:, None], 0.0)
    return block_sum(indegree, area_index, n_areas)


def outdegree_to_areas(synapses: np.ndarray, neurons: np.ndarray, area_index: np.ndarray,
                       n_areas: int = tables.N_AREAS) -> np.ndarray:
    """(n_areas, n_populations) outdegree out_{j→A} = Σ_{i∈A} S_ij / N_j (synapses per source neuron).

    Empty source populations get 0.
    """
    neurons = np.asarray(neurons, dtype=float)
    one_hot = np.zeros((n_areas, synapses.shape[0]))
    one_hot[area_index, np.arange(synapses.shape[0])] = 1.0
    to_area = one_hot @ np.asarray(synapses, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(neurons[None, :] > 0, to_area / neurons[None, :], 0.0)


def expected_autapses_per_neuron(synapses: np.ndarray, neurons: np.ndarray) -> np.ndarray:
    """Expected autapses per neuron of each population, S_ii / N_i² (NaN for empty populations).

    With fixed-total-number wiring, the S_ii recurrent synapses of population i fall uniformly on the
    N_i² ordered neuron pairs; N_i of those pairs are autapses, so population i expects S_ii / N_i
    autapses, i.e. S_ii / N_i² per neuron.
    """
    n = np.asarray(neurons, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, np.diag(synapses).astype(float) / n**2, np.nan)


def multapse_degree(synapses: np.ndarray, neurons: np.ndarray) -> np.ndarray:
    """m_ij = S_ij / (N_i N_j): expected synapses per ordered neuron pair; NaN where S_ij = 0."""
    n = np.asarray(neurons, dtype=float)
    s = np.asarray(synapses, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s > 0, s / np.outer(n, n), np.nan)


def mean_multapse_degree_per_target(synapses: np.ndarray, neurons: np.ndarray) -> np.ndarray:
    """Per target population i, the mean of m_ij over its sources j with S_ij > 0 (NaN if none)."""
    m = multapse_degree(synapses, neurons)
    counts = np.sum(np.isfinite(m), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counts > 0, np.nansum(m, axis=1) / counts, np.nan)


def multapse_fraction(m) -> np.ndarray:
    """Fraction of connected neuron pairs with ≥ 2 synapses for Poisson(m) synapses per pair:
    (1 − e^(−m)(1 + m)) / (1 − e^(−m))."""
    m = np.asarray(m, dtype=float)
    return (1.0 - np.exp(-m) * (1.0 + m)) / -np.expm1(-m)


def target_layer_probability() -> np.ndarray:
    """(4 cell layers L2/3..L6, 5 synapse layers I..VI) matrix M[(l,E), L] + M[(l,I), L] (docs/model.md §2.5)."""
    m = tables.TARGET_CELL_MATRIX
    return m[0::2] + m[1::2]


def pearson_r_log_rates(simulated_hz: np.ndarray, reference_hz: np.ndarray, selected: np.ndarray | None = None) -> float:
    """Pearson r of log10 population rates, over the ``selected`` populations (default all) where both
    rates are finite and positive."""
    simulated_hz, reference_hz = np.asarray(simulated_hz, dtype=float), np.asarray(reference_hz, dtype=float)
    both = np.isfinite(simulated_hz) & np.isfinite(reference_hz) & (simulated_hz > 0) & (reference_hz > 0)
    if selected is not None:
        both &= selected
    return float(np.corrcoef(np.log10(simulated_hz[both]), np.log10(reference_hz[both]))[0, 1])
