"""The record of a simulation (``run.json``) and the check that a run belongs to its network.

``run.json`` is written last into a run folder (:mod:`humam.layout`); it holds the resolved
parameters, hashes, seeds, decomposition, NEST build, timings and memory of the run, and the
content digest of the network it was simulated from (``network_digest``,
:func:`humam.network_file.content_digest`). Everything that reads a run (``humam analyse``, the
figures, the report) checks that digest against the ``network.h5`` beside the run, so spikes are
never paired with a network they were not simulated from.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import layout
from .errors import HumamError


class RunMismatchError(HumamError):
    """A run was simulated from a network whose content differs from the network file beside it."""


class RunRecordError(HumamError):
    """A run folder holds no readable run record."""


def read_run_record(folder: str | Path) -> dict:
    """The run record (``run.json``) of ``folder`` as a dict; :class:`RunRecordError` with what to
    do when the folder holds no finished run or the record is unreadable."""
    run = layout.RunFolder(Path(folder))
    if not run.record.is_file() or not run.spikes.is_file():
        raise RunRecordError(f"{run.path} holds no finished simulation ({layout.SPIKES_FILE} and "
                             f"{layout.RUN_FILE}); run 'humam simulate' (or the doit task simulate) first.")
    try:
        record = json.loads(run.record.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunRecordError(f"{run.record} cannot be read ({exc}); delete the folder {run.path} and "
                             f"simulate again.") from None
    if not isinstance(record, dict) or "parameters" not in record:
        raise RunRecordError(f"{run.record} is not a humam run record (no 'parameters'); delete the folder "
                             f"{run.path} and simulate again.")
    return record


def run_parameters(record: dict) -> dict:
    """The resolved parameters a run was simulated with."""
    params = record["parameters"]
    return json.loads(params) if isinstance(params, str) else params


def check_run_network(folder: str | Path) -> str:
    """The network digest of the run in ``folder``, after checking that the ``network.h5`` beside it
    has the same content; :class:`RunMismatchError` naming both digests otherwise."""
    from .network_file import content_digest

    run = layout.RunFolder(Path(folder))
    record = read_run_record(run.path)
    recorded = record.get("network_digest")
    if not run.network.is_file():
        raise RunMismatchError(f"{run.network}, the network of run {run.path}, is missing; rebuild it with "
                               f"'humam network' (or doit) and simulate again.")
    current = content_digest(run.network)
    if recorded != current:
        raise RunMismatchError(
            f"run {run.path} was simulated from network content {recorded or 'unknown (no network_digest)'}, but "
            f"{run.network} now holds {current}: the network changed since. Simulate again ('doit', or "
            f"'humam simulate ... --force') and analyse the new run.")
    return current
