"""Down-scaling (docs/model.md §6): counts, weights, drive and the published DC compensation."""

import copy
import math

import numpy as np
import pytest

from humam import downscaling as ds
from humam import build, tables
from humam import full_scale as nw
from humam.errors import ParameterError

E = tables.POPULATION_IS_EXCITATORY


@pytest.fixture
def neuron_params(default_network_params):
    return nw.neuron_parameter_arrays(default_network_params["neuron"])


# ---------------------------------------------------------------------------------------------
# Parameters


@pytest.mark.parametrize("value", [0, 0.0, -0.005, 1.0000001, 2, float("nan"), float("inf")])
def test_scales_outside_unit_interval_are_refused(value):
    with pytest.raises(ParameterError, match=r"n_scaling .*outside \(0, 1\]"):
        ds.check_scales(value, 0.5, "linear")
    with pytest.raises(ParameterError, match=r"k_scaling .*outside \(0, 1\]"):
        ds.check_scales(0.5, value, "linear")


def test_scale_types_and_names_are_checked():
    assert ds.check_scales(1, 0.005, "sqrt") == (1.0, 0.005)
    with pytest.raises(ParameterError, match="must be a number"):
        ds.check_scales("0.5", 0.5, "linear")
    with pytest.raises(ParameterError, match="must be a number"):
        ds.check_scales(True, 0.5, "linear")
    with pytest.raises(ParameterError, match="'cubic' is unknown; valid types: linear, sqrt, preserve_input_statistics"):
        ds.check_scales(0.5, 0.5, "cubic")


def test_weight_divisors():
    assert ds.SCALING_SCHEMES["linear"][0](0.25) == 0.25
    assert ds.SCALING_SCHEMES["sqrt"][0](0.25) == 0.5


# ---------------------------------------------------------------------------------------------
# Counts


def test_counts_round_half_to_even():
    n = np.array([1, 3, 5, 7, 700, 0])
    s = np.array([[1, 3, 5, 7, 10, 0]] * 6)
    s_ext = np.array([1, 3, 5, 7, 9, 0])
    with pytest.warns(UserWarning, match=r"1 population\(s\) without neurons"):
        n_new, s_new, s_ext_new = ds.downscale_counts(n, s * 2, s_ext * 2, 0.5, 0.5)
    # 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.5 -> 4 (ties to even); half-up would give 1, 2, 3, 4
    np.testing.assert_array_equal(n_new, [0, 2, 2, 4, 350, 0])
    assert n_new.dtype == np.int64 and s_new.dtype == np.int64 and s_ext_new.dtype == np.int64
    # S' = round(n k S) = round(0.25 * 2 S) = round(S / 2), with the vanished population's synapses removed
    np.testing.assert_array_equal(s_new[1], [0, 2, 2, 4, 5, 0])
    assert np.all(s_new[0] == 0) and np.all(s_new[:, 0] == 0)
    np.testing.assert_array_equal(s_ext_new, [0, 2, 2, 4, 4, 0])


def test_sizes_round_half_even_not_half_up(cyto_default):
    n = cyto_default.neuron_numbers.ravel()
    assert int((0.005 * n % 1 == 0.5).sum()) == 8  # §0.5: eight exact ties at n = 0.005
    assert int(np.floor(0.005 * n + 0.5).sum()) == 17_351  # half-up (wrong)
    n_new, _, _ = ds.downscale_counts(n, np.zeros((272, 272), dtype=np.int64), np.zeros(272, dtype=np.int64), 0.005, 0.005)
    assert int(n_new.sum()) == 17_350


# ---------------------------------------------------------------------------------------------
# DC compensation on small synthetic inputs


def _scheme_inputs(neuron_params, seed=0):
    rng = np.random.default_rng(seed)
    n = rng.integers(1000, 30000, 272)
    n[[6, 7]] = 0
    s = rng.integers(0, 10**7, (272, 272))
    s[[6, 7], :] = 0
    s[:, [6, 7]] = 0
    s_ext = rng.integers(10**6, 10**8, 272)
    s_ext[[6, 7]] = 0
    j = nw.apply_recurrent_scaling(nw.base_weights_pA(neuron_params, -5.0, 0.1),
                                   {"e4_to_e23": 2.0, "chi": 1.0, "chi_I": 2.0, "local_e5_to_i": 1.0, "local_e_to_i": 1.0})
    j_ext_unscaled = nw.base_external_weights_pA(neuron_params, 0.1)
    k_ext = nw.external_indegree(s_ext, n)
    nu_ext = nw.external_rate_per_synapse_hz(neuron_params, k_ext, j_ext_unscaled, 1.1)
    j_ext = nw.apply_external_layer_factors(j_ext_unscaled, 1.05, 1.15)
    rates = np.where(n > 0, rng.uniform(0.0, 5.0, 272), 0.0)
    return dict(neuron_numbers=n, synapses=s, synapses_external=s_ext, weights_pA=j, weights_sd_pA=0.1 * np.abs(j),
                weights_ext_pA=j_ext, weights_ext_sd_pA=0.1 * j_ext, rate_ext_hz=nu_ext, neuron_params=neuron_params,
                full_scale_rates_hz=rates)


