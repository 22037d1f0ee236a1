"""The SLURM batch script of a planned run: ``humam plan --profile P --batch-script FILE``.

One template (``batch_script.sbatch`` beside this module) filled from the plan of
:func:`humam.simulation.plan_run`: the allocation (nodes, tasks per node, CPUs per task, memory per
node), a time limit from the plan's expected time, and the pipeline run by doit with the profile,
whose launcher starts every simulation as a job step inside the allocation. The repository's
``container/slurm-full-scale.sbatch`` is this script for the ``hpc`` profile, and the cluster check
(``scripts/cluster-check.py``) submits one written the same way.
"""

from __future__ import annotations

import math
import string
from importlib import resources
from pathlib import Path

from .errors import ParameterError
from .resources import profiles_dir

#: The plan's simulation time is a lower bound (communication between nodes is not in the time
#: model), so the time limit allows this multiple of it.
TIME_MARGIN = 3.0
#: Time allowed per simulation for what the time model does not cover: start-up, building the
#: network description, NEST's connection phase, writing the spikes and the analysis of the run.
SETUP_ALLOWANCE_S = 900.0
#: Time limits are rounded up to whole multiples of this (seconds).
TIME_LIMIT_STEP_S = 900.0


class _Template(string.Template):
    """``@@{name}`` placeholders, so that the shell's ``$VAR`` and ``${VAR}`` stay as they are."""

    delimiter = "@@"


def allocation(plan: dict, *, parallel_runs: int, cores_per_node: int, headroom: float) -> dict:
    """Nodes, tasks per node, CPUs per task and memory per node (bytes) for ``parallel_runs``
    simulations of ``plan`` at once: memory for all of them with ``headroom`` on top of the estimate,
    and cores for all their threads (for one simulation this is the plan's own node count)."""
    if parallel_runs < 1:
        raise ParameterError(f"--parallel-runs must be at least 1, got {parallel_runs}.")
    memory_per_node = float(plan["memory_per_node_available_bytes"])
    needed = parallel_runs * float(plan["memory_estimate_bytes"]["total"]) * (1.0 + headroom)
    tasks = parallel_runs * int(plan["processes"])
    threads = int(plan["threads"])
    if threads > cores_per_node:
        raise ParameterError(f"{threads} threads per process do not fit on a node of {cores_per_node} cores; "
                             f"use fewer threads (simulation.threads) or give --cores-per-node.")
    nodes = max(1, math.ceil(needed / memory_per_node), math.ceil(tasks * threads / cores_per_node))
    return {"nodes": nodes, "tasks_per_node": math.ceil(tasks / nodes), "cpus_per_task": threads,
            "memory_per_node_bytes": needed / nodes, "tasks": tasks}


def time_limit_s(plan: dict, *, runs: int, parallel_runs: int) -> float:
    """Time limit of a job running ``runs`` simulations like ``plan``, ``parallel_runs`` at once
    (seconds): per round of simulations :data:`TIME_MARGIN` times the expected simulation time plus
    :data:`SETUP_ALLOWANCE_S`, rounded up to :data:`TIME_LIMIT_STEP_S`."""
    if runs < 1:
        raise ParameterError(f"--runs must be at least 1, got {runs}.")
    rounds = math.ceil(runs / parallel_runs)
    seconds = rounds * (TIME_MARGIN * float(plan["expected_simulation_s"]) + SETUP_ALLOWANCE_S)
    return math.ceil(seconds / TIME_LIMIT_STEP_S) * TIME_LIMIT_STEP_S


