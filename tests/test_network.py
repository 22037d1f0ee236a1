"""Network parameters (docs/model.md §5), assembly (§5.8) and the network file."""

import copy
import math

import numpy as np
import pytest

from humam import build, network, network_file, tables
from humam import full_scale as nw
from humam.errors import ParameterError

E = tables.POPULATION_IS_EXCITATORY
LAYER = tables.POPULATION_LAYER_INDEX
SAME_AREA = tables.SAME_AREA


def pop(area, layer, kind):
    return tables.population_index(area, layer, kind)


def with_overrides(params, **sections):
    """A deep copy of ``params`` with ``{section: {key: value}}`` merged in."""
    result = copy.deepcopy(params)
    for section, values in sections.items():
        if isinstance(values, dict):
            result[section].update(values)
        else:
            result[section] = values
    return result


@pytest.fixture
def neuron_params(default_network_params):
    return nw.neuron_parameter_arrays(default_network_params["neuron"])


# ---------------------------------------------------------------------------------------------
# Weights (§5.3)


def test_psc_per_psp_matches_spec():
    assert 0.2 ** (-1.25) == pytest.approx(7.476743906, abs=1e-9)
    assert nw.psc_per_psp(220.0, 10.0, 2.0) == pytest.approx(220.0 * 7.476743906 / 10.0, rel=1e-10)
    # limit eps -> 1 is e * C_m / tau_m
    assert nw.psc_per_psp(100.0, 10.0, 10.0) == pytest.approx(math.e * 10.0)
    assert nw.psc_per_psp(100.0, 10.0, 10.0 * (1 + 1e-7)) == pytest.approx(math.e * 10.0, rel=1e-6)


def test_base_weights(neuron_params):
    j = nw.base_weights_pA(neuron_params, g=-5.0, psp_e_mV=0.1)
    assert j.shape == (272, 272)
    ee, ie = j[E][:, E], j[~E][:, E]
    ei, ii = j[E][:, ~E], j[~E][:, ~E]
    for block, value in ((ee, 16.4488), (ie, 7.4767), (ei, -82.2442), (ii, -37.3837)):
        np.testing.assert_allclose(block, value, atol=1e-4)
        assert np.ptp(block) == 0.0
    j_ext = nw.base_external_weights_pA(neuron_params, psp_ext_mV=0.1)
    np.testing.assert_allclose(j_ext[E], 16.4488, atol=1e-4)
    np.testing.assert_allclose(j_ext[~E], 7.4767, atol=1e-4)


def test_inhibitory_weights_use_tau_syn_in(default_network_params):
    neuron = copy.deepcopy(default_network_params["neuron"])
    for kind in ("E", "I"):
        neuron[kind]["tau_syn_in_ms"] = 4.0
    params = nw.neuron_parameter_arrays(neuron)
    j = nw.base_weights_pA(params, g=-5.0, psp_e_mV=0.1)
    assert j[0, 0] == pytest.approx(nw.psc_per_psp(220.0, 10.0, 2.0) * 0.1)
    assert j[0, 1] == pytest.approx(-5.0 * nw.psc_per_psp(220.0, 10.0, 4.0) * 0.1)


def test_recurrent_scaling_masks_hit_exactly_the_documented_pairs():
    ones = np.ones((272, 272))
    factors = {"e4_to_e23": 2.0, "chi": 3.0, "chi_I": 5.0, "local_e5_to_i": 7.0, "local_e_to_i": 11.0}
    scaled = nw.apply_recurrent_scaling(ones, factors)
    a23e, a4e, a5e = pop("cuneus", "II/III", "E"), pop("cuneus", "IV", "E"), pop("cuneus", "V", "E")
    a6i = pop("cuneus", "VI", "I")
    b23e, b5i, b4e = pop("insula", "II/III", "E"), pop("insula", "V", "I"), pop("insula", "IV", "E")
    a23i = pop("cuneus", "II/III", "I")
    assert scaled[a23e, a4e] == 2.0  # local 2/3E <- 4E
    assert scaled[b23e, a4e] == 3.0  # inter-area E <- E: chi only, not 4E->2/3E
    assert scaled[a23e, b4e] == 3.0
    assert scaled[b5i, a5e] == 5.0  # inter-area I <- E: chi_I only
    assert scaled[a6i, a5e] == 7.0 * 11.0  # local I <- 5E: both local factors
    assert scaled[a6i, a4e] == 11.0  # local I <- E
    assert scaled[a23e, a5e] == 1.0  # other local E <- E
    assert scaled[a23e, a23i] == 1.0  # local E <- I
    assert scaled[b23e, a23i] == 1.0  # inter-area E <- I untouched
    assert scaled[b5i, a6i] == 1.0  # inter-area I <- I untouched
    # counts: 34 local 2/3E<-4E pairs, 34*33*16 inter-area E<-E, same for I<-E
    assert np.count_nonzero(scaled == 2.0) == 34
    assert np.count_nonzero(scaled == 3.0) == 34 * 33 * 16
    assert np.count_nonzero(scaled == 5.0) == 34 * 33 * 16
    assert np.count_nonzero(scaled == 77.0) == 34 * 4
    assert np.count_nonzero(scaled == 11.0) == 34 * 4 * 3
    assert np.all(ones == 1.0)  # input untouched


