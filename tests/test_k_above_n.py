"""Indegrees scaled less than neuron numbers (k > n): build, memory estimate, stability report and a
short simulation; and the rule that picks the smallest k at which the full-scale rates are stable."""

import json

import numpy as np
import pytest

from humam import build, cli, layout, parameters, simulation, tables

N_SCALING = 0.002
K_SCALING = 0.02


def _params(k_scaling=K_SCALING, rule="given", t_sim_ms=200.0):
    params = parameters.resolve("ground_state")
    for key, value in (("network.downscaling.n_scaling", N_SCALING), ("network.downscaling.k_scaling", k_scaling),
                       ("network.downscaling.scaling_type", "preserve_input_statistics"),
                       ("network.downscaling.k_scaling_rule", rule), ("simulation.t_sim_ms", t_sim_ms),
                       ("simulation.threads", 2)):
        params = parameters.set_dotted(params, key, value)
    return params


@pytest.fixture(scope="module")
def network_k_above_n():
    return build.build_network(_params()["network"])


def test_counts_follow_n_and_k(network_k_above_n):
    net = network_k_above_n
    full_n, full_s = net.neuron_numbers_full_scale, net.synapses_full_scale
    np.testing.assert_array_equal(net.neuron_numbers, np.round(N_SCALING * full_n).astype(np.int64))
    kept = (net.neuron_numbers[:, None] > 0) & (net.neuron_numbers[None, :] > 0)
    np.testing.assert_array_equal(net.synapses[kept], np.round(N_SCALING * K_SCALING * full_s[kept]).astype(np.int64))
    # indegrees about k times the full-scale ones: ten times those of N = K = 0.002
    full_k = full_s[kept] / np.broadcast_to(full_n[:, None], full_s.shape)[kept]
    scaled_k = net.indegrees[kept]
    big = full_k > 100
    assert np.median(scaled_k[big] / full_k[big]) == pytest.approx(K_SCALING, rel=0.02)


def test_memory_estimate_counts_the_extra_synapses(network_k_above_n):
    equal = build.build_network(_params(k_scaling=N_SCALING)["network"])
    big = simulation.estimate_memory_bytes(network_k_above_n, 200.0)
    small = simulation.estimate_memory_bytes(equal, 200.0)
    ratio = network_k_above_n.synapses.sum() / equal.synapses.sum()
    assert ratio == pytest.approx(K_SCALING / N_SCALING, rel=0.02)
    assert big["synapses"] / small["synapses"] == pytest.approx(ratio, rel=0.02)


def test_summary_reports_the_stability_of_the_full_scale_rates(tmp_path, capsys):
    for k_scaling in (N_SCALING, K_SCALING):
        settings = ["--set", "network.downscaling.scaling_type=preserve_input_statistics"]
        assert cli.main(["network", "--experiment", "ground_state", "--n-scaling", str(N_SCALING), "--k-scaling",
                         str(k_scaling), *settings, "--out", str(tmp_path), "--summary"]) == 0
    captured = capsys.readouterr()
    equal, above = [json.loads(line) for line in captured.out.splitlines()]
    assert equal["stability"]["leading_eigenvalue"] >= 1 and not equal["stability"]["stable"]
    assert "UNSTABLE" in captured.err  # the warning for k = n
    assert above["stability"]["leading_eigenvalue"] < equal["stability"]["leading_eigenvalue"]
    assert above["stability"]["stable"] == (above["stability"]["leading_eigenvalue"] < 1)


def test_smallest_stable_k_is_stable_and_the_next_smaller_is_not():
    net = build.build_network(_params(rule="smallest_stable")["network"])
    assert net.n_scaling == N_SCALING and N_SCALING <= net.k_scaling <= 1.0
    assert build.stability_at_full_scale_rates(net)["stable"]
    smaller = build.build_network(_params(k_scaling=net.k_scaling / (1 + 2 * build.K_SEARCH_RTOL))["network"])
    assert not build.stability_at_full_scale_rates(smaller)["stable"]


def test_a_short_simulation_with_k_above_n(network_k_above_n, tmp_path):
    params = _params()
    run = layout.Layout(tmp_path).run(params, 1)
    simulation.simulate(network_k_above_n, params["simulation"], run.path)
    record = json.loads(run.record.read_text())
    assert record["neurons"] == int(network_k_above_n.neuron_numbers.sum())
    assert record["connections"] >= int(network_k_above_n.synapses.sum())  # plus drive and recording
    assert record["spikes"] > 0
    assert len(tables.POPULATIONS) == 272


def test_an_indegree_scale_given_on_the_command_line_overrides_the_profiles_rule(tmp_path, capsys):
    """A profile that asks for the smallest stable k (as the laptop profile does) yields to an explicit
    --k-scaling or --scale: the network and the plan use the k that was typed."""
    profile = tmp_path / "stable.yaml"
    profile.write_text("network:\n  downscaling: {n_scaling: %g, k_scaling: %g, k_scaling_rule: smallest_stable, "
                       "scaling_type: preserve_input_statistics}\n" % (N_SCALING, N_SCALING))
    assert cli.main(["network", "--experiment", "ground_state", "--profile", str(profile), "--k-scaling",
                     str(K_SCALING), "--out", str(tmp_path), "--summary"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["n_scaling"], summary["k_scaling"]) == (N_SCALING, K_SCALING)
    assert cli.main(["plan", "--profile", str(profile), "--scale", str(N_SCALING)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert f"N = {N_SCALING:g}, K = {N_SCALING:g}, preserve_input_statistics" in first and "stable" not in first
