"""Neuron numbers (docs/model.md §3), the built-in tables (§2) and the raw-data readers (§1.1).

Every expected number is a published fact quoted from the specification.
"""

import numpy as np
import pytest

from humam import cytoarchitecture as cy
from humam import inputs, tables
from humam.errors import DataError, ParameterError
from humam.tables import AREAS, LAYERS, LAYERS_WITH_I, VEK_AREAS, VEK_TO_DK

EMPTY_LAYERS = {  # docs/model.md §3.4
    ("caudalanteriorcingulate", "IV"),
    ("entorhinal", "IV"),
    ("parahippocampal", "IV"),
    ("precentral", "IV"),
    ("rostralanteriorcingulate", "IV"),
    ("caudalmiddlefrontal", "IV"),
    ("lateraloccipital", "IV"),
    ("parsorbitalis", "IV"),
    ("parahippocampal", "VI"),
}

DROPPED_LAYERS = {  # docs/model.md §3.3: neuron count before removal
    ("caudalmiddlefrontal", "IV", 3375),
    ("lateraloccipital", "IV", 3000),
    ("parahippocampal", "VI", 3200),
    ("parsorbitalis", "IV", 625),
}

IDENTICAL_PAIRS = [  # docs/model.md §2.3
    ("caudalanteriorcingulate", "rostralanteriorcingulate"),
    ("middletemporal", "inferiortemporal"),
    ("precuneus", "superiorparietal"),
]


# ---------------------------------------------------------------------------------------------
# Tables


def test_population_keys_are_canonical():
    assert len(AREAS) == 34 and len(tables.POPULATIONS) == 272
    assert list(tables.POPULATIONS) == sorted(tables.POPULATIONS)
    assert set(AREAS) == set(tables.AREAS_FILE_ORDER)
    assert tables.AREAS_FILE_ORDER[30:] == ("frontalpole", "temporalpole", "transversetemporal", "insula")
    keys = np.array(tables.POPULATIONS, dtype=object).reshape(34, 4, 2, 3)
    assert keys[5, 2, 1].tolist() == [AREAS[5], "V", "I"]
    for i, key in enumerate(tables.POPULATIONS):
        assert tables.population_index(*key) == i


@pytest.mark.parametrize("key", [("nowhere", "V", "E"), ("insula", "III", "E"), ("insula", "V", "X")])
def test_population_index_rejects_unknown_names(key):
    with pytest.raises(ParameterError, match="valid"):
        tables.population_index(*key)


def test_vek_to_dk_map_uses_known_vek_areas():
    assert set(VEK_TO_DK) == set(AREAS)
    assert {v for members in VEK_TO_DK.values() for v in members} <= set(VEK_AREAS)
    assert len(VEK_AREAS) == 51 and "FD\u0394" in VEK_AREAS


