"""Built-in tables of the model (docs/model.md §2) and the population bookkeeping built on them.

Everything here is a constant of the published model: the 34 Desikan-Killiany (DK) areas, the
layers and population types, the von Economo-Koskinas (vEK) sub-layer and area maps, the
Potjans & Diesmann (2014) microcircuit and the synapse-layer -> target-cell tables of Binzegger
et al. (2004) and Mohan et al. (2015). Floating-point constants are kept at the full precision of
the specification: the published synapse totals depend on every digit.

Ordering conventions (docs/model.md §0.2): matrices are indexed rows = target, columns = source; the
canonical order of population-resolved results is the lexicographic order of (area, layer, pop),
which is the flat C order of an array shaped ``(34, 4, 2)`` = [area, layer II/III..VI, E/I].
"""

from __future__ import annotations

import numpy as np

from .errors import ParameterError

# ---------------------------------------------------------------------------------------------
# Areas, layers, populations (docs/model.md §0.2, §2.1)

#: The 34 DK areas in the row/column order of the ``.mat`` files and the fMRI ROI blocks (§2.1).
AREAS_FILE_ORDER: tuple[str, ...] = (
    "bankssts",
    "caudalanteriorcingulate",
    "caudalmiddlefrontal",
    "cuneus",
    "entorhinal",
    "fusiform",
    "inferiorparietal",
    "inferiortemporal",
    "isthmuscingulate",
    "lateraloccipital",
    "lateralorbitofrontal",
    "lingual",
    "medialorbitofrontal",
    "middletemporal",
    "parahippocampal",
    "paracentral",
    "parsopercularis",
    "parsorbitalis",
    "parstriangularis",
    "pericalcarine",
    "postcentral",
    "posteriorcingulate",
    "precentral",
    "precuneus",
    "rostralanteriorcingulate",
    "rostralmiddlefrontal",
    "superiorfrontal",
    "superiorparietal",
    "superiortemporal",
    "supramarginal",
    "frontalpole",
    "temporalpole",
    "transversetemporal",
    "insula",
)

#: The 34 DK areas in canonical (alphabetical) order: the area order of every model result.
AREAS: tuple[str, ...] = tuple(sorted(AREAS_FILE_ORDER))

#: Layers that hold model neurons.
LAYERS: tuple[str, ...] = ("II/III", "IV", "V", "VI")

#: All cortical layers; layer I only has a thickness (and a target role for cortico-cortical input).
LAYERS_WITH_I: tuple[str, ...] = ("I",) + LAYERS

#: Population types: excitatory and inhibitory.
POPULATION_TYPES: tuple[str, ...] = ("E", "I")

#: The 8 populations of one area as (layer, pop), in canonical order (23E, 23I, 4E, ..., 6I).
AREA_POPULATIONS: tuple[tuple[str, str], ...] = tuple((layer, pop) for layer in LAYERS for pop in POPULATION_TYPES)

#: The 272 population keys (area, layer, pop) in canonical order.
POPULATIONS: tuple[tuple[str, str, str], ...] = tuple(
    (area, layer, pop) for area in AREAS for layer in LAYERS for pop in POPULATION_TYPES
)

N_AREAS = len(AREAS)
N_LAYERS = len(LAYERS)
N_TYPES = len(POPULATION_TYPES)
N_POPULATIONS_PER_AREA = N_LAYERS * N_TYPES
N_POPULATIONS = len(POPULATIONS)

