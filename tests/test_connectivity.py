"""Synapse numbers (docs/model.md §4) of the full-scale network with default parameters.

Every expected number is a published fact quoted from the specification (§4.3, §4.8, §12, Q2).
"""

import dataclasses

import numpy as np
import pytest

from humam import connectivity as co
from humam import cytoarchitecture as cy
from humam import inputs, tables
from humam.tables import AREAS

pytestmark = pytest.mark.slow


def _local_mask():
    return np.kron(np.eye(34, dtype=bool), np.ones((8, 8), dtype=bool))


def _totals(connectome):
    """(local, cortico-cortical, external) synapse totals."""
    s = connectome.synapses
    local = int(s[_local_mask()].sum())
    return local, int(s.sum()) - local, int(connectome.synapses_external.sum())


# ---------------------------------------------------------------------------------------------
# Inputs of the area level (§1.1)


def test_dti_inputs():
    data = inputs.read_area_connectivity()
    assert np.array_equal(data.nos, data.nos.T) and np.all(np.diag(data.nos) == 0)
    assert np.count_nonzero(data.nos) == 336
    off = data.distance_mm[~np.eye(34, dtype=bool)]
    assert round(off.min(), 2) == 8.51 and round(off.max(), 2) == 151.79 and round(off.mean(), 2) == 64.17
    assert data.volume_mm3.dtype == np.float64
    assert data.volume_mm3.min() == 2322 and data.volume_mm3.max() == 39880


def test_dti_reordering_to_canonical():
    raw = inputs.read_dti()
    data = inputs.read_area_connectivity()
    for t in range(34):
        for s in (0, 17, 33):
            tt, ss = raw.names.index(AREAS[t]), raw.names.index(AREAS[s])
            assert data.nos[t, s] == raw.nos[tt, ss]
            assert data.distance_mm[t, s] == raw.distance_mm[tt, ss]


# ---------------------------------------------------------------------------------------------
# Area level (§4.2, §4.3)


def test_area_level_synapses(connectome_default):
    n_cc = connectome_default.area_synapses
    assert n_cc.dtype == np.int64
    assert n_cc.sum() == 60_803_600_010
    assert np.trace(n_cc) == 52_291_096_000


def test_surface_range(connectome_default):
    surface = connectome_default.surface_mm2
    assert round(surface.min()) == 980 and round(surface.max()) == 13_799


def test_directionality(connectome_default):
    labels = connectome_default.directionality
    connected = labels != ""
    assert connected.sum() == 336
    assert (labels == "lateral").sum() == 155
    assert (labels == "FB").sum() == 115
    assert (labels == "FF").sum() == 66
    assert not np.any(np.diag(connected))
    sln = connectome_default.sln
    assert np.all(sln[labels == "FF"] >= 0.65) and np.all(sln[labels == "FB"] < 0.35)
    # NOS is symmetric, so the connected pairs are too (docs/quirks.md Q6)
    np.testing.assert_array_equal(connected, connected.T)


def test_local_fraction_range(connectome_default):
    fraction = connectome_default.local_fraction
    assert round(fraction.min(), 6) == 0.655279 and round(fraction.max(), 6) == 0.655296
    np.testing.assert_allclose(
        connectome_default.local_synapses_area + connectome_default.external_synapses_area,
        np.diag(connectome_default.area_synapses),
        rtol=1e-12,
    )


# ---------------------------------------------------------------------------------------------
# Population level (§4.5-§4.8)


def test_synapse_totals(connectome_default):
    s = connectome_default.synapses
    assert s.dtype == np.int64 and s.shape == (272, 272)
    assert connectome_default.synapses_external.dtype == np.int64
    assert connectome_default.synapses_external.shape == (272,)
    assert s.sum() == 42_778_075_138
    local, cortico_cortical, external = _totals(connectome_default)
    assert local == 34_265_571_151
    assert cortico_cortical == 8_512_503_987
    assert external == 18_025_524_840


def test_non_zero_pairs(connectome_default):
    s = connectome_default.synapses
    assert np.count_nonzero(s) == 8_394
    assert np.count_nonzero(s[_local_mask()]) == 1_654
    assert np.count_nonzero(s[~_local_mask()]) == 6_740


