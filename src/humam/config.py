"""User configuration: where raw data, caches and outputs live.

Settings are read, in order of precedence, from environment variables and from a YAML file
(``$HUMAM_CONFIG`` or ``$XDG_CONFIG_HOME/humam/config.yaml``, default ``~/.config/humam/config.yaml``):

============  =====================  ============================================================
key           environment variable   meaning
============  =====================  ============================================================
data_dir      HUMAM_DATA_DIR         local mirror of the raw data (original relative paths); when
                                     set, nothing is downloaded
cache_dir     HUMAM_CACHE_DIR        downloads and computed caches (default: the user cache folder)
============  =====================  ============================================================
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from .errors import HumamError

_KEYS = {"data_dir": "HUMAM_DATA_DIR", "cache_dir": "HUMAM_CACHE_DIR"}


def config_file() -> Path:
    """The configuration file that is read (it need not exist)."""
    if os.environ.get("HUMAM_CONFIG"):
        return Path(os.environ["HUMAM_CONFIG"]).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "humam" / "config.yaml"


def _file_settings() -> dict:
    path = config_file()
    if not path.is_file():
        return {}
    try:
        settings = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise HumamError(f"The configuration file {path} is not valid YAML ({exc}). Fix or remove it.") from exc
    if not isinstance(settings, dict):
        raise HumamError(f"The configuration file {path} must hold a mapping such as 'data_dir: /path'.")
    unknown = sorted(set(settings) - set(_KEYS))
    if unknown:
        raise HumamError(
            f"Unknown key(s) {', '.join(unknown)} in the configuration file {path}; "
            f"known keys: {', '.join(sorted(_KEYS))}."
        )
    return settings


def setting(key: str) -> str | None:
    """The value of a configuration key: environment variable first, then the config file."""
    env = os.environ.get(_KEYS[key])
    if env:
        return env
    value = _file_settings().get(key)
    return None if value is None else str(value)


def data_dir() -> Path | None:
    """The local raw-data mirror, or None to fetch from the public source."""
    value = setting("data_dir")
    return Path(value).expanduser().resolve() if value else None


def cache_dir() -> Path:
    """Folder for downloaded raw data and computed caches."""
    value = setting("cache_dir")
    if value:
        return Path(value).expanduser().resolve()
    import pooch

    return Path(pooch.os_cache("humam"))
