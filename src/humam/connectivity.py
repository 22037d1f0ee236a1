"""Predictive connectomics -> synapse numbers (docs/model.md §4).

Every area receives rho_syn * A * T_D synapses. A fraction FLN originates inside the area and is
split into local synapses between the modelled populations (type I) and external synapses that are
replaced by Poisson input (type II); the rest arrives from the other areas (type III) in
proportion to the DTI streamline counts. The laminar pattern of the cortico-cortical synapses
follows the SLN predicted from the ratio of the mean neuron densities.

Arrays follow the canonical area order :data:`humam.tables.AREAS`; matrices are indexed rows =
target, columns = source. Population-resolved arrays use the canonical population order
(:data:`humam.tables.POPULATIONS`). Rounding is round half to even at every stage the
specification names (area level, population level), and the final matrices are int64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from . import lateral_integrals
from .cytoarchitecture import Cytoarchitecture
from .errors import ParameterError
from .inputs import read_area_connectivity
from .tables import (
    AREAS,
    LAYERS_WITH_I,
    N_POPULATIONS_PER_AREA,
    PD_K_EXT,
    AREA_POPULATION_IS_EXCITATORY,
    TARGET_CELL_MATRIX,
    pd_synapses_per_pair,
)

FEEDFORWARD = "FF"
LATERAL = "lateral"
FEEDBACK = "FB"

_LAYER_I, _LAYER_23, _LAYER_4, _LAYER_5, _LAYER_6 = range(len(LAYERS_WITH_I))
#: Target layers (columns of LAYERS_WITH_I) of feedback and lateral cortico-cortical input.
FEEDBACK_TARGET_LAYERS = (_LAYER_I, _LAYER_23, _LAYER_5, _LAYER_6)
LATERAL_TARGET_LAYERS = (_LAYER_I, _LAYER_23, _LAYER_4, _LAYER_5, _LAYER_6)
#: Projecting source populations (indices among 23E..6I): 23E, 5E, 6E.
_SOURCE_23E, _SOURCE_5E, _SOURCE_6E = 0, 4, 6


@dataclass(frozen=True)
class Connectome:
    """Synapse numbers of the full-scale model (canonical order, rows target, columns source)."""

    nos: np.ndarray  #: (34, 34) DTI streamline counts C_R
    distance_mm: np.ndarray  #: (34, 34) fibre lengths (mm)
    volume_mm3: np.ndarray  #: (34,) area volumes (mm^3)
    surface_mm2: np.ndarray  #: (34,) Surf_D = Vol_D / T_D (mm^2)
    area_synapses: np.ndarray  #: (34, 34) int64 N^CC, area-level synapse numbers
    sln: np.ndarray  #: (34, 34) fraction of supragranular labelled neurons (diagonal unused)
    directionality: np.ndarray  #: (34, 34) str: "FF", "lateral", "FB", "" if unconnected or diagonal
    local_fraction: np.ndarray  #: (34,) P_in / (P_in + P_out)
    local_synapses_area: np.ndarray  #: (34,) N^I_D, type-I (local) synapses, unrounded
    external_synapses_area: np.ndarray  #: (34,) N^II_D, type-II (external) synapses, unrounded
    synapses: np.ndarray  #: (272, 272) int64, internal synapse numbers
    synapses_external: np.ndarray  #: (272,) int64, external synapse numbers


# ---------------------------------------------------------------------------------------------
# Area level (§4.2, §4.3)


def area_synapse_budget(total_thickness_mm: np.ndarray, synapse_density_per_mm3: float,
                        column_area_mm2: float = 1.0) -> np.ndarray:
    """S_D = rho_syn * A * T_D: synapses received by the column of each area."""
    return synapse_density_per_mm3 * column_area_mm2 * total_thickness_mm


def area_surface(volume_mm3: np.ndarray, total_thickness_mm: np.ndarray) -> np.ndarray:
    """Surf_D = Vol_D / T_D (mm^2)."""
    return volume_mm3 / total_thickness_mm


def area_level_synapses(budget: np.ndarray, nos: np.ndarray, fln: float) -> np.ndarray:
    """N^CC (int64, rows target): round(S_t (1 - FLN) NOS_ts / sum_s' NOS_ts') off the diagonal,
    round(FLN S_t) on it."""
    nos_total = nos.sum(axis=1)
    off_diagonal = np.zeros_like(nos, dtype=np.float64)
    received = nos_total > 0
    off_diagonal[received] = budget[received, None] * (1 - fln) * nos[received] / nos_total[received, None]
    np.fill_diagonal(off_diagonal, 0.0)
    counts = np.round(off_diagonal)
    np.fill_diagonal(counts, np.round(fln * budget))
    return counts.astype(np.int64)


def sln_matrix(mean_density_per_mm3: np.ndarray, a0: float, a1: float) -> np.ndarray:
    """SLN_ts = Phi(a0 + a1 ln(rho_bar_t / rho_bar_s)) (natural log, standard normal CDF)."""
    ratio = mean_density_per_mm3[:, None] / mean_density_per_mm3[None, :]
    return ndtr(a0 + a1 * np.log(ratio))


def directionality(sln: np.ndarray, nos: np.ndarray, sln_ff: float, sln_fb: float) -> np.ndarray:
    """Label of every connected ordered pair (NOS > 0, t != s): FB if SLN < sln_fb, FF if
    SLN >= sln_ff, lateral otherwise; "" elsewhere."""
    labels = np.full(sln.shape, "", dtype="<U7")
    connected = nos > 0
    np.fill_diagonal(connected, False)
    labels[connected] = LATERAL
    labels[connected & (sln < sln_fb)] = FEEDBACK
    labels[connected & (sln >= sln_ff)] = FEEDFORWARD
    return labels


# ---------------------------------------------------------------------------------------------
# Intra-area synapses: type I (local) and type II (external) (§4.4-§4.6)


def local_external_split(total_thickness_mm: np.ndarray, surface_mm2: np.ndarray, lambda_um: float,
                         epsrel: float):
    """(P_in, P_out) of the lateral connection profile for every area (§4.4)."""
    return lateral_integrals.split_integrals_many(total_thickness_mm, surface_mm2, lambda_um=lambda_um, epsrel=epsrel)


def local_synapses(neurons: np.ndarray, local_synapses_area: np.ndarray, synapses_per_pair: np.ndarray) -> np.ndarray:
    """Local blocks S[(D,i),(D,j)] = round(w_ij N^I_D), w_ij = p_ij N_i N_j / sum_kl p_kl N_k N_l.

    ``neurons`` is (34, 8) (area, 23E..6I); returns float (34, 8, 8) holding rounded values.
    Areas without neurons get zero blocks.
    """
    n = neurons.astype(np.float64)
    weight = synapses_per_pair[None, :, :] * n[:, :, None] * n[:, None, :]
    total = weight.reshape(len(n), -1).sum(axis=1)
    share = np.divide(weight, total[:, None, None], out=np.zeros_like(weight), where=total[:, None, None] > 0)
    return np.round(share * local_synapses_area[:, None, None])


def external_synapses(neurons: np.ndarray, external_synapses_area: np.ndarray,
                      k_ext: np.ndarray = PD_K_EXT) -> np.ndarray:
    """S_ext[(D,i)] = round(w_i N^II_D), w_i = K_ext,i N_i / sum_k K_ext,k N_k; float (34, 8)."""
    n = neurons.astype(np.float64)
    weight = k_ext[None, :] * n
    total = weight.sum(axis=1)
    share = np.divide(weight, total[:, None], out=np.zeros_like(weight), where=total[:, None] > 0)
    return np.round(share * external_synapses_area[:, None])


# ---------------------------------------------------------------------------------------------
# Cortico-cortical (type III) synapses (§4.7)


def layer5_share(density_per_mm3: np.ndarray, thickness_mm: np.ndarray) -> np.ndarray:
    """r = rho_{V,E} d_V / (rho_{V,E} d_V + rho_{VI,E} d_VI) per area: the 5E share of the
    infragranular projection, from densities and thicknesses (not rounded neuron numbers)."""
    five = density_per_mm3[:, 2, 0] * thickness_mm[:, _LAYER_5]
    six = density_per_mm3[:, 3, 0] * thickness_mm[:, _LAYER_6]
    return five / (five + six)


def source_pattern(sln: float, r: float) -> np.ndarray:
    """X over the 8 source populations: 23E = SLN, 5E = (1 - SLN) r, 6E = (1 - SLN)(1 - r)."""
    x = np.zeros(N_POPULATIONS_PER_AREA)
    x[_SOURCE_23E] = sln
    x[_SOURCE_5E] = (1 - sln) * r
    x[_SOURCE_6E] = (1 - sln) * (1 - r)
    return x


def target_layers(sln: float, thickness_mm: np.ndarray, sln_ff: float, sln_fb: float) -> tuple[int, ...]:
    """Target layers P_t (columns of LAYERS_WITH_I): [IV] (or [II/III] without layer IV) if
    SLN > sln_ff (strict), [I, II/III, V, VI] if SLN < sln_fb, all layers otherwise."""
    if sln > sln_ff:
        return (_LAYER_4,) if thickness_mm[_LAYER_4] > 0 else (_LAYER_23,)
    if sln < sln_fb:
        return FEEDBACK_TARGET_LAYERS
    return LATERAL_TARGET_LAYERS


def target_pattern(layers: tuple[int, ...], thickness_mm: np.ndarray, neurons: np.ndarray,
                   target_cells: np.ndarray = TARGET_CELL_MATRIX) -> np.ndarray:
    """q over the 8 target populations: q_i = sum_L Y[L] M[i, L] with Y[L] = d_L / sum_{P_t} d,
    zero for empty populations, renormalised to sum 1."""
    selected = 0.0
    for layer in layers:
        selected += thickness_mm[layer]
    if not selected > 0:
        raise ValueError(f"all target layers {[LAYERS_WITH_I[k] for k in layers]} have zero thickness")
    y = np.zeros(len(LAYERS_WITH_I))
    for layer in layers:
        y[layer] = thickness_mm[layer] / selected
    q = np.zeros(N_POPULATIONS_PER_AREA)
    for layer in range(len(LAYERS_WITH_I)):
        q = q + y[layer] * target_cells[:, layer]
    q[neurons == 0] = 0.0
    total = q.sum()
    if not total > 0:
        raise ValueError("no non-empty target population receives synapses")
    return q / total


def feedback_rule(pair_synapses: np.ndarray, z_i: float) -> np.ndarray:
    """Rescale a feedback block so that a fraction Z_i of its synapses targets E cells."""
    alpha_e = pair_synapses[AREA_POPULATION_IS_EXCITATORY].sum() / pair_synapses.sum()
    alpha_i = 1 - alpha_e
    scaled = pair_synapses.copy()
    if alpha_e > 0:
        scaled[AREA_POPULATION_IS_EXCITATORY] *= z_i / alpha_e
    if alpha_i > 0:
        scaled[~AREA_POPULATION_IS_EXCITATORY] *= (1 - z_i) / alpha_i
    return scaled


def cortico_cortical_synapses(area_synapses: np.ndarray, sln: np.ndarray, r: np.ndarray, thickness_mm: np.ndarray,
                              neurons: np.ndarray, z_i: float, sln_ff: float, sln_fb: float) -> np.ndarray:
    """Population blocks of the inter-area synapses, float (34, 34, 8, 8) holding rounded values.

    For every ordered pair t != s with N^CC_ts > 0: T_ij = N^CC_ts q_i X_j (source pattern X from
    SLN and r of the source, target pattern q from the post-removal thicknesses and neuron
    numbers of the target), feedback pairs (SLN < sln_fb) rescaled by the Z_i rule, then rounded.
    ``neurons`` is (34, 8).
    """
    n_areas = len(area_synapses)
    blocks = np.zeros((n_areas, n_areas, N_POPULATIONS_PER_AREA, N_POPULATIONS_PER_AREA))
    for t, s in zip(*np.nonzero(area_synapses)):
        if t == s:
            continue
        x = source_pattern(sln[t, s], r[s])
        layers = target_layers(sln[t, s], thickness_mm[t], sln_ff, sln_fb)
        try:
            q = target_pattern(layers, thickness_mm[t], neurons[t])
        except ValueError as exc:
            raise ParameterError(f"Cannot place the synapses from {AREAS[s]} onto {AREAS[t]}: {exc}.") from None
        pair = area_synapses[t, s] * q[:, None] * x[None, :]
        if sln[t, s] < sln_fb:
            pair = feedback_rule(pair, z_i)
        blocks[t, s] = np.round(pair)
    return blocks


# ---------------------------------------------------------------------------------------------
# Assembly (§4.8)


def assemble(local_blocks: np.ndarray, cc_blocks: np.ndarray) -> np.ndarray:
    """The (272, 272) int64 internal matrix: local blocks on the diagonal, inter-area blocks off it."""
    blocks = cc_blocks.copy()
    for a in range(len(local_blocks)):
        blocks[a, a] = local_blocks[a]
    n = blocks.shape[0] * blocks.shape[2]
    return blocks.transpose(0, 2, 1, 3).reshape(n, n).astype(np.int64)


_CONNECTIVITY_KEYS = ("fln", "synapse_density_per_mm3", "z_i", "sln_ff", "sln_fb", "lambda_um", "sln_a0", "sln_a1",
                      "integral_epsrel")


def _check_params(params: dict) -> dict:
    missing = [key for key in _CONNECTIVITY_KEYS if key not in params]
    if missing:
        raise ParameterError(f"network.connectivity lacks the parameter(s) {', '.join(missing)}.")
    for key in ("fln", "z_i", "sln_ff", "sln_fb"):
        if not 0 <= float(params[key]) <= 1:
            raise ParameterError(f"network.connectivity.{key} = {params[key]} must lie in [0, 1].")
    if not params["sln_fb"] <= params["sln_ff"]:
        raise ParameterError("network.connectivity.sln_fb must not exceed sln_ff.")
    for key in ("synapse_density_per_mm3", "lambda_um", "integral_epsrel"):
        if not float(params[key]) > 0:
            raise ParameterError(f"network.connectivity.{key} = {params[key]} must be positive.")
    return params


def build_connectome(cyto: Cytoarchitecture, params: dict) -> Connectome:
    """Synapse numbers of all population pairs (docs/model.md §4).

    ``params`` is the ``network.connectivity`` section of the parameters.
    """
    params = _check_params(params)
    data = read_area_connectivity()
    thickness = cyto.total_thickness_mm
    neurons = cyto.neuron_numbers.reshape(len(AREAS), N_POPULATIONS_PER_AREA)

    budget = area_synapse_budget(thickness, params["synapse_density_per_mm3"], cyto.column_area_mm2)
    surface = area_surface(data.volume_mm3, thickness)
    n_cc = area_level_synapses(budget, data.nos, params["fln"])
    sln = sln_matrix(cyto.mean_density_per_mm3, params["sln_a0"], params["sln_a1"])

    p_in, p_out = local_external_split(thickness, surface, params["lambda_um"], params["integral_epsrel"])
    p_in = np.asarray(p_in, dtype=np.float64)
    p_out = np.asarray(p_out, dtype=np.float64)
    intra = np.diagonal(n_cc).astype(np.float64)
    local_area = p_in / (p_in + p_out) * intra
    external_area = p_out / (p_in + p_out) * intra

    local = local_synapses(neurons, local_area, pd_synapses_per_pair())
    external = external_synapses(neurons, external_area)
    cc = cortico_cortical_synapses(
        n_cc, sln, layer5_share(cyto.density_per_mm3, cyto.thickness_mm), cyto.thickness_mm, neurons,
        params["z_i"], params["sln_ff"], params["sln_fb"],
    )
    return Connectome(
        nos=data.nos,
        distance_mm=data.distance_mm,
        volume_mm3=data.volume_mm3,
        surface_mm2=surface,
        area_synapses=n_cc,
        sln=sln,
        directionality=directionality(sln, data.nos, params["sln_ff"], params["sln_fb"]),
        local_fraction=p_in / (p_in + p_out),
        local_synapses_area=local_area,
        external_synapses_area=external_area,
        synapses=assemble(local, cc),
        synapses_external=external.reshape(-1).astype(np.int64),
    )
