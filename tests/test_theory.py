"""Mean-field theory (docs/model.md §9) against the model description (docs/model.md)'s reference values and the shipped fixed point."""

import dataclasses
import math

import numpy as np
import pytest
from scipy import integrate, special

from humam import build, parameters, tables, theory
from humam.data import data_path


@pytest.fixture(scope="module")
def base_net():
    """Full-scale base network (chi = 1, chi_I = 2)."""
    return build.build_network(parameters.resolve()["network"])


@pytest.fixture(scope="module")
def pickle_series():
    import pandas as pd

    return pd.read_pickle(data_path("simulated_data/base_theory_rates.pkl"))


@pytest.fixture(scope="module")
def pickle_rates(base_net, pickle_series):
    """(272,) shipped fixed-point rates; 0 for empty populations."""
    rates = np.zeros(tables.N_POPULATIONS)
    for key, value in pickle_series.items():
        rates[tables.population_index(*key)] = value
    assert np.array_equal(rates > 0, base_net.nonempty)
    return rates


@pytest.fixture(scope="module")
def default_result(base_net):
    return theory.theory_rates(base_net)


@pytest.fixture(scope="module")
def base_inputs(base_net):
    return theory.theory_inputs(base_net)


# ---------------------------------------------------------------------------------------------
# Inputs and input statistics (§9.1-9.3)


def test_inputs_units(base_net, base_inputs):
    """J~ = J 1e3 tau_syn / C_m in mV (§9.2); potentials relative to E_L; times in s."""
    assert base_inputs.index.size == 254
    i = tables.population_index("bankssts", "II/III", "E")
    j = tables.population_index("bankssts", "II/III", "I")
    k = tables.population_index("bankssts", "IV", "E")
    pos = {p: n for n, p in enumerate(base_inputs.index)}
    w = base_inputs.weight_mV
    assert w[pos[i], pos[i]] == pytest.approx(16.4488 * 2e-3 * 1e3 / 220, rel=1e-5)  # E <- E
    assert w[pos[i], pos[j]] == pytest.approx(-82.2442 * 2e-3 * 1e3 / 220, rel=1e-5)  # E <- I
    assert w[pos[j], pos[i]] == pytest.approx(7.4767 * 2e-3 * 1e3 / 100, rel=1e-5)  # I <- E
    assert w[pos[i], pos[k]] == pytest.approx(32.8977 * 2e-3 * 1e3 / 220, rel=1e-5)  # 2/3E <- 4E
    np.testing.assert_allclose(base_inputs.indegree, base_net.indegrees[np.ix_(base_inputs.index, base_inputs.index)])
    np.testing.assert_allclose(base_inputs.theta_mV, 25.0)
    np.testing.assert_allclose(base_inputs.V_r_mV, 0.0)
    np.testing.assert_allclose(base_inputs.tau_m_s, 0.010)
    np.testing.assert_allclose(base_inputs.t_ref_s, 0.002)
    np.testing.assert_allclose(base_inputs.tau_syn_s, 0.002)


def test_external_input_is_per_population(base_net, base_inputs):
    """With silent recurrent input, mu = tau_m K_ext J~_ext nu_ext = eta_ext theta = 27.5 mV for every
    population (§5.5), times 1.05 / 1.15 for (V, E) / (VI, E); a summed external term would be ~254x that."""
    mu, sigma, tau_s = theory.statistics_of(base_inputs, np.zeros(base_inputs.index.size))
    factor = np.ones(tables.N_POPULATIONS)
    factor[tables.population_mask(layer="V", pop="E")] = 1.05
    factor[tables.population_mask(layer="VI", pop="E")] = 1.15
    np.testing.assert_allclose(mu, 1.1 * 25.0 * factor[base_inputs.index], rtol=1e-12)
    np.testing.assert_allclose(tau_s, 0.002, rtol=1e-12)


