"""Readers of the raw input files (docs/model.md §1.1) into plain arrays and tables.

Each reader takes an optional explicit path; by default the registered, checksum-verified file is
obtained through :func:`humam.data.data_path`. A file that does not have the expected structure
raises :class:`~humam.errors.DataError` naming the file and what is wrong.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .data import data_path
from .errors import DataError, ParameterError
from .tables import AREAS, AREAS_FILE_ORDER, LAYERS, VEK_AREAS, VEK_SUBLAYER_TO_LAYER

VEK_SHEET = "experimental_data/voneconomokoskinas/StructuralData_VonEconomoKoskinas_addedvalues.xls"
EI_FRACTION_FILES = {
    "lichtman": "experimental_data/fraction_EI/lichtman.csv",
    "binzegger": "experimental_data/fraction_EI/binzegger.csv",
}
DTI_FILE = "experimental_data/hcp_dti/Connectivity_Distances_HCP_DesikanKilliany.mat"
VOLUME_FILE = "experimental_data/hcp_dti/DKAtlas_VolumeAndNames.mat"

# ---------------------------------------------------------------------------------------------
# von Economo-Koskinas structural data

_VEK_AREA_COLUMN = "Area symbol"
_VEK_LABEL_COLUMN = "Cortical layer"
_VEK_THICKNESS_COLUMN = "Layer thickness overall [mm]"
_VEK_DENSITY_COLUMN = "mean cell content per layer [cells/mm³]"

#: Text cells with a documented numeric meaning (besides numeric strings).
_VEK_TEXT_VALUES = {"-": 0.0, "60.000 (?)": 60000.0}


def _vek_number(cell, where: str) -> float:
    """Convert a value cell of the vEK sheet: '-' -> 0, numeric string -> number, empty -> 0."""
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return 0.0
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        value = float(cell.value)
        return 0.0 if np.isnan(value) else value
    if cell.ctype == xlrd.XL_CELL_TEXT:
        text = cell.value.strip()
        if text == "":
            return 0.0
        if text in _VEK_TEXT_VALUES:
            return _VEK_TEXT_VALUES[text]
        try:
            return float(text)
        except ValueError:
            pass
    raise DataError(f"Unexpected value {cell.value!r} in {where} of the von Economo-Koskinas sheet.")


def read_vek_sheet(path: Path | str | None = None) -> pd.DataFrame:
    """The sub-layer rows of the von Economo-Koskinas sheet.

    Returns one row per labelled sub-layer, in sheet order, with columns ``vek_area`` (forward
    filled from the merged ``Area symbol`` cells), ``sublayer`` (the vEK label), ``layer`` (the
    model layer I..VI of §2.2), ``thickness_mm`` (``Layer thickness overall``) and
    ``density_per_mm3`` (``mean cell content per layer``). Continuation rows (empty label) are
    dropped; '-' and empty cells read as 0, numeric strings as their number.
    """
    import xlrd

    path = Path(path) if path is not None else data_path(VEK_SHEET)
    try:
        book = xlrd.open_workbook(str(path))
        sheet = book.sheet_by_name("Sheet1")
    except Exception as exc:
        raise DataError(f"Cannot read sheet 'Sheet1' of the von Economo-Koskinas file {path}: {exc}") from exc

    header = [str(v).strip() for v in sheet.row_values(0)]
    columns = {}
    for name in (_VEK_AREA_COLUMN, _VEK_LABEL_COLUMN, _VEK_THICKNESS_COLUMN, _VEK_DENSITY_COLUMN):
        if name not in header:
            raise DataError(f"The von Economo-Koskinas file {path} has no column {name!r} (found: {header}).")
        columns[name] = header.index(name)

    records = []
    area = None
    for row in range(1, sheet.nrows):
        symbol = str(sheet.cell_value(row, columns[_VEK_AREA_COLUMN])).strip()
        if symbol:
            area = symbol
        label = str(sheet.cell_value(row, columns[_VEK_LABEL_COLUMN])).strip()
        if not label:
            continue
        if area is None:
            raise DataError(f"Row {row} of {path} has a layer label but no area symbol above it.")
        if label not in VEK_SUBLAYER_TO_LAYER:
            raise DataError(
                f"Unknown cortical layer label {label!r} for area {area} in row {row} of {path}; known "
                f"labels: {', '.join(VEK_SUBLAYER_TO_LAYER)}."
            )
        where = f"row {row} (area {area}, layer {label}) of {path}"
        records.append(
            {
                "vek_area": area,
                "sublayer": label,
                "layer": VEK_SUBLAYER_TO_LAYER[label],
                "thickness_mm": _vek_number(sheet.cell(row, columns[_VEK_THICKNESS_COLUMN]), where),
                "density_per_mm3": _vek_number(sheet.cell(row, columns[_VEK_DENSITY_COLUMN]), where),
            }
        )
    table = pd.DataFrame.from_records(records)
    found = tuple(dict.fromkeys(table["vek_area"])) if len(table) else ()
    if found != VEK_AREAS:
        raise DataError(
            f"The von Economo-Koskinas file {path} does not list the expected 51 areas in order: "
            f"missing {sorted(set(VEK_AREAS) - set(found))}, unexpected {sorted(set(found) - set(VEK_AREAS))}."
        )
    return table


# ---------------------------------------------------------------------------------------------
# E/I fractions


def read_ei_fractions(name: str = "lichtman", path: Path | str | None = None) -> np.ndarray:
    """Fraction of excitatory neurons per layer (II/III, IV, V, VI) from the CSV ``name``.

    ``name`` is ``lichtman`` (Shapson-Coe et al. 2021, default) or ``binzegger``. Values are
    parsed as correctly rounded float64 (Python ``float``).
    """
    if path is None:
        if name not in EI_FRACTION_FILES:
            raise ParameterError(
                f"Unknown E/I fraction table {name!r}; choose one of {', '.join(EI_FRACTION_FILES)}."
            )
        path = data_path(EI_FRACTION_FILES[name])
    path = Path(path)
    with open(path, newline="") as stream:
        reader = csv.DictReader(stream)
        if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != ["layer", "ratio"]:
            raise DataError(f"The E/I fraction file {path} must have the header 'layer,ratio'.")
        values = {}
        for row in reader:
            layer = row["layer"].strip()
            try:
                values[layer] = float(row["ratio"])
            except (TypeError, ValueError):
                raise DataError(f"Non-numeric ratio {row['ratio']!r} for layer {layer!r} in {path}.") from None
    if set(values) != set(LAYERS):
        raise DataError(
            f"The E/I fraction file {path} must list exactly the layers {', '.join(LAYERS)}; found {list(values)}."
        )
    fractions = np.array([values[layer] for layer in LAYERS])
    if np.any((fractions < 0) | (fractions > 1)):
        raise DataError(f"The E/I fractions in {path} must lie in [0, 1]; found {fractions}.")
    return fractions


# ---------------------------------------------------------------------------------------------
# DTI connectivity and area volumes


def _loadmat(path: Path) -> dict:
    from scipy.io import loadmat

    try:
        return loadmat(str(path))
    except Exception as exc:
        raise DataError(f"Cannot read the MATLAB file {path}: {exc}") from exc


def _mat_field(content: dict, key: str, path: Path):
    if key not in content:
        raise DataError(f"The MATLAB file {path} has no variable {key!r}.")
    return content[key]


def _mat_strings(cells, key: str, path: Path) -> list[str]:
    try:
        return [str(np.asarray(cell).ravel()[0]) for cell in np.asarray(cells, dtype=object).ravel()]
    except (IndexError, TypeError) as exc:
        raise DataError(f"{key} in {path} is not a cell array of strings: {exc}") from None


def _square(content: dict, key: str, path: Path, n: int) -> np.ndarray:
    matrix = np.asarray(_mat_field(content, key, path), dtype=np.float64)
    if matrix.shape != (n, n):
        raise DataError(f"{key} in {path} has shape {matrix.shape}, expected ({n}, {n}).")
    return matrix


@dataclass(frozen=True)
class DtiData:
    """DTI connectivity in DK file order (§2.1), as stored in the file."""

    names: tuple[str, ...]  #: area names (text after the last '-' of ``DK_Names``)
    nos: np.ndarray  #: ``C_R``: right-hemisphere streamline counts, rows target, columns source
    distance_mm: np.ndarray  #: ``LowResDK_EstimatedDist_RHem``: fibre lengths (mm)


def read_dti(path: Path | str | None = None) -> DtiData:
    """Streamline counts and fibre lengths of the right hemisphere in DK file order.

    The name list reads ``ctx-lh-*`` although the right-hemisphere matrices are used (published
    docs/quirks.md Q7); the area name is the text after the last '-'.
    """
    path = Path(path) if path is not None else data_path(DTI_FILE)
    content = _loadmat(path)
    full_names = _mat_strings(_mat_field(content, "DK_Names", path), "DK_Names", path)
    names = tuple(name.rsplit("-", 1)[-1] for name in full_names)
    if names != AREAS_FILE_ORDER:
        raise DataError(f"DK_Names in {path} do not list the 34 DK areas in file order (§2.1): {names}.")
    n = len(names)
    return DtiData(
        names=names,
        nos=_square(content, "C_R", path, n),
        distance_mm=_square(content, "LowResDK_EstimatedDist_RHem", path, n),
    )


@dataclass(frozen=True)
class VolumeData:
    """DK area volumes in DK file order (§2.1)."""

    names: tuple[str, ...]
    volume_mm3: np.ndarray  #: float64 (converted from the stored uint16)


def read_area_volumes(path: Path | str | None = None) -> VolumeData:
    """Area volumes (mm^3) of the DK atlas in DK file order, as float64."""
    path = Path(path) if path is not None else data_path(VOLUME_FILE)
    content = _loadmat(path)
    names = tuple(_mat_strings(_mat_field(content, "HumanDKNames", path), "HumanDKNames", path))
    volume = np.asarray(_mat_field(content, "Volume", path)).astype(np.float64).ravel()
    if volume.shape != (len(names),):
        raise DataError(f"Volume in {path} has {volume.size} entries for {len(names)} names.")
    return VolumeData(names=names, volume_mm3=volume)


def file_to_canonical_order(names: tuple[str, ...]) -> np.ndarray:
    """Index array ``idx`` such that ``values[idx]`` reorders file-ordered values to :data:`AREAS`."""
    position = {name: i for i, name in enumerate(names)}
    return np.array([position[area] for area in AREAS])


@dataclass(frozen=True)
class AreaConnectivityData:
    """DTI streamline counts, fibre lengths and volumes in canonical (alphabetical) area order."""

    nos: np.ndarray  #: (34, 34) streamline counts, rows target, columns source
    distance_mm: np.ndarray  #: (34, 34)
    volume_mm3: np.ndarray  #: (34,)


def read_area_connectivity(dti_path: Path | str | None = None,
                           volume_path: Path | str | None = None) -> AreaConnectivityData:
    """DTI data and area volumes, checked against each other and reordered to :data:`AREAS`.

    The names of the volume file (``HumanDKNames``) must equal the DTI names (``DK_Names``).
    """
    dti = read_dti(dti_path)
    volumes = read_area_volumes(volume_path)
    if volumes.names != dti.names:
        raise DataError(
            "The area names of the volume file (HumanDKNames) differ from those of the DTI file "
            f"(DK_Names): {volumes.names} vs {dti.names}."
        )
    order = file_to_canonical_order(dti.names)
    return AreaConnectivityData(
        nos=dti.nos[np.ix_(order, order)],
        distance_mm=dti.distance_mm[np.ix_(order, order)],
        volume_mm3=volumes.volume_mm3[order],
    )