def test_mean_indegrees(connectome_default, cyto_default):
    neurons = cyto_default.neuron_numbers.sum()
    assert round(connectome_default.synapses.sum() / neurons, 1) == 12_332.1
    assert round(connectome_default.synapses_external.sum() / neurons, 1) == 5_196.4


def test_empty_populations_have_no_synapses(connectome_default, cyto_default):
    empty = cyto_default.neuron_numbers.reshape(-1) == 0
    assert empty.sum() == 18
    s = connectome_default.synapses
    assert not s[empty].any() and not s[:, empty].any()
    assert not connectome_default.synapses_external[empty].any()


def test_synapse_budget_per_area(connectome_default, cyto_default, default_network_params):
    """Rows of S plus S_ext of every area give rho_syn * A * T_D up to successive rounding (docs/quirks.md Q3)."""
    params = default_network_params["connectivity"]
    budget = params["synapse_density_per_mm3"] * cyto_default.column_area_mm2 * cyto_default.total_thickness_mm
    received = connectome_default.synapses.sum(axis=1) + connectome_default.synapses_external
    per_area = received.reshape(34, 8).sum(axis=1)
    np.testing.assert_allclose(per_area, budget, rtol=1e-5)


def test_only_projecting_sources(connectome_default):
    """Inter-area synapses come from 23E, 5E and 6E only; inhibitory targets only in their own layer."""
    blocks = connectome_default.synapses.reshape(34, 8, 34, 8).transpose(0, 2, 1, 3)
    off_diagonal = blocks[~np.eye(34, dtype=bool)]
    assert not off_diagonal[:, :, [1, 2, 3, 5, 7]].any()


# ---------------------------------------------------------------------------------------------
# Evaluation-order clauses (§2.4, §4.7, §13, Q2)


def test_log1p_changes_local_numbers(connectome_default, cyto_default):
    neurons = cyto_default.neuron_numbers.reshape(34, 8)
    literal = co.local_synapses(neurons, connectome_default.local_synapses_area, tables.pd_synapses_per_pair())
    n = tables.PD_NEURONS.astype(np.float64)
    pairs = np.outer(n, n)
    with_log1p = np.abs(np.log1p(-tables.PD_CONNECTION_PROBABILITY) / np.log1p(-1.0 / pairs)) / pairs
    changed = co.local_synapses(neurons, connectome_default.local_synapses_area, with_log1p)
    assert literal.sum() == 34_265_571_151
    assert np.count_nonzero(changed != literal) == 135
    assert changed.sum() - literal.sum() == 6


def _cortico_cortical(connectome, cyto, params, r_from=None, thickness_from=None, neurons_from=None):
    r_from = r_from or cyto
    thickness_from = thickness_from or cyto
    neurons_from = neurons_from or cyto
    return co.cortico_cortical_synapses(
        connectome.area_synapses,
        connectome.sln,
        co.layer5_share(r_from.density_per_mm3, r_from.thickness_mm),
        thickness_from.thickness_mm,
        neurons_from.neuron_numbers.reshape(34, 8),
        params["z_i"],
        params["sln_ff"],
        params["sln_fb"],
    )


def test_post_removal_values_in_cortico_cortical_split(connectome_default, cyto_default, default_network_params):
    params = default_network_params["connectivity"]
    before_removal = cy.build_cytoarchitecture(
        dict(default_network_params["cytoarchitecture"], min_neurons_per_layer=0)
    )
    assert before_removal.neuron_numbers.sum() > cyto_default.neuron_numbers.sum()
    published = _cortico_cortical(connectome_default, cyto_default, params)
    assert published.sum() == 8_512_503_987
    parahippocampal = AREAS.index("parahippocampal")
    assert co.layer5_share(cyto_default.density_per_mm3, cyto_default.thickness_mm)[parahippocampal] == 1.0
    pre_r = _cortico_cortical(connectome_default, cyto_default, params, r_from=before_removal)
    assert np.count_nonzero(pre_r != published) == 110
    pre_thickness = _cortico_cortical(connectome_default, cyto_default, params, thickness_from=before_removal)
    assert np.count_nonzero(pre_thickness != published) == 468


