"""Functional connectivity (docs/model.md §8.11): FC matrices, their comparison vectors and the comparison
with the experimental 7T resting-state fMRI FC."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import data, tables
from ..errors import DataError

#: Optional 7T resting-state fMRI array and its ROI list (registry paths).
FMRI_ARRAY = "experimental_data/senden/rsData_7T_DKparcel/rsDATA_7T_DKparcel.npy"
FMRI_ROIS = "experimental_data/senden/rsData_7T_DKparcel/ROIs.txt"
#: ROI lines of the left and right cortical hemisphere blocks in ROIs.txt / the fMRI array (§1.1).
FMRI_LH_ROWS = slice(14, 48)
FMRI_RH_ROWS = slice(48, 82)


def fc_matrix(signals: np.ndarray) -> np.ndarray:
    """Pearson correlation matrix of the rows of ``signals`` (n, T)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.corrcoef(np.asarray(signals, dtype=float))


def fc_vector(matrix: np.ndarray, exclude_diagonal: bool) -> np.ndarray:
    """Lower triangle *including* the diagonal of an FC matrix (docs/quirks.md Q17), row by row; with
    ``exclude_diagonal`` the diagonal entries are NaN."""
    m = np.array(matrix, dtype=float, copy=True)
    if exclude_diagonal:
        np.fill_diagonal(m, np.nan)
    return m[np.tril_indices(m.shape[0])]


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denominator = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
    return float(np.dot(a, b) / denominator) if denominator > 0 else float("nan")


def fc_similarity(a: np.ndarray, b: np.ndarray, exclude_diagonal: bool) -> float:
    """Pearson correlation of the comparison vectors of two FC matrices; entries that are NaN in
    either are dropped."""
    va, vb = fc_vector(a, exclude_diagonal), fc_vector(b, exclude_diagonal)
    ok = np.isfinite(va) & np.isfinite(vb)
    return _pearson(va[ok], vb[ok]) if ok.sum() >= 2 else float("nan")


def subject_fc(bold: np.ndarray) -> np.ndarray:
    """(subjects, rois, rois) Pearson FC of (time, rois, subjects) BOLD data, per subject."""
    x = np.asarray(bold, dtype=float)
    x = x - x.mean(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = x / np.sqrt((x * x).sum(axis=0, keepdims=True))
    fc = np.einsum("tis,tjs->sij", z, z)
    idx = np.arange(fc.shape[1])
    fc[:, idx, idx] = np.where(np.isfinite(fc[:, idx, idx]), 1.0, np.nan)
    return fc


def _fmri_axes(array: np.ndarray) -> np.ndarray:
    """The fMRI array as (time, roi, subject), recognising the axes by their lengths (600, 85, 19)."""
    if array.ndim != 3 or sorted(array.shape) != [19, 85, 600]:
        raise DataError(f"The fMRI array has shape {array.shape}; expected 600 time points x 85 ROIs x 19 subjects.")
    return np.moveaxis(array, [array.shape.index(600), array.shape.index(85), array.shape.index(19)], [0, 1, 2])


def experimental_fc(bold: np.ndarray, roi_names: list[str]) -> dict[str, np.ndarray]:
    """Per-subject and subject-averaged experimental FC per hemisphere (§8.11), alphabetical order.

    ``bold`` is the (600, 85, 19) array (any axis order), ``roi_names`` the 85 lines of ROIs.txt.
    Returns ``lh_subjects``, ``rh_subjects`` (19, 34, 34) and ``lh``, ``rh`` (34, 34) means.
    """
    x = _fmri_axes(np.asarray(bold, dtype=float))
    result = {}
    for hemisphere, rows in (("lh", FMRI_LH_ROWS), ("rh", FMRI_RH_ROWS)):
        names = [name.strip().rsplit("-", 1)[-1] for name in roi_names[rows]]
        if sorted(names) != sorted(tables.AREAS):
            raise DataError(f"ROIs.txt lines {rows.start}-{rows.stop - 1} are not the 34 DK areas ({hemisphere}).")
        order = [names.index(area) for area in tables.AREAS]
        fc = subject_fc(x[:, rows, :][:, order, :])
        result[f"{hemisphere}_subjects"] = fc
        result[hemisphere] = fc.mean(axis=0)
    return result


def load_experimental_fc() -> dict[str, np.ndarray]:
    """Experimental FC from the optional fMRI array; raises OptionalDataMissing when it is absent."""
    path = data.data_path(FMRI_ARRAY)
    roi_names = data.data_path(FMRI_ROIS).read_text().splitlines()
    try:
        bold = np.load(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"The fMRI array {path} cannot be read as a NumPy array: {exc}") from exc
    return experimental_fc(bold, roi_names)


def compare_with_experimental_fc(experimental: dict[str, np.ndarray], synaptic_fc: np.ndarray, bold_fc: np.ndarray,
                                 exclude_diagonal: bool) -> dict[str, Any]:
    """The reported FC comparisons (§8.11) for each hemisphere h in (lh, rh):

    * ``<h>_subject_similarity`` (19, 19): correlation between the subjects' FC vectors;
    * ``<h>_inter_subject_mean``: mean off-diagonal entry of it;
    * ``<h>_subject_vs_synaptic``, ``<h>_subject_vs_bold`` (19,): each subject against simulated FC;
    * ``<h>_vs_synaptic``, ``<h>_vs_bold``: the subject-averaged FC against simulated FC (headline).
    """
    out: dict[str, Any] = {}
    for h in ("lh", "rh"):
        subjects = experimental[f"{h}_subjects"]
        vectors = np.array([fc_vector(m, exclude_diagonal) for m in subjects])
        ok = np.all(np.isfinite(vectors), axis=0)
        similarity = fc_matrix(vectors[:, ok])
        n = similarity.shape[0]
        out[f"{h}_subject_similarity"] = similarity
        out[f"{h}_inter_subject_mean"] = float(similarity[~np.eye(n, dtype=bool)].mean()) if n > 1 else float("nan")
        for name, simulated in (("synaptic", synaptic_fc), ("bold", bold_fc)):
            out[f"{h}_subject_vs_{name}"] = np.array([fc_similarity(m, simulated, exclude_diagonal) for m in subjects])
            out[f"{h}_vs_{name}"] = fc_similarity(experimental[h], simulated, exclude_diagonal)
    return out
