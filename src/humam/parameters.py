"""Parameters: the documented defaults (``defaults.yaml``), experiment files that override them,
validation, and the content hashes that address every output.

An experiment file (``experiments/<name>.yaml``) may hold:

``description``
    one line saying what the experiment is;
``network``, ``simulation``, ``analysis``
    overrides of any subset of the keys of ``defaults.yaml`` (same nesting);
``scan``
    a family of experiments: ``{parameter: <dotted key>, values: [...], linked: {<dotted key>: factor}}``
    makes one member per value, with each linked key set to factor × value (e.g. χ_I = 2χ).

Unknown keys and values of the wrong type are rejected with the key's dotted path in the message.
Integers are accepted where the default is a float and are stored as floats, so ``chi: 1`` and
``chi: 1.0`` give the same hash.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from .errors import ParameterError
from .resources import experiments_dir, profiles_dir

DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")
_SECTIONS = ("network", "simulation", "analysis")
_EXPERIMENT_KEYS = {"description", "scan", *_SECTIONS}
_PERTURBATION_KEYS = {"area": str, "layer": str, "population": str, "time_ms": float}


def load_defaults() -> dict:
    """The default parameters (a fresh copy)."""
    return yaml.safe_load(DEFAULTS_FILE.read_text())


def _read_yaml(path: Path) -> dict:
    try:
        content = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path} is not valid YAML: {exc}") from exc
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ParameterError(f"{path} must hold a mapping of parameter sections, not {type(content).__name__}.")
    return content


def available_experiments() -> list[str]:
    """Names of the experiments shipped with humam."""
    return sorted(p.stem for p in experiments_dir().glob("*.yaml"))


def experiment_file(name_or_path: str | Path) -> Path:
    """The YAML file of an experiment given by shipped name or by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    candidate = experiments_dir() / f"{name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    raise ParameterError(
        f"Unknown experiment '{name_or_path}': it is neither a YAML file nor a shipped experiment. "
        f"Shipped experiments: {', '.join(available_experiments())}."
    )


def _check_value(path: str, default: Any, value: Any) -> Any:
    """``value`` validated against the type of ``default``; returns the normalised value."""
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise ParameterError(f"'{path}' must be a mapping with keys {sorted(default)}, got {value!r}.")
        return _merge(default, value, path)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ParameterError(f"'{path}' must be true or false, got {value!r}.")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(
                f"'{path}' must be a number, got {value!r} ({type(value).__name__}); note that YAML reads 1e-3 and 6.6e8 "
                f"as strings: write 1.0e-3 and 6.6e+8."
            )
        return float(value)
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(f"'{path}' must be an integer, got {value!r}.")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ParameterError(f"'{path}' must be a string, got {value!r}.")
        return value
    if isinstance(default, list):
        if not isinstance(value, list):
            raise ParameterError(f"'{path}' must be a list, got {value!r}.")
        if path == "network.perturbation":
            return [_check_perturbation(f"{path}[{i}]", item) for i, item in enumerate(value)]
        return value
    raise ParameterError(f"'{path}' has a default of unsupported type {type(default).__name__}.")


def _check_perturbation(path: str, item: Any) -> dict:
    if not isinstance(item, dict) or set(item) != set(_PERTURBATION_KEYS):
        raise ParameterError(
            f"'{path}' must be a mapping with exactly the keys {sorted(_PERTURBATION_KEYS)}, got {item!r}."
        )
    return {key: _check_value(f"{path}.{key}", kind() if kind is str else 0.0, item[key])
            for key, kind in _PERTURBATION_KEYS.items()}


def _merge(defaults: dict, overrides: dict, prefix: str) -> dict:
    merged = copy.deepcopy(defaults)
    for key, value in overrides.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if key not in defaults:
            raise ParameterError(
                f"Unknown parameter '{path}'. Known keys at this level: {', '.join(sorted(map(str, defaults)))}."
            )
        merged[key] = _check_value(path, defaults[key], value)
    return merged


def merge(base: dict, overrides: dict) -> dict:
    """``base`` with ``overrides`` applied; every override is validated against ``base``."""
    return _merge(base, overrides, "")


def set_dotted(params: dict, dotted: str, value: Any) -> dict:
    """A copy of ``params`` with the dotted key set (validated like any override)."""
    override: dict = {}
    node = override
    keys = dotted.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return merge(params, override)


def load_experiment(name_or_path: str | Path | None = None) -> dict:
    """The raw content of an experiment file, checked for unknown top-level keys (``{}`` for None)."""
    if name_or_path is None:
        return {}
    path = experiment_file(name_or_path)
    content = _read_yaml(path)
    unknown = sorted(set(content) - _EXPERIMENT_KEYS)
    if unknown:
        raise ParameterError(
            f"Unknown top-level key(s) {', '.join(unknown)} in {path}; allowed: {', '.join(sorted(_EXPERIMENT_KEYS))}."
        )
    return content


def resolve(experiment: str | Path | None = None) -> dict:
    """Defaults overridden by the experiment's ``network``, ``simulation`` and ``analysis`` sections.

    For a scan family this is the family's common base; see :func:`scan_members`.
    """
    content = load_experiment(experiment)
    return merge(load_defaults(), {key: content[key] for key in _SECTIONS if key in content})


