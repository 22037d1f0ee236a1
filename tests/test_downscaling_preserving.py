"""Down-scaling type ``preserve_input_statistics``: mean and variance of every input kept."""

import copy
import dataclasses
import math

import numpy as np
import pytest

from humam import downscaling as ds
from humam import build, tables
from humam import theory as th

E = tables.POPULATION_IS_EXCITATORY
SCALES = (0.01, 0.005)


@pytest.fixture(scope="module")
def full_rates(network_default):
    return th.theory_rates(network_default, until_converged=True).rates_hz  # the fixed point


@pytest.fixture(scope="module")
def preserved(cyto_default, connectome_default, default_network_params):
    nets = {}
    for scale in SCALES:
        params = copy.deepcopy(default_network_params)
        params["downscaling"].update(n_scaling=scale, k_scaling=scale, scaling_type=ds.PRESERVE_INPUT_STATISTICS)
        nets[scale] = build.assemble_network(cyto_default, connectome_default, params)
    return nets


def _matched(full_net, net, rates, include_dc=True):
    full_inputs = th.theory_inputs(full_net)
    inputs = th.theory_inputs(net, include_dc=include_dc)
    pos = np.searchsorted(full_inputs.index, inputs.index)
    assert np.array_equal(full_inputs.index[pos], inputs.index)
    return full_inputs, inputs, pos


def test_default_rates_source_is_theory_for_this_type():
    assert ds.rates_source("base_theory_rates", ds.PRESERVE_INPUT_STATISTICS) == "theory"
    assert ds.rates_source("base_theory_rates", "linear") == "base_theory_rates"
    assert ds.rates_source("/some/rates.pkl", ds.PRESERVE_INPUT_STATISTICS) == "/some/rates.pkl"


@pytest.mark.parametrize("scale", SCALES)
def test_weights_and_external_drive(preserved, network_default, full_rates, scale):
    net = preserved[scale]
    ne = net.nonempty
    assert net.scaling_type == ds.PRESERVE_INPUT_STATISTICS and net.weight_divisor == math.sqrt(scale)
    np.testing.assert_allclose(net.poisson_rate_hz[ne], 18_390.36, atol=0.01)
    np.testing.assert_array_equal(net.weights_ext_pA, network_default.weights_ext_pA)
    np.testing.assert_array_equal(net.weights_ext_sd_pA, network_default.weights_ext_sd_pA)
    np.testing.assert_array_equal(net.indegree_ext[ne], network_default.indegree_ext[ne])
    # per projection J' = J sqrt(K / K'), so that K' J'^2 = K J^2; where K' = 0, the nominal J / sqrt(k)
    k_full, k_new = network_default.indegrees, net.indegrees
    kept = k_new > 0
    np.testing.assert_allclose((k_new * net.weights_pA**2)[kept], (k_full * network_default.weights_pA**2)[kept],
                               rtol=1e-12)
    np.testing.assert_allclose((k_new * net.weights_sd_pA**2)[kept],
                               (k_full * network_default.weights_sd_pA**2)[kept], rtol=1e-12)
    np.testing.assert_allclose(net.weights_pA[~kept], network_default.weights_pA[~kept] / math.sqrt(scale), rtol=1e-14)
    # about J / sqrt(k) where the projection has many synapses
    many = k_new >= 50
    np.testing.assert_allclose(net.weights_pA[many], network_default.weights_pA[many] / math.sqrt(scale), rtol=0.08)
    np.testing.assert_array_equal(net.full_scale_rates_hz, np.where(ne, full_rates, 0.0))
    assert np.all(net.dc_drive_pA[~ne] == 0.0)