def test_naive_dk_weighting_shifts_synapse_totals(connectome_default, cyto_default, default_network_params):
    """Naive sum(rho d)/sum(d) at the DK level only: same neuron total, local +4, external -3,
    cortico-cortical -2 (docs/quirks.md Q2)."""
    table = inputs.read_vek_sheet()
    vek_thickness, vek_density, vek_layer_I = cy.vek_layer_values(table)
    fe = inputs.read_ei_fractions("lichtman")
    vek_pop = cy.population_densities(vek_density, fe)
    thickness, density, layer_I = cy.dk_layer_values(vek_thickness, vek_pop, vek_layer_I)
    for a, area in enumerate(AREAS):
        members = [tables.VEK_AREAS.index(v) for v in tables.VEK_TO_DK[area]]
        for layer in range(4):
            d = sum(vek_thickness[m, layer + 1] for m in members)
            for p in range(2):
                density[a, layer, p] = sum(vek_pop[m, layer, p] * vek_thickness[m, layer + 1] for m in members) / d \
                    if d > 0 else 0.0
    neurons = cy.neuron_numbers(density, thickness)
    drop = cy.layers_to_remove(neurons, layer_I, 5000)
    neurons = np.where(drop[..., None], 0, neurons)
    density = np.where(drop[..., None], 0.0, density)
    thickness[:, 1:][drop] = 0.0
    total = cy.total_thickness(thickness)
    naive = dataclasses.replace(
        cyto_default,
        neuron_numbers=neurons,
        density_per_mm3=density,
        thickness_mm=thickness,
        total_thickness_mm=total,
        mean_density_per_mm3=cy.mean_density(neurons, total),
    )
    assert neurons.sum() == 3_468_839
    assert np.any(neurons != cyto_default.neuron_numbers)
    other = co.build_connectome(naive, default_network_params["connectivity"])
    delta = np.array(_totals(other)) - np.array(_totals(connectome_default))
    assert delta.tolist() == [4, -2, -3]


def test_six_decimal_tables_shift_cortico_cortical_total(connectome_default, cyto_default, default_network_params,
                                                         monkeypatch):
    binzegger = np.round(tables.BINZEGGER, 6)
    mohan = np.round(tables.MOHAN, 6)
    e_share = binzegger[0::2].sum(axis=0)
    i_share = binzegger[1::2].sum(axis=0)
    m = np.zeros((8, 5))
    for i in range(8):
        if i % 2 == 0:
            m[i] = mohan[i] * e_share
        else:
            m[i, 1 + i // 2] = i_share[1 + i // 2]
    original = co.target_pattern
    monkeypatch.setattr(co, "target_pattern", lambda layers, d, n, target_cells=None: original(layers, d, n, m))
    rounded = _cortico_cortical(connectome_default, cyto_default, default_network_params["connectivity"])
    assert rounded.sum() - 8_512_503_987 == 13


# ---------------------------------------------------------------------------------------------
# Building blocks


def test_strict_feedforward_target_rule():
    thickness = np.array([0.2, 1.0, 0.3, 0.5, 0.6])
    assert co.target_layers(0.65, thickness, 0.65, 0.35) == co.LATERAL_TARGET_LAYERS
    assert co.target_layers(0.650001, thickness, 0.65, 0.35) == (2,)
    assert co.target_layers(0.7, np.array([0.2, 1.0, 0.0, 0.5, 0.6]), 0.65, 0.35) == (1,)
    assert co.target_layers(0.3, thickness, 0.65, 0.35) == co.FEEDBACK_TARGET_LAYERS


def test_feedback_rule_sets_excitatory_share():
    pair = np.arange(64, dtype=float).reshape(8, 8) + 1
    scaled = co.feedback_rule(pair, 0.93)
    assert scaled.sum() == pytest.approx(pair.sum())
    assert scaled[tables.AREA_POPULATION_IS_EXCITATORY].sum() / scaled.sum() == pytest.approx(0.93)


def test_area_level_rounding():
    nos = np.array([[0.0, 1.0, 3.0], [1.0, 0.0, 1.0], [3.0, 1.0, 0.0]])
    counts = co.area_level_synapses(np.array([20.0, 25.0, 10.0]), nos, 0.5)
    # 20 * 0.5 / 4 = 2.5 -> 2 and 7.5 -> 8 (half to even); 25 * 0.5 = 12.5 -> 12
    assert counts[0].tolist() == [10, 2, 8]
    assert counts[1].tolist() == [6, 12, 6]
