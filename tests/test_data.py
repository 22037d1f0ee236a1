"""The raw-data registry: mirror use, checksum verification and the errors users see."""

import shutil
import socket

import pytest

from humam import config, data
from humam.errors import DataError, OptionalDataMissing

LICHTMAN = "experimental_data/fraction_EI/lichtman.csv"
FMRI = "experimental_data/senden/rsData_7T_DKparcel/rsDATA_7T_DKparcel.npy"


def test_registry_lists_every_published_input_with_checksum():
    entries = data.registry()
    required = [e for e in entries.values() if not e.optional]
    assert all(e.sha256 and len(e.sha256) == 64 and e.size for e in required)
    assert all(e.url.startswith("https://") and e.url.endswith(e.path) for e in entries.values())
    assert "f9956c070feb18c265b70b6eb5e4278e04c729c5" in entries[LICHTMAN].url  # pinned commit
    assert entries[FMRI].optional and entries[FMRI].git_blob_sha1


def test_mirror_file_is_verified_and_returned(isolated_config):
    path = data.data_path(LICHTMAN)
    assert path.read_text().startswith("layer,ratio")
    assert data.sha256_of(path) == data.entry(LICHTMAN).sha256


def test_corrupt_mirror_file_is_rejected_with_fix(isolated_config, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    target = mirror / LICHTMAN
    target.parent.mkdir(parents=True)
    target.write_text("layer,ratio\nII/III,0.99\nIV,0.79\nV,0.78\nVI,0.86\n")
    monkeypatch.setenv("HUMAM_DATA_DIR", str(mirror))
    with pytest.raises(DataError) as err:
        data.data_path(LICHTMAN)
    message = str(err.value)
    assert str(target) in message and data.entry(LICHTMAN).url in message


def test_missing_mirror_file_names_file_place_and_fix(isolated_config, tmp_path, monkeypatch):
    monkeypatch.setenv("HUMAM_DATA_DIR", str(tmp_path / "empty-mirror"))
    with pytest.raises(DataError) as err:
        data.data_path(LICHTMAN)
    message = str(err.value)
    assert LICHTMAN in message and "empty-mirror" in message and "HUMAM_DATA_DIR" in message


def test_optional_file_missing_is_its_own_error(isolated_config):
    with pytest.raises(OptionalDataMissing) as err:
        data.data_path(FMRI)
    assert "optional" in str(err.value)


def test_unregistered_path_is_rejected():
    with pytest.raises(DataError, match="not a registered"):
        data.data_path("experimental_data/nonexistent.csv")


def test_without_mirror_and_network_the_error_explains(isolated_config, monkeypatch):
    monkeypatch.delenv("HUMAM_DATA_DIR", raising=False)

    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(DataError) as err:
        data.data_path(LICHTMAN)
    message = str(err.value)
    assert "could not be downloaded" in message and "HUMAM_DATA_DIR" in message
    assert not (isolated_config / "raw" / LICHTMAN).exists()


def test_cached_download_is_used_without_network(isolated_config, monkeypatch):
    mirror = config.data_dir()
    monkeypatch.delenv("HUMAM_DATA_DIR", raising=False)
    cached = isolated_config / "raw" / LICHTMAN
    cached.parent.mkdir(parents=True)
    shutil.copy(mirror / LICHTMAN, cached)

    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", no_network)
    assert data.data_path(LICHTMAN) == cached


def test_config_file_sets_mirror(tmp_path, monkeypatch):
    monkeypatch.delenv("HUMAM_DATA_DIR", raising=False)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'somewhere'}\n")
    monkeypatch.setenv("HUMAM_CONFIG", str(cfg))
    assert config.data_dir() == (tmp_path / "somewhere").resolve()
    cfg.write_text("data_folder: x\n")
    with pytest.raises(Exception, match="Unknown key"):
        config.data_dir()

