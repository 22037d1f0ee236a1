"""Parameters: defaults, experiment files, validation and content hashes."""

import pytest

from humam import parameters
from humam.errors import ParameterError


def test_defaults_are_the_published_model():
    p = parameters.load_defaults()["network"]
    assert p["cytoarchitecture"]["ei_fractions"] == "lichtman"
    assert p["connectivity"]["fln"] == 0.86 and p["connectivity"]["synapse_density_per_mm3"] == 6.6e8
    assert p["scaling"]["chi"] == 1.0 and p["scaling"]["chi_I"] == 2.0
    assert p["downscaling"]["n_scaling"] == 1.0 and p["downscaling"]["k_scaling"] == 1.0


def test_every_shipped_experiment_resolves():
    names = parameters.available_experiments()
    assert {"ground_state", "best_fit", "downscaled_ground", "chi_scan_main"} <= set(names)
    for name in names:
        for _, params in parameters.scan_members(name):
            assert set(params) == set(parameters.load_defaults())


def test_best_fit_and_main_scan_follow_the_paper():
    best = parameters.resolve("best_fit")
    assert best["network"]["scaling"]["chi"] == 2.5 and best["network"]["scaling"]["chi_I"] == 5.0
    members = dict(parameters.scan_members("chi_scan_main"))
    assert len(members) == 19
    assert all(p["network"]["scaling"]["chi_I"] == 2 * p["network"]["scaling"]["chi"] for p in members.values())
    lower = parameters.scan_members("chi_scan_lower_e_to_i")
    assert all(p["network"]["scaling"]["chi_I"] == p["network"]["scaling"]["chi"] for _, p in lower)


def test_unknown_key_is_rejected_with_its_path(tmp_path):
    exp = tmp_path / "typo.yaml"
    exp.write_text("network:\n  scaling:\n    chii: 2.0\n")
    with pytest.raises(ParameterError, match=r"network\.scaling\.chii"):
        parameters.resolve(exp)


def test_wrong_type_is_rejected_with_its_path(tmp_path):
    exp = tmp_path / "bad.yaml"
    exp.write_text("network:\n  connectivity:\n    fln: high\n")
    with pytest.raises(ParameterError, match=r"network\.connectivity\.fln"):
        parameters.resolve(exp)
    exp.write_text("simulation:\n  seed: 1.5\n")
    with pytest.raises(ParameterError, match=r"simulation\.seed"):
        parameters.resolve(exp)


def test_unknown_top_level_key_and_experiment_are_rejected(tmp_path):
    exp = tmp_path / "bad.yaml"
    exp.write_text("netwrk: {}\n")
    with pytest.raises(ParameterError, match="netwrk"):
        parameters.resolve(exp)
    with pytest.raises(ParameterError, match="ground_state"):  # the message lists what exists
        parameters.resolve("no_such_experiment")


def test_perturbation_entries_are_checked(tmp_path):
    exp = tmp_path / "p.yaml"
    exp.write_text("network:\n  perturbation:\n    - {area: cuneus, layer: IV, time_ms: 5.0}\n")
    with pytest.raises(ParameterError, match=r"perturbation\[0\]"):
        parameters.resolve(exp)


def test_hash_is_stable_and_sensitive():
    base = parameters.resolve()
    same = parameters.resolve()
    assert parameters.net_hash(base) == parameters.net_hash(same)
    assert len(parameters.net_hash(base)) == 64
    # an integer where a float is expected is the same parameter value
    assert parameters.net_hash(parameters.set_dotted(base, "network.scaling.chi", 1)) == parameters.net_hash(base)
    changed = parameters.set_dotted(base, "network.scaling.chi", 2.5)
    assert parameters.net_hash(changed) != parameters.net_hash(base)
    # simulation settings change the simulation hash, not the network hash
    longer = parameters.set_dotted(base, "simulation.t_sim_ms", 2000.0)
    assert parameters.net_hash(longer) == parameters.net_hash(base)
    assert parameters.sim_hash(longer) != parameters.sim_hash(base)


def test_hash_does_not_depend_on_key_order():
    a = {"network": {"x": 1.0, "y": {"b": 2, "a": 1}}}
    b = {"network": {"y": {"a": 1, "b": 2}, "x": 1.0}}
    assert parameters.net_hash(a) == parameters.net_hash(b)


def test_sim_hash_depends_on_virtual_processes_not_their_split():
    base = parameters.resolve("downscaled_ground")
    two_threads = parameters.set_dotted(base, "simulation.threads", 2)
    one_thread = parameters.set_dotted(base, "simulation.threads", 1)
    # 1 rank x 2 threads and 2 ranks x 1 thread give the same spikes, hence the same hash
    assert parameters.sim_hash(two_threads, virtual_processes=2) == parameters.sim_hash(one_thread, virtual_processes=2)
    assert parameters.sim_hash(two_threads) != parameters.sim_hash(one_thread)
    assert parameters.sim_hash(parameters.set_dotted(base, "simulation.seed", 1)) != parameters.sim_hash(base)


def test_profiles_set_scale_and_launch():
    assert {"tiny", "laptop", "hpc"} <= set(parameters.available_profiles())
    laptop = parameters.load_profile("laptop")
    params = parameters.apply_profile(parameters.resolve("best_fit"), laptop)
    down = params["network"]["downscaling"]
    # n = 0.01 with the smallest indegree scale at which the full-scale rates are stable (docs/pipeline.md §2)
    assert (down["n_scaling"], down["k_scaling_rule"], down["scaling_type"]) == (
        0.01, "smallest_stable", "preserve_input_statistics")
    assert params["network"]["scaling"]["chi"] == 2.5  # the experiment's own settings stay
    hpc = parameters.load_profile("hpc")
    assert hpc["launcher"] == f"srun -n {hpc['processes']} apptainer exec ${{HUMAM_SIF:-humam.sif}}"
    full = parameters.apply_profile(parameters.resolve("ground_state"), hpc)
    assert full["network"]["downscaling"]["n_scaling"] == 1.0


def test_bad_profiles_are_rejected(tmp_path):
    with pytest.raises(ParameterError, match="laptop"):
        parameters.load_profile("no_such_profile")
    bad = tmp_path / "bad.yaml"
    bad.write_text("processes: 0\n")
    with pytest.raises(ParameterError, match="processes"):
        parameters.load_profile(bad)
    bad.write_text("network:\n  downscaling: {n_scale: 0.1}\n")
    profile = parameters.load_profile(bad)
    with pytest.raises(ParameterError, match=r"network\.downscaling\.n_scale"):
        parameters.apply_profile(parameters.resolve(), profile)
