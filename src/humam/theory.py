"""Mean-field theory of the stationary rates (docs/model.md §9): the shifted-Siegert formula.

Stationary rates of the LIF network (``iaf_psc_exp``) in the diffusion approximation with the
colored-noise correction of Fourcaud & Brunel (2002), found by integrating the pseudo-dynamics
dnu/dt = -nu + phi(nu).

Units (§9.2): times in s, rates in spikes/s, potentials in mV relative to E_L (theta = V_th - E_L,
V_r = V_reset - E_L). A weight J (pA) becomes J~ = J 1e3 tau_syn / C_m (mV, tau_syn in s, C_m in pF)
with the target's C_m and the synaptic time constant of the source type (the target's tau_syn,ex for
excitatory and external inputs, tau_syn,in for inhibitory ones).

Input statistics of population i (§9.3), with K = S/N, the external input feeding population i only:

* mu_i      = tau_m sum_j K_ij J~_ij nu_j   + tau_m K_ext,i J~_ext,i nu_ext,i
* sigma_i^2 = tau_m sum_j K_ij J~_ij^2 nu_j + tau_m K_ext,i J~_ext,i^2 nu_ext,i
* tau_s,i   = sigma_i^2 / sigma~_i^2, sigma~^2 being the same sum with every term divided by its tau_syn.

Transfer function (§9.4), with alpha = sqrt(2) |zeta(1/2)| and the shift
s = sigma (alpha / 2) sqrt(tau_s / tau_m) applied to threshold and reset:

    phi = 1 / (t_ref + tau_m sqrt(pi) int_{y_r}^{y_theta} e^{u^2} (1 + erf u) du),
    y_theta = (theta + s - mu) / sigma,  y_r = (V_r + s - mu) / sigma.

The integral is evaluated in a form free of overflow and cancellation (:func:`siegert_integral_scaled`):
the integrand is erfcx(-u); for u <= 0 it is integrated as is, for u >= 0 it is written as
2 e^{u^2} - erfcx(u), whose first term integrates in closed form through the Dawson function,
int_0^y e^{u^2} du = e^{y^2} D(y). The remaining erfcx integrals use a fixed Gauss-Legendre rule
(:data:`GAUSS_LEGENDRE_NODES` nodes per interval, vectorised over populations; it agrees with adaptive
quadrature to ~1e-14 relative for intervals anywhere in [0, 30]). For y_theta > 0 numerator and
denominator of phi are multiplied by e^{-y_theta^2}. The literal integrand e^{u^2} (1 + erf u),
integrated adaptively, is available as ``integrand="literal"`` for comparison only: 1 + erf u cancels
for u below about -5, which makes the rates of strongly driven populations wrong by large factors (up to
1/t_ref), and e^{u^2} overflows for u above about 26.6.

Fixed point (§9.5): LSODA on the pseudo-dynamics (pseudo-time in units of one time constant), start
nu(0) ~ Uniform[0, 10) spikes/s from the legacy NumPy generator seeded with 123, one vector over the
non-empty populations in canonical order, evaluation times 0.1 k for k = 0..99. The published
prediction is the value at t = 9.9, which is not fully converged (docs/quirks.md Q20; max about 0.0016
spikes/s, 2.6 % relative, from the fixed point in the base network). ``until_converged=True``
continues the same pseudo-dynamics until |phi(nu) - nu| is at round-off level, i.e. it returns the
fixed point itself (the shipped ``base_theory_rates.pkl`` is this fixed point).

The DC drive of down-scaled networks (§6.3) is **not** part of the published theory (docs/quirks.md Q12): by
default the theory of a down-scaled network uses its scaled K, J and external drive only. With
``include_dc=True`` the constant current I_DC shifts the mean input by I_DC tau_m / C_m (mV; tau_m in
ms, C_m in pF): mu_i += I_DC,i tau_m,i / C_m,i. The external drive is the network's K_ext
(``indegree_ext``, equal to S_ext / N except for ``preserve_input_statistics``, which keeps the
full-scale K_ext) times nu_ext.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import integrate, special

from . import tables
from .network import Network
from .tables import POPULATION_IS_EXCITATORY

#: zeta(1/2), the Riemann zeta function at 1/2.
ZETA_HALF = -1.4603545088095868
#: alpha = sqrt(2) |zeta(1/2)| of the threshold shift (Fourcaud & Brunel 2002).
ALPHA = math.sqrt(2.0) * abs(ZETA_HALF)

#: Gauss-Legendre nodes per erfcx interval of the stable integral.
GAUSS_LEGENDRE_NODES = 64
_GL_X, _GL_W = np.polynomial.legendre.leggauss(GAUSS_LEGENDRE_NODES)

#: Published pseudo-time grid: 0.1 k, k = 0..99; the prediction is the value at t = 9.9 (docs/quirks.md Q20).
DEFAULT_TIMES = 0.1 * np.arange(100)
#: Seed of the legacy NumPy generator for the initial rates.
DEFAULT_SEED = 123
#: Initial rates are Uniform[0, INITIAL_RATE_MAX_HZ).
INITIAL_RATE_MAX_HZ = 10.0

#: ``until_converged``: stop when max |phi(nu) - nu| / nu is below this (round-off level).
CONVERGENCE_RTOL = 1e-13
#: LSODA tolerances of the ``until_converged`` continuation (SciPy's defaults, ~1.5e-8, stop short of
#: the fixed point at a relative residual of ~1e-7).
CONTINUATION_RTOL = 1e-10
CONTINUATION_ATOL_HZ = 1e-12

INTEGRANDS = ("stable", "literal")
SOLVERS = ("odeint", "solve_ivp")

_SQRT_PI = math.sqrt(math.pi)


# ---------------------------------------------------------------------------------------------
# Inputs (§9.1, §9.2)


@dataclass(frozen=True)
class TheoryInputs:
    """Everything the theory needs, restricted to the non-empty populations (canonical order).

    Indices below run over the ``n`` non-empty populations; ``index`` maps them to 0..271.
    """

    index: np.ndarray  #: (n,) positions of the non-empty populations among the 272
    indegree: np.ndarray  #: (n, n) K = S/N, rows target
    weight_mV: np.ndarray  #: (n, n) J~ = J 1e3 tau_syn / C_m
    tau_syn_s: np.ndarray  #: (n, n) synaptic time constant of each input (source type, target's values)
    indegree_ext: np.ndarray  #: (n,) K_ext
    weight_ext_mV: np.ndarray  #: (n,) J~_ext (5E/6E factors included)
    rate_ext_hz: np.ndarray  #: (n,) nu_ext per external synapse
    tau_syn_ext_s: np.ndarray  #: (n,) tau_syn,ex of the target
    tau_m_s: np.ndarray  #: (n,)
    t_ref_s: np.ndarray  #: (n,)
    theta_mV: np.ndarray  #: (n,) V_th - E_L
    V_r_mV: np.ndarray  #: (n,) V_reset - E_L
    dc_mV: np.ndarray | None = None  #: (n,) I_DC tau_m / C_m added to mu (``include_dc``), else None


def weight_to_mV(weights_pA, tau_syn_ms, C_m_pF) -> np.ndarray:
    """J~ = J 1e3 tau_syn / C_m in mV (J in pA, tau_syn in s, C_m in pF); tau_syn is given in ms here."""
    tau_syn_s = np.asarray(tau_syn_ms, dtype=float) * 1e-3
    return np.asarray(weights_pA, dtype=float) * 1e3 * tau_syn_s / np.asarray(C_m_pF, dtype=float)


def theory_inputs(net: Network, include_dc: bool = False) -> TheoryInputs:
    """The theory's inputs (§9.1) from a :class:`~humam.network.Network`, non-empty populations only.

    By default the down-scaling DC drive ``net.dc_drive_pA`` is ignored, as published (docs/quirks.md Q12);
    ``include_dc=True`` adds I_DC tau_m / C_m (mV) to the mean input. K_ext is ``net.indegree_ext``.
    """
    index = np.flatnonzero(net.nonempty)
    p = {key: np.asarray(value, dtype=float)[index] for key, value in net.neuron_params.items()}
    source_e = POPULATION_IS_EXCITATORY[index][None, :]
    tau_syn_ms = np.where(source_e, p["tau_syn_ex_ms"][:, None], p["tau_syn_in_ms"][:, None])
    n_target = np.asarray(net.neuron_numbers, dtype=float)[index]
    indegree = np.asarray(net.synapses, dtype=float)[np.ix_(index, index)] / n_target[:, None]
    weights = np.asarray(net.weights_pA, dtype=float)[np.ix_(index, index)]
    return TheoryInputs(
        index=index,
        indegree=indegree,
        weight_mV=weight_to_mV(weights, tau_syn_ms, p["C_m_pF"][:, None]),
        tau_syn_s=tau_syn_ms * 1e-3,
        indegree_ext=np.asarray(net.indegree_ext, dtype=float)[index],
        weight_ext_mV=weight_to_mV(np.asarray(net.weights_ext_pA, dtype=float)[index], p["tau_syn_ex_ms"], p["C_m_pF"]),
        rate_ext_hz=np.asarray(net.rate_ext_hz, dtype=float)[index],
        tau_syn_ext_s=p["tau_syn_ex_ms"] * 1e-3,
        tau_m_s=p["tau_m_ms"] * 1e-3,
        t_ref_s=p["t_ref_ms"] * 1e-3,
        theta_mV=p["V_th_mV"] - p["E_L_mV"],
        V_r_mV=p["V_reset_mV"] - p["E_L_mV"],
        dc_mV=(np.asarray(net.dc_drive_pA, dtype=float)[index] * p["tau_m_ms"] / p["C_m_pF"]) if include_dc else None,
    )


# ---------------------------------------------------------------------------------------------
# Input statistics (§9.3)


def input_statistics(rates_hz, indegree, weight_mV, tau_syn_s, indegree_ext, weight_ext_mV, rate_ext_hz,
                     tau_syn_ext_s, tau_m_s, dc_mV=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mu in mV, sigma in mV, tau_s in s) of every target population.

    ``indegree``, ``weight_mV`` and ``tau_syn_s`` are (n, n) with rows target; the external terms are
    (n,) and feed their own population only (not summed over populations). ``dc_mV`` (n,), if given, is
    a constant current's shift I_DC tau_m / C_m of the mean (``include_dc``; not published).
    """
    nu = np.asarray(rates_hz, dtype=float)
    kj = indegree * weight_mV
    kj2 = kj * weight_mV
    ext = indegree_ext * rate_ext_hz
    mu = tau_m_s * (kj @ nu + ext * weight_ext_mV)
    if dc_mV is not None:
        mu = mu + dc_mV
    var_terms = kj2 @ nu + ext * weight_ext_mV**2
    var_over_tau = (kj2 / tau_syn_s) @ nu + ext * weight_ext_mV**2 / tau_syn_ext_s
    sigma2 = tau_m_s * var_terms
    tau_s = var_terms / var_over_tau
    return mu, np.sqrt(sigma2), tau_s


