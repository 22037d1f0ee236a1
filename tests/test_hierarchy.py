"""Temporal hierarchy of the areas (humam.analysis.hierarchy, docs/figures.md §4.8): lag sign convention,
planted lags, the least-squares fit, the t-test, the window rule and the analysis options."""

import numpy as np
import pytest
from scipy import stats
from scipy.ndimage import gaussian_filter1d

from humam import analysis, parameters
from humam.analysis import hierarchy
from humam.errors import ParameterError

OPTIONS = parameters.resolve_analysis()["hierarchy"]


def _planted_signals(delays, n_bins=9 * 600, noise=0.3, seed=5):
    """Area signals r_A(t) = s(t - d_A) + noise from one smooth random driver s."""
    rng = np.random.default_rng(seed)
    pad = max(delays) + 10
    driver = gaussian_filter1d(rng.standard_normal(n_bins + pad), 3.0)
    return np.stack([driver[pad - d: pad - d + n_bins] + noise * rng.standard_normal(n_bins) * driver.std()
                     for d in delays])


def test_defaults_are_the_published_settings():
    assert OPTIONS == {"t_start_ms": 2500.0, "t_stop_ms": 12500.0, "max_lag_bins": 50, "n_chunks": 9, "alpha": 0.05,
                       "seed": 2903}


def test_lag_sign_convention():
    """τ_AB > 0 when A leads B: B(t) = A(t - 5) gives τ_AB = +5 bins."""
    a, b = _planted_signals([0, 5], noise=0.0)
    lags = hierarchy.peak_lags(np.stack([a, b]))
    assert lags[0, 1] == 5 and lags[1, 0] == -5 and lags[0, 0] == 0


def test_cross_correlation_is_the_sum_over_the_overlap():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 200))
    corr = hierarchy.cross_correlation(x, max_lag=4)
    centred = x - x.mean(axis=1, keepdims=True)
    for a in range(3):
        for b in range(3):
            for k in range(-4, 5):
                expected = (centred[a, :200 - k] * centred[b, k:]).sum() if k >= 0 else \
                    (centred[a, -k:] * centred[b, :200 + k]).sum()
                assert corr[a, b, k + 4] == pytest.approx(expected, abs=1e-9)


def test_planted_lags_and_hierarchy_are_recovered():
    delays = np.array([0, 3, 7, 12, 12, 20, 31])
    signals = np.vstack([_planted_signals(delays.tolist()), np.full((1, 9 * 600), 2.0)])  # last area: constant
    result = hierarchy.temporal_hierarchy(signals)
    n = delays.size
    expected = delays[None, :] - delays[:, None]  # τ_AB = d_B - d_A
    np.testing.assert_array_equal(result["lags"][:n, :n], expected)
    assert np.isnan(result["lags"][n, :]).all() and np.isnan(result["lags"][:, n]).all()
    # every chunk sees the same planted lag: pairs with different delays are significant, equal ones are not
    np.testing.assert_array_equal(result["chunk_lags"][:, :n, :n],
                                  np.broadcast_to(expected, (hierarchy.N_CHUNKS, n, n)))
    np.testing.assert_array_equal(result["significant"][:n, :n], expected != 0)
    assert not result["significant"][n].any()
    np.testing.assert_allclose(result["h"][:n], delays - delays.min(), atol=1e-6)
    assert np.isnan(result["h"][n]) and result["groups"][n] == -1
    order = hierarchy.hierarchy_order(result["h"])
    assert order[-1] == n and np.all(np.diff(delays[order[:n]]) >= 0)  # earliest first, no h last


def test_hierarchy_fit_is_the_least_squares_solution():
    rng = np.random.default_rng(11)
    n = 8
    tau = rng.normal(0, 10, (n, n))
    tau = np.round(tau - tau.T)
    significant = rng.random((n, n)) < 0.6
    significant = np.triu(significant, 1)
    significant |= significant.T
    significant[np.arange(n - 1), np.arange(1, n)] = significant[np.arange(1, n), np.arange(n - 1)] = True  # connected
    fit = hierarchy.fit_hierarchy(tau, significant, seed=2903)
    a, b = np.nonzero(np.triu(significant, 1))
    design = np.zeros((a.size, n))
    design[np.arange(a.size), b] = 1.0
    design[np.arange(a.size), a] = -1.0
    h, *_ = np.linalg.lstsq(design, tau[a, b], rcond=None)
    np.testing.assert_allclose(fit["h"], h - h.min(), atol=1e-6)
    assert fit["h"].min() == 0 and fit["groups"].max() == 0 and fit["n_pairs"] == a.size


