"""The rate calibration of the DC drive (docs/model.md §6.7), on the mean-field theory as the simulator."""

import dataclasses

import numpy as np
import pytest

from humam import calibration, theory


@pytest.fixture(scope="module")
def full_scale_fixed_point(network_default):
    """The default full-scale network with its own converged theory rates as the target."""
    rates = theory.theory_rates(network_default, until_converged=True).rates_hz
    return dataclasses.replace(network_default, full_scale_rates_hz=rates), rates


def _theory_simulator(net, hidden_bias_pA, calls):
    """Stationary rates of ``net`` with a DC bias the calibration does not know, plus its offsets:
    a stand-in for a down-scaled network whose transfer functions are shifted."""
    def simulate(offset_pA, iteration):
        calls.append(iteration)
        shifted = dataclasses.replace(net, dc_drive_pA=net.dc_drive_pA + hidden_bias_pA + offset_pA)
        return theory.theory_rates(shifted, include_dc=True, until_converged=True,
                                   initial_rates_hz=net.full_scale_rates_hz).rates_hz
    return simulate


def test_the_susceptibility_is_the_slope_of_the_transfer_function_in_the_dc(full_scale_fixed_point):
    net, rates = full_scale_fixed_point
    s = calibration.dc_susceptibility(net, rates)
    index = np.flatnonzero(net.nonempty)
    # one population's DC raised by 1 pA moves its own phi by about S (other populations' not at all)
    i = int(np.argmax(rates[index]))
    bumped = net.dc_drive_pA.copy()
    bumped[index[i]] += 1.0
    inputs = theory.theory_inputs(dataclasses.replace(net, dc_drive_pA=bumped), include_dc=True)
    base = theory.phi(theory.theory_inputs(net, include_dc=True), rates[index])
    moved = theory.phi(inputs, rates[index]) - base
    assert s[i] > 0 and np.all(s > 0)
    assert moved[i] == pytest.approx(s[i], rel=0.05)
    assert np.max(np.abs(np.delete(moved, i))) == 0.0


def test_the_newton_step_undoes_a_small_dc_bias_in_one_step(full_scale_fixed_point):
    """For a small bias the linear response is exact to first order: one undamped step removes it."""
    net, rates = full_scale_fixed_point
    bias = np.where(net.nonempty, 1.0, 0.0)
    measured = _theory_simulator(net, bias, [])(np.zeros_like(rates), 0)
    step = calibration.newton_dc_step(calibration.linearise(net, rates), rates, measured, damping=1.0,
                                      max_step_pA=1e9)
    index = np.flatnonzero(net.nonempty)
    assert np.median(np.abs(step[index] + 1.0)) < 0.05


def test_calibration_converges_to_the_target_rates(full_scale_fixed_point):
    """A hidden bias of +5 pA (the full-scale network then fires far above its fixed point) is found
    and removed: every population within 2 % of its target rate in at most 6 simulations."""
    net, rates = full_scale_fixed_point
    bias = np.where(net.nonempty, 5.0, 0.0)
    calls = []
    simulate = _theory_simulator(net, bias, calls)
    uncalibrated = simulate(np.zeros_like(rates), -1)
    nonempty = net.nonempty
    assert calibration.relative_rate_error(rates, uncalibrated, nonempty, 0.1).max() > 0.3
    result = calibration.calibrate(net, simulate, damping=0.7, max_iterations=6, tolerance=0.02)
    assert result.converged and result.iterations <= 6 and len(calls) == result.iterations + 1
    assert result.max_relative_error[-1] < 0.02 < result.max_relative_error[0]
    assert np.all(np.diff(result.max_relative_error) < 0)
    index = np.flatnonzero(nonempty)
    assert np.median(result.dc_offset_pA[index]) == pytest.approx(-5.0, abs=0.5)