def test_tau_s_is_2ms(default_result, base_inputs, pickle_rates):
    _, _, tau_s = theory.statistics_of(base_inputs, pickle_rates[base_inputs.index])
    np.testing.assert_allclose(tau_s, 0.002, rtol=1e-12)
    nz = default_result.nonempty
    np.testing.assert_allclose(default_result.tau_s_ms[nz], 2.0, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Transfer function (§9.4)


def test_alpha():
    assert theory.ALPHA == pytest.approx(2.0652, abs=1e-4)
    assert theory.ZETA_HALF == pytest.approx(special.zeta(0.5), rel=1e-15)


def _scaled_reference(y_r, y_theta):
    """e^{-max(y_theta,0)^2} int erfcx(-u) du by adaptive quadrature of e^{u^2 - s} erfc(-u), split at 0."""
    s = max(y_theta, 0.0) ** 2

    def f(u):
        return math.exp(u * u - s) * special.erfc(-u) if u > 0 else math.exp(-s) * special.erfcx(-u)

    pieces = [(y_r, min(y_theta, 0.0))] if y_r < 0 else []
    if y_theta > 0:
        pieces.append((max(y_r, 0.0), y_theta))
    total = 0.0
    for lo, hi in pieces:
        points = [hi - 1.0 / max(hi, 1.0)] if hi > 0 and hi - 1.0 / max(hi, 1.0) > lo else None
        total += integrate.quad(f, lo, hi, epsabs=0.0, epsrel=1e-13, limit=500, points=points)[0]
    return total


def test_stable_integral_matches_adaptive_quadrature():
    rng = np.random.default_rng(7)
    bounds = np.sort(rng.uniform(-30.0, 26.0, size=(60, 2)), axis=1)
    bounds = np.vstack([bounds, [[-5.74, 3.25], [-6.0, 3.5], [0.5, 25.5], [-26.1, 22.4], [-40.0, -14.0], [2.0, 2.1]]])
    value, exponent = theory.siegert_integral_scaled(bounds[:, 0], bounds[:, 1])
    np.testing.assert_array_equal(exponent, np.maximum(bounds[:, 1], 0.0) ** 2)
    reference = np.array([_scaled_reference(lo, hi) for lo, hi in bounds])
    np.testing.assert_allclose(value, reference, rtol=1e-10, atol=0)


def test_residual_at_pickle_is_roundoff(base_net, pickle_rates):
    """The pickle is the fixed point of this phi (§9.6): |phi(nu) - nu| at round-off (~1e-13 spikes/s,
    relative ~3e-13). Any error in units, shift, tau_s or the external term shows up at >= 1e-6;
    1e-10 relative leaves room for the quadrature (~1e-14) and summation order."""
    residual = theory.residual_at(base_net, pickle_rates)
    nz = base_net.nonempty
    assert np.all(residual[~nz] == 0)
    assert np.max(np.abs(residual[nz])) < 1e-11
    assert np.max(np.abs(residual[nz]) / pickle_rates[nz]) < 1e-10


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_stable_and_literal_agree_at_fixed_point(base_inputs, pickle_rates):
    nu = pickle_rates[base_inputs.index]
    mu, sigma, tau_s = theory.statistics_of(base_inputs, nu)
    y_r, y_theta = theory.shifted_bounds(mu, sigma, tau_s, base_inputs.tau_m_s, base_inputs.theta_mV,
                                         base_inputs.V_r_mV)
    assert y_r.min() > -6.0 and y_theta.max() < 3.5
    stable = theory.phi(base_inputs, nu)
    literal = theory.phi(base_inputs, nu, integrand="literal")
    rel = np.abs(literal / stable - 1)
    assert rel.max() < 5e-5  # spec: about 1e-5 (cancellation of 1 + erf u near u = -6)


def _phi(mu, sigma, integrand="stable"):
    return theory.transfer_function(np.atleast_1d(float(mu)), np.atleast_1d(float(sigma)), 0.002, 0.010, 0.002,
                                     25.0, 0.0, integrand=integrand)[0]


@pytest.mark.parametrize("mu", [30.0, 40.0, 60.0])
def test_stable_supra_threshold_matches_deterministic_limit(mu):
    """For sigma -> 0 the rate tends to 1 / (t_ref + tau_m ln((mu - V_r')/(mu - theta'))), with a
    relative correction of order sigma^2 / (mu - theta)^2."""
    sigma = 0.01
    shift = sigma * theory.ALPHA / 2 * math.sqrt(0.2)
    expected = 1.0 / (0.002 + 0.010 * math.log((mu - shift) / (mu - 25.0 - shift)))
    assert _phi(mu, sigma) == pytest.approx(expected, rel=1e-6)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("mu, sigma", [(40.0, 1.0), (60.0, 2.0), (30.0, 0.5), (10.0, 1.0), (0.0, 1.0)])
def test_stable_strong_inputs_accurate_where_literal_fails(mu, sigma):
    shift = sigma * theory.ALPHA / 2 * math.sqrt(0.2)
    y_r, y_theta = (shift - mu) / sigma, (25.0 + shift - mu) / sigma
    value = _scaled_reference(y_r, y_theta)
    s = max(y_theta, 0.0) ** 2
    reference = math.exp(-s) / (0.002 * math.exp(-s) + 0.010 * math.sqrt(math.pi) * value)
    stable = _phi(mu, sigma)
    assert np.isfinite(stable) and stable > 0
    assert stable == pytest.approx(reference, rel=1e-10)
    if y_theta < -5:  # supra-threshold: 1 + erf u cancels over the whole range, literal gives 1/t_ref
        literal = _phi(mu, sigma, "literal")
        assert literal / stable > 3


def test_stable_extreme_inhibition_gives_zero_not_nan():
    rates = theory.transfer_function(np.array([-30.0, -1e3]), np.array([2.0, 1.0]), 0.002, 0.010, 0.002, 25.0, 0.0)
    assert np.all(rates == 0.0)


# ---------------------------------------------------------------------------------------------
# Pseudo-dynamics (§9.5, §9.6)


def test_initial_rates_are_the_legacy_global_draw():
    state = np.random.get_state()
    try:
        np.random.seed(123)
        legacy = np.random.uniform(0, 10, 254)
        np.random.seed(5)
        before = np.random.get_state()[1].copy()
        ours = theory.initial_rates(254)
        assert np.array_equal(np.random.get_state()[1], before)  # global generator untouched
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(ours, legacy)


def test_default_pseudo_dynamics_matches_spec(base_net, default_result, pickle_rates):
    r = default_result
    nz = r.nonempty
    assert r.trajectory_hz.shape == (100, 272)
    np.testing.assert_allclose(r.times, 0.1 * np.arange(100), atol=1e-12)
    np.testing.assert_array_equal(r.trajectory_hz[0, nz], theory.initial_rates(254))
    np.testing.assert_array_equal(r.rates_hz, r.trajectory_hz[-1])
    assert np.all(r.rates_hz[~nz] == 0)
    assert r.converged is None
    mean = r.rates_hz[nz].mean()
    assert mean == pytest.approx(0.75453, abs=1e-5)
    rel = np.abs(r.rates_hz[nz] / pickle_rates[nz] - 1)
    assert 0.02 < rel.max() <= 0.03  # spec: 2.6 % (Q20: t = 9.9 is not converged)
    assert np.abs(r.rates_hz[nz] - pickle_rates[nz]).max() < 0.002  # spec: 0.0016 spikes/s
    assert np.corrcoef(r.rates_hz[nz], pickle_rates[nz])[0, 1] >= 0.9999999  # spec: 0.99999997
    np.testing.assert_allclose(r.residual_hz, theory.residual_at(base_net, r.rates_hz), rtol=0, atol=1e-15)


def test_solve_ivp_agrees_with_odeint(base_net, default_result):
    other = theory.theory_rates(base_net, solver="solve_ivp")
    nz = default_result.nonempty
    rel = np.abs(other.rates_hz[nz] / default_result.rates_hz[nz] - 1)
    assert rel.max() < 2e-4  # spec: within 0.01 %


@pytest.fixture(scope="module")
def converged_result(base_net):
    return theory.theory_rates(base_net, until_converged=True)


def test_until_converged_reaches_pickle(base_net, default_result, pickle_rates, converged_result):
    r = converged_result
    nz = r.nonempty
    assert r.converged is True
    assert r.options["until_converged"] is True
    np.testing.assert_array_equal(r.trajectory_hz[:100], default_result.trajectory_hz)
    assert r.times[-1] > 9.9 and np.all(np.diff(r.times) > 0)
    assert r.max_relative_residual <= theory.CONVERGENCE_RTOL
    assert np.max(np.abs(r.rates_hz[nz] / pickle_rates[nz] - 1)) < 1e-9  # spec: ~1e-6 at t = 20
    assert r.rates_hz[nz].mean() == pytest.approx(0.75455, abs=1e-5)


def test_dc_drive_is_ignored(base_net, pickle_rates):
    """Quirk Q12: the theory does not see the down-scaling DC."""
    with_dc = dataclasses.replace(base_net, dc_drive_pA=np.full(tables.N_POPULATIONS, 250.0))
    np.testing.assert_array_equal(theory.residual_at(with_dc, pickle_rates), theory.residual_at(base_net, pickle_rates))


# ---------------------------------------------------------------------------------------------
# Output


def test_rates_series_layout(default_result, pickle_series):
    series = theory.rates_series(default_result)
    assert list(series.index.names) == ["area", "layer", "population"]
    assert series.index.equals(pickle_series.index)
    np.testing.assert_array_equal(series.to_numpy(), default_result.rates_hz[default_result.nonempty])


def test_write_read_roundtrip(tmp_path, default_result):
    path = tmp_path / "sub" / "theory.h5"
    theory.write_theory(default_result, path, {"label": "base", "chi": 1.0})
    assert sorted(p.name for p in path.parent.iterdir()) == ["theory.h5"]
    back = theory.read_theory(path)
    for name in ("rates_hz", "trajectory_hz", "times", "mu_mV", "sigma_mV", "tau_s_ms", "residual_hz", "nonempty"):
        np.testing.assert_array_equal(getattr(back, name), getattr(default_result, name))
    assert back.nonempty.dtype == bool
    assert back.options == default_result.options
    assert back.converged is None
    assert theory.read_theory_attrs(path) == {"label": "base", "chi": 1.0}
    with pytest.raises(ValueError, match="reserved"):
        theory.write_theory(default_result, path, {"options": "x"})


# ---------------------------------------------------------------------------------------------
# Stability recorded with the rates


def _eigenvalues(net, rates_hz, include_dc=False):
    """Eigenvalues of d phi_i / d nu_j, by central differences written out here."""
    inputs = theory.theory_inputs(net, include_dc=include_dc)
    nu = np.asarray(rates_hz, dtype=float)[inputs.index]
    jac = np.empty((nu.size, nu.size))
    for j in range(nu.size):
        step = 1e-6 * max(nu[j], 1e-3)
        up, down = nu.copy(), nu.copy()
        up[j] += step
        down[j] -= step
        jac[:, j] = (theory.phi(inputs, up) - theory.phi(inputs, down)) / (2 * step)
    return np.linalg.eigvals(jac)


def test_full_scale_stability_is_recorded_at_the_converged_rates(base_net, default_result, converged_result,
                                                                 pickle_rates, tmp_path):
    assert theory.network_stability(base_net, default_result) is None  # published: not converged, no check
    check = theory.network_stability(base_net, converged_result)
    assert check["at"] == "converged_rates" and check["include_dc"] is False
    np.testing.assert_array_equal(check["rates_hz"], converged_result.rates_hz)
    eigenvalues = _eigenvalues(base_net, pickle_rates)
    leading = eigenvalues[np.argmax(eigenvalues.real)]
    assert check["leading_eigenvalue"].real == pytest.approx(leading.real, rel=1e-4)
    assert check["stable"] is bool(leading.real < 1) is True
    assert check["max_relative_residual"] <= theory.CONVERGENCE_RTOL
    path = theory.write_theory(converged_result, tmp_path / "theory.h5", {"label": "base"}, stability=check)
    back = theory.read_theory_stability(path)
    assert back["leading_eigenvalue"] == check["leading_eigenvalue"] and back["stable"] is True
    assert back["max_relative_residual"] == check["max_relative_residual"] and back["at"] == "converged_rates"
    np.testing.assert_array_equal(back["rates_hz"], converged_result.rates_hz)
    assert theory.read_theory_attrs(path) == {"label": "base"}
    assert theory.read_theory_stability(theory.write_theory(default_result, tmp_path / "published.h5")) is None


def test_downscaled_stability_is_recorded_at_the_full_scale_rates(pickle_rates):
    params = parameters.resolve()["network"]
    params["downscaling"].update(n_scaling=0.002, k_scaling=0.002, scaling_type="linear")
    net = build.build_network(params)
    np.testing.assert_allclose(net.full_scale_rates_hz, pickle_rates)  # linear: the shipped fixed point
    for include_dc in (False, True):
        result = theory.theory_rates(net, include_dc=include_dc)
        check = theory.network_stability(net, result)
        assert check["at"] == "full_scale_rates" and check["include_dc"] is include_dc
        np.testing.assert_array_equal(check["rates_hz"], net.full_scale_rates_hz)
        eigenvalues = _eigenvalues(net, net.full_scale_rates_hz, include_dc)
        leading = eigenvalues[np.argmax(eigenvalues.real)]
        assert check["leading_eigenvalue"].real == pytest.approx(leading.real, rel=1e-4)
        assert check["stable"] is bool(leading.real < 1)
        inputs = theory.theory_inputs(net, include_dc=include_dc)
        nu = net.full_scale_rates_hz[inputs.index]
        assert check["max_relative_residual"] == pytest.approx(np.max(np.abs(theory.phi(inputs, nu) - nu) / nu))