def statistics_of(inputs: TheoryInputs, rates_hz) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`input_statistics` for the (n,) rates of the non-empty populations of ``inputs``."""
    return input_statistics(rates_hz, inputs.indegree, inputs.weight_mV, inputs.tau_syn_s, inputs.indegree_ext,
                            inputs.weight_ext_mV, inputs.rate_ext_hz, inputs.tau_syn_ext_s, inputs.tau_m_s,
                            inputs.dc_mV)


# ---------------------------------------------------------------------------------------------
# Transfer function (§9.4)


def siegert_integral_scaled(y_r, y_theta) -> tuple[np.ndarray, np.ndarray]:
    """The Siegert integral I = int_{y_r}^{y_theta} e^{u^2} (1 + erf u) du as (value, exponent) with
    I = value * exp(exponent), exponent = max(y_theta, 0)^2, evaluated without overflow or cancellation.

    The integrand equals erfcx(-u). Its part over u <= 0 is integrated by quadrature as is. Over
    u >= 0 it is 2 e^{u^2} - erfcx(u): int_a^y 2 e^{u^2} du = 2 (e^{y^2} D(y) - e^{a^2} D(a)) with D the
    Dawson function, and the erfcx term is integrated by quadrature. Everything is multiplied by
    e^{-exponent} before it is formed. Requires y_r <= y_theta.
    """
    y_r, y_theta = np.broadcast_arrays(np.asarray(y_r, dtype=float), np.asarray(y_theta, dtype=float))
    y_r = np.atleast_1d(y_r).astype(float)
    y_theta = np.atleast_1d(y_theta).astype(float)
    exponent = np.maximum(y_theta, 0.0) ** 2
    scale = np.exp(-exponent)
    # part over u <= 0: int_{y_r}^{min(y_theta, 0)} erfcx(-u) du = int_{max(-y_theta, 0)}^{-y_r} erfcx(x) dx
    neg = y_r < 0.0
    hi = np.where(neg, -y_r, 0.0)
    lo = np.where(neg, np.maximum(-y_theta, 0.0), 0.0)
    negative_part = np.where(neg, _erfcx_integral_vec(lo, hi), 0.0)
    # part over u >= 0: int_a^{y_theta} (2 e^{u^2} - erfcx(u)) du, a = max(y_r, 0)
    pos = y_theta > 0.0
    a = np.where(pos, np.maximum(y_r, 0.0), 0.0)
    y = np.where(pos, y_theta, 0.0)
    dawson_part = 2.0 * (special.dawsn(y) - np.exp(a * a - y * y) * special.dawsn(a))
    positive_part = np.where(pos, dawson_part - scale * _erfcx_integral_vec(a, y), 0.0)
    return scale * negative_part + positive_part, exponent


def _erfcx_integral_vec(p, q) -> np.ndarray:
    """int_p^q erfcx(x) dx elementwise for 1-D arrays 0 <= p <= q (Gauss-Legendre, vectorised)."""
    half = 0.5 * (q - p)
    nodes = p[:, None] + half[:, None] * (_GL_X[None, :] + 1.0)
    return half * (special.erfcx(nodes) @ _GL_W)


def _literal_integral(y_r, y_theta) -> np.ndarray:
    """int_{y_r}^{y_theta} e^{u^2} (1 + erf u) du with the literal integrand and adaptive quadrature
    (``scipy.integrate.quad``, default tolerances). Where 1 + erf u has cancelled to 0 the integrand is 0;
    where e^{u^2} overflows it is inf (rate 0)."""
    def integrand(u):
        one_plus_erf = 1.0 + math.erf(u)
        if one_plus_erf == 0.0:  # fully cancelled for u below about -5.9 (whatever e^{u^2} is)
            return 0.0
        try:
            return math.exp(u * u) * one_plus_erf
        except OverflowError:
            return math.inf

    bounds = zip(np.atleast_1d(y_r), np.atleast_1d(y_theta))
    return np.array([integrate.quad(integrand, lo, hi)[0] for lo, hi in bounds])


def shifted_bounds(mu_mV, sigma_mV, tau_s_s, tau_m_s, theta_mV, V_r_mV) -> tuple[np.ndarray, np.ndarray]:
    """(y_r, y_theta) = ((V_r' - mu)/sigma, (theta' - mu)/sigma) with the shifted threshold and reset
    theta' = theta + sigma (alpha/2) sqrt(tau_s/tau_m), V_r' = V_r + sigma (alpha/2) sqrt(tau_s/tau_m)."""
    mu = np.asarray(mu_mV, dtype=float)
    sigma = np.asarray(sigma_mV, dtype=float)
    shift = sigma * (ALPHA / 2.0) * np.sqrt(np.asarray(tau_s_s, dtype=float) / np.asarray(tau_m_s, dtype=float))
    return (V_r_mV + shift - mu) / sigma, (theta_mV + shift - mu) / sigma


def transfer_function(mu_mV, sigma_mV, tau_s_s, tau_m_s, t_ref_s, theta_mV, V_r_mV,
                      integrand: str = "stable") -> np.ndarray:
    """Stationary rate phi(mu, sigma) in spikes/s of the shifted-Siegert formula (§9.4), elementwise.

    ``integrand="stable"`` (default) uses :func:`siegert_integral_scaled`; ``"literal"`` integrates
    e^{u^2} (1 + erf u) adaptively as written, which fails for bounds below about -5 (comparison only).
    """
    y_r, y_theta = shifted_bounds(mu_mV, sigma_mV, tau_s_s, tau_m_s, theta_mV, V_r_mV)
    y_r, y_theta = np.atleast_1d(y_r), np.atleast_1d(y_theta)
    tau_m = np.broadcast_to(np.asarray(tau_m_s, dtype=float), y_r.shape)
    t_ref = np.broadcast_to(np.asarray(t_ref_s, dtype=float), y_r.shape)
    if integrand == "stable":
        value, exponent = siegert_integral_scaled(y_r, y_theta)
        scale = np.exp(-exponent)
        return scale / (t_ref * scale + tau_m * _SQRT_PI * value)
    if integrand == "literal":
        return 1.0 / (t_ref + tau_m * _SQRT_PI * _literal_integral(y_r, y_theta))
    raise ValueError(f"integrand must be one of {', '.join(INTEGRANDS)}, got {integrand!r}.")


def phi(inputs: TheoryInputs, rates_hz, integrand: str = "stable") -> np.ndarray:
    """phi(nu): the rates (spikes/s) that the input rates ``rates_hz`` (non-empty populations) imply."""
    mu, sigma, tau_s = statistics_of(inputs, rates_hz)
    return transfer_function(mu, sigma, tau_s, inputs.tau_m_s, inputs.t_ref_s, inputs.theta_mV, inputs.V_r_mV,
                             integrand=integrand)


# ---------------------------------------------------------------------------------------------
# Fixed point (§9.5)


def initial_rates(n: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """nu(0) ~ Uniform[0, 10) spikes/s: the numbers of the legacy global generator after
    ``np.random.seed(seed)``, drawn from a private ``RandomState`` (global state untouched)."""
    return np.random.RandomState(seed).uniform(0.0, INITIAL_RATE_MAX_HZ, n)


def _integrate(rhs, y0, times, solver: str, rtol=None, atol=None) -> np.ndarray:
    """LSODA (SciPy's default tolerances unless given); (len(times), n) solution at ``times``.

    Raises RuntimeError if the solver does not finish (odeint would otherwise return garbage silently).
    """
    if solver == "odeint":
        y, info = integrate.odeint(lambda y, t: rhs(y), y0, times, rtol=rtol, atol=atol, full_output=True)
        if info["message"] != "Integration successful.":
            raise RuntimeError(f"LSODA (odeint) failed: {info['message']}")
        return y
    if solver == "solve_ivp":
        tolerances = {k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}
        sol = integrate.solve_ivp(lambda t, y: rhs(y), (times[0], times[-1]), y0, method="LSODA", t_eval=times,
                                  **tolerances)
        if not sol.success:
            raise RuntimeError(f"LSODA (solve_ivp) failed: {sol.message}")
        return sol.y.T
    raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}.")


@dataclass(eq=False)
class TheoryResult:
    """Mean-field rates of one network; all population arrays cover the 272 keys (0 for empty ones).

    * ``rates_hz`` (272,): the prediction (value at the last of the published times, t = 9.9, Q20; with
      ``until_converged`` the converged fixed point).
    * ``trajectory_hz`` (n_times, 272) and ``times`` (n_times,): the pseudo-dynamics, for the
      convergence plot; with ``until_converged`` it extends beyond 9.9.
    * ``mu_mV``, ``sigma_mV``, ``tau_s_ms`` (272,): input statistics at ``rates_hz``.
    * ``residual_hz`` (272,): phi(nu) - nu at ``rates_hz``.
    * ``nonempty`` (272,) bool; ``options``: the options of :func:`theory_rates`; ``converged``: whether
      the residual criterion of ``until_converged`` was met (None if it was not requested).
    """

    rates_hz: np.ndarray
    trajectory_hz: np.ndarray
    times: np.ndarray
    mu_mV: np.ndarray
    sigma_mV: np.ndarray
    tau_s_ms: np.ndarray
    residual_hz: np.ndarray
    nonempty: np.ndarray
    options: dict = field(default_factory=dict)
    converged: bool | None = None

    @property
    def max_relative_residual(self) -> float:
        """max |phi(nu) - nu| / nu over the non-empty populations."""
        nu = self.rates_hz[self.nonempty]
        return float(np.max(np.abs(self.residual_hz[self.nonempty]) / np.abs(nu)))


def _full(index: np.ndarray, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    out = np.zeros(values.shape[:-1] + (tables.N_POPULATIONS,))
    out[..., index] = values
    return out


def theory_rates(net: Network, *, seed: int = DEFAULT_SEED, initial_rates_hz=None, times=None,
                 solver: str = "odeint", integrand: str = "stable", until_converged: bool = False,
                 convergence_rtol: float = CONVERGENCE_RTOL, chunk_time: float = 10.0,
                 max_time: float = 500.0, include_dc: bool = False) -> TheoryResult:
    """Stationary rates of ``net`` by the shifted-Siegert theory (§9), as published by default.

    Options:

    * ``seed``: seed of the legacy NumPy generator for nu(0) ~ Uniform[0, 10) (default 123); ignored if
      ``initial_rates_hz`` is given, either (272,) over all populations or (n,) over the non-empty ones.
    * ``times``: evaluation times of the pseudo-dynamics (default 0.1 k, k = 0..99); the prediction is
      the value at the last one (published: t = 9.9, not converged, docs/quirks.md Q20).
    * ``solver``: ``"odeint"`` (default) or ``"solve_ivp"`` (method LSODA), both with SciPy's default
      tolerances; their t = 9.9 values agree to about 0.01 %.
    * ``integrand``: ``"stable"`` (default) or ``"literal"``, for comparison. The literal integrand's
      adaptive quadrature is slow (about 20 ms per evaluation) and, where 1 + erf u cancels, noisy at the
      1e-5 level; ``solver="solve_ivp"`` copes (base network: about 15 s, t = 9.9 maximum relative
      difference to the pickle 2.66 % instead of 2.61 %), ``odeint`` gives up (RuntimeError).
    * ``until_converged`` (default False; the improvement over Q20): after the published times, continue
      the same pseudo-dynamics in chunks of ``chunk_time`` pseudo-time (same sampling step), integrated
      with tight tolerances (rtol = 1e-10, atol = 1e-12 spikes/s) so that the solver does not stop short
      of the fixed point, until max |phi(nu) - nu| / nu <= ``convergence_rtol`` (default 1e-13, round-off
      level), until the residual stops decreasing, or until ``max_time``. The prediction is then the fixed
      point (for the base network: equal to the shipped pickle to ~2.5e-13 relative, at t of about 50).
      ``converged`` tells whether the criterion was met.

    * ``include_dc`` (default False, published, docs/quirks.md Q12): add the down-scaling DC drive to the mean
      input (mu += I_DC tau_m / C_m).
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}.")
    if integrand not in INTEGRANDS:
        raise ValueError(f"integrand must be one of {', '.join(INTEGRANDS)}, got {integrand!r}.")
    inputs = theory_inputs(net, include_dc=include_dc)
    n = inputs.index.size
    if initial_rates_hz is None:
        y0 = initial_rates(n, seed)
    else:
        y0 = np.asarray(initial_rates_hz, dtype=float)
        if y0.shape == (tables.N_POPULATIONS,):
            y0 = y0[inputs.index]
        if y0.shape != (n,):
            raise ValueError(f"initial_rates_hz must have shape (272,) or ({n},), got {y0.shape}.")
    times = DEFAULT_TIMES.copy() if times is None else np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size < 2 or np.any(np.diff(times) <= 0):
        raise ValueError("times must be an increasing 1-D array with at least two entries.")

    def rhs(nu):
        return phi(inputs, nu, integrand) - nu

    def relative_residual(nu):
        return float(np.max(np.abs(rhs(nu)) / np.abs(nu)))

    trajectory = [_integrate(rhs, y0, times, solver)]
    all_times = [times]
    converged = None
    if until_converged:
        step = float(times[-1] - times[-2])
        n_chunk = max(int(round(chunk_time / step)), 1)
        residual = best = relative_residual(trajectory[-1][-1])
        stalls = 0
        n_chunks = 0
        while residual > convergence_rtol and all_times[-1][-1] < max_time and stalls < 3:
            chunk = times[-1] + step * (n_chunks * n_chunk + np.arange(n_chunk + 1))
            n_chunks += 1
            trajectory.append(_integrate(rhs, trajectory[-1][-1], chunk, solver, rtol=CONTINUATION_RTOL,
                                         atol=CONTINUATION_ATOL_HZ)[1:])
            all_times.append(chunk[1:])
            residual = relative_residual(trajectory[-1][-1])
            stalls = stalls + 1 if residual > 0.5 * best else 0
            best = min(best, residual)
        converged = residual <= convergence_rtol
        if not converged:
            warnings.warn(f"theory: the pseudo-dynamics stopped at t = {all_times[-1][-1]:.1f} with a relative "
                          f"fixed-point residual of {residual:.3g} > {convergence_rtol:g}.", RuntimeWarning,
                          stacklevel=2)
    trajectory = np.concatenate(trajectory, axis=0)
    all_times = np.concatenate(all_times)
    nu = trajectory[-1]
    mu, sigma, tau_s = statistics_of(inputs, nu)
    residual = rhs(nu)
    options = {"seed": int(seed) if initial_rates_hz is None else None,
               "initial_rates": "uniform" if initial_rates_hz is None else "given",
               "solver": solver, "integrand": integrand, "until_converged": bool(until_converged),
               "convergence_rtol": float(convergence_rtol), "chunk_time": float(chunk_time),
               "max_time": float(max_time), "t_prediction": float(all_times[-1]), "include_dc": bool(include_dc)}
    return TheoryResult(
        rates_hz=_full(inputs.index, nu), trajectory_hz=_full(inputs.index, trajectory), times=all_times,
        mu_mV=_full(inputs.index, mu), sigma_mV=_full(inputs.index, sigma), tau_s_ms=_full(inputs.index, tau_s * 1e3),
        residual_hz=_full(inputs.index, residual), nonempty=np.asarray(net.nonempty, dtype=bool).copy(),
        options=options, converged=converged,
    )


