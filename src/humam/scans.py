"""The χ-scan families as pipeline families: their members, which of them run under a profile, and
the parameters of each (docs/model.md §10.4, docs/pipeline.md §2).

A scan family is an experiment with a ``scan`` entry (``experiments/chi_scan_*.yaml``): one member
per value of its scan parameter, with the linked parameters set from it (χ_I = 2χ), each an ordinary
run addressed by the hashes of its parameters. A profile's ``scan`` section
(:func:`humam.parameters.check_profile_scan`) names the members that run under it and may set their
simulated time. A member is named by its label, ``chi=2.5`` (the last part of the scan parameter's
key and the value), on the command line (``--member chi=2.5``) and in task names
(``chi_scan_main@chi2.5``). A member whose parameters equal another experiment's run (the χ = 1
member of the main family and ``ground_state``) is that run: same folder, simulated once.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from . import parameters
from .errors import ParameterError
from .layout import virtual_processes
from .resources import experiments_dir as shipped_experiments_dir

#: The main family (paper Fig. 5); the other shipped families are its variants (F5s), which the
#: pipeline simulates only when asked (``doit scans=all``).
MAIN_FAMILY = "chi_scan_main"


class Member(NamedTuple):
    """One member of a scan family: its ``label`` (``chi=2.5``), the ``value`` of the scan parameter
    and the resolved ``params`` (profile and scan length applied when a profile is given)."""

    label: str
    value: float
    params: dict


def family_name(experiment: str | Path) -> str:
    """The name of a family given by shipped name or file (the file's stem)."""
    return Path(str(experiment)).stem


def is_family(experiment: str | Path) -> bool:
    """True if the experiment has a ``scan`` entry."""
    return "scan" in parameters.load_experiment(experiment)


def _family(experiment: str | Path) -> tuple[str, list[float], dict[str, dict]]:
    """(scan parameter, its values, label -> resolved parameters of every member), resolved once;
    resolving validates the entry and every member's parameters."""
    scan = parameters.load_experiment(experiment).get("scan")
    if scan is None:
        raise ParameterError(f"'{family_name(experiment)}' is not a scan family (its file has no 'scan' entry); "
                             f"scan families: {', '.join(shipped_families())}.")
    resolved = dict(parameters.scan_members(experiment))
    return scan["parameter"], [float(v) for v in scan["values"]], resolved


def _grid(experiment: str | Path) -> tuple[str, list[float]]:
    return _family(experiment)[:2]


def shipped_families() -> list[str]:
    """The shipped experiments that are scan families."""
    return [name for name in parameters.available_experiments() if is_family(name)]


def label(parameter: str, value: float) -> str:
    """The label of the member with scan-parameter ``value``, e.g. ``chi=2.5``."""
    return f"{parameter.rsplit('.', 1)[-1]}={float(value):g}"


def task_label(member_label: str) -> str:
    """The member's part of a doit task name (no '=', which doit reads as a variable): ``chi2.5``."""
    return member_label.replace("=", "")


def parameter(experiment: str | Path) -> str:
    """The dotted key of the family's scan parameter (e.g. ``network.scaling.chi``)."""
    return _grid(experiment)[0]


def grid(experiment: str | Path) -> list[float]:
    """Every value of the family's scan parameter, in the order of its file."""
    return _grid(experiment)[1]


def parse_member(experiment: str | Path, text: str) -> float:
    """The scan-parameter value named by ``text`` (``chi=2.5``, or the value alone), which must be a
    member of the family."""
    parameter, values = _grid(experiment)
    name, sep, number = text.partition("=")
    short = parameter.rsplit(".", 1)[-1]
    if not sep:
        name, number = short, text
    try:
        value = float(number)
    except ValueError:
        value = None
    if name not in (short, parameter) or value is None or value not in values:
        raise ParameterError(f"--member {text!r} is not a member of {family_name(experiment)}; its members are "
                             f"{', '.join(label(parameter, v) for v in values)}.")
    return value


def profile_values(experiment: str | Path, profile: dict | None) -> list[float]:
    """The values that run under ``profile`` (its ``scan.members`` entry for this family; the whole
    grid without a profile; none when the profile does not name the family)."""
    parameter, values = _grid(experiment)
    return _chosen(experiment, parameter, values, profile)


def _chosen(experiment: str | Path, parameter: str, values: list[float], profile: dict | None) -> list[float]:
    if profile is None:
        return list(values)
    chosen = (profile.get("scan") or {}).get("members", {}).get(family_name(experiment))
    if chosen is None:
        return []
    if chosen == "all":
        return list(values)
    unknown = [v for v in chosen if v not in values]
    if unknown:
        raise ParameterError(
            f"profile {profile['name']}: scan.members.{family_name(experiment)} lists "
            f"{', '.join(label(parameter, v) for v in unknown)}, which the family does not have; its members are "
            f"{', '.join(label(parameter, v) for v in values)}.")
    return [v for v in values if v in chosen]


def member(experiment: str | Path, value: float, profile: dict | None = None) -> Member:
    """The member with scan-parameter ``value``: the family's parameters for it, with the profile's
    overrides and, if the profile's ``scan`` section sets one, its simulated time."""
    parameter, values, resolved = _family(experiment)
    if float(value) not in values:
        raise ParameterError(f"{label(parameter, value)} is not a member of {family_name(experiment)}.")
    return _profiled(parameter, float(value), resolved, profile)


def _profiled(parameter: str, value: float, resolved: dict[str, dict], profile: dict | None) -> Member:
    name = label(parameter, value)
    params = parameters.apply_profile(resolved[name], profile)
    t_sim = ((profile or {}).get("scan") or {}).get("t_sim_ms")
    if t_sim is not None:
        params = parameters.set_dotted(params, "simulation.t_sim_ms", t_sim)
    return Member(name, value, params)


def members(experiment: str | Path, profile: dict | None = None, whole_grid: bool = False) -> list[Member]:
    """The members that run under ``profile`` (:func:`profile_values`), with their parameters; with
    ``whole_grid`` every member of the family, under the profile's scale and scan length."""
    parameter, values, resolved = _family(experiment)
    chosen = values if whole_grid else _chosen(experiment, parameter, values, profile)
    return [_profiled(parameter, value, resolved, profile) for value in chosen]


def plain_runs(profile: dict | None, processes: int = 1, experiments_dir: Path | None = None) -> dict[str, list[str]]:
    """sim_hash -> the plain (non-scan) experiments whose run under ``profile`` it is; a member whose
    sim_hash is listed is that run (e.g. the χ = 1 member of the main family and ``ground_state``)."""
    found: dict[str, list[str]] = {}
    for path in sorted((experiments_dir or shipped_experiments_dir()).glob("*.yaml")):
        if is_family(path):
            continue
        params = parameters.apply_profile(parameters.resolve(path), profile)
        found.setdefault(parameters.sim_hash(params, virtual_processes(params, processes)), []).append(path.stem)
    return found
