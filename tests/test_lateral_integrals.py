"""Type-I/II split integrals (docs/model.md §4.4, docs/quirks.md Q1): fast path, published ratio range, disk cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from humam import lateral_integrals as li

# Extremes of the published ranges (thickness 1.58-4.03 mm, surface 980-13,799 mm^2) and a middle value.
PAIRS = [(1.58, 980.0), (4.03, 13799.0), (2.6145872311, 4521.337)]


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("HUMAM_CACHE_DIR", str(tmp_path))
    return tmp_path / li.CACHE_SUBDIR


@pytest.mark.parametrize("thickness, surface", PAIRS[:2])
def test_fast_path_bit_identical_to_reference(thickness, surface):
    ref = li._reference_split_integrals(thickness, surface)
    fast = li._compute_split_integrals(thickness, surface, 160.0, 0.1)
    assert li._fast_integrand() is not li._integrand, "compiled integrand failed its self-check"
    assert fast[0] == ref[0] and fast[1] == ref[1]


def test_compiled_integrand_matches_python_pointwise():
    from humam import _lateral_kernel

    assert li._self_check(_lateral_kernel.integrand) == 0


def test_ratio_in_published_range(cache_dir):
    # Representative areas; both thickness extremes. (The unrealistic corner of the thickest area
    # with the smallest surface, 4.03 mm / 980 mm^2, gives 0.6552786, just below the published range.)
    thickness = [1.58, 4.03, 2.71, 3.3, 1.58, 2.0]
    surface = [980.0, 13799.0, 4521.337, 8000.0, 13799.0, 2500.0]
    p_in, p_out = li.split_integrals_many(thickness, surface)
    ratio = p_in / (p_in + p_out)
    assert np.all((ratio >= 0.655279) & (ratio <= 0.655296)), ratio


def test_cache_hit_returns_identical_values_without_recomputation(cache_dir, monkeypatch):
    thickness, surface = PAIRS[0]
    first = li.split_integrals(thickness, surface)
    assert len(list(cache_dir.glob("*.json"))) == 1

    def fail(*args, **kwargs):
        raise AssertionError("recomputed although cached")

    monkeypatch.setattr(li, "_compute_split_integrals", fail)
    second = li.split_integrals(thickness, surface)
    assert second[0] == first[0] and second[1] == first[1]
    p_in, p_out = li.split_integrals_many([thickness, thickness], [surface, surface])
    assert list(p_in) == [first[0]] * 2 and list(p_out) == [first[1]] * 2


def test_many_computes_duplicates_once_and_keeps_order(cache_dir, monkeypatch):
    calls = []

    def fake(thickness, surface, lambda_um, epsrel):
        calls.append((thickness, surface))
        return thickness * 10.0, surface

    monkeypatch.setattr(li, "_compute_split_integrals", fake)
    thickness = [3.0, 2.0, 3.0, 2.0, 1.5]
    surface = [100.0, 200.0, 100.0, 200.0, 100.0]
    p_in, p_out = li.split_integrals_many(thickness, surface, workers=1)
    assert sorted(calls) == sorted({(3.0, 100.0), (2.0, 200.0), (1.5, 100.0)})
    assert list(p_in) == [30.0, 20.0, 30.0, 20.0, 15.0]
    assert list(p_out) == surface
    # A second call with one new pair computes only that pair.
    calls.clear()
    p_in, _ = li.split_integrals_many([1.5, 2.5], [100.0, 100.0], workers=1)
    assert calls == [(2.5, 100.0)] and list(p_in) == [15.0, 25.0]


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"key": 1}', b"\xff\xfe\x00garbage"])
def test_corrupt_cache_file_is_recomputed(cache_dir, monkeypatch, content):
    calls = []

    def fake(thickness, surface, lambda_um, epsrel):
        calls.append(1)
        return 1.0, 2.0

    monkeypatch.setattr(li, "_compute_split_integrals", fake)
    assert li.split_integrals(2.0, 1000.0) == (1.0, 2.0)
    (path,) = cache_dir.glob("*.json")
    path.write_bytes(content)
    assert li.split_integrals(2.0, 1000.0) == (1.0, 2.0)
    assert len(calls) == 2
    # The recomputed entry replaced the corrupt one and is valid again.
    entry = json.loads(path.read_text())
    assert float.fromhex(entry["p_in"]) == 1.0 and float.fromhex(entry["p_out"]) == 2.0
    assert li.split_integrals(2.0, 1000.0) == (1.0, 2.0)
    assert len(calls) == 2
    assert not list(cache_dir.glob("*.tmp"))


def test_entry_for_other_inputs_is_not_trusted(cache_dir, monkeypatch):
    monkeypatch.setattr(li, "_compute_split_integrals", lambda t, s, lam, eps: (t, s))
    li.split_integrals(2.0, 1000.0)
    key = li.cache_key(2.0, 1000.0)
    path = li.cache_path(key)
    entry = json.loads(path.read_text())
    entry["key"]["thickness_mm"] = (3.0).hex()  # an entry that belongs to other inputs
    path.write_text(json.dumps(entry))
    assert li._read_cache(path, key) is None
    assert li.split_integrals(2.0, 1000.0) == (2.0, 1000.0)


def test_cache_keys_differ_when_any_input_changes(monkeypatch):
    base = dict(thickness_mm=2.5, surface_mm2=5000.0, lambda_um=160.0, epsrel=0.1)
    variants = [
        dict(base, thickness_mm=np.nextafter(2.5, 3.0)),
        dict(base, surface_mm2=5000.000001),
        dict(base, lambda_um=161.0),
        dict(base, epsrel=0.01),
    ]
    paths = {li.cache_path(li.cache_key(**kw)) for kw in [base] + variants}
    assert len(paths) == 1 + len(variants)
    assert li.cache_key(**base) == li.cache_key(np.float64(2.5), 5000, 160, 0.1)

    import scipy

    path = li.cache_path(li.cache_key(**base))
    monkeypatch.setattr(scipy, "__version__", "0.0.0")
    assert li.cache_path(li.cache_key(**base)) != path
    monkeypatch.undo()
    monkeypatch.setattr(li, "CACHE_SCHEMA", "other")
    assert li.cache_path(li.cache_key(**base)) != path


def test_cache_disabled_writes_nothing(cache_dir, monkeypatch):
    monkeypatch.setattr(li, "_compute_split_integrals", lambda t, s, lam, eps: (1.0, 2.0))
    assert li.split_integrals(2.0, 1000.0, cache=False) == (1.0, 2.0)
    assert not cache_dir.exists()


def test_mismatched_lengths_rejected():
    with pytest.raises(ValueError):
        li.split_integrals_many([1.0, 2.0], [1000.0])
