"""Shared fixtures. Tests read raw data from the local mirror beside the checkout
(``../shared/humam-data``) unless HUMAM_DATA_DIR points elsewhere."""

import os
from pathlib import Path

import pytest

MIRROR = Path(__file__).resolve().parents[1].parent / "shared" / "humam-data"
if not os.environ.get("HUMAM_DATA_DIR") and MIRROR.is_dir():
    os.environ["HUMAM_DATA_DIR"] = str(MIRROR)


@pytest.fixture
def isolated_config(tmp_path, monkeypatch):
    """No user config file and an empty cache; returns the cache folder."""
    monkeypatch.setenv("HUMAM_CONFIG", str(tmp_path / "no-config.yaml"))
    monkeypatch.setenv("HUMAM_CACHE_DIR", str(tmp_path / "cache"))
    from humam import data

    data._verified_mirror_file.cache_clear()
    yield tmp_path / "cache"
    data._verified_mirror_file.cache_clear()