#: Position of each area-population (23E..6I) in LAYERS_WITH_I, i.e. the column of its own layer.
POPULATION_LAYER_COLUMN: np.ndarray = np.array([1 + i // N_TYPES for i in range(N_POPULATIONS_PER_AREA)])

#: True for the excitatory area-populations (23E, 4E, 5E, 6E).
AREA_POPULATION_IS_EXCITATORY: np.ndarray = np.array([pop == "E" for _, pop in AREA_POPULATIONS])


# ---------------------------------------------------------------------------------------------
# The 272 populations in canonical order (flat C order of a (34, 4, 2) array)

#: Area index (0..33, alphabetical) of each of the 272 populations.
POPULATION_AREA_INDEX: np.ndarray = np.repeat(np.arange(N_AREAS), N_POPULATIONS_PER_AREA)
#: Layer index (0..3 = II/III, IV, V, VI) of each population.
POPULATION_LAYER_INDEX: np.ndarray = np.tile(np.repeat(np.arange(N_LAYERS), N_TYPES), N_AREAS)
#: True for excitatory populations.
POPULATION_IS_EXCITATORY: np.ndarray = np.tile(np.arange(N_TYPES) == 0, N_AREAS * N_LAYERS)
#: (272, 272) True where target and source population lie in the same area (rows target).
SAME_AREA: np.ndarray = POPULATION_AREA_INDEX[:, None] == POPULATION_AREA_INDEX[None, :]

for _array in (POPULATION_AREA_INDEX, POPULATION_LAYER_INDEX, POPULATION_IS_EXCITATORY, SAME_AREA):
    _array.setflags(write=False)
del _array


def _lookup(kind: str, name: str, valid: tuple[str, ...]) -> int:
    try:
        return valid.index(name)
    except ValueError:
        raise ParameterError(f"Unknown {kind} {name!r}; valid {kind}s are: {', '.join(valid)}.") from None


def area_index(area: str) -> int:
    """Index of ``area`` in the canonical (alphabetical) area order."""
    return _lookup("area", area, AREAS)


def layer_index(layer: str) -> int:
    """Index of ``layer`` in :data:`LAYERS` (II/III, IV, V, VI)."""
    return _lookup("layer", layer, LAYERS)


def population_type_index(pop: str) -> int:
    """Index of ``pop`` in :data:`POPULATION_TYPES` (E, I)."""
    return _lookup("population type", pop, POPULATION_TYPES)


def population_index(area: str, layer: str, pop: str) -> int:
    """Index of the population (area, layer, pop) in :data:`POPULATIONS` (canonical order)."""
    return (area_index(area) * N_LAYERS + layer_index(layer)) * N_TYPES + population_type_index(pop)


# ---------------------------------------------------------------------------------------------
# von Economo-Koskinas tables (docs/model.md §2.2, §2.3)

#: vEK sub-layer label -> model layer (§2.2). Mixed labels are assigned without splitting.
VEK_SUBLAYER_TO_LAYER: dict[str, str] = {
    **{label: "I" for label in ("I", "Ia", "Ib")},
    **{
        label: "II/III"
        for label in ("II", "II+III", "III", "III(II)", "III(IV)", "IIIa", "IIIa/b", "IIIb", "IIIb/c", "IIIc")
    },
    **{label: "IV" for label in ("IV", "IVa", "IVb", "IVc")},
    **{label: "V" for label in ("V", "V+VI", "Va", "Va1", "Va2", "Vb")},
    **{label: "VI" for label in ("VI", "VIa", "VIa1", "VIa2", "VIb")},
}

#: The 51 vEK areas of the structural data sheet, in sheet order (FD\u0394 has a Greek capital delta).
VEK_AREAS: tuple[str, ...] = (
    "FA", "FB", "FC", "FCBm", "FD", "FD\u0394", "FDt", "FE", "FF", "FG", "FH", "FJ", "FK", "FL", "FM",
    "FN", "LA1", "LA2", "LC1", "LC2", "LC3", "LD", "LE1", "LE2", "IA", "IB", "OA", "OB", "OC", "PA",
    "PB1", "PB2", "PC", "PD", "PE", "PF", "PG", "PH", "HA", "HB", "HC", "HD", "HE", "HF", "TA", "TB",
    "TC", "TD", "TE", "TF", "TG",
)  # fmt: skip

#: DK area -> its vEK member areas (Goulas et al. 2016, Table 1; §2.3), members in table order.
VEK_TO_DK: dict[str, tuple[str, ...]] = {
    "bankssts": ("PH",),
    "caudalanteriorcingulate": ("LA1", "LA2"),
    "caudalmiddlefrontal": ("FC", "FB"),
    "cuneus": ("OA", "OB"),
    "entorhinal": ("HA", "HB"),
    "fusiform": ("TF",),
    "inferiorparietal": ("PG",),
    "inferiortemporal": ("TE",),
    "isthmuscingulate": ("LD", "LC2"),
    "lateraloccipital": ("OA",),
    "lateralorbitofrontal": ("FG",),
    "lingual": ("OA", "OB", "PH"),
    "medialorbitofrontal": ("FH", "FL"),
    "middletemporal": ("TE",),
    "parahippocampal": ("HC", "HD"),
    "paracentral": ("PA", "PB1", "PB2", "PC"),
    "parsopercularis": ("FCBm",),
    "parsorbitalis": ("FF",),
    "parstriangularis": ("FDt",),
    "pericalcarine": ("OC",),
    "postcentral": ("PC",),
    "posteriorcingulate": ("LC1", "LC2", "LC3"),
    "precentral": ("FA",),
    "precuneus": ("PE",),
    "rostralanteriorcingulate": ("LA1", "LA2"),
    "rostralmiddlefrontal": ("FD\u0394", "FD", "FC"),
    "superiorfrontal": ("FC", "FD", "FB"),
    "superiorparietal": ("PE",),
    "superiortemporal": ("TA",),
    "supramarginal": ("PF",),
    "frontalpole": ("FE",),
    "temporalpole": ("TG",),
    "transversetemporal": ("TC", "TD"),
    "insula": ("IA", "IB"),
}

# ---------------------------------------------------------------------------------------------
# Potjans & Diesmann (2014) microcircuit (docs/model.md §2.4); population order 23E, 23I, ..., 6I

#: Neuron numbers of the PD microcircuit.
PD_NEURONS: np.ndarray = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948], dtype=np.int64)