def test_disconnected_groups_are_shifted_separately():
    tau = np.zeros((5, 5))
    tau[0, 1], tau[2, 3] = 4.0, 7.0
    tau = tau - tau.T
    significant = np.abs(tau) > 0
    fit = hierarchy.fit_hierarchy(tau, significant)
    np.testing.assert_array_equal(fit["groups"], [0, 0, 1, 1, -1])
    np.testing.assert_allclose(fit["h"][:4], [0.0, 4.0, 0.0, 7.0], atol=1e-6)
    assert np.isnan(fit["h"][4])


def test_lag_p_values_are_a_one_sample_t_test():
    rng = np.random.default_rng(3)
    chunks = rng.integers(-6, 9, (9, 5, 5)).astype(float)
    expected = stats.ttest_1samp(chunks, 0.0, axis=0).pvalue
    np.testing.assert_allclose(hierarchy.lag_p_values(chunks), expected, rtol=1e-10)
    constant = np.zeros((9, 1, 2))
    constant[:, 0, 1] = 4.0
    np.testing.assert_array_equal(hierarchy.lag_p_values(constant), [[1.0, 0.0]])


def test_window_rule():
    assert hierarchy.hierarchy_window_ms(12500.0) == ((2500.0, 12500.0), True)
    assert hierarchy.hierarchy_window_ms(20000.0) == ((2500.0, 12500.0), True)
    assert hierarchy.hierarchy_window_ms(2100.0) == ((500.0, 2100.0), False)
    assert hierarchy.hierarchy_window_ms(2100.0, 1000.0, 2000.0, 500.0) == ((1000.0, 2000.0), True)


def test_hierarchy_of_rates_uses_the_window_and_the_bin_width():
    """Planted delays in 2 ms bins: lags and h in ms are twice the bins; bins outside the window are ignored."""
    delays = [0, 4, 9]
    bin_ms = 2.0
    n_window = 9 * 400
    inside = _planted_signals(delays, n_bins=n_window)
    rng = np.random.default_rng(8)
    before = rng.standard_normal((3, 250))  # [0, 500) ms: the transient, unrelated to the planted lags
    rates = np.hstack([before, inside])
    time_ms = bin_ms * np.arange(rates.shape[1])
    t_sim = float(time_ms[-1] + bin_ms)
    out = hierarchy.hierarchy_of_rates(rates, time_ms, t_sim, OPTIONS, short_run_start_ms=500.0)
    assert out["available"] and not out["full_length"] and out["bin_ms"] == bin_ms
    np.testing.assert_array_equal(out["window_ms"], [500.0, t_sim])
    direct = hierarchy.temporal_hierarchy(inside)
    np.testing.assert_array_equal(out["lags_ms"], direct["lags"] * bin_ms)
    np.testing.assert_allclose(out["h_ms"], np.array(delays) * bin_ms, atol=1e-5)
    assert out["n_significant_pairs"] == 3 and list(out["order"]) == [0, 1, 2]


def test_a_window_too_short_for_the_chunks_is_reported_not_raised():
    rates = np.random.default_rng(1).standard_normal((34, 1000))
    out = hierarchy.hierarchy_of_rates(rates, np.arange(1000.0), 1000.0, OPTIONS, short_run_start_ms=500.0)
    assert out["available"] is False and "too short" in out["reason"] and "lags_ms" not in out
    with pytest.raises(ValueError, match="too short"):
        hierarchy.chunk_peak_lags(rates[:, 500:], 9, 50)


@pytest.mark.parametrize("bad", [{"n_chunks": 1}, {"alpha": 1.0}, {"alpha": 0.0}, {"max_lag_bins": 0},
                                 {"max_lag_bins": 2.5}, {"t_start_ms": 3000.0, "t_stop_ms": 2000.0},
                                 {"seed": -1}, {"n_lags": 3}])
def test_bad_hierarchy_options_are_refused(bad):
    with pytest.raises(ParameterError, match="analysis.hierarchy"):
        analysis.resolve_params({"hierarchy": bad})
