"""The spike file spikes.h5: SONATA conformance (read back with libsonata), its humam attributes, and
the round trip through humam's own readers. No NEST: the writer gets synthetic NEST ids and times."""

import h5py
import numpy as np
import pytest

from humam import spikefile, tables
from humam.analysis import read_spike_trains

N_POP = tables.N_POPULATIONS


def test_population_labels_are_unique_and_hdf5_safe():
    labels = [spikefile.population_label(*key) for key in tables.POPULATIONS]
    assert len(set(labels)) == 272
    assert spikefile.population_label("bankssts", "II/III", "E") == "bankssts_23E"
    assert not any("/" in label for label in labels)


@pytest.fixture
def known_spikes(tmp_path):
    """A spikes.h5 with known spikes: 5 populations with neurons (one of them silent, one of them
    with more neurons than 2**16), written in random order with NEST-like global ids."""
    rng = np.random.default_rng(3)
    neuron_numbers = np.zeros(N_POP, dtype=np.int64)
    simulated = [0, 7, 100, 101, 271]
    neuron_numbers[simulated] = [20, 5, 70_000, 3, 40]
    first_ids, next_id = {}, 1
    for i in simulated:  # NEST creates the populations in canonical order, ids from 1
        first_ids[i] = next_id
        next_id += int(neuron_numbers[i])
    expected = {}
    senders, times = [], []
    for i, n_spikes in zip(simulated, [300, 0, 5000, 40, 1]):
        node_ids = rng.integers(0, neuron_numbers[i], n_spikes)
        spike_times = np.round(rng.uniform(0.1, 1000.0, n_spikes), 1)  # on the 0.1 ms grid, with ties
        order = np.lexsort((node_ids, spike_times))
        expected[i] = (node_ids[order], spike_times[order])
        senders.append(node_ids + first_ids[i])
        times.append(spike_times)
    senders, times = np.concatenate(senders), np.concatenate(times)
    shuffle = rng.permutation(senders.size)
    path = tmp_path / "spikes.h5"
    spikefile.write_spikes(path, neuron_numbers, first_ids, senders[shuffle], times[shuffle], 1000.0,
                           {"sim_hash": "abc"})
    return {"path": path, "neuron_numbers": neuron_numbers, "first_ids": first_ids, "expected": expected}


def label(i):
    return spikefile.population_label(*tables.POPULATIONS[i])


def test_written_file_has_the_sonata_layout(known_spikes):
    with h5py.File(known_spikes["path"], "r") as f:
        assert f.attrs["magic"] == 0x0A7A and f.attrs["magic"].dtype == np.uint32
        np.testing.assert_array_equal(f.attrs["version"], [0, 1])
        assert f.attrs["version"].dtype == np.uint32
        assert f.attrs["file_type"] == spikefile.SPIKES_FILE_TYPE
        assert f.attrs["format_version"] == spikefile.SPIKES_FORMAT_VERSION
        assert f.attrs["t_sim_ms"] == 1000.0 and f.attrs["sim_hash"] == "abc"
        assert set(f["spikes"]) == {label(i) for i in known_spikes["first_ids"]}  # no group for empty populations
        for i, first in known_spikes["first_ids"].items():
            group = f["spikes"][label(i)]
            sorting = group.attrs.get_id("sorting").dtype
            assert h5py.check_enum_dtype(sorting) == {"none": 0, "by_id": 1, "by_time": 2}
            assert group.attrs["sorting"] == 2  # by_time
            assert group["node_ids"].dtype == np.uint64 and group["timestamps"].dtype == np.float64
            assert group["timestamps"].attrs["units"] == "ms"
            for name in ("node_ids", "timestamps"):
                assert group[name].compression is None and group[name].chunks is None  # no filters
            assert group.attrs["size"] == known_spikes["neuron_numbers"][i] and group.attrs["first_node_id"] == first
            area, layer, population = tables.POPULATIONS[i]
            assert (group.attrs["area"], group.attrs["layer"], group.attrs["population"]) == (area, layer, population)
        assert f.attrs["spikes"] == sum(ids.size for ids, _ in known_spikes["expected"].values())


def test_libsonata_reads_every_population(known_spikes):
    libsonata = pytest.importorskip("libsonata")

    reader = libsonata.SpikeReader(str(known_spikes["path"]))
    assert set(reader.get_population_names()) == {label(i) for i in known_spikes["first_ids"]}
    for i, (ids, times) in known_spikes["expected"].items():
        population = reader[label(i)]
        assert population.sorting == "by_time" and population.time_units == "ms"
        spikes = population.get_dict()
        assert len(spikes["node_ids"]) == ids.size  # spike count
        np.testing.assert_array_equal(np.asarray(spikes["node_ids"], dtype=np.int64), ids)
        np.testing.assert_array_equal(np.asarray(spikes["timestamps"], dtype=np.float64), times)


def test_own_readers_give_back_the_spikes(known_spikes):
    raw = spikefile.read_spikes(known_spikes["path"])
    assert set(raw) == {label(i) for i in known_spikes["first_ids"]}
    for i, (ids, times) in known_spikes["expected"].items():
        np.testing.assert_array_equal(raw[label(i)]["node_ids"], ids)
        np.testing.assert_array_equal(raw[label(i)]["timestamps"], times)
        assert raw[label(i)]["size"] == known_spikes["neuron_numbers"][i]

    st = read_spike_trains(known_spikes["path"])
    np.testing.assert_array_equal(st.neuron_numbers, known_spikes["neuron_numbers"])
    assert st.t_sim_ms == 1000.0 and st.n_spikes == sum(ids.size for ids, _ in known_spikes["expected"].values())
    for i, (ids, times) in known_spikes["expected"].items():
        spikes = slice(st.population_bounds[i], st.population_bounds[i + 1])
        order = np.lexsort((times, ids))  # the table is sorted by (neuron, time)
        np.testing.assert_array_equal(st.neuron[spikes] - st.offsets[i], ids[order])
        np.testing.assert_array_equal(st.times_ms[spikes], times[order])
    # the network's sizes are checked against the file's
    st_net = read_spike_trains(known_spikes["path"], known_spikes["neuron_numbers"])
    np.testing.assert_array_equal(st_net.neuron, st.neuron)
    wrong = known_spikes["neuron_numbers"].copy()
    wrong[100] += 1
    from humam.errors import DataError

    with pytest.raises(DataError, match="population sizes differ"):
        read_spike_trains(known_spikes["path"], wrong)


def test_a_file_without_spikes_is_valid(tmp_path):
    neuron_numbers = np.zeros(N_POP, dtype=np.int64)
    neuron_numbers[5] = 10
    path = tmp_path / "spikes.h5"
    spikefile.write_spikes(path, neuron_numbers, {5: 1}, np.zeros(0), np.zeros(0), 100.0, {})
    st = read_spike_trains(path)
    assert st.n_spikes == 0 and st.neuron_numbers[5] == 10
    libsonata = pytest.importorskip("libsonata")
    population = libsonata.SpikeReader(str(path))[label(5)]
    assert len(population.get_dict()["node_ids"]) == 0