def test_weight_sd_and_external_layer_factors(neuron_params):
    j_ext = nw.base_external_weights_pA(neuron_params, 0.1)
    scaled = nw.apply_external_layer_factors(j_ext, 1.05, 1.15)
    five_e = E & (LAYER == 2)
    six_e = E & (LAYER == 3)
    np.testing.assert_allclose(scaled[five_e], 17.2713, atol=1e-4)
    np.testing.assert_allclose(scaled[six_e], 18.9162, atol=1e-4)
    np.testing.assert_allclose(scaled[E & ~five_e & ~six_e], 16.4488, atol=1e-4)
    np.testing.assert_allclose(scaled[~E], 7.4767, atol=1e-4)
    np.testing.assert_allclose(nw.weight_sd_pA(np.array([-82.0, 16.0]), 0.1), [8.2, 1.6], rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# External drive (§5.5)


def test_external_rate_gives_the_same_poisson_rate_for_every_population(neuron_params):
    rng = np.random.default_rng(1)
    s_ext = rng.integers(10**6, 10**8, 272)
    n = rng.integers(1000, 50000, 272)
    n[5] = 0
    s_ext[5] = 0
    k_ext = nw.external_indegree(s_ext, n)
    assert k_ext[5] == 0.0 and k_ext[0] == s_ext[0] / n[0]
    j_ext = nw.base_external_weights_pA(neuron_params, 0.1)
    nu = nw.external_rate_per_synapse_hz(neuron_params, k_ext, j_ext, eta_ext=1.1)
    expected = 1000 * 1.1 * 25 * 220 / (10 * 2 * 16.4488365)
    assert expected == pytest.approx(18390.36, abs=0.01)
    total = nu * k_ext
    np.testing.assert_allclose(np.delete(total, 5), 18390.36, atol=0.01)
    assert nu[5] == 0.0 and total[5] == 0.0


# ---------------------------------------------------------------------------------------------
# Delays (§5.4) and heterogeneity (§5.2)


def test_delay_means_sds_and_clips():
    distance = np.arange(34 * 34, dtype=float).reshape(34, 34) + 1.0
    mean = nw.delay_mean_ms(distance, {"E": 1.5, "I": 0.75}, 3.5)
    assert mean.shape == (272, 272)
    a23e, a23i, b6i = pop("bankssts", "II/III", "E"), pop("bankssts", "II/III", "I"), pop("insula", "VI", "I")
    assert mean[a23i, a23e] == 1.5 and mean[a23e, a23i] == 0.75
    insula = tables.area_index("insula")
    assert mean[b6i, a23e] == distance[insula, 0] / 3.5  # rows target area, columns source area
    assert mean[a23e, b6i] == distance[0, insula] / 3.5
    np.testing.assert_array_equal(nw.delay_sd_ms(mean, 0.5), 0.5 * mean)
    clip = nw.delay_lower_clip_ms(cc_min_ms=0.0, resolution_ms=0.1)
    assert np.all(clip[SAME_AREA] == 0.1) and np.all(clip[~SAME_AREA] == 0.1)
    clip = nw.delay_lower_clip_ms(cc_min_ms=2.0, resolution_ms=0.1)
    assert np.all(clip[SAME_AREA] == 0.1) and np.all(clip[~SAME_AREA] == 2.0)
    with pytest.raises(ParameterError, match="velocity"):
        nw.delay_mean_ms(distance, {"E": 1.5, "I": 0.75}, 0.0)


def test_lognormal_parameters_reproduce_mean_and_relative_sd():
    mean = np.array([0.75, 1.5, 18.0])
    mu, sigma = nw.lognormal_parameters(mean, 0.5)
    np.testing.assert_allclose(sigma, math.sqrt(math.log(1.25)))
    np.testing.assert_allclose(np.exp(mu + sigma**2 / 2), mean)
    sd = np.sqrt((np.exp(sigma**2) - 1) * np.exp(2 * mu + sigma**2))
    np.testing.assert_allclose(sd / mean, 0.5)
    mu0, sigma0 = nw.lognormal_parameters(mean, 0.0)
    np.testing.assert_allclose(mu0, np.log(mean))
    assert np.all(sigma0 == 0.0)


def test_heterogeneity_parameters(neuron_params):
    het = nw.heterogeneity_parameters(neuron_params, {"E": {"V_th": 0.21, "C_m": 0.22, "tau_m": 0.55},
                                                      "I": {"V_th": 0.22, "C_m": 0.34, "tau_m": 0.43}})
    v_th = het["V_th_mV"]
    np.testing.assert_array_equal(v_th["offset"], -70.0)
    np.testing.assert_allclose(np.exp(v_th["mu"] + v_th["sigma"] ** 2 / 2), 25.0)  # lognormal of V_th - E_L
    assert v_th["rel_sd"][0] == 0.21 and v_th["rel_sd"][1] == 0.22
    c_m = het["C_m_pF"]
    np.testing.assert_array_equal(c_m["offset"], 0.0)
    np.testing.assert_allclose(np.exp(c_m["mu"] + c_m["sigma"] ** 2 / 2), np.where(E, 220.0, 100.0))
    assert het["tau_m_ms"]["sigma"][1] == pytest.approx(math.sqrt(math.log(1 + 0.43**2)))
    with pytest.raises(ParameterError, match="heterogeneity"):
        nw.heterogeneity_parameters(neuron_params, {"E": {"V_th": -0.1, "C_m": 0, "tau_m": 0},
                                                    "I": {"V_th": 0, "C_m": 0, "tau_m": 0}})


# ---------------------------------------------------------------------------------------------
# Perturbation (§5.6)


def _table(entries, empty=(pop("entorhinal", "IV", "E"),)):
    n = np.full(272, 1000)
    n[list(empty)] = 0
    k_ext = np.full(272, 5000.0)
    j_ext = np.full(272, 16.4488)
    return nw.perturbation_table(entries, n, j_ext, k_ext)


def test_perturbation_table():
    table = _table([{"area": "pericalcarine", "layer": "IV", "population": "E", "time_ms": 2000.0}])
    assert table["population_index"].tolist() == [pop("pericalcarine", "IV", "E")]
    assert table["time_ms"].tolist() == [2000.0]
    assert table["delay_ms"].tolist() == [1.0]
    assert table["weight_pA"][0] == pytest.approx(16.4488 * 1000 * 5000)
    assert table["area"].tolist() == ["pericalcarine"] and table["layer"].tolist() == ["IV"]
    empty = _table([])
    assert all(len(column) == 0 for column in empty.values())


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"area": "v1", "layer": "IV", "population": "E", "time_ms": 1.0}, r"'v1'.*bankssts.*transversetemporal"),
        ({"area": "cuneus", "layer": "4", "population": "E", "time_ms": 1.0}, r"'4'.*II/III, IV, V, VI"),
        ({"area": "cuneus", "layer": "IV", "population": "X", "time_ms": 1.0}, r"'X'.*E, I"),
        ({"area": "entorhinal", "layer": "IV", "population": "E", "time_ms": 1.0}, r"entorhinal, IV, E.*no neurons"),
        ({"area": "cuneus", "layer": "IV", "population": "E", "time_ms": -1.0}, r"time_ms.*positive"),
        ({"area": "cuneus", "layer": "IV", "population": "E"}, r"lacks time_ms"),
    ],
)
def test_perturbation_validation(entry, message):
    with pytest.raises(ParameterError, match=message):
        _table([entry])