def slurm_time(seconds: float) -> str:
    """``seconds`` as SLURM's ``--time`` (``D-HH:MM:SS`` from a day on, else ``HH:MM:SS``)."""
    total = int(math.ceil(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{clock}" if days else clock


def slurm_memory(bytes_: float) -> str:
    """``bytes_`` as SLURM's ``--mem`` in MiB (SLURM's M), rounded up."""
    return f"{math.ceil(bytes_ / 2**20)}M"


def _profile_argument(profile: dict) -> str:
    """How the script names the profile: a shipped one by its name, any other by its path."""
    path = Path(profile["path"])
    shipped = profiles_dir() / f"{profile['name']}.yaml"
    return profile["name"] if shipped.is_file() and path.resolve() == shipped.resolve() else str(path.resolve())


def parse_slurm_time(text: str) -> float:
    """SLURM's ``--time`` forms ``MM``, ``HH:MM:SS`` and ``D-HH[:MM[:SS]]`` as seconds."""
    days, dash, clock = text.rpartition("-")
    fields = clock.split(":")
    try:
        numbers = [int(f) for f in fields] + [0] * (3 - len(fields))
        day_count = int(days) if days else 0
    except ValueError:
        numbers, day_count = [], 0
    if not numbers or len(fields) > 3 or min(numbers) < 0 or day_count < 0 or (dash and not days):
        raise ParameterError(f"--time-limit {text!r} is not a SLURM time: use HH:MM:SS, D-HH:MM:SS or minutes.")
    if not days and len(fields) == 1:
        return 60.0 * numbers[0]
    hours, minutes, seconds = numbers
    return 86400.0 * day_count + 3600.0 * hours + 60.0 * minutes + seconds


def render(plan: dict, profile: dict, *, experiment: str, runs: int = 1, parallel_runs: int = 1,
           cores_per_node: int, headroom: float, command: str, version: str,
           time_limit: str | None = None) -> str:
    """The batch script (text) for ``profile`` on the machine of ``plan``; ``command`` is the
    ``humam plan`` command line that wrote it (recorded in its header). ``time_limit`` (SLURM's
    form) replaces the limit derived from the plan (:func:`time_limit_s`)."""
    if not profile["launcher"].strip():
        raise ParameterError(f"profile {profile['name']} has no launcher: a batch script runs its simulations as "
                             f"job steps, so the profile needs one such as \"srun --kill-on-bad-exit=1 -n {{processes}}\".")
    if plan["processes"] != profile["processes"]:
        raise ParameterError(f"--processes {plan['processes']} differs from profile {profile['name']}'s "
                             f"{profile['processes']}, which its launcher starts; change the profile instead.")
    alloc = allocation(plan, parallel_runs=parallel_runs, cores_per_node=cores_per_node, headroom=headroom)
    estimated = time_limit_s(plan, runs=runs, parallel_runs=parallel_runs)
    limit = parse_slurm_time(time_limit) if time_limit is not None else estimated
    if limit <= 0:
        raise ParameterError(f"--time-limit {time_limit!r} is no time; give the job's wall-clock limit, e.g. 24:00:00.")
    time_note = (f"the limit {slurm_time(limit)} was given (--time-limit); the plan alone would allow "
                 f"{slurm_time(estimated)}") if time_limit is not None else f"hence {slurm_time(limit)}"
    memory = plan["memory_estimate_bytes"]
    uses_image = "HUMAM_SIF" in profile["launcher"]
    image_check = ('[ -f "$HUMAM_SIF" ] || { echo "no image at $HUMAM_SIF (apptainer build humam.sif Apptainer.def, '
                   'see container/README.md)" >&2; exit 1; }') if uses_image else \
        "# (the profile's launcher runs NEST of the host environment; no image)"
    values = {
        "version": version,
        "command": command,
        "profile": _profile_argument(profile),
        "experiment": experiment,
        "job_name": f"humam-{profile['name']}",
        "neurons": f"{plan['neurons']:,}",
        "synapses": f"{plan['synapses']:,}",
        "processes": str(plan["processes"]),
        "threads": str(plan["threads"]),
        "parallel_runs": str(parallel_runs),
        "runs": str(runs),
        "nodes": str(alloc["nodes"]),
        "tasks_per_node": str(alloc["tasks_per_node"]),
        "cpus_per_task": str(alloc["cpus_per_task"]),
        "memory_per_node": slurm_memory(alloc["memory_per_node_bytes"]),
        "memory_total_gb": f"{memory['total'] / 1e9:,.1f}",
        "memory_per_rank_gb": f"{memory['total'] / plan['processes'] / 1e9:,.2f}",
        "headroom": f"{headroom:.0%}",
        "node_memory_gb": f"{plan['memory_per_node_available_bytes'] / 1e9:g}",
        "cores_per_node": str(cores_per_node),
        "time_limit": slurm_time(limit),
        "time_note": time_note,
        "expected_simulation_s": f"{plan['expected_simulation_s']:.0f}",
        "time_margin": f"{TIME_MARGIN:g}",
        "setup_allowance_min": f"{SETUP_ALLOWANCE_S / 60:g}",
        "launcher": profile["launcher"],
        "doit_parallel": f"-n {parallel_runs} -P thread " if parallel_runs > 1 else "",
        "image_check": image_check,
    }
    template = resources.files(__package__).joinpath("batch_script.sbatch").read_text(encoding="utf-8")
    return _Template(template).substitute(values)


def write(path: Path, text: str) -> Path:
    """Write the script to ``path`` (complete or not at all), executable."""
    from .h5io import atomic_write_text

    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"--batch-script {path} is a folder; give the file to write, e.g. {path / 'humam.sbatch'}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    path.chmod(0o755)
    return path
