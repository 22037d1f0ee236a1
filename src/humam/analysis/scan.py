"""The statistics of a simulated χ scan: the pipeline's own runs of the members of one family
(docs/model.md §8.13), gathered from their analysis files into one file per family and scale
(``humam scan FAMILY --statistics``, the doit task ``scan``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import data, network_file, provenance, tables
from ..errors import DataError, ParameterError
from ..h5io import atomic_h5, attribute_value, open_h5, read_tree, write_tree
from . import fc
from .chi_scan import (CHI_SCAN_FOLDERS, CHI_SCAN_MAIN_FOLDER, CHI_SCAN_MEASURES, FAMILY_FOLDERS, SCAN_FC_WINDOW_MS,
                       SIMILARITY_COLUMNS, chi_scan_file_path, chi_star, load_chi_scan_samples, scan_similarities)
from .run import read_analysis, read_analysis_attrs

SCAN_FILE_TYPE = "humam.scan_statistics"
SCAN_FORMAT_VERSION = 1
_SCAN_FIX = "compute it again: 'humam scan FAMILY --profile P --statistics --force' (or the doit task scan)"


def scan_fc(time_ms: np.ndarray, area_currents_pA: np.ndarray, t_sim_ms: float) -> tuple[np.ndarray, tuple]:
    """Synaptic-current FC (34 x 34) over :data:`SCAN_FC_WINDOW_MS` (or [2500, t_sim) for a shorter
    run) and the window used; all NaN when the run does not reach the window's start."""
    window = (SCAN_FC_WINDOW_MS[0], min(SCAN_FC_WINDOW_MS[1], float(t_sim_ms)))
    time_ms = np.asarray(time_ms, dtype=float)
    inside = (time_ms >= window[0]) & (time_ms < window[1])
    if inside.sum() < 2:
        return np.full((tables.N_AREAS, tables.N_AREAS), np.nan), window
    return fc.fc_matrix(np.asarray(area_currents_pA, dtype=float)[:, inside]), window


def _experimental_fc_or_reason(experimental: dict | None) -> dict:
    if experimental is None:
        try:
            experimental = fc.load_experimental_fc()
        except DataError as exc:  # missing (OptionalDataMissing) or unusable: reported, never raised
            return {"available": False, "reason": str(exc)}
    return {"available": True, "reason": "", "lh": np.asarray(experimental["lh"], dtype=float),
            "rh": np.asarray(experimental["rh"], dtype=float)}