def test_perturbation_rejects_duplicates():
    entry = {"area": "cuneus", "layer": "IV", "population": "E", "time_ms": 1.0}
    with pytest.raises(ParameterError, match="already perturbed"):
        _table([entry, dict(entry, time_ms=5.0)])


# ---------------------------------------------------------------------------------------------
# Assembly on synthetic inputs (fast)


def test_assembly_on_synthetic_inputs(synthetic_inputs, default_network_params):
    cyto, connectome = synthetic_inputs(empty=(10, 11))
    params = with_overrides(default_network_params, scaling={"chi": 2.5, "chi_I": 5.0})
    net = build.assemble_network(cyto, connectome, params)
    assert net.area.tolist()[:9] == ["bankssts"] * 8 + ["caudalanteriorcingulate"]
    assert net.layer.tolist()[:8] == ["II/III", "II/III", "IV", "IV", "V", "V", "VI", "VI"]
    assert net.population.tolist()[:4] == ["E", "I", "E", "I"]
    assert net.keys == list(tables.POPULATIONS)
    assert net.nonempty.sum() == 270 and not net.nonempty[10]
    np.testing.assert_array_equal(net.neuron_numbers, cyto.neuron_numbers.ravel())
    # weights of empty populations keep their regular values (§3.4)
    assert net.population[11] == "I" and net.neuron_numbers[11] == 0
    assert net.weights_pA[11, 0] == pytest.approx(14.9535 * 2.5, abs=1e-4)  # cc I <- E, chi_I = 5
    assert net.weights_pA[10, 0] == pytest.approx(16.4488 * 2.5, abs=1e-4)  # cc E <- E, chi = 2.5
    np.testing.assert_array_equal(net.weights_sd_pA, 0.1 * np.abs(net.weights_pA))
    np.testing.assert_array_equal(net.weights_ext_sd_pA, 0.1 * np.abs(net.weights_ext_pA))
    assert net.rate_ext_hz[10] == 0.0 and net.poisson_rate_hz[10] == 0.0 and net.indegree_ext[10] == 0.0
    np.testing.assert_allclose(net.poisson_rate_hz[net.nonempty], 18390.36, atol=0.01)
    np.testing.assert_array_equal(net.dc_drive_pA, 0.0)
    assert net.delay_distribution == "lognormal"
    assert net.neuron_numbers_full_scale is None and net.full_scale_rates_hz is None and not net.is_downscaled
    k = net.indegrees
    assert k[0, 1] == net.synapses[0, 1] / net.neuron_numbers[0] and np.all(k[10] == 0)