def scan_members(experiment: str | Path) -> list[tuple[str, dict]]:
    """(label, resolved parameters) of every member of a scan family; one member for a plain experiment."""
    content = load_experiment(experiment)
    base = resolve(experiment)
    scan = content.get("scan")
    if scan is None:
        return [(Path(str(experiment)).stem, base)]
    if not isinstance(scan, dict) or "parameter" not in scan or "values" not in scan:
        raise ParameterError(f"'scan' of {experiment} needs 'parameter' (dotted key) and 'values' (list).")
    members = []
    for value in scan["values"]:
        params = set_dotted(base, scan["parameter"], value)
        for linked, factor in (scan.get("linked") or {}).items():
            params = set_dotted(params, linked, factor * value)
        members.append((f"{scan['parameter'].rsplit('.', 1)[-1]}={value:g}", params))
    return members


_PROFILE_KEYS = {"description", "processes", "launcher", *_SECTIONS}


def available_profiles() -> list[str]:
    """Names of the pipeline profiles shipped with humam."""
    return sorted(p.stem for p in profiles_dir().glob("*.yaml"))


def load_profile(name_or_path: str | Path) -> dict:
    """A pipeline profile (``profiles/<name>.yaml`` or a YAML file): how and at which scale the
    pipeline runs. Keys: ``description``, ``network``, ``simulation`` and ``analysis`` overrides applied to every
    experiment, ``processes`` (MPI processes per simulation) and ``launcher`` (command in front of
    ``humam simulate``; ``{processes}`` is replaced)."""
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") and path.is_file()):
        path = profiles_dir() / f"{name_or_path}.yaml"
        if not path.is_file():
            raise ParameterError(
                f"Unknown profile '{name_or_path}'. Shipped profiles: {', '.join(available_profiles())}; "
                f"or give the path of a YAML file (copy a shipped one to start)."
            )
    content = _read_yaml(path)
    unknown = sorted(set(content) - _PROFILE_KEYS)
    if unknown:
        raise ParameterError(f"Unknown key(s) {', '.join(unknown)} in profile {path}; allowed: {', '.join(sorted(_PROFILE_KEYS))}.")
    processes = content.get("processes", 1)
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ParameterError(f"'processes' in profile {path} must be a positive integer, got {processes!r}.")
    launcher = content.get("launcher", "") or ""
    if not isinstance(launcher, str):
        raise ParameterError(f"'launcher' in profile {path} must be a string, got {launcher!r}.")
    return {"name": path.stem, "path": str(path), "description": content.get("description", ""), "processes": processes,
            "launcher": launcher.replace("{processes}", str(processes)),
            "overrides": {key: content[key] for key in _SECTIONS if key in content}}


def apply_profile(params: dict, profile: dict | None) -> dict:
    """``params`` with the profile's overrides applied (validated like experiment overrides)."""
    return params if profile is None else merge(params, profile["overrides"])


def canonical_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, floats as Python's shortest repr."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_hash(obj: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def net_hash(params: dict) -> str:
    """Hash of everything that defines the network (the ``network`` section)."""
    return content_hash({"network": params["network"]})


def sim_hash(params: dict, virtual_processes: int | None = None) -> str:
    """Hash of a simulation: its network hash, the ``simulation`` section and the number of virtual
    processes (MPI ranks × threads), which together fix the spikes. How the virtual processes are
    split into ranks and threads does not change the result, so ``threads`` itself is not hashed."""
    simulation = dict(params["simulation"])
    threads = simulation.pop("threads")
    return content_hash({
        "net_hash": net_hash(params),
        "simulation": simulation,
        "virtual_processes": int(virtual_processes if virtual_processes is not None else threads),
    })


#: Keys of the ``analysis`` section that must be > 0 (the others are checked by type only).
_ANALYSIS_POSITIVE = ("bin_ms", "lvr_R_ms", "cc_sample", "min_spikes", "count_histogram_bins", "current_kernel_samples")


def resolve_analysis(overrides: dict | None = None) -> dict:
    """The ``analysis`` section of the defaults overridden by ``overrides`` (a resolved section or
    any part of one), validated like an experiment's overrides and checked for positive sizes."""
    section = _merge(load_defaults()["analysis"], overrides or {}, "analysis")
    for key in _ANALYSIS_POSITIVE:
        if not section[key] > 0:
            raise ParameterError(f"'analysis.{key}' must be > 0, got {section[key]!r}.")
    if section["t_stop_ms"] < 0:
        raise ParameterError(f"'analysis.t_stop_ms' must be >= 0 (0 = the simulated time), got {section['t_stop_ms']!r}.")
    return section


def analysis_hash(params: dict, virtual_processes: int | None = None) -> str:
    """Hash of an analysis: the hash of the simulation it analyses (:func:`sim_hash`) and the
    ``analysis`` section, which together fix ``analysis.h5``."""
    return content_hash({"sim_hash": sim_hash(params, virtual_processes), "analysis": params["analysis"]})