def simulated_scan_statistics(family: str, members: list[dict], experimental: dict | None = None,
                              profile: str = "") -> dict:
    """The statistics of the pipeline's own runs of a scan family (docs/model.md §8.13), from the
    analysis files of its members.

    ``members``: one dict per member with ``label`` (``chi=2.5``), ``value`` (χ) and ``analysis`` (the
    path of its analysis file, in its run folder beside ``network.h5``). Each member's samples are the
    ``area_samples`` of its analysis (caudalanteriorcingulate, 2 s windows after 2.5 s) and its
    simulated FC that of the analysis's synaptic currents over :data:`SCAN_FC_WINDOW_MS`; both are
    compared with the data by :func:`scan_similarities`, the same function that reproduces the
    shipped values from the shipped samples. ``experimental`` (from
    :func:`humam.analysis.fc.load_experimental_fc`) is loaded when None; without the fMRI array the
    fMRI similarities are NaN and ``experimental_fc`` says why.

    Returns ``family``, ``folder`` (the shipped folder of the family, or ""), ``profile``, ``chi``
    (m,), ``label`` (m,), ``similarity`` {column: (m,)} (:data:`SIMILARITY_COLUMNS`), ``sample_sizes``
    {measure: (m,)}, ``samples`` {label: {measure: values}}, ``simulated_fc`` (``areas``,
    ``matrices`` (m, 34, 34), ``window_ms`` (m, 2), ``exclude_diagonal``), ``experimental_fc``,
    ``chi_star`` (:func:`chi_star`), ``sample_chi`` (the χ of the shipped "groundstate" / "bestfit"
    samples, which the figures compare with these members), ``scale`` ({n_scaling, k_scaling,
    t_sim_ms, seed} (m,), ``scaling_type``, ``full_scale``), ``runs`` ({analysis, run_folder,
    sim_hash, net_hash} (m,)), ``summary`` ({neuron_weighted_rate_hz} (m,)) and ``inputs`` (path and
    sha256 of the shipped experimental distributions read).
    """
    if not members:
        raise ParameterError(f"the scan {family} has no members to gather.")
    members = sorted(members, key=lambda m: float(m["value"]))
    folder = FAMILY_FOLDERS.get(family, "")
    reference = folder or CHI_SCAN_MAIN_FOLDER  # the experimental distributions are the same in every folder
    experiment_samples = {m: load_chi_scan_samples(reference)[m]["experiment"] for m in CHI_SCAN_MEASURES}
    experimental_fc = _experimental_fc_or_reason(experimental)
    columns = {c: [] for c in SIMILARITY_COLUMNS}
    sizes = {m: [] for m in CHI_SCAN_MEASURES}
    samples, matrices, windows, exclude = {}, [], [], []
    scale = {"n_scaling": [], "k_scaling": [], "t_sim_ms": [], "seed": []}
    runs = {"analysis": [], "run_folder": [], "sim_hash": [], "net_hash": []}
    rates, scaling_types = [], set()
    for item in members:
        path = Path(item["analysis"])
        results, attrs = read_analysis(path), read_analysis_attrs(path)
        own = {m: np.asarray(results["area_samples"][m], dtype=float) for m in CHI_SCAN_MEASURES}
        t_sim = float(results["window"]["t_sim_ms"])
        matrix, window = scan_fc(results["synaptic_current"]["time_ms"], results["synaptic_current"]["area_pA"], t_sim)
        diagonal = bool(results["fc"]["exclude_diagonal"])
        values = scan_similarities(own, experiment_samples, matrix,
                                   experimental_fc if experimental_fc["available"] else None, diagonal)
        for column in SIMILARITY_COLUMNS:
            columns[column].append(values[column])
        for m in CHI_SCAN_MEASURES:
            sizes[m].append(own[m].size)
        samples[str(item["label"])] = own
        matrices.append(matrix)
        windows.append(window)
        exclude.append(diagonal)
        net = network_file.load_network(path.parent.parent / "network.h5")
        run_params = json.loads(attrs.get("run_parameters") or "{}")
        scale["n_scaling"].append(float(net.n_scaling))
        scale["k_scaling"].append(float(net.k_scaling))
        scale["t_sim_ms"].append(t_sim)
        scale["seed"].append(int(run_params.get("simulation", {}).get("seed", -1)))
        scaling_types.add(str(net.scaling_type))
        runs["analysis"].append(str(path))
        runs["run_folder"].append(str(path.parent))
        runs["sim_hash"].append(str(attrs.get("sim_hash", path.parent.name)))
        runs["net_hash"].append(str(attrs.get("net_hash", path.parent.parent.name)))
        rates.append(float(results["summary"]["neuron_weighted_rate_hz"]))
    chi = np.array([float(m["value"]) for m in members])
    similarity = {c: np.array(v, dtype=float) for c, v in columns.items()}
    files = [chi_scan_file_path(reference, f"exp_{m}.npy") for m in CHI_SCAN_MEASURES]
    full = all(n == 1.0 for n in scale["n_scaling"]) and all(k == 1.0 for k in scale["k_scaling"])
    return {
        "family": family, "folder": folder, "profile": profile, "chi": chi,
        "label": np.array([str(m["label"]) for m in members], dtype=str),
        "similarity": similarity, "sample_sizes": {m: np.array(v, dtype=int) for m, v in sizes.items()},
        "samples": samples,
        "simulated_fc": {"areas": np.array(tables.AREAS, dtype=str), "matrices": np.array(matrices),
                         "window_ms": np.array(windows, dtype=float), "exclude_diagonal": np.array(exclude)},
        "experimental_fc": experimental_fc,
        "chi_star": chi_star(chi, similarity),
        "sample_chi": dict(CHI_SCAN_FOLDERS[folder]) if folder else {},
        "scale": {**{k: np.array(v) for k, v in scale.items()}, "scaling_type": ", ".join(sorted(scaling_types)),
                  "full_scale": bool(full)},
        "runs": {k: np.array(v, dtype=str) for k, v in runs.items()},
        "summary": {"neuron_weighted_rate_hz": np.array(rates)},
        "inputs": {"path": np.array(files, dtype=str),
                   "sha256": np.array([data.sha256_of(data.data_path(f)) for f in files], dtype=str)},
    }


def write_scan_statistics(statistics: dict, path: str | Path, attrs: dict | None = None) -> Path:
    """Write ``statistics`` of :func:`simulated_scan_statistics` to one HDF5 file, atomically; file
    attributes: file type, format version, ``family``, ``profile``, provenance and ``attrs``."""
    clash = sorted(set(attrs or {}) & {"provenance", "family", "profile"})
    if clash:
        raise ValueError(f"attribute name {clash[0]!r} is reserved by the scan statistics file format")
    file_attrs = {"family": statistics["family"], "profile": statistics["profile"],
                  "provenance": json.dumps(provenance.record(), sort_keys=True),
                  **{k: attribute_value(v) for k, v in (attrs or {}).items()}}
    with atomic_h5(path, SCAN_FILE_TYPE, SCAN_FORMAT_VERSION, file_attrs) as h5:
        write_tree(h5, statistics)
    return Path(path)


def read_scan_statistics(path: str | Path) -> dict:
    """Read a file written by :func:`write_scan_statistics` (the tree of :func:`simulated_scan_statistics`)."""
    with open_h5(path, SCAN_FILE_TYPE, SCAN_FORMAT_VERSION, fix=_SCAN_FIX) as h5:
        return read_tree(h5)


def read_scan_statistics_attrs(path: str | Path) -> dict:
    """The file attributes of a scan statistics file."""
    with open_h5(path, SCAN_FILE_TYPE, SCAN_FORMAT_VERSION, fix=_SCAN_FIX) as h5:
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in h5.attrs.items()}