def test_assembly_rejects_bad_options(synthetic_inputs, default_network_params):
    cyto, connectome = synthetic_inputs()
    with pytest.raises(ParameterError, match="distribution"):
        build.assemble_network(cyto, connectome, with_overrides(default_network_params, delays={"distribution": "gamma"}))
    with pytest.raises(ParameterError, match="transmission_probability"):
        build.assemble_network(cyto, connectome,
                            with_overrides(default_network_params, weights={"transmission_probability": 0.0}))
    entry = {"area": "nowhere", "layer": "IV", "population": "E", "time_ms": 1.0}
    bad = with_overrides(default_network_params, perturbation=[entry])
    with pytest.raises(ParameterError, match="perturbation\\[0\\].*'nowhere'"):
        build.assemble_network(cyto, connectome, bad)


@pytest.mark.parametrize("scale", [0.0, -0.5, 1.5])
def test_build_network_refuses_bad_scales_before_building(default_network_params, scale, monkeypatch):
    import humam.cytoarchitecture

    def fail(*_):
        raise AssertionError("the network was built despite invalid scales")

    monkeypatch.setattr(humam.cytoarchitecture, "build_cytoarchitecture", fail)
    with pytest.raises(ParameterError, match=r"outside \(0, 1\]"):
        build.build_network(with_overrides(default_network_params, downscaling={"n_scaling": scale}))
    with pytest.raises(ParameterError, match="k_scaling"):
        build.build_network(with_overrides(default_network_params, downscaling={"k_scaling": scale}))


