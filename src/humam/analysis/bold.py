"""BOLD signals of the areas (docs/model.md §8.10) with the Balloon–Windkessel model, resampled for FC (§8.11)."""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

from ..parameters import load_defaults


def _bold_params(params: dict | None) -> dict:
    """The Balloon–Windkessel constants: ``analysis.bold`` of the defaults overridden by ``params``."""
    return {**load_defaults()["analysis"]["bold"], **(params or {})}


def balloon_windkessel(rate_hz: np.ndarray, sample_dt_s: float, t_end_s: float, params: dict | None = None):
    """BOLD response of one area to its rate z(t) (spikes/s) sampled every ``sample_dt_s`` from t = 0,
    linearly interpolated (held constant after the last sample).

    Integrates ds/dt = εz - κs - γ(f - 1), df/dt = s, dv/dt = (f - v^(1/α))/τ,
    dq/dt = (f (1 - (1 - ρ)^(1/f))/ρ - v^(1/α) q/v)/τ from (s, f, v, q) = (0, 1, 1, 1) over [0, t_end]
    with SciPy's ``solve_ivp`` (RK45, default tolerances) and returns (t, bold, y) at the solver's
    points, BOLD = V0 (k1 (1 - q) + k2 (1 - q/v) + k3 (1 - v)) with k1 = 7ρ, k2 = 2, k3 = 2ρ - 0.2.
    """
    p = _bold_params(params)
    eps, kappa, gamma, tau, alpha, rho = (float(p[k]) for k in ("epsilon", "kappa", "gamma", "tau", "alpha", "rho"))
    z = np.asarray(rate_hz, dtype=float)
    sample_t = np.arange(z.size) * float(sample_dt_s)
    interp = np.interp

    def rhs(t, y):
        s, f, v, q = y.tolist()  # Python floats: the same IEEE operations, less overhead
        if not (v > 0 and f != 0):  # only in trial steps that the solver then rejects
            return [math.nan] * 4
        zt = float(interp(t, sample_t, z))
        v_pow = v ** (1.0 / alpha)
        return [eps * zt - kappa * s - gamma * (f - 1.0), s, (f - v_pow) / tau,
                (f * (1.0 - (1.0 - rho) ** (1.0 / f)) / rho - v_pow * q / v) / tau]

    with np.errstate(invalid="ignore"):  # trial steps that leave the domain (v < 0) are rejected by the solver
        solution = solve_ivp(rhs, (0.0, float(t_end_s)), [0.0, 1.0, 1.0, 1.0])
    if not solution.success:
        raise RuntimeError(f"BOLD integration failed: {solution.message}")
    s, f, v, q = solution.y
    bold = float(p["V0"]) * (7.0 * rho * (1.0 - q) + 2.0 * (1.0 - q / v) + (2.0 * rho - 0.2) * (1.0 - v))
    return solution.t, bold, solution.y


def bold_steady_state(rate_hz: float, params: dict | None = None) -> dict[str, float]:
    """Analytic fixed point of the Balloon–Windkessel model for a constant rate: s = 0,
    f = 1 + εz/γ, v = f^α, q = v (1 - (1 - ρ)^(1/f))/ρ, and the BOLD signal there."""
    p = _bold_params(params)
    f = 1.0 + p["epsilon"] * rate_hz / p["gamma"]
    v = f ** p["alpha"]
    q = v * (1.0 - (1.0 - p["rho"]) ** (1.0 / f)) / p["rho"]
    rho = p["rho"]
    bold = p["V0"] * (7.0 * rho * (1.0 - q) + 2.0 * (1.0 - q / v) + (2.0 * rho - 0.2) * (1.0 - v))
    return {"s": 0.0, "f": f, "v": v, "q": q, "bold": bold}


def interpolate_linear_extrapolate(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation of (x, y) at ``grid``, extrapolating the end segments linearly (docs/quirks.md Q18)."""
    x, y, grid = (np.asarray(a, dtype=float) for a in (x, y, grid))
    out = np.interp(grid, x, y)
    if x.size >= 2:
        below, above = grid < x[0], grid > x[-1]
        out[below] = y[0] + (grid[below] - x[0]) * (y[1] - y[0]) / (x[1] - x[0])
        out[above] = y[-1] + (grid[above] - x[-1]) * (y[-1] - y[-2]) / (x[-1] - x[-2])
    return out


def bold_signals(area_histogram: np.ndarray, bin_ms: float, t_sim_ms: float, t_start_ms: float = 500.0,
                 params: dict | None = None) -> dict[str, np.ndarray]:
    """BOLD of every area (§8.10) resampled onto t_start ... t_sim in ``bin_ms`` steps (§8.11, Q18).

    ``area_histogram`` (34, T) is the area rate histogram in spikes/ms per neuron; the input is
    that × 1000 (spikes/s) sampled at the bin starts, integrated per area by :func:`balloon_windkessel`.
    Returns ``time_s`` (T',), ``area`` (34, T') and ``solver_points`` (34,), the number of points the
    solver returned per area.
    """
    area_histogram = np.asarray(area_histogram, dtype=float)
    n_grid = int(math.floor((t_sim_ms - t_start_ms) / bin_ms + 1e-9)) + 1
    grid_s = (t_start_ms + np.arange(n_grid) * bin_ms) / 1000.0
    out = np.zeros((area_histogram.shape[0], n_grid))
    points = np.zeros(area_histogram.shape[0], dtype=np.int64)
    rates = area_histogram * 1000.0
    for a, rate in enumerate(rates):  # 34 areas
        t, bold, _ = balloon_windkessel(rate, bin_ms / 1000.0, t_sim_ms / 1000.0, params)
        out[a] = interpolate_linear_extrapolate(t, bold, grid_s)
        points[a] = t.size
    return {"time_s": grid_s, "area": out, "solver_points": points}