def test_derived_target_shares():
    # docs/model.md §2.5: e_L and i_L to the printed 6 decimals, e_L + i_L = 1
    np.testing.assert_allclose(tables.EXCITATORY_TARGET_SHARE, [1.0, 0.836956, 0.840859, 0.895934, 0.853304], atol=5e-7)
    np.testing.assert_allclose(tables.INHIBITORY_TARGET_SHARE, [0, 0.163044, 0.159141, 0.104066, 0.146696], atol=5e-7)
    m = tables.TARGET_CELL_MATRIX
    assert m.shape == (8, 5)
    # inhibitory cells receive cortico-cortical synapses only in their own layer
    for i in (1, 3, 5, 7):
        assert np.count_nonzero(m[i]) == 1 and m[i, 1 + i // 2] == tables.INHIBITORY_TARGET_SHARE[1 + i // 2]


def test_pd_synapse_numbers_zero_where_no_connection():
    s = tables.pd_synapse_numbers()
    assert np.all((s == 0) == (tables.PD_CONNECTION_PROBABILITY == 0))
    assert np.all(s >= 0)


# ---------------------------------------------------------------------------------------------
# Readers


def test_vek_sheet_parsing():
    table = inputs.read_vek_sheet()
    assert tuple(dict.fromkeys(table["vek_area"])) == VEK_AREAS
    assert set(table["layer"]) == set(LAYERS_WITH_I)
    ia_layer_I = table[(table["vek_area"] == "IA") & (table["sublayer"] == "I")]
    assert ia_layer_I["density_per_mm3"].tolist() == [8000.0]  # the numeric string of §1.1
    assert np.all(np.isfinite(table[["thickness_mm", "density_per_mm3"]].to_numpy()))


def test_ei_fractions():
    np.testing.assert_array_equal(inputs.read_ei_fractions("lichtman"), [0.65, 0.79, 0.78, 0.86])
    np.testing.assert_array_equal(
        inputs.read_ei_fractions("binzegger"),
        [0.779990194969265, 0.7999926991311966, 0.819949281487743, 0.8300178746468315],
    )
    # f_I is the float64 difference 1 - f_E, which is not the exact decimal for IV and V
    f_i = 1 - inputs.read_ei_fractions("lichtman")
    assert (f_i != np.array([0.35, 0.21, 0.22, 0.14])).tolist() == [False, True, True, False]


def test_ei_fractions_bad_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("layer,fraction\nII/III,0.5\n")
    with pytest.raises(DataError, match="header"):
        inputs.read_ei_fractions(path=bad)
    bad.write_text("layer,ratio\nII/III,0.5\nIV,0.5\n")
    with pytest.raises(DataError, match="layers"):
        inputs.read_ei_fractions(path=bad)
    with pytest.raises(ParameterError, match="lichtman"):
        inputs.read_ei_fractions("unknown")


def test_bad_vek_file(tmp_path):
    bad = tmp_path / "bad.xls"
    bad.write_text("not an excel file")
    with pytest.raises(DataError):
        inputs.read_vek_sheet(bad)


# ---------------------------------------------------------------------------------------------
# Neuron numbers with default parameters (§3.3, §3.4, §12)


def test_neuron_totals(cyto_default):
    n = cyto_default.neuron_numbers
    assert n.dtype == np.int64 and n.shape == (34, 4, 2)
    assert n.sum() == 3_468_839
    assert n[..., 0].sum() == 2_587_152
    assert n[..., 1].sum() == 881_687


def test_empty_populations(cyto_default):
    n = cyto_default.neuron_numbers
    empty = {(AREAS[a], LAYERS[l], tables.POPULATION_TYPES[p]) for a, l, p in zip(*np.nonzero(n == 0))}
    assert empty == {(area, layer, pop) for area, layer in EMPTY_LAYERS for pop in "EI"}
    assert np.count_nonzero(n) == 254


def test_dropped_layers(cyto_default):
    assert set(cyto_default.dropped_layers) == DROPPED_LAYERS
    for area, layer, _ in DROPPED_LAYERS:
        a, l = AREAS.index(area), LAYERS.index(layer)
        assert cyto_default.thickness_mm[a, l + 1] == 0
        assert np.all(cyto_default.density_per_mm3[a, l] == 0)


def test_total_thickness(cyto_default):
    t = cyto_default.total_thickness_mm
    assert round(t.min(), 2) == 1.58 and round(t.max(), 2) == 4.03 and round(t.mean(), 2) == 2.71
    np.testing.assert_array_equal(t, cyto_default.thickness_mm.sum(axis=1))


def test_mean_density_from_rounded_numbers(cyto_default):
    c = cyto_default
    np.testing.assert_allclose(
        c.mean_density_per_mm3, c.neuron_numbers.sum(axis=(1, 2)) / (c.total_thickness_mm * c.column_area_mm2)
    )


@pytest.mark.parametrize("first, second", IDENTICAL_PAIRS)
def test_identical_cytoarchitecture(cyto_default, first, second):
    a, b = AREAS.index(first), AREAS.index(second)
    np.testing.assert_array_equal(cyto_default.neuron_numbers[a], cyto_default.neuron_numbers[b])
    np.testing.assert_array_equal(cyto_default.thickness_mm[a], cyto_default.thickness_mm[b])


def test_binzegger_fractions_change_neuron_numbers(cyto_default, default_network_params):
    params = dict(default_network_params["cytoarchitecture"], ei_fractions="binzegger")
    other = cy.build_cytoarchitecture(params)
    assert np.any(other.neuron_numbers != cyto_default.neuron_numbers)
    np.testing.assert_array_equal(other.thickness_mm > 0, cyto_default.thickness_mm > 0)


def test_unknown_fraction_table_is_rejected(default_network_params):
    with pytest.raises(ParameterError, match="ei_fractions"):
        cy.build_cytoarchitecture(dict(default_network_params["cytoarchitecture"], ei_fractions="foo"))


def test_layer_I_option_drops_at_least_the_default_layers(cyto_default, default_network_params):
    params = dict(default_network_params["cytoarchitecture"], remove_layers_smaller_than_layer_I=True)
    other = cy.build_cytoarchitecture(params)
    assert DROPPED_LAYERS <= set(other.dropped_layers)
    for area, layer, neurons in other.dropped_layers:
        assert 0 < neurons < max(5000, other.layer_I_neurons[AREAS.index(area)])


# ---------------------------------------------------------------------------------------------
# Evaluation-order clauses (§0.5, §3.2, Q2): the published numbers need the prescribed order


@pytest.fixture(scope="module")
def vek_values():
    table = inputs.read_vek_sheet()
    thickness, density, layer_I = cy.vek_layer_values(table)
    return table, thickness, density, layer_I


def _finish(thickness, density, layer_I, min_neurons=5000):
    """Steps 4-6 of §3.2 applied to DK layer values; returns the neuron numbers after removal."""
    neurons = cy.neuron_numbers(density, thickness)
    drop = cy.layers_to_remove(neurons, layer_I, min_neurons)
    return np.where(drop[..., None], 0, neurons)


def test_prescribed_order_reproduces_total(vek_values):
    _, thickness, density, layer_I = vek_values
    fe = inputs.read_ei_fractions("lichtman")
    n = _finish(*cy.dk_layer_values(thickness, cy.population_densities(density, fe), layer_I))
    assert n.sum() == 3_468_839


def test_naive_vek_weighting_breaks_total(vek_values):
    table, thickness, _, layer_I = vek_values
    naive = np.zeros((len(VEK_AREAS), len(LAYERS_WITH_I)))
    for v, area in enumerate(VEK_AREAS):
        rows = table[table["vek_area"] == area]
        for k, layer in enumerate(LAYERS_WITH_I):
            sub = rows[rows["layer"] == layer]
            d = sub["thickness_mm"].sum()
            naive[v, k] = (sub["thickness_mm"] * sub["density_per_mm3"]).sum() / d if d > 0 else 0.0
    fe = inputs.read_ei_fractions("lichtman")
    n = _finish(*cy.dk_layer_values(thickness, cy.population_densities(naive, fe), layer_I))
    assert n.sum() == 3_468_838


def test_exact_decimal_inhibitory_fraction_adds_three_neurons(vek_values, cyto_default):
    _, thickness, density, layer_I = vek_values
    fe = inputs.read_ei_fractions("lichtman")
    rho = density[:, 1:]
    exact = np.stack([fe * rho, np.array([0.35, 0.21, 0.22, 0.14]) * rho], axis=-1)
    n = _finish(*cy.dk_layer_values(thickness, exact, layer_I))
    assert n.sum() - cyto_default.neuron_numbers.sum() == 3
    assert np.count_nonzero(n != cyto_default.neuron_numbers) == 3


def test_fraction_placement_matters(vek_values, cyto_default):
    table, thickness, density, layer_I = vek_values
    fe = inputs.read_ei_fractions("lichtman")
    # fraction applied to the sub-row densities inside the weighted sum: 4 populations change
    inside = np.zeros((len(VEK_AREAS), 4, 2))
    for v, area in enumerate(VEK_AREAS):
        rows = table[table["vek_area"] == area]
        for k, layer in enumerate(LAYERS):
            sub = rows[rows["layer"] == layer]
            for p, f in enumerate((fe[k], 1 - fe[k])):
                inside[v, k, p] = cy.thickness_weighted_mean(
                    [f * rho for rho in sub["density_per_mm3"]], sub["thickness_mm"].to_list()
                )
    n = _finish(*cy.dk_layer_values(thickness, inside, layer_I))
    assert np.count_nonzero(n != cyto_default.neuron_numbers) == 4
    # fraction applied after the DK average: 7 populations change
    dk_thickness, dk_density, dk_layer_I = cy.dk_layer_values(
        thickness, cy.population_densities(density, np.ones(4)), layer_I
    )
    rho = dk_density[..., 0]
    n = _finish(dk_thickness, np.stack([fe * rho, (1 - fe) * rho], axis=-1), dk_layer_I)
    assert np.count_nonzero(n != cyto_default.neuron_numbers) == 7


def test_half_to_even_rounding():
    density = np.full((1, 4, 2), 2.5)
    thickness = np.array([[0.0, 1.0, 1.0, 1.0, 1.0]])
    assert np.all(cy.neuron_numbers(density, thickness) == 2)
