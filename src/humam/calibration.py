"""Rate calibration of a down-scaled network's DC drive (docs/model.md §6.7).

A down-scaled network keeps every population's mean input and input variance at the full-scale
rates (``preserve_input_statistics``), yet it fires faster than the full-scale network: finite-size
fluctuations and larger PSPs shift each population's transfer function away from the diffusion
approximation. The calibration corrects each population's DC drive I_DC,i until the rates that the
down-scaled network *simulates* match the full-scale target rates ν*.

The simulated rates ν(I) are a function of the DC vector. Near the target the mean-field theory
linearises it: a DC change ΔI moves the stationary rates by

    Δν = (1 − W)⁻¹ S ΔI,     W = ∂φ/∂ν (the theory's Jacobian),   S = diag(∂φ_i/∂I_i)

(the direct effect of the current on each population's transfer function, S, fed back through the
network, (1 − W)⁻¹). Inverting this response gives the damped Newton step

    ΔI = α S⁻¹ (1 − W) (ν* − ν(I))

which needs no matrix inversion. Both W and S are taken once, at the target rates of the
down-scaled network's own theory (DC included). With the theory's response equal to the network's,
the residual shrinks by (1 − α) per step; where they differ by a relative error ε, by
|1 − α(1 + ε)|, so a damping α < 1 keeps the iteration contracting for any ε in (−1, 2/α − 1). The
step is additionally limited to ``max_step_pA`` per population and iteration, which protects
populations whose measured rate is far outside the linear range.

This module is pure: :func:`calibrate` takes the simulator as a callable (DC vector → rates), so the
NEST runs stay in the simulation stage and the iteration can be tested on the theory itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import theory
from .errors import ParameterError
from .network import Network

#: Current step of the finite-difference susceptibility (pA).
SUSCEPTIBILITY_STEP_PA = 0.5


def dc_susceptibility(net: Network, rates_hz) -> np.ndarray:
    """S_i = ∂φ_i/∂I_DC,i (spikes/s per pA) over the non-empty populations at ``rates_hz`` (272,), by
    central differences of the transfer function in the DC current (theory with the DC included)."""
    inputs = theory.theory_inputs(net, include_dc=True)
    nu = np.asarray(rates_hz, dtype=float)[inputs.index]
    p = {key: np.asarray(value, dtype=float)[inputs.index] for key, value in net.neuron_params.items()}
    dmu_mV = SUSCEPTIBILITY_STEP_PA * p["tau_m_ms"] / p["C_m_pF"]
    up = theory.phi(dataclasses.replace(inputs, dc_mV=inputs.dc_mV + dmu_mV), nu)
    down = theory.phi(dataclasses.replace(inputs, dc_mV=inputs.dc_mV - dmu_mV), nu)
    return (up - down) / (2.0 * SUSCEPTIBILITY_STEP_PA)


@dataclass(frozen=True)
class Linearisation:
    """The mean-field response of ``net`` at ``rates_hz``: what a Newton step needs."""

    index: np.ndarray  #: (n,) canonical positions of the non-empty populations
    jacobian: np.ndarray  #: (n, n) W = ∂φ/∂ν (dimensionless)
    susceptibility_hz_per_pA: np.ndarray  #: (n,) S = ∂φ_i/∂I_i


def linearise(net: Network, rates_hz) -> Linearisation:
    """W and S of ``net`` (DC included) at ``rates_hz`` (272,)."""
    return Linearisation(index=np.flatnonzero(net.nonempty),
                         jacobian=theory.jacobian(net, rates_hz, include_dc=True),
                         susceptibility_hz_per_pA=dc_susceptibility(net, rates_hz))


def newton_dc_step(linear: Linearisation, target_hz, measured_hz, damping: float, max_step_pA: float) -> np.ndarray:
    """ΔI = α S⁻¹ (1 − W)(ν* − ν) (272,) pA, each entry limited to ±``max_step_pA`` (0 for empty
    populations). ``target_hz`` and ``measured_hz`` are (272,)."""
    index = linear.index
    error = np.asarray(target_hz, dtype=float)[index] - np.asarray(measured_hz, dtype=float)[index]
    step = damping * ((np.eye(index.size) - linear.jacobian) @ error) / linear.susceptibility_hz_per_pA
    full = np.zeros(np.asarray(target_hz).shape, dtype=float)
    full[index] = np.clip(step, -max_step_pA, max_step_pA)
    return full


def relative_rate_error(target_hz, measured_hz, nonempty, floor_hz: float) -> np.ndarray:
    """|ν − ν*| / (ν* + floor) per population (272,; 0 for empty ones): the residual the calibration
    drives below its tolerance. The floor keeps nearly silent populations from dominating."""
    target = np.asarray(target_hz, dtype=float)
    error = np.abs(np.asarray(measured_hz, dtype=float) - target) / (target + floor_hz)
    return np.where(nonempty, error, 0.0)


@dataclass
class CalibrationResult:
    """The outcome of :func:`calibrate`: the DC offsets to add to the network's drive and the history."""

    dc_offset_pA: np.ndarray  #: (272,) added to ``Network.dc_drive_pA``
    target_rates_hz: np.ndarray  #: (272,) ν*
    rates_hz: list[np.ndarray]  #: measured rates (272,) of every simulation, in order
    max_relative_error: list[float]  #: max of :func:`relative_rate_error` per iteration
    converged: bool

    @property
    def iterations(self) -> int:
        """Number of simulations run (the last one measures the final offsets)."""
        return len(self.rates_hz)


def calibrate(net: Network, simulate_rates: Callable[[np.ndarray, int], np.ndarray], *, target_hz=None,
              damping: float = 0.7, max_iterations: int = 6, tolerance: float = 0.15, floor_hz: float = 0.1,
              max_step_pA: float = 50.0) -> CalibrationResult:
    """Correct the DC drive of ``net`` until ``simulate_rates`` fires at the target rates.

    ``simulate_rates(dc_offset_pA, iteration)`` returns the population rates (272,) of the network
    with ``dc_offset_pA`` (272,) added to its DC drive (a short simulation, with a seed of its own per
    iteration). ``target_hz`` defaults to the network's full-scale rates (``full_scale_rates_hz``).
    The iteration stops when every population's :func:`relative_rate_error` is below ``tolerance``
    or after ``max_iterations`` simulations; the returned offsets are those of the best iteration
    (smallest largest error).
    """
    source = net.full_scale_rates_hz if target_hz is None else target_hz
    if source is None or np.shape(source) != net.neuron_numbers.shape:
        raise ParameterError("The rate calibration needs full-scale target rates for every population: calibrate "
                             "a down-scaled network (it records full_scale_rates_hz) or give target_hz (272,).")
    target = np.asarray(source, dtype=float)
    nonempty = np.asarray(net.nonempty, dtype=bool)
    linear = linearise(net, target)
    offset = np.zeros_like(target)
    offsets, rates, errors = [], [], []
    for iteration in range(max_iterations):
        measured = np.asarray(simulate_rates(offset.copy(), iteration), dtype=float)
        offsets.append(offset.copy())
        rates.append(measured)
        errors.append(float(relative_rate_error(target, measured, nonempty, floor_hz).max()))
        if errors[-1] < tolerance or iteration == max_iterations - 1:
            break
        offset = offset + newton_dc_step(linear, target, measured, damping, max_step_pA)
    best = int(np.argmin(errors))
    return CalibrationResult(dc_offset_pA=offsets[best], target_rates_hz=target, rates_hz=rates,
                             max_relative_error=errors, converged=errors[best] < tolerance)