#: External indegrees of the PD microcircuit.
PD_K_EXT: np.ndarray = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100], dtype=np.int64)

#: Connection probabilities of the PD microcircuit (rows target, columns source).
PD_CONNECTION_PROBABILITY: np.ndarray = np.array(
    [
        [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
        [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
        [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
        [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
    ]
)


def pd_synapse_numbers() -> np.ndarray:
    """Synapse numbers of the PD microcircuit, |ln(1 - C_ij) / ln(1 - 1/(N_i N_j))| (8 x 8).

    Evaluated literally (docs/model.md §2.4): the float64 differences 1 - C and 1 - 1/(N_i N_j) are formed
    first and then passed to the natural log. The ``log1p`` form rounds differently and changes
    the published local synapse numbers.
    """
    n = PD_NEURONS.astype(np.float64)
    pair_counts = np.outer(n, n)  # N_i N_j, exact in float64
    return np.abs(np.log(1.0 - PD_CONNECTION_PROBABILITY) / np.log(1.0 - 1.0 / pair_counts))


def pd_synapses_per_pair() -> np.ndarray:
    """Mean synapses per neuron pair p_ij = S^PD_ij / (N_i N_j) of the PD microcircuit (8 x 8)."""
    n = PD_NEURONS.astype(np.float64)
    return pd_synapse_numbers() / np.outer(n, n)


# ---------------------------------------------------------------------------------------------
# Synapse-layer -> target-cell tables (docs/model.md §2.5); rows 23E..6I, columns layers I..VI

#: Binzegger et al. (2004): fraction of the synapses in a layer (column) that target a population (row).
BINZEGGER: np.ndarray = np.array(
    [
        [0.567082554283337, 0.0, 0.0, 0.0, 0.0],
        [0.0, 0.16304434207349616, 0.0, 0.0, 0.0],
        [0.17328245714496945, 0.8369556579265038, 0.7258933731905455, 0.0, 0.0],
        [0.0, 0.0, 0.15914115512152516, 0.0, 0.0],
        [0.2568327220638478, 0.0, 0.026277562606296354, 0.760757867472445, 0.0],
        [0.0, 0.0, 0.0, 0.10406630543342058, 0.0],
        [0.002802266507845749, 0.0, 0.08868790908163299, 0.13517582709413395, 0.8533038600077738],
        [0.0, 0.0, 0.0, 0.0, 0.14669613999222625],
    ]
)

#: Mohan et al. (2015), human L2/3 morphologies: E rows as printed, I rows all 0.
MOHAN: np.ndarray = np.array(
    [
        [0.9278774811692967, 0.909748357973469, 0.4162649934194968, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [0.0668572994545314, 0.083453428814039, 0.490646804597804, 0.1497274751515097, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [0.005265219376171895, 0.005428066629491999, 0.061860804254694896, 0.4769364895274995, 0.0954296854918162],
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0013701465830000094, 0.031227397728004324, 0.37333603532099074, 0.9045703145081838],
        [0.0, 0.0, 0.0, 0.0, 0.0],
    ]
)


def _row_sum(table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Column sums over the selected rows, added in row order."""
    total = np.zeros(table.shape[1])
    for row in table[rows]:
        total = total + row
    return total


#: e_L: share of the synapses in layer L (I..VI) that target excitatory cells (Binzegger).
EXCITATORY_TARGET_SHARE: np.ndarray = _row_sum(BINZEGGER, AREA_POPULATION_IS_EXCITATORY)

#: i_L: share of the synapses in layer L (I..VI) that target inhibitory cells (Binzegger).
INHIBITORY_TARGET_SHARE: np.ndarray = _row_sum(BINZEGGER, ~AREA_POPULATION_IS_EXCITATORY)


def target_cell_matrix() -> np.ndarray:
    """Target-cell matrix M (8 populations x 5 layers I..VI) of the cortico-cortical synapses.

    E rows: Mo[(l,E), L] * e_L. I rows: i_l in the population's own layer l, 0 elsewhere, i.e.
    inhibitory cells receive cortico-cortical synapses only in their own layer.
    """
    m = np.zeros((N_POPULATIONS_PER_AREA, len(LAYERS_WITH_I)))
    for i in range(N_POPULATIONS_PER_AREA):
        if POPULATION_IS_EXCITATORY[i]:
            m[i] = MOHAN[i] * EXCITATORY_TARGET_SHARE
        else:
            own = POPULATION_LAYER_COLUMN[i]
            m[i, own] = INHIBITORY_TARGET_SHARE[own]
    return m


#: The target-cell matrix M (see :func:`target_cell_matrix`).
TARGET_CELL_MATRIX: np.ndarray = target_cell_matrix()

for _array in (PD_NEURONS, PD_K_EXT, PD_CONNECTION_PROBABILITY, BINZEGGER, MOHAN, EXCITATORY_TARGET_SHARE,
               INHIBITORY_TARGET_SHARE, TARGET_CELL_MATRIX, POPULATION_LAYER_COLUMN, POPULATION_IS_EXCITATORY):
    _array.setflags(write=False)
del _array


def population_mask(*, layer: str | None = None, pop: str | None = None) -> np.ndarray:
    """(272,) boolean mask of the populations in ``layer`` and/or of type ``pop``."""
    mask = np.ones(N_POPULATIONS, dtype=bool)
    if layer is not None:
        mask &= POPULATION_LAYER_INDEX == layer_index(layer)
    if pop is not None:
        mask &= POPULATION_IS_EXCITATORY == (population_type_index(pop) == 0)
    return mask


def population_key_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(area, layer, population) string arrays of the 272 keys in canonical order."""
    area, layer, pop = zip(*POPULATIONS)
    return np.array(area, dtype=str), np.array(layer, dtype=str), np.array(pop, dtype=str)