def residual_at(net: Network, rates_hz, integrand: str = "stable", include_dc: bool = False) -> np.ndarray:
    """phi(nu) - nu (272,) for given rates (272,) of ``net``: the fixed-point residual (0 for empty ones)."""
    inputs = theory_inputs(net, include_dc=include_dc)
    nu = np.asarray(rates_hz, dtype=float)[inputs.index]
    return _full(inputs.index, phi(inputs, nu, integrand) - nu)


def jacobian(net: Network, rates_hz, include_dc: bool = False, rel_step: float = 1e-6) -> np.ndarray:
    """(n, n) Jacobian d phi_i / d nu_j over the non-empty populations at ``rates_hz`` (272,), by forward
    differences (step ``rel_step`` nu_j, at least ``rel_step`` x 1e-3 spikes/s): the effective
    connectivity of the linearised rate dynamics (dimensionless)."""
    inputs = theory_inputs(net, include_dc=include_dc)
    nu = np.asarray(rates_hz, dtype=float)[inputs.index]
    f0 = phi(inputs, nu)
    steps = rel_step * np.maximum(nu, 1e-3)
    jac = np.empty((nu.size, nu.size))
    for j in range(nu.size):
        shifted = nu.copy()
        shifted[j] += steps[j]
        jac[:, j] = (phi(inputs, shifted) - f0) / steps[j]
    return jac