def test_published_scheme_by_hand(neuron_params):
    inputs = _scheme_inputs(neuron_params)
    n, k = 0.01, 0.02
    out = ds.downscale(**inputs, n_scaling=n, k_scaling=k, scaling_type="linear")
    assert out.weight_divisor == k
    np.testing.assert_allclose(out.weights_pA, inputs["weights_pA"] / k)
    np.testing.assert_allclose(out.weights_sd_pA, inputs["weights_sd_pA"] / k)
    np.testing.assert_allclose(out.weights_ext_pA, inputs["weights_ext_pA"] / k)
    np.testing.assert_allclose(out.weights_ext_sd_pA, inputs["weights_ext_sd_pA"] / k)
    n_new = np.round(n * inputs["neuron_numbers"])
    s_ext_new = np.round(n * k * inputs["synapses_external"])
    ne = n_new > 0
    np.testing.assert_allclose(out.indegree_ext[ne], s_ext_new[ne] / n_new[ne])
    np.testing.assert_allclose(out.poisson_rate_hz, inputs["rate_ext_hz"] * out.indegree_ext)
    # one population by hand: target (V,E) of area 3, formula of §6.3
    i = tables.population_index(tables.AREAS[3], "V", "E")
    c_m, tau_m = 220.0, 10.0
    to_psp = tau_m / (c_m * 0.2 ** (-1.25))
    s_new = np.round(n * k * inputs["synapses"])
    k_row = s_new[i] / n_new[i]
    x_ext = 1e-3 * tau_m * (inputs["weights_ext_pA"][i] / k * to_psp) * out.indegree_ext[i] * inputs["rate_ext_hz"][i]
    x_rec = 1e-3 * tau_m * np.sum(inputs["weights_pA"][i] / k * to_psp * k_row * inputs["full_scale_rates_hz"])
    expected = c_m / tau_m * (1 - k) * (x_ext + x_rec)
    assert out.dc_drive_pA[i] == pytest.approx(expected, rel=1e-12)
    assert out.dc_drive_pA[6] == 0.0 and out.poisson_rate_hz[6] == 0.0


def test_sqrt_scheme_and_no_dc_without_weight_scaling(neuron_params):
    inputs = _scheme_inputs(neuron_params, seed=1)
    out = ds.downscale(**inputs, n_scaling=0.1, k_scaling=0.25, scaling_type="sqrt")
    assert out.weight_divisor == 0.5
    np.testing.assert_allclose(out.weights_pA, inputs["weights_pA"] * 2)
    linear = ds.downscale(**inputs, n_scaling=0.1, k_scaling=0.25, scaling_type="linear")
    assert np.all(np.abs(out.dc_drive_pA) < np.abs(linear.dc_drive_pA) + 1e-12)
    only_n = ds.downscale(**inputs, n_scaling=0.1, k_scaling=1.0)
    np.testing.assert_array_equal(only_n.dc_drive_pA, 0.0)  # f = 1: no compensation
    np.testing.assert_array_equal(only_n.weights_pA, inputs["weights_pA"])


# ---------------------------------------------------------------------------------------------
# Full-scale rates


def test_base_theory_rates_mapped_onto_all_populations(cyto_default):
    n = cyto_default.neuron_numbers.ravel()
    series = ds.full_scale_rates_series("base_theory_rates")
    assert len(series) == 254 and list(series.index.names) == ["area", "layer", "population"]
    rates = ds.full_scale_rates_array("base_theory_rates", n)
    assert rates.shape == (272,)
    assert np.all(rates[n == 0] == 0.0) and np.all(rates[n > 0] > 0.0)
    assert rates[n > 0].mean() == pytest.approx(0.7545, abs=1e-4)
    assert rates[tables.population_index("bankssts", "II/III", "I")] == series[("bankssts", "II/III", "I")]


def test_rates_validation(tmp_path):
    import pandas as pd

    n = np.ones(272, dtype=int)
    n[0] = 0
    keys = list(tables.POPULATIONS)[1:]
    series = pd.Series(np.ones(len(keys)), index=pd.MultiIndex.from_tuples(keys))
    np.testing.assert_array_equal(ds.rates_series_to_array(series, n), np.r_[0.0, np.ones(271)])
    with pytest.raises(ParameterError, match=r"lack a finite rate for 1 non-empty population\(s\): bankssts/II/III/I"):
        ds.rates_series_to_array(series.drop(("bankssts", "II/III", "I")), n)
    with pytest.raises(ParameterError, match="Unknown area 'v1'"):
        extra = pd.Series([1.0], index=pd.MultiIndex.from_tuples([("v1", "IV", "E")]))
        ds.rates_series_to_array(pd.concat([series, extra]), n)
    with pytest.raises(ParameterError, match="neither 'base_theory_rates' nor an existing file"):
        ds.full_scale_rates_series(str(tmp_path / "missing.pkl"))
    path = tmp_path / "rates.pkl"
    series.to_pickle(path)
    assert ds.full_scale_rates_series(str(path)).equals(series)


