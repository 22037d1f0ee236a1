"""The statistics of the shipped χ scans (docs/model.md §8.13, docs/figures.md §3.3) and the same samples from a
simulated run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .. import data, provenance, tables
from ..errors import DataError, ParameterError
from ..h5io import atomic_h5, attribute_value, open_h5, read_tree, write_tree
from . import fc
from .spike_trains import SpikeTrains
from .statistics import interval_statistics, ks_similarity

#: The shipped χ-scan folders (``simulated_data/scaling_experiment_<name>``) and the χ of their
#: "groundstate" and "bestfit" samples (docs/figures.md §3.3; identified from the data).
CHI_SCAN_FOLDERS: dict[str, dict[str, float]] = {
    "lichtman_chii2_different_seed": {"groundstate": 1.0, "bestfit": 2.5},
    "lichtman_chii2_distributed_params": {"groundstate": 0.0, "bestfit": 2.5},
    "lichtman_chii2_smaller_g": {"groundstate": 1.0, "bestfit": 1.75},
    "lower_e_to_i": {"groundstate": 1.0, "bestfit": 2.0},
    "lichtman_chii2_different_seed_factor10per7": {"groundstate": 1.0, "bestfit": 4.4},
}
_SCAN_PREFIX = "scaling_experiment_"


def chi_scan_name(folder: str) -> str:
    """The short name of a χ-scan folder (accepts the short name or ``scaling_experiment_<name>``)."""
    name = folder[len(_SCAN_PREFIX):] if folder.startswith(_SCAN_PREFIX) else folder
    if name not in CHI_SCAN_FOLDERS:
        raise ParameterError(f"Unknown chi-scan folder {folder!r}; known: {', '.join(CHI_SCAN_FOLDERS)}.")
    return name


def chi_scan_file_path(folder: str, filename: str) -> str:
    """The registry path of a file of a shipped χ-scan folder."""
    return f"simulated_data/{_SCAN_PREFIX}{chi_scan_name(folder)}/{filename}"


def _scan_file(folder: str, filename: str) -> Path:
    return data.data_path(chi_scan_file_path(folder, filename))


def _load_pickled_array(path: Path) -> np.ndarray:
    # The shipped .npy files are NumPy pickles; they are loaded only after the registry's sha256 check.
    return np.asarray(np.load(path, allow_pickle=True), dtype=float)


def load_chi_scan(folder: str):
    """The statistics of one χ-scan folder as a pandas DataFrame indexed by χ (sorted numerically).

    Columns: ``run_id`` (opaque id from ``path_to_chi.json``), ``ks_rates``, ``ks_cv``, ``ks_lvr``
    (1 - KS, authoritative, Q19), ``pearson_lh``, ``pearson_rh`` (``df_corr_*_use_corrcoeff_True``:
    Pearson r between experimental and simulated synaptic-current FC) and ``rmse_similarity_lh``,
    ``rmse_similarity_rh`` (``df_corr_*_use_corrcoeff_False``: exp(-RMSE/RMS(exp))). Missing entries
    are NaN.
    """
    columns: dict[str, pd.Series] = {}
    run_ids = json.loads(_scan_file(folder, "path_to_chi.json").read_text())
    columns["run_id"] = pd.Series({float(k): v for k, v in run_ids.items()}, dtype=object)
    for measure in ("rates", "cv", "lvr"):
        values = json.loads(_scan_file(folder, f"ks_{measure}_arr.json").read_text())
        columns[f"ks_{measure}"] = pd.Series({float(k): float(v) for k, v in values.items()})
    for flag, name in (("True", "pearson"), ("False", "rmse_similarity")):
        for hemisphere in ("lh", "rh"):
            table = pd.read_csv(_scan_file(folder, f"df_corr_{hemisphere}_use_corrcoeff_{flag}.csv"), index_col=0)
            columns[f"{name}_{hemisphere}"] = pd.Series(table.iloc[:, 0].to_numpy(float),
                                                        index=table.index.to_numpy(float))
    frame = pd.DataFrame(columns).sort_index()
    frame.index.name = "chi"
    return frame


def load_chi_scan_samples(folder: str) -> dict[str, dict[str, np.ndarray]]:
    """The shipped distributions of a χ-scan folder: ``{measure: {groundstate, bestfit, experiment}}``
    for measure in rates, cv, lvr (area caudalanteriorcingulate; experiment: Minxha et al. 2020)."""
    return {measure: {"groundstate": _load_pickled_array(_scan_file(folder, f"sim_{measure}_groundstate.npy")),
                      "bestfit": _load_pickled_array(_scan_file(folder, f"sim_{measure}_bestfit.npy")),
                      "experiment": _load_pickled_array(_scan_file(folder, f"exp_{measure}.npy"))}
            for measure in ("rates", "cv", "lvr")}


#: The χ-scan folder of the published model (docs/figures.md §3.3, "main").
CHI_SCAN_MAIN_FOLDER = "lichtman_chii2_different_seed"
#: Area and windows of the shipped χ-scan samples (docs/model.md §8.13): five 2 s windows over [2.5, 12.5) s.
CHI_SCAN_SAMPLE_AREA = "caudalanteriorcingulate"
CHI_SCAN_SAMPLE_WINDOWS = 5
CHI_SCAN_SAMPLE_TRANSIENT_MS = 2500.0
CHI_SCAN_SAMPLE_WINDOW_MS = 2000.0


def area_mean_rate_from_samples(rate_samples_hz: np.ndarray, n_neurons: int,
                                n_windows: int = CHI_SCAN_SAMPLE_WINDOWS) -> float:
    """Mean rate (spikes/s) of an area from its §8.13 rate samples.

    A sample is count / window for one neuron and window, kept when >= 0.5 spikes/s, i.e. at least one
    spike in a 2 s window; the windows left out hold no spike and add nothing to the sum. So the mean
    over all neurons and windows is exactly sum(samples) / (n_windows x n_neurons), with ``n_neurons``
    the number of neurons of the area in the simulated network (silent neurons included).
    """
    samples = np.asarray(rate_samples_hz, dtype=float)
    if n_neurons <= 0 or n_windows <= 0:
        raise ParameterError(f"n_neurons and n_windows must be positive, got {n_neurons} and {n_windows}.")
    if samples.size > n_neurons * n_windows:
        raise ParameterError(f"{samples.size} samples cannot come from {n_neurons} neurons in {n_windows} windows.")
    return float(samples.sum() / (n_windows * n_neurons))


def load_chi_scan_fc(folder: str, sample: str):
    """Simulated synaptic-current FC (34 x 34 DataFrame, alphabetical) of the "groundstate" or
    "bestfit" run of a χ-scan folder."""
    if sample not in ("groundstate", "bestfit"):
        raise ParameterError(f"sample must be 'groundstate' or 'bestfit', got {sample!r}.")
    return pd.read_csv(_scan_file(folder, f"simulated_fc_{sample}.csv"), index_col=0)


def recompute_chi_scan_ks(folder: str):
    """1 - KS recomputed from the shipped samples against the JSON entry of the sample's χ.

    One row per (measure, sample) with ``chi``, ``recomputed``, ``shipped``, ``difference`` and
    ``matching_chi`` (the χ whose shipped value equals the recomputed one exactly, if any). For rates
    the values agree exactly; CV and LvR differ by 0.01–0.03 because the shipped values come from
    samples with a different spike-count rule (docs/quirks.md Q19), and the shipped ones are authoritative.
    """
    scan = load_chi_scan(folder)
    samples = load_chi_scan_samples(folder)
    chis = CHI_SCAN_FOLDERS[chi_scan_name(folder)]
    rows = []
    for measure in ("rates", "cv", "lvr"):
        shipped = scan[f"ks_{measure}"]
        for sample in ("groundstate", "bestfit"):
            value = ks_similarity(samples[measure][sample], samples[measure]["experiment"])
            exact = shipped.index[shipped.to_numpy() == value]
            rows.append({"measure": measure, "sample": sample, "chi": chis[sample], "recomputed": value,
                         "shipped": float(shipped.loc[chis[sample]]),
                         "difference": value - float(shipped.loc[chis[sample]]),
                         "matching_chi": float(exact[0]) if exact.size else float("nan")})
    return pd.DataFrame(rows).set_index(["measure", "sample"])


def chi_scan_samples_from_spikes(st: SpikeTrains, area: str = CHI_SCAN_SAMPLE_AREA,
                                 transient_ms: float = CHI_SCAN_SAMPLE_TRANSIENT_MS,
                                 window_ms: float = CHI_SCAN_SAMPLE_WINDOW_MS, R_ms: float = 2.0) -> dict[str, np.ndarray]:
    """The §8.13 samples of one simulated run, pooled over windows: per present neuron of ``area`` and
    per ``window_ms`` window after ``transient_ms`` (as many whole windows as fit into t_sim), the rate
    count / window kept if >= 0.5 spikes/s, and CV and LvR of the trains with **more than** 10 spikes
    in the window (docs/quirks.md Q19)."""
    a = tables.area_index(area)
    in_area = (st.spike_population // tables.N_POPULATIONS_PER_AREA) == a
    n_windows = int(math.floor((st.t_sim_ms - transient_ms) / window_ms + 1e-9))
    rates, cvs, lvrs = [], [], []
    for w in range(n_windows):  # a handful of windows
        lo, hi = transient_ms + w * window_ms, transient_ms + (w + 1) * window_ms
        m = in_area & (st.times_ms >= lo) & (st.times_ms < hi)
        rank = st.spike_rank[m]
        counts = np.bincount(rank, minlength=st.present.size)
        rate = counts / (window_ms / 1000.0)
        rates.append(rate[rate >= 0.5])
        stats = interval_statistics(rank, st.times_ms[m], st.present.size, min_spikes=11, R_ms=R_ms)
        cvs.append(stats["cv"][np.isfinite(stats["cv"])])
        lvrs.append(stats["lvr"][np.isfinite(stats["lvr"])])
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0)  # noqa: E731
    return {"rates": cat(rates), "cv": cat(cvs), "lvr": cat(lvrs)}


# ---------------------------------------------------------------------------------------------
# The statistics of one family, as the pipeline stores them (``humam chi-scan``)

STATISTICS_FILE_TYPE = "humam.chi_scan_statistics"
STATISTICS_FORMAT_VERSION = 1
#: The measures of the shipped samples and KS similarities.
CHI_SCAN_MEASURES = ("rates", "cv", "lvr")
_SAMPLES = ("groundstate", "bestfit")


def _scan_files(name: str) -> list[str]:
    """Registry paths of the files of a χ-scan folder that :func:`chi_scan_statistics` reads."""
    files = ["path_to_chi.json"] + [f"ks_{m}_arr.json" for m in CHI_SCAN_MEASURES]
    files += [f"df_corr_{h}_use_corrcoeff_{flag}.csv" for flag in ("True", "False") for h in ("lh", "rh")]
    files += [f"{kind}_{m}{suffix}.npy" for m in CHI_SCAN_MEASURES
              for kind, suffix in (("exp", ""), ("sim", "_groundstate"), ("sim", "_bestfit"))]
    files += [f"simulated_fc_{s}.csv" for s in _SAMPLES]
    return [f"simulated_data/{_SCAN_PREFIX}{name}/{f}" for f in files]


def _alphabetical(frame) -> np.ndarray:
    """A 34 x 34 area DataFrame as an array in :data:`humam.tables.AREAS` order (rows and columns)."""
    areas = list(tables.AREAS)
    if sorted(map(str, frame.index)) != sorted(areas) or sorted(map(str, frame.columns)) != sorted(areas):
        raise ParameterError("a shipped FC table does not list the 34 areas as rows and columns.")
    return frame.loc[areas, areas].to_numpy(dtype=float)


def experimental_fc_comparison(simulated_fc: dict[str, np.ndarray], experimental: dict | None = None,
                               exclude_diagonal: bool = True) -> dict:
    """The experimental FC (optional 7T fMRI array) and its similarity (Pearson r of the FC vectors,
    docs/model.md §8.11) to each simulated FC of ``simulated_fc`` ({sample: 34 x 34}, alphabetical), per
    hemisphere. ``experimental`` (from :func:`humam.analysis.fc.load_experimental_fc`) is loaded when
    None; when it cannot be had the result is ``{"available": False, "reason": ...}``."""
    if experimental is None:
        try:
            experimental = fc.load_experimental_fc()
        except DataError as exc:  # missing (OptionalDataMissing) or unusable: reported, never raised
            return {"available": False, "reason": str(exc)}
    out = {"available": True, "reason": "", "exclude_diagonal": bool(exclude_diagonal),
           "lh": np.asarray(experimental["lh"], dtype=float), "rh": np.asarray(experimental["rh"], dtype=float)}
    out["similarity"] = {sample: {h: fc.fc_similarity(out[h], matrix, exclude_diagonal) for h in ("lh", "rh")}
                         for sample, matrix in simulated_fc.items()}
    return out


# ---------------------------------------------------------------------------------------------
# The similarities of one run to the data, from its samples (shipped or simulated)

#: The shipped folder of each scan family's experiment (docs/model.md §10.4); the
#: ``…factor10per7`` folder has no experiment (§13).
FAMILY_FOLDERS = {"chi_scan_main": "lichtman_chii2_different_seed",
                  "chi_scan_distributed_params": "lichtman_chii2_distributed_params",
                  "chi_scan_smaller_g": "lichtman_chii2_smaller_g",
                  "chi_scan_lower_e_to_i": "lower_e_to_i"}
#: Window of the synaptic-current FC of the scan (docs/model.md §8.13), ms; a shorter run uses [2500, t_sim).
SCAN_FC_WINDOW_MS = (2500.0, 12500.0)
#: The similarity columns of a scan, in the order of the shipped files.
SIMILARITY_COLUMNS = ("ks_rates", "ks_cv", "ks_lvr", "pearson_lh", "pearson_rh", "rmse_similarity_lh",
                      "rmse_similarity_rh")
#: What χ* maximises (docs/model.md §8.13): the paper's reading of its Fig. 5, where the best fit is
#: the χ at which the three spike-statistics similarities and the fMRI similarity are high together.
CHI_STAR_MEASURES = ("ks_rates", "ks_cv", "ks_lvr", "rmse_similarity_rh")
CHI_STAR_CRITERION = ("χ* maximises the mean of 1 − KS of rates, CV ISI and LvR and the fMRI RMSE similarity (rh); "
                      "without the fMRI array, the mean of the three 1 − KS")


def fmri_similarity(experimental_fc: np.ndarray, simulated_fc: np.ndarray, use_corrcoef: bool,
                    exclude_diagonal: bool) -> float:
    """Similarity of a simulated FC matrix to the experimental one as in the shipped χ scans
    (docs/model.md §8.13), on the **full flattened** matrices (diagonal dropped with
    ``exclude_diagonal``; entries NaN in either dropped): Pearson r (``use_corrcoef``) or
    s = exp(−RMSE(exp, sim) / RMS(exp))."""
    e, s = (np.array(m, dtype=float, copy=True) for m in (experimental_fc, simulated_fc))
    if exclude_diagonal:
        np.fill_diagonal(e, np.nan)
    e, s = e.ravel(), s.ravel()
    ok = np.isfinite(e) & np.isfinite(s)
    e, s = e[ok], s[ok]
    if e.size < 2:
        return float("nan")
    if use_corrcoef:
        e, s = e - e.mean(), s - s.mean()
        denominator = math.sqrt(float(np.dot(e, e)) * float(np.dot(s, s)))
        return float(np.dot(e, s) / denominator) if denominator > 0 else float("nan")
    rms = math.sqrt(float(np.mean(e * e)))
    return math.exp(-math.sqrt(float(np.mean((e - s) ** 2))) / rms) if rms > 0 else float("nan")


def scan_similarities(samples: dict[str, np.ndarray], experiment_samples: dict[str, np.ndarray],
                      simulated_fc: np.ndarray | None = None, experimental_fc: dict | None = None,
                      exclude_diagonal: bool = False) -> dict[str, float]:
    """The similarities of one run of a χ scan to the data (docs/model.md §8.13), from its samples,
    whether they come from our runs or from the shipped files:

    * ``ks_rates``, ``ks_cv``, ``ks_lvr``: 1 − two-sample KS statistic between the run's pooled
      samples ``samples[measure]`` and ``experiment_samples[measure]`` (NaN without samples);
    * ``pearson_lh/rh``, ``rmse_similarity_lh/rh``: :func:`fmri_similarity` of ``simulated_fc``
      (34 x 34, alphabetical) against ``experimental_fc[h]`` (NaN when either is None).
    """
    out = {}
    for measure in CHI_SCAN_MEASURES:
        run, data = (np.asarray(x[measure], dtype=float) for x in (samples, experiment_samples))
        out[f"ks_{measure}"] = ks_similarity(run, data) if run.size and data.size else float("nan")
    for hemisphere in ("lh", "rh"):
        for name, use_corrcoef in (("pearson", True), ("rmse_similarity", False)):
            out[f"{name}_{hemisphere}"] = (float("nan") if simulated_fc is None or experimental_fc is None else
                                           fmri_similarity(experimental_fc[hemisphere], simulated_fc, use_corrcoef,
                                                           exclude_diagonal))
    return out


def chi_star(chi: np.ndarray, similarity: dict[str, np.ndarray]) -> dict:
    """χ* of a scan by :data:`CHI_STAR_CRITERION`: ``chi_star`` (NaN when no member has every value),
    ``score`` (n,) the mean of the used measures per χ, ``measures`` the measures used (the fMRI
    similarity only where the scan has it)."""
    chi = np.asarray(chi, dtype=float)
    used = [m for m in CHI_STAR_MEASURES if np.isfinite(np.asarray(similarity[m], dtype=float)).any()]
    if not used or chi.size == 0:
        return {"chi_star": float("nan"), "score": np.full(chi.size, np.nan), "measures": np.array(used, dtype=str),
                "criterion": CHI_STAR_CRITERION}
    score = np.mean([np.asarray(similarity[m], dtype=float) for m in used], axis=0)
    best = float(chi[int(np.nanargmax(score))]) if np.isfinite(score).any() else float("nan")
    return {"chi_star": best, "score": score, "measures": np.array(used, dtype=str), "criterion": CHI_STAR_CRITERION}


def chi_scan_statistics(family: str, experimental: dict | None = None) -> dict:
    """Everything the figures show of one shipped χ-scan family, from its shipped files:

    * ``family``, ``folder``; ``chi`` (n,) the χ values (sorted), ``run_id`` (n,);
    * ``similarity``: (n,) arrays over ``chi`` (NaN where a file has no entry): ``ks_rates``, ``ks_cv``,
      ``ks_lvr`` (1 - KS, shipped, authoritative), ``pearson_lh/rh`` and ``rmse_similarity_lh/rh``
      (simulated against experimental FC, shipped; :func:`load_chi_scan`);
    * ``sample_chi``: the χ of the ``groundstate`` and ``bestfit`` samples;
    * ``samples``: {measure: {groundstate, bestfit, experiment}} the shipped distributions (rates, CV
      ISI, LvR of area caudalanteriorcingulate; experiment: Minxha et al. 2020);
    * ``ks_recomputed``: {measure: {sample: chi, recomputed, shipped, difference, matching_chi}}
      (:func:`recompute_chi_scan_ks`);
    * ``simulated_fc``: ``areas`` (34,) and the ``groundstate`` / ``bestfit`` synaptic-current FC
      (34 x 34, alphabetical);
    * ``experimental_fc``: :func:`experimental_fc_comparison` (``available`` False with a ``reason``
      when the optional fMRI array cannot be had; ``experimental`` may give it);
    * ``chi_star``: :func:`chi_star` of the shipped curves (``published``: the best-fit χ of the
      shipped sample);
    * ``inputs``: ``path`` and ``sha256`` of every shipped file read.
    """
    name = chi_scan_name(family)
    scan = load_chi_scan(name)
    samples = load_chi_scan_samples(name)
    recomputed = recompute_chi_scan_ks(name)
    simulated_fc = {sample: _alphabetical(load_chi_scan_fc(name, sample)) for sample in _SAMPLES}
    files = _scan_files(name)
    similarity = {column: scan[column].to_numpy(dtype=float) for column in scan.columns if column != "run_id"}
    return {
        "family": name, "folder": f"simulated_data/{_SCAN_PREFIX}{name}",
        "chi": scan.index.to_numpy(dtype=float), "run_id": scan["run_id"].astype(str).to_numpy(dtype=str),
        "similarity": similarity,
        "sample_chi": dict(CHI_SCAN_FOLDERS[name]),
        "chi_star": {**chi_star(scan.index.to_numpy(dtype=float), similarity),
                     "published": float(CHI_SCAN_FOLDERS[name]["bestfit"])},
        "samples": samples,
        "ks_recomputed": {measure: {sample: {key: float(value) for key, value in recomputed.loc[(measure, sample)].items()}
                                    for sample in _SAMPLES} for measure in CHI_SCAN_MEASURES},
        "simulated_fc": {"areas": np.array(tables.AREAS, dtype=str), **simulated_fc},
        "experimental_fc": experimental_fc_comparison(simulated_fc, experimental),
        "inputs": {"path": np.array(files, dtype=str), "sha256": np.array([data.sha256_of(data.data_path(f)) for f in files],
                                                                           dtype=str)},
    }


_STATISTICS_FIX = "compute it again: 'humam chi-scan FAMILY --force' (or the doit task chi_scan)"


def write_chi_scan_statistics(statistics: dict, path: str | Path, attrs: dict | None = None) -> Path:
    """Write ``statistics`` of :func:`chi_scan_statistics` to one HDF5 file, atomically; nested dicts
    become groups. File attributes: file type, format version, ``family``, provenance and ``attrs``."""
    clash = sorted(set(attrs or {}) & {"provenance", "family"})
    if clash:
        raise ValueError(f"attribute name {clash[0]!r} is reserved by the chi-scan statistics file format")
    file_attrs = {"family": statistics["family"], "provenance": json.dumps(provenance.record(), sort_keys=True),
                  **{k: attribute_value(v) for k, v in (attrs or {}).items()}}
    with atomic_h5(path, STATISTICS_FILE_TYPE, STATISTICS_FORMAT_VERSION, file_attrs) as h5:
        write_tree(h5, statistics)
    return Path(path)


def read_chi_scan_statistics(path: str | Path) -> dict:
    """Read a file written by :func:`write_chi_scan_statistics` (the tree of
    :func:`chi_scan_statistics`)."""
    with open_h5(path, STATISTICS_FILE_TYPE, STATISTICS_FORMAT_VERSION, fix=_STATISTICS_FIX) as h5:
        return read_tree(h5)


def read_chi_scan_statistics_attrs(path: str | Path) -> dict:
    """The file attributes of a chi-scan statistics file."""
    with open_h5(path, STATISTICS_FILE_TYPE, STATISTICS_FORMAT_VERSION, fix=_STATISTICS_FIX) as h5:
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in h5.attrs.items()}