def stability(net: Network, rates_hz, include_dc: bool = False) -> dict:
    """Linear stability of the stationary rates ``rates_hz`` (272,) of ``net`` under the rate dynamics
    tau dnu/dt = -nu + phi(nu): stable iff every eigenvalue of the Jacobian has real part < 1.

    Returns ``leading_eigenvalue`` (the eigenvalue of largest real part, complex), ``stable`` and the
    relative fixed-point residual ``max_relative_residual`` = max |phi(nu) - nu| / nu.
    """
    inputs = theory_inputs(net, include_dc=include_dc)
    nu = np.asarray(rates_hz, dtype=float)[inputs.index]
    eigenvalues = np.linalg.eigvals(jacobian(net, rates_hz, include_dc))
    leading = complex(eigenvalues[np.argmax(eigenvalues.real)])
    residual = float(np.max(np.abs(phi(inputs, nu) - nu) / nu))
    return {"leading_eigenvalue": leading, "stable": bool(leading.real < 1.0), "max_relative_residual": residual}


def network_stability(net: Network, result: TheoryResult) -> dict | None:
    """The stability check a theory file records beside ``result`` (the theory of ``net``), with the
    result's ``include_dc`` option: for a down-scaled network (``net.full_scale_rates_hz`` given), at
    the full-scale rates of its DC compensation (is the full-scale state a stable fixed point of the
    down-scaled theory?); for a full-scale network whose theory ran ``until_converged``, at its own
    converged rates; else None. Returns :func:`stability` with ``at`` ("full_scale_rates" or
    "converged_rates"), ``rates_hz`` (272,) and ``include_dc``."""
    include_dc = bool(result.options.get("include_dc", False))
    if net.full_scale_rates_hz is not None:
        at, rates = "full_scale_rates", np.asarray(net.full_scale_rates_hz, dtype=float)
    elif result.options.get("until_converged"):
        at, rates = "converged_rates", np.asarray(result.rates_hz, dtype=float)
    else:
        return None
    return {**stability(net, rates, include_dc=include_dc), "at": at, "rates_hz": rates, "include_dc": include_dc}