@pytest.mark.parametrize("scale", SCALES)
def test_dc_is_the_lost_mean_of_section_9_3(preserved, network_default, full_rates, scale):
    """I_DC = (C_m / tau_m) (mu_full - mu_scaled), mu from the theory's own statistics (DC excluded)."""
    net = preserved[scale]
    full_inputs, inputs, pos = _matched(network_default, net, full_rates, include_dc=False)
    mu_full = th.statistics_of(full_inputs, full_rates[full_inputs.index])[0][pos]
    mu_scaled = th.statistics_of(inputs, full_rates[inputs.index])[0]
    i = inputs.index
    expected = net.neuron_params["C_m_pF"][i] / net.neuron_params["tau_m_ms"][i] * (mu_full - mu_scaled)
    np.testing.assert_allclose(net.dc_drive_pA[i], expected, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("scale", SCALES)
def test_input_statistics_match_full_scale(preserved, network_default, full_rates, scale):
    net = preserved[scale]
    full_inputs, inputs, pos = _matched(network_default, net, full_rates)
    mu_f, sigma_f, tau_f = (x[pos] for x in th.statistics_of(full_inputs, full_rates[full_inputs.index]))
    mu, sigma, tau_s = th.statistics_of(inputs, full_rates[inputs.index])
    np.testing.assert_allclose(mu, mu_f, rtol=1e-12)
    np.testing.assert_allclose(tau_s, tau_f, rtol=1e-12)
    # the variance is the full-scale one over the projections the down-scaled network keeps (K' > 0)
    kept = inputs.indegree > 0
    masked = dataclasses.replace(
        full_inputs, index=inputs.index, indegree=np.where(kept, full_inputs.indegree[np.ix_(pos, pos)], 0.0),
        weight_mV=full_inputs.weight_mV[np.ix_(pos, pos)], tau_syn_s=full_inputs.tau_syn_s[np.ix_(pos, pos)],
        **{name: getattr(full_inputs, name)[pos] for name in (
            "indegree_ext", "weight_ext_mV", "rate_ext_hz", "tau_syn_ext_s", "tau_m_s", "t_ref_s", "theta_mV",
            "V_r_mV")},
        dc_mV=None,
    )
    _, sigma_kept, _ = th.statistics_of(masked, full_rates[inputs.index])
    np.testing.assert_allclose(sigma, sigma_kept, rtol=1e-12)
    # projections lost to rounding carry little of the variance
    np.testing.assert_allclose(sigma**2, sigma_f**2, rtol=0.01)
    # phi of the down-scaled network is the full-scale transfer function at (mu_full, sigma of kept projections)
    expected = th.transfer_function(mu_f, sigma_kept, tau_f, inputs.tau_m_s, inputs.t_ref_s, inputs.theta_mV,
                                    inputs.V_r_mV)
    np.testing.assert_allclose(th.phi(inputs, full_rates[inputs.index]), expected, rtol=1e-9)


@pytest.mark.parametrize("scale", SCALES)
def test_full_scale_rates_are_a_fixed_point_of_the_downscaled_theory(preserved, full_rates, scale):
    """By construction, the down-scaled network's mean-field rates equal the full-scale ones within
    1 % for every population (the residual comes from projections lost to rounding)."""
    net = preserved[scale]
    residual = th.residual_at(net, full_rates, include_dc=True)[net.nonempty]
    assert np.max(np.abs(residual) / full_rates[net.nonempty]) < 0.01


def test_full_scale_fixed_point_is_stable(network_default, full_rates):
    result = th.stability(network_default, full_rates)
    assert result["stable"] and result["max_relative_residual"] < 1e-10


def test_stability_is_lost_when_indegrees_shrink_too_far(cyto_default, connectome_default, default_network_params,
                                                          preserved, full_rates):
    """J ~ 1/sqrt(k) keeps mean and variance but weakens the mean feedback by sqrt(k) (van Albada et
    al. 2015): at k = 0.01 the full-scale fixed point is unstable; at k = 0.1 (n = 0.01) it is stable."""
    assert not th.stability(preserved[0.01], full_rates, include_dc=True)["stable"]
    params = copy.deepcopy(default_network_params)
    params["downscaling"].update(n_scaling=0.01, k_scaling=0.1, scaling_type=ds.PRESERVE_INPUT_STATISTICS)
    net = build.assemble_network(cyto_default, connectome_default, params)
    result = th.stability(net, full_rates, include_dc=True)
    assert result["stable"] and result["max_relative_residual"] < 0.01


def test_full_scale_rates_are_a_saddle_at_n_equal_k(preserved, full_rates):
    """At N = K = 0.01 the down-scaled rate dynamics leave nu_full on both sides: a small rise grows to
    a state firing above the full scale, a small fall decays to one firing below it; both are fixed
    points of the down-scaled theory."""
    net = preserved[0.01]
    present = net.nonempty
    neurons = net.neuron_numbers[present]

    def weighted(rates):
        return np.sum(rates[present] * neurons) / neurons.sum()

    ends = {}
    for factor in (1.05, 0.95):
        result = th.theory_rates(net, include_dc=True, initial_rates_hz=full_rates * factor,
                                 times=np.arange(0.0, 200.0, 0.1), solver="solve_ivp")
        assert np.max(np.abs(result.residual_hz[present]) / result.rates_hz[present]) < 1e-6
        ends[factor] = weighted(result.rates_hz)
    assert ends[1.05] > 2 * weighted(full_rates) > 4 * ends[0.95]