def test_normal_delay_option(synthetic_inputs, default_network_params):
    cyto, connectome = synthetic_inputs()
    params = with_overrides(default_network_params, delays={"distribution": "normal", "cc_min_ms": 1.0})
    net = build.assemble_network(cyto, connectome, params)
    assert net.delay_distribution == "normal"
    np.testing.assert_array_equal(net.delay_sd_ms, 0.5 * net.delay_mean_ms)
    assert np.all(net.delay_min_ms[SAME_AREA] == 0.1) and np.all(net.delay_min_ms[~SAME_AREA] == 1.0)


# ---------------------------------------------------------------------------------------------
# Network file


def assert_networks_equal(a, b):
    from dataclasses import fields

    for item in fields(network.Network):
        x, y = getattr(a, item.name), getattr(b, item.name)
        _assert_equal(item.name, x, y)


def _assert_equal(name, x, y):
    if isinstance(x, dict):
        assert isinstance(y, dict) and list(x) == list(y), name
        for key in x:
            _assert_equal(f"{name}.{key}", x[key], y[key])
    elif isinstance(x, np.ndarray):
        assert isinstance(y, np.ndarray), name
        assert x.dtype == y.dtype and x.shape == y.shape, (name, x.dtype, y.dtype, x.shape, y.shape)
        np.testing.assert_array_equal(x, y, err_msg=name)
    else:
        assert type(x) is type(y) and x == y, (name, x, y)


def _rates_pickle(tmp_path, neuron_numbers):
    import pandas as pd

    index = pd.MultiIndex.from_tuples(
        [key for key, n in zip(tables.POPULATIONS, neuron_numbers) if n > 0], names=["area", "layer", "population"]
    )
    series = pd.Series(np.linspace(0.1, 5.0, len(index)), index=index)
    path = tmp_path / "rates.pkl"
    series.to_pickle(path)
    return path


def test_round_trip(tmp_path, synthetic_inputs, default_network_params):
    import h5py

    cyto, connectome = synthetic_inputs()
    params = with_overrides(
        default_network_params,
        perturbation=[{"area": "pericalcarine", "layer": "IV", "population": "E", "time_ms": 2000.0}],
        heterogeneity={"E": {"V_th": 0.21, "C_m": 0.22, "tau_m": 0.55}, "I": {"V_th": 0.22, "C_m": 0.34, "tau_m": 0.43}},
        downscaling={"n_scaling": 0.01, "k_scaling": 0.02,
                     "full_scale_rates": str(_rates_pickle(tmp_path, cyto.neuron_numbers.ravel()))},
    )
    net = build.assemble_network(cyto, connectome, params)
    assert net.is_downscaled and net.neuron_numbers_full_scale is not None
    path = tmp_path / "out" / "network.h5"
    attrs = {"parameters": '{"chi": 1.0}', "net_hash": "abc", "provenance": "{\"é\": 1}"}
    assert network_file.save_network(net, path, attrs) == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["network.h5"]
    back = network_file.load_network(path)
    assert_networks_equal(net, back)
    assert network_file.read_network_attrs(path) == attrs
    with h5py.File(path) as h5:
        assert h5["weights_pA"].compression == "gzip" and h5["synapses"].compression == "gzip"
        assert h5["weights_pA"].attrs["units"] == "pA"
        assert h5["delay_mean_ms"].attrs["units"] == "ms"
        assert h5.attrs["file_type"] == "humam.network"
        assert h5py.check_string_dtype(h5["area"].dtype).encoding == "utf-8"
        assert h5["directionality"].shape == (34, 34)
        assert h5["synapses"].dtype == np.int64


def test_round_trip_full_scale_network_without_optional_fields(tmp_path, synthetic_inputs, default_network_params):
    cyto, connectome = synthetic_inputs(seed=3)
    net = build.assemble_network(cyto, connectome, default_network_params)
    path = tmp_path / "network.h5"
    network_file.save_network(net, path, {})
    assert_networks_equal(net, network_file.load_network(path))