# ---------------------------------------------------------------------------------------------
# The published down-scaled examples (n = k = 0.005; §6.3, §7.4)


def _downscaled(cyto, connectome, params, chi, chi_I, n=0.005, k=0.005, scaling_type="linear"):
    params = copy.deepcopy(params)
    params["scaling"].update(chi=chi, chi_I=chi_I)
    params["downscaling"].update(n_scaling=n, k_scaling=k, scaling_type=scaling_type)
    return build.assemble_network(cyto, connectome, params)


@pytest.fixture(scope="module")
def downscaled_ground(cyto_default, connectome_default, default_network_params):
    return _downscaled(cyto_default, connectome_default, default_network_params, 1.0, 2.0)


@pytest.fixture(scope="module")
def downscaled_best(cyto_default, connectome_default, default_network_params):
    return _downscaled(cyto_default, connectome_default, default_network_params, 2.5, 5.0)


@pytest.mark.slow
def test_downscaled_sizes(downscaled_ground, downscaled_best, network_default):
    for net in (downscaled_ground, downscaled_best):
        assert int(net.neuron_numbers.sum()) == 17_350
        assert int(net.nonempty.sum()) == 254
        assert int(net.synapses.sum()) == 1_069_423
        assert int(net.synapses_external.sum()) == 450_636
        assert net.is_downscaled and net.weight_divisor == 0.005
        np.testing.assert_array_equal(net.neuron_numbers_full_scale, network_default.neuron_numbers)
        np.testing.assert_array_equal(net.synapses_full_scale, network_default.synapses)
        np.testing.assert_array_equal(net.synapses_external_full_scale, network_default.synapses_external)
    # nodes of the published code: neurons, one Poisson generator per non-empty population, the recorder (§7.4)
    assert int(downscaled_ground.neuron_numbers.sum()) + int(downscaled_ground.nonempty.sum()) + 1 == 17_605
    assert int(downscaled_ground.synapses.sum()) + 2 * 17_350 == 1_104_123  # connections (§7.4)


@pytest.mark.slow
def test_downscaled_drive(downscaled_ground, network_default):
    net = downscaled_ground
    ne = net.nonempty
    np.testing.assert_array_equal(net.rate_ext_hz, network_default.rate_ext_hz)  # kept per synapse
    np.testing.assert_allclose(net.indegree_ext[ne], net.synapses_external[ne] / net.neuron_numbers[ne])
    np.testing.assert_allclose(net.poisson_rate_hz, net.rate_ext_hz * net.indegree_ext)
    assert 84 <= net.poisson_rate_hz[ne].min() and net.poisson_rate_hz[ne].max() <= 97.5
    assert net.weights_ext_pA[E & (tables.POPULATION_LAYER_INDEX == 0)] == pytest.approx(3289.77, abs=0.01)  # 3.29 nA
    np.testing.assert_allclose(net.weights_pA, network_default.weights_pA / 0.005)
    np.testing.assert_allclose(net.weights_sd_pA, network_default.weights_sd_pA / 0.005)
    np.testing.assert_allclose(net.weights_ext_sd_pA, network_default.weights_ext_sd_pA / 0.005)
    np.testing.assert_allclose(net.full_scale_rates_hz[ne].mean(), 0.7545, atol=1e-4)


def _assert_dc(net, e_range, e_mean, i_range, i_mean):
    ne = net.nonempty
    assert np.all(net.dc_drive_pA[~ne] == 0.0)
    for mask, (low, high), mean in ((ne & E, e_range, e_mean), (ne & ~E, i_range, i_mean)):
        dc = net.dc_drive_pA[mask]
        assert abs(dc.min() - low) <= 1.0, dc.min()
        assert abs(dc.max() - high) <= 1.0, dc.max()
        assert abs(dc.mean() - mean) <= 1.0, dc.mean()


@pytest.mark.slow
def test_dc_drive_ground_state(downscaled_ground):
    _assert_dc(downscaled_ground, (205, 291), 240, (114, 141), 125)


@pytest.mark.slow
def test_dc_drive_best_fit(downscaled_best):
    _assert_dc(downscaled_best, (217, 329), 254, (115, 175), 132)


@pytest.mark.slow
def test_downscaled_sqrt(cyto_default, connectome_default, default_network_params, network_default):
    net = _downscaled(cyto_default, connectome_default, default_network_params, 1.0, 2.0, scaling_type="sqrt")
    assert net.weight_divisor == pytest.approx(math.sqrt(0.005))
    np.testing.assert_allclose(net.weights_pA, network_default.weights_pA / math.sqrt(0.005))
    assert int(net.neuron_numbers.sum()) == 17_350