# ---------------------------------------------------------------------------------------------
# Output


def rates_series(result: TheoryResult):
    """The rates as a pandas Series indexed by (area, layer, population) over the non-empty populations,
    in canonical order, like ``simulated_data/base_theory_rates.pkl`` (spikes/s)."""
    import pandas as pd

    keys = [key for key, keep in zip(tables.POPULATIONS, result.nonempty) if keep]
    index = pd.MultiIndex.from_tuples(keys, names=["area", "layer", "population"])
    return pd.Series(np.asarray(result.rates_hz, dtype=float)[result.nonempty], index=index)


FILE_TYPE = "humam.theory"
FORMAT_VERSION = 1
_RESERVED_ATTRS = ("file_type", "format_version", "options", "converged")
_DATASETS = {"rates_hz": "spikes/s", "trajectory_hz": "spikes/s", "times": "pseudo-time", "mu_mV": "mV",
             "sigma_mV": "mV", "tau_s_ms": "ms", "residual_hz": "spikes/s", "nonempty": ""}


def write_theory(result: TheoryResult, path: str | Path, attrs: dict | None = None,
                 stability: dict | None = None) -> Path:
    """Write ``result`` to one HDF5 file, atomically (temporary file in the same folder + ``os.replace``).

    Datasets are named like the :class:`TheoryResult` fields (units in a ``units`` attribute); the
    options are a JSON file attribute; ``attrs`` (e.g. parameters and provenance) become file attributes.
    ``stability`` (from :func:`network_stability`) is stored in the group ``stability``: datasets
    ``leading_eigenvalue`` (real, imaginary part), ``max_relative_residual``, ``stable`` and ``rates_hz``,
    attributes ``at`` and ``include_dc`` (read back by :func:`read_theory_stability`).
    """
    from .h5io import atomic_h5

    clash = sorted(set(attrs or {}) & {"options", "converged"})
    if clash:
        raise ValueError(f"attribute name(s) {', '.join(clash)} are reserved by the theory file format")
    attrs = {"options": json.dumps(result.options, sort_keys=True),
             "converged": "none" if result.converged is None else str(bool(result.converged)).lower(),
             **dict(attrs or {})}
    with atomic_h5(path, FILE_TYPE, FORMAT_VERSION, attrs) as h5:
        for name, units in _DATASETS.items():
            dset = h5.create_dataset(name, data=np.asarray(getattr(result, name)))
            dset.attrs["units"] = units
        h5["population_keys"] = np.array(["/".join(key) for key in tables.POPULATIONS], dtype=object)
        if stability is not None:
            group = h5.create_group("stability")
            leading = complex(stability["leading_eigenvalue"])
            group["leading_eigenvalue"] = np.array([leading.real, leading.imag])
            group["max_relative_residual"] = float(stability["max_relative_residual"])
            group["stable"] = bool(stability["stable"])
            group.create_dataset("rates_hz", data=np.asarray(stability["rates_hz"], dtype=float)).attrs["units"] = "spikes/s"
            group.attrs["at"] = str(stability["at"])
            group.attrs["include_dc"] = bool(stability["include_dc"])
    return Path(path)