def test_atomic_write_leaves_no_file_when_writing_fails(tmp_path, synthetic_inputs, default_network_params, monkeypatch):
    cyto, connectome = synthetic_inputs()
    net = build.assemble_network(cyto, connectome, default_network_params)
    path = tmp_path / "network.h5"
    original = network_file._write_value
    written = []

    def failing(group, name, value, units):
        if name == "dc_drive_pA":  # midway through the datasets
            raise OSError("disk full")
        written.append(name)
        original(group, name, value, units)

    monkeypatch.setattr(network_file, "_write_value", failing)
    with pytest.raises(OSError, match="disk full"):
        network_file.save_network(net, path, {"net_hash": "x"})
    assert "weights_pA" in written
    assert list(tmp_path.iterdir()) == []  # neither the final file nor a temporary one

    # an existing file is left untouched by a failed rewrite
    monkeypatch.setattr(network_file, "_write_value", original)
    network_file.save_network(net, path, {"net_hash": "old"})
    monkeypatch.setattr(network_file, "_write_value", failing)
    with pytest.raises(OSError):
        network_file.save_network(net, path, {"net_hash": "new"})
    assert network_file.read_network_attrs(path) == {"net_hash": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["network.h5"]


def test_save_rejects_reserved_attrs_and_load_rejects_foreign_files(tmp_path, synthetic_inputs, default_network_params):
    import h5py

    cyto, connectome = synthetic_inputs()
    net = build.assemble_network(cyto, connectome, default_network_params)
    with pytest.raises(ValueError, match="reserved"):
        network_file.save_network(net, tmp_path / "n.h5", {"file_type": "x"})
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as h5:
        h5["x"] = 1
    with pytest.raises(ValueError, match="not a humam network file"):
        network_file.load_network(foreign)


# ---------------------------------------------------------------------------------------------
# The published network (full scale; §12)

slow = pytest.mark.slow


@slow
def test_published_sizes(network_default):
    s = network.summary(network_default)
    assert s["neurons"] == 3_468_839 and s["populations_nonempty"] == 254
    assert s["synapses_internal"] == 42_778_075_138
    assert s["synapses_external"] == 18_025_524_840
    assert network_default.neuron_numbers.shape == (272,) and network_default.synapses.shape == (272, 272)


@slow
def test_published_weights(network_default):
    net = network_default
    j = net.weights_pA
    local, cc = SAME_AREA, ~SAME_AREA
    e4, e23 = E & (LAYER == 1), E & (LAYER == 0)
    four_to_23 = local & e23[:, None] & e4[None, :]
    np.testing.assert_allclose(j[four_to_23], 32.8977, atol=1e-4)
    np.testing.assert_allclose(j[(E[:, None] & E[None, :]) & ~four_to_23], 16.4488, atol=1e-4)
    np.testing.assert_allclose(j[local & ~E[:, None] & E[None, :]], 7.4767, atol=1e-4)
    np.testing.assert_allclose(j[cc & ~E[:, None] & E[None, :]], 14.9535, atol=1e-4)
    np.testing.assert_allclose(j[E[:, None] & ~E[None, :]], -82.2442, atol=1e-4)
    np.testing.assert_allclose(j[~E[:, None] & ~E[None, :]], -37.3837, atol=1e-4)
    j_ext = net.weights_ext_pA
    for mask, value in ((E & (LAYER <= 1), 16.4488), (E & (LAYER == 2), 17.2713), (E & (LAYER == 3), 18.9162), (~E, 7.4767)):
        np.testing.assert_allclose(j_ext[mask], value, atol=1e-4)
    np.testing.assert_allclose(net.weights_sd_pA, 0.1 * np.abs(j))
    np.testing.assert_allclose(net.weights_ext_sd_pA, 0.1 * np.abs(j_ext))


@slow
def test_published_external_drive(network_default):
    net = network_default
    ne = net.nonempty
    np.testing.assert_allclose(net.poisson_rate_hz[ne], 18390.36, atol=0.005)
    assert np.all(net.poisson_rate_hz[~ne] == 0) and np.all(net.rate_ext_hz[~ne] == 0)
    k_ext = net.indegree_ext[ne]
    assert round(k_ext.min()) == 1378 and round(k_ext.max()) == 20456
    nu = net.rate_ext_hz[ne]
    assert round(nu.min(), 3) == 0.899 and round(nu.max(), 2) == 13.35
    np.testing.assert_array_equal(net.dc_drive_pA, 0.0)


@slow
def test_published_delays(network_default):
    net = network_default
    off_diagonal = ~np.eye(34, dtype=bool)
    assert round(float((net.distance_mm[off_diagonal] / 3.5).mean()), 2) == 18.34
    area_of = tables.POPULATION_AREA_INDEX
    np.testing.assert_array_equal(net.delay_mean_ms[~SAME_AREA],
                                  (net.distance_mm[area_of[:, None], area_of[None, :]] / 3.5)[~SAME_AREA])
    np.testing.assert_array_equal(net.delay_mean_ms[SAME_AREA], np.where(E[None, :], 1.5, 0.75).repeat(272, 0)[SAME_AREA])
    np.testing.assert_allclose(net.delay_lognormal_sigma, math.sqrt(math.log(1.25)))
    np.testing.assert_array_equal(net.delay_min_ms, 0.1)


@slow
def test_chi_scales_only_inter_area_excitatory_weights(network_default, cyto_default, connectome_default,
                                                       default_network_params):
    params = with_overrides(default_network_params, scaling={"chi": 2.5, "chi_I": 5.0})
    best = build.assemble_network(cyto_default, connectome_default, params)
    base = network_default
    np.testing.assert_array_equal(best.weights_pA[SAME_AREA], base.weights_pA[SAME_AREA])
    ee_cc = ~SAME_AREA & E[:, None] & E[None, :]
    ie_cc = ~SAME_AREA & ~E[:, None] & E[None, :]
    np.testing.assert_allclose(best.weights_pA[ee_cc], 2.5 * base.weights_pA[ee_cc], rtol=1e-15)
    np.testing.assert_allclose(best.weights_pA[ie_cc], 2.5 * base.weights_pA[ie_cc], rtol=1e-15)  # chi_I 5 vs 2
    np.testing.assert_array_equal(best.weights_pA[~SAME_AREA & ~E[None, :]], base.weights_pA[~SAME_AREA & ~E[None, :]])
    np.testing.assert_array_equal(best.rate_ext_hz, base.rate_ext_hz)  # external rates precede scaling
    np.testing.assert_array_equal(best.synapses, base.synapses)


@slow
def test_published_perturbation(cyto_default, connectome_default, default_network_params, network_default):
    entry = {"area": "pericalcarine", "layer": "IV", "population": "E", "time_ms": 2000.0}
    net = build.assemble_network(cyto_default, connectome_default, with_overrides(default_network_params, perturbation=[entry]))
    i = pop("pericalcarine", "IV", "E")
    assert net.perturbation["population_index"].tolist() == [i]
    expected = 16.4488 * 1000 * network_default.indegree_ext[i]  # unscaled J_ext, full-scale K_ext
    assert net.perturbation["weight_pA"][0] == pytest.approx(expected, rel=1e-5)
    for area in ("caudalanteriorcingulate", "entorhinal", "parahippocampal", "precentral", "rostralanteriorcingulate",
                 "caudalmiddlefrontal", "lateraloccipital", "parsorbitalis"):
        with pytest.raises(ParameterError, match="no neurons"):
            build.assemble_network(cyto_default, connectome_default,
                                with_overrides(default_network_params, perturbation=[dict(entry, area=area)]))


@slow
def test_full_scale_network_file_round_trip(tmp_path, network_default):
    path = tmp_path / "network.h5"
    network_file.save_network(network_default, path, {"parameters": "{}"})
    assert_networks_equal(network_default, network_file.load_network(path))


def test_perturbed_population_must_survive_downscaling(tmp_path, synthetic_inputs, default_network_params):
    cyto, connectome = synthetic_inputs()
    target = pop("pericalcarine", "IV", "E")
    cyto.neuron_numbers.reshape(-1)[target] = 1000  # 0.4 neurons at n = 0.0004
    params = with_overrides(
        default_network_params,
        perturbation=[{"area": "pericalcarine", "layer": "IV", "population": "E", "time_ms": 2000.0}],
        downscaling={"n_scaling": 0.0004, "k_scaling": 0.5,
                     "full_scale_rates": str(_rates_pickle(tmp_path, cyto.neuron_numbers.ravel()))},
    )
    with pytest.warns(UserWarning, match="without neurons"):
        with pytest.raises(ParameterError, match="pericalcarine/IV/E, which has no neurons after down-scaling"):
            build.assemble_network(cyto, connectome, params)
