"""Cytoarchitecture -> neuron numbers (docs/model.md §3).

Layer thicknesses and neuron densities of the von Economo-Koskinas (vEK) areas are condensed to
the model layers, averaged over the vEK members of each Desikan-Killiany (DK) area, split into E
and I by per-layer fractions and turned into neuron numbers of a column of surface A.

Every step follows the evaluation order of the specification: thickness-weighted means
normalise their weights first (sum of rho * (d / sum d)), the E/I fraction multiplies the finished
vEK layer density, and neuron numbers round half to even. Exact .5 ties are frequent, so a
mathematically equivalent but differently rounded form changes published neuron numbers.

Array conventions: vEK arrays follow :data:`humam.tables.VEK_AREAS`, DK arrays follow the
canonical area order :data:`humam.tables.AREAS`; layer axes of length 5 are I..VI
(:data:`~humam.tables.LAYERS_WITH_I`), of length 4 II/III..VI (:data:`~humam.tables.LAYERS`);
population-type axes are (E, I).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import ParameterError
from .inputs import EI_FRACTION_FILES, read_ei_fractions, read_vek_sheet
from .tables import AREAS, LAYERS, LAYERS_WITH_I, VEK_AREAS, VEK_TO_DK


@dataclass(frozen=True)
class Cytoarchitecture:
    """Neuron numbers and layer structure of the 34 DK areas (canonical order), after layer removal."""

    neuron_numbers: np.ndarray  #: int64 (34, 4, 2) [area, layer II/III..VI, E/I]
    density_per_mm3: np.ndarray  #: float (34, 4, 2) population densities; 0 for dropped layers
    thickness_mm: np.ndarray  #: float (34, 5) layer thicknesses I..VI; 0 for dropped layers
    layer_I_neurons: np.ndarray  #: float (34,) layer-I neurons of a column of surface A
    total_thickness_mm: np.ndarray  #: float (34,) T_D, including layer I
    mean_density_per_mm3: np.ndarray  #: float (34,) rho_bar_D, from the rounded neuron numbers
    dropped_layers: tuple  #: ((area, layer, neurons before removal), ...)
    column_area_mm2: float = 1.0  #: surface A of the modelled column of every area


# ---------------------------------------------------------------------------------------------
# Step 2: vEK layer values


def _sequential_sum(values) -> float:
    """Sum in the given order (float64, left to right)."""
    total = 0.0
    for value in values:
        total += value
    return total


def thickness_weighted_mean(values, thickness) -> float:
    """sum_s values_s * (d_s / sum_s' d_s'): weights normalised first; 0 if sum d is 0 or empty."""
    total_thickness = _sequential_sum(thickness)
    if total_thickness == 0.0:
        return 0.0
    return _sequential_sum(v * (d / total_thickness) for v, d in zip(values, thickness))


def _groups_in_order(vek_table: pd.DataFrame, areas):
    for area in areas:
        yield area, vek_table[vek_table["vek_area"] == area]


def vek_layer_values(vek_table: pd.DataFrame, column_area_mm2: float = 1.0):
    """Layer thickness, layer density and layer-I neurons of every vEK area (§3.2 step 2).

    ``vek_table`` is :func:`humam.inputs.read_vek_sheet`. Returns

    * thickness_mm (51, 5): d_{v,L} = sum of the sub-layer thicknesses, layers I..VI;
    * density_per_mm3 (51, 5): rho_{v,L} = sum_s rho_s * (d_s / sum d), layers I..VI;
    * layer_I_neurons (51,): n^I_v = A * sum_{s in I} d_s rho_s.
    """
    thickness = np.zeros((len(VEK_AREAS), len(LAYERS_WITH_I)))
    density = np.zeros_like(thickness)
    layer_I_neurons = np.zeros(len(VEK_AREAS))
    for v, (area, rows) in enumerate(_groups_in_order(vek_table, VEK_AREAS)):
        for k, layer in enumerate(LAYERS_WITH_I):
            sub = rows[rows["layer"] == layer]
            d_s = sub["thickness_mm"].to_list()
            rho_s = sub["density_per_mm3"].to_list()
            thickness[v, k] = _sequential_sum(d_s)
            density[v, k] = thickness_weighted_mean(rho_s, d_s)
            if layer == "I":
                layer_I_neurons[v] = column_area_mm2 * _sequential_sum(d * rho for d, rho in zip(d_s, rho_s))
    return thickness, density, layer_I_neurons


def population_densities(layer_density_per_mm3: np.ndarray, e_fraction: np.ndarray) -> np.ndarray:
    """rho_{L,p} = f_p(L) * rho_L for the neuron layers II/III..VI; shape (..., 4, 2).

    ``layer_density_per_mm3`` has layers I..VI on its last axis; ``e_fraction`` is f_E for
    II/III..VI, and f_I = 1 - f_E is the float64 difference (not the exact decimal).
    """
    f_e = np.asarray(e_fraction, dtype=np.float64)
    f_i = 1.0 - f_e
    rho = layer_density_per_mm3[..., 1:]
    return np.stack([f_e * rho, f_i * rho], axis=-1)


# ---------------------------------------------------------------------------------------------
# Step 3: DK layer values


def dk_layer_values(vek_thickness_mm: np.ndarray, vek_population_density: np.ndarray,
                    vek_layer_I_neurons: np.ndarray):
    """Average the vEK members of every DK area (§3.2 step 3); areas in canonical order.

    Returns thickness_mm (34, 5) (arithmetic mean over members), density_per_mm3 (34, 4, 2)
    (thickness-weighted mean with normalised weights) and layer_I_neurons (34,) (mean).
    """
    thickness = np.zeros((len(AREAS), len(LAYERS_WITH_I)))
    density = np.zeros((len(AREAS), len(LAYERS), 2))
    layer_I_neurons = np.zeros(len(AREAS))
    for a, area in enumerate(AREAS):
        members = [VEK_AREAS.index(v) for v in VEK_TO_DK[area]]
        n = len(members)
        for k in range(len(LAYERS_WITH_I)):
            thickness[a, k] = _sequential_sum(vek_thickness_mm[m, k] for m in members) / n
        for li in range(len(LAYERS)):
            d_v = [vek_thickness_mm[m, li + 1] for m in members]
            for p in range(2):
                density[a, li, p] = thickness_weighted_mean([vek_population_density[m, li, p] for m in members], d_v)
        layer_I_neurons[a] = _sequential_sum(vek_layer_I_neurons[m] for m in members) / n
    return thickness, density, layer_I_neurons


# ---------------------------------------------------------------------------------------------
# Steps 4-6: neuron numbers, layer removal, derived quantities


def neuron_numbers(density_per_mm3: np.ndarray, thickness_mm: np.ndarray, column_area_mm2: float = 1.0) -> np.ndarray:
    """N_{D,L,p} = round(rho_{D,L,p} * d_{D,L} * A), round half to even, int64 (34, 4, 2)."""
    product = density_per_mm3 * thickness_mm[:, 1:, None] * column_area_mm2
    return np.round(product).astype(np.int64)


def layers_to_remove(neurons: np.ndarray, layer_I_neurons: np.ndarray, min_neurons_per_layer: float,
                     remove_layers_smaller_than_layer_I: bool = False) -> np.ndarray:
    """Boolean (34, 4): layers whose total N_{D,L} is positive but below the threshold (§3.2 step 5).

    With the option on, a layer is also dropped when 0 < N_{D,L} < n^I_D.
    """
    totals = neurons[..., 0] + neurons[..., 1]
    drop = (totals > 0) & (totals < min_neurons_per_layer)
    if remove_layers_smaller_than_layer_I:
        drop |= (totals > 0) & (totals < layer_I_neurons[:, None])
    return drop


def total_thickness(thickness_mm: np.ndarray) -> np.ndarray:
    """T_D = sum of the layer thicknesses I..VI (mm), added in layer order."""
    total = np.zeros(thickness_mm.shape[0])
    for k in range(thickness_mm.shape[1]):
        total = total + thickness_mm[:, k]
    return total


def mean_density(neurons: np.ndarray, total_thickness_mm: np.ndarray, column_area_mm2: float = 1.0) -> np.ndarray:
    """rho_bar_D = sum_{L,p} N_{D,L,p} / (T_D * A) from the rounded neuron numbers (neurons/mm^3)."""
    return neurons.reshape(len(neurons), -1).sum(axis=1) / (total_thickness_mm * column_area_mm2)


def _check_params(params: dict) -> dict:
    required = ("ei_fractions", "column_area_mm2", "remove_layers_smaller_than_layer_I", "min_neurons_per_layer")
    missing = [key for key in required if key not in params]
    if missing:
        raise ParameterError(f"network.cytoarchitecture lacks the parameter(s) {', '.join(missing)}.")
    if params["ei_fractions"] not in EI_FRACTION_FILES:
        raise ParameterError(
            f"network.cytoarchitecture.ei_fractions = {params['ei_fractions']!r} is unknown; choose one of "
            f"{', '.join(EI_FRACTION_FILES)}."
        )
    if not float(params["column_area_mm2"]) > 0:
        raise ParameterError("network.cytoarchitecture.column_area_mm2 must be positive.")
    return params


def build_cytoarchitecture(params: dict) -> Cytoarchitecture:
    """Neuron numbers of the 272 populations from the vEK data (docs/model.md §3).

    ``params`` is the ``network.cytoarchitecture`` section of the parameters (keys ei_fractions,
    column_area_mm2, remove_layers_smaller_than_layer_I, min_neurons_per_layer).
    """
    params = _check_params(params)
    area = float(params["column_area_mm2"])
    e_fraction = read_ei_fractions(params["ei_fractions"])

    vek_thickness, vek_density, vek_layer_I = vek_layer_values(read_vek_sheet(), area)
    vek_pop_density = population_densities(vek_density, e_fraction)
    thickness, density, layer_I_neurons = dk_layer_values(vek_thickness, vek_pop_density, vek_layer_I)
    neurons = neuron_numbers(density, thickness, area)

    drop = layers_to_remove(neurons, layer_I_neurons, params["min_neurons_per_layer"],
                            bool(params["remove_layers_smaller_than_layer_I"]))
    dropped = tuple(
        (AREAS[a], LAYERS[li], int(neurons[a, li].sum())) for a, li in zip(*np.nonzero(drop))
    )
    neurons = np.where(drop[..., None], 0, neurons).astype(np.int64)
    density = np.where(drop[..., None], 0.0, density)
    thickness = thickness.copy()
    thickness[:, 1:][drop] = 0.0

    t_d = total_thickness(thickness)
    return Cytoarchitecture(
        neuron_numbers=neurons,
        density_per_mm3=density,
        thickness_mm=thickness,
        layer_I_neurons=layer_I_neurons,
        total_thickness_mm=t_d,
        mean_density_per_mm3=mean_density(neurons, t_d, area),
        dropped_layers=dropped,
        column_area_mm2=area,
    )