_FIX = "compute it again: 'humam theory ... --force' (or the doit task theory)"


def read_theory(path: str | Path) -> TheoryResult:
    """Read a file written by :func:`write_theory`."""
    from .h5io import open_h5

    with open_h5(path, FILE_TYPE, FORMAT_VERSION, fix=_FIX) as h5:
        values = {name: h5[name][()] for name in _DATASETS}
        options = json.loads(h5.attrs["options"])
        converged = {"none": None, "true": True, "false": False}[str(h5.attrs["converged"])]
    values["nonempty"] = values["nonempty"].astype(bool)
    return TheoryResult(**values, options=options, converged=converged)


def read_theory_stability(path: str | Path) -> dict | None:
    """The stability check stored by :func:`write_theory` (``leading_eigenvalue`` complex,
    ``max_relative_residual``, ``stable``, ``rates_hz``, ``at``, ``include_dc``), or None if the file
    records none (a full-scale theory stopped at the published pseudo-time)."""
    from .h5io import open_h5

    with open_h5(path, FILE_TYPE, FORMAT_VERSION, fix=_FIX) as h5:
        if "stability" not in h5:
            return None
        group = h5["stability"]
        real, imag = group["leading_eigenvalue"][()]
        return {"leading_eigenvalue": complex(real, imag), "max_relative_residual": float(group["max_relative_residual"][()]),
                "stable": bool(group["stable"][()]), "rates_hz": group["rates_hz"][()], "at": str(group.attrs["at"]),
                "include_dc": bool(group.attrs["include_dc"])}


def read_theory_attrs(path: str | Path) -> dict:
    """The file attributes passed to :func:`write_theory` (without the format's own ones)."""
    from .h5io import open_h5

    with open_h5(path, FILE_TYPE, FORMAT_VERSION, fix=_FIX) as h5:
        return {key: (value.item() if isinstance(value, np.generic) else value)
                for key, value in h5.attrs.items() if key not in _RESERVED_ATTRS}
