"""One shared look for every figure: rcParams, colours, area labels and orderings, saving.

* :func:`figure_style` is a context manager that applies :data:`RC_PARAMS`.
* Colours are colour-blind safe (Okabe–Ito and Paul Tol palettes) and fixed across figures.
* :func:`save_figure` writes a byte-reproducible PNG (and PDF) plus the sidecar JSON.
* :func:`placeholder_panel` draws the "not available — missing: ..." panel of docs/figures.md §1.2.
"""

from __future__ import annotations

import contextlib
import json
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402

from humam import tables  # noqa: E402
from humam.h5io import json_default  # noqa: E402

# ---------------------------------------------------------------------------------------------
# rcParams

DPI = 150
RC_PARAMS: dict = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.05,
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "image.interpolation": "nearest",
    "svg.hashsalt": "humam",
    "pdf.fonttype": 42,
}


@contextlib.contextmanager
def figure_style():
    """Context in which all figures of the package are drawn."""
    with matplotlib.rc_context(RC_PARAMS):
        yield


# ---------------------------------------------------------------------------------------------
# Colours (docs/figures.md §2.2)

E_COLOR = "#0072B2"  # blue
I_COLOR = "#D55E00"  # vermillion
POPULATION_TYPE_COLORS = {"E": E_COLOR, "I": I_COLOR}

DIRECTIONALITY_COLORS = {"FF": "#009E73", "lateral": "#E69F00", "FB": "#CC79A7"}

GROUND_COLOR = "#4477AA"
BESTFIT_COLOR = "#EE6677"
EXPERIMENT_COLOR = "#222222"
RUN_COLORS = {"groundstate": GROUND_COLOR, "bestfit": BESTFIT_COLOR, "experiment": EXPERIMENT_COLOR}

#: Extra line colours of the χ-scan similarity curves (1 − KS and fMRI measures).
MEASURE_COLORS = {
    "rates": "#4477AA", "cv": "#228833", "lvr": "#AA3377", "fc_pearson": "#CCBB44", "fc_rmse": "#66CCEE",
}

LOBE_COLORS = {
    "frontal": "#4477AA", "parietal": "#EE6677", "temporal": "#228833",
    "occipital": "#CCBB44", "cingulate": "#66CCEE", "insula": "#AA3377",
}

MASK_COLOR = "#d9d9d9"
SEQUENTIAL_CMAP = "viridis"
DIVERGING_CMAP = "RdBu_r"


def sequential_cmap():
    """Sequential colormap for counts (used on log10 values) with masked cells in light grey."""
    return matplotlib.colormaps[SEQUENTIAL_CMAP].with_extremes(bad=MASK_COLOR)


def diverging_cmap():
    """Diverging colormap for correlations (use with a range symmetric about 0), masked cells grey."""
    return matplotlib.colormaps[DIVERGING_CMAP].with_extremes(bad=MASK_COLOR)


def sln_cmap():
    """Colormap of SLN values (0…1)."""
    return matplotlib.colormaps["cividis"].with_extremes(bad=MASK_COLOR)


def masked(values, mask_zero: bool = True) -> np.ma.MaskedArray:
    """``values`` with zeros (and non-finite values) masked."""
    values = np.asarray(values, dtype=float)
    bad = ~np.isfinite(values)
    if mask_zero:
        bad |= values == 0
    return np.ma.masked_array(values, mask=bad)


def log10_masked(values) -> np.ma.MaskedArray:
    """log10 of ``values`` with zero and negative entries masked."""
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(values)
    return np.ma.masked_array(logs, mask=~(values > 0))


def colorbar(mappable, ax, label: str, **kwargs):
    """A colorbar next to ``ax``; ``label`` must name the quantity and its unit."""
    cb = plt.colorbar(mappable, ax=ax, fraction=0.046, pad=0.03, **kwargs)
    cb.set_label(label)
    cb.ax.tick_params(labelsize=6)
    return cb


# ---------------------------------------------------------------------------------------------
# Labels and orderings (docs/figures.md §2.1, §2.3, §2.4)

POPULATION_LABELS = ("2/3E", "2/3I", "4E", "4I", "5E", "5I", "6E", "6I")
LAYER_LABELS = ("L2/3", "L4", "L5", "L6")
SYNAPSE_LAYER_LABELS = ("I", "II/III", "IV", "V", "VI")

AREA_SHORT_NAMES: dict[str, str] = {
    "bankssts": "BSTS", "caudalanteriorcingulate": "CAC", "caudalmiddlefrontal": "CMF", "cuneus": "CUN",
    "entorhinal": "ENT", "fusiform": "FUS", "inferiorparietal": "IP", "inferiortemporal": "IT",
    "isthmuscingulate": "ISTC", "lateraloccipital": "LOCC", "lateralorbitofrontal": "LORB", "lingual": "LING",
    "medialorbitofrontal": "MORB", "middletemporal": "MT", "parahippocampal": "PARH", "paracentral": "PARC",
    "parsopercularis": "POPE", "parsorbitalis": "PORB", "parstriangularis": "PTRI", "pericalcarine": "PERI",
    "postcentral": "PSTC", "posteriorcingulate": "PC", "precentral": "PREC", "precuneus": "PCUN",
    "rostralanteriorcingulate": "RAC", "rostralmiddlefrontal": "RMF", "superiorfrontal": "SF",
    "superiorparietal": "SP", "superiortemporal": "ST", "supramarginal": "SMAR", "frontalpole": "FP",
    "temporalpole": "TP", "transversetemporal": "TT", "insula": "INS",
}


def short(area: str) -> str:
    """Short label of a DK area."""
    return AREA_SHORT_NAMES.get(area, area)


ALPHABETICAL: tuple[str, ...] = tables.AREAS

#: Lobe grouping (conventional DK grouping, a replaceable data table).
LOBES: dict[str, tuple[str, ...]] = {
    "frontal": ("caudalmiddlefrontal", "frontalpole", "lateralorbitofrontal", "medialorbitofrontal", "paracentral",
                "parsopercularis", "parsorbitalis", "parstriangularis", "precentral", "rostralmiddlefrontal",
                "superiorfrontal"),
    "parietal": ("inferiorparietal", "postcentral", "precuneus", "superiorparietal", "supramarginal"),
    "temporal": ("bankssts", "entorhinal", "fusiform", "inferiortemporal", "middletemporal", "parahippocampal",
                 "superiortemporal", "temporalpole", "transversetemporal"),
    "occipital": ("cuneus", "lateraloccipital", "lingual", "pericalcarine"),
    "cingulate": ("caudalanteriorcingulate", "isthmuscingulate", "posteriorcingulate", "rostralanteriorcingulate"),
    "insula": ("insula",),
}

#: Resting-state networks (Kabbara et al. 2017), both hemispheres; "CAC" differs (see :func:`rsn_groups`).
RSN_NETWORKS: dict[str, tuple[str, ...]] = {
    "DMN": ("isthmuscingulate", "medialorbitofrontal", "posteriorcingulate", "precuneus", "rostralanteriorcingulate",
            "lateralorbitofrontal", "parahippocampal"),
    "DAN": ("inferiortemporal", "middletemporal", "parsopercularis", "parsorbitalis", "parstriangularis"),
    "SAN": ("insula", "rostralmiddlefrontal", "supramarginal", "caudalmiddlefrontal"),
    "AUD": ("superiortemporal",),
    "VIS": ("cuneus", "lateraloccipital", "fusiform", "lingual"),
    "other": ("bankssts", "entorhinal", "frontalpole", "inferiorparietal", "superiorfrontal", "paracentral",
              "pericalcarine", "postcentral", "precentral", "superiorparietal", "temporalpole", "transversetemporal"),
}
#: caudalanteriorcingulate: last in DMN (right hemisphere) or first in DAN (left hemisphere).
RSN_HEMISPHERE_AREA = "caudalanteriorcingulate"


def rsn_groups(hemisphere: str = "rh", networks: dict | None = None) -> dict[str, tuple[str, ...]]:
    """Resting-state network → areas for one hemisphere, in plotting order."""
    groups = {k: tuple(v) for k, v in (networks or RSN_NETWORKS).items()}
    if networks is None:
        if hemisphere == "rh":
            groups["DMN"] = groups["DMN"] + (RSN_HEMISPHERE_AREA,)
        elif hemisphere == "lh":
            groups["DAN"] = (RSN_HEMISPHERE_AREA,) + groups["DAN"]
        else:
            raise ValueError(f"hemisphere must be 'lh' or 'rh', got {hemisphere!r}")
    return groups


def grouped_order(groups: dict[str, tuple[str, ...]]) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Flattened area order and (group, start, stop) index ranges of a grouping."""
    order, spans = [], []
    for name, areas in groups.items():
        spans.append((name, len(order), len(order) + len(areas)))
        order.extend(areas)
    if sorted(order) != sorted(tables.AREAS):
        raise ValueError("an area grouping must list each of the 34 DK areas exactly once")
    return order, spans


def lobe_order() -> tuple[list[str], list[tuple[str, int, int]]]:
    """Areas grouped by lobe (lobe order of :data:`LOBES`) and the lobe index ranges."""
    return grouped_order(LOBES)


def area_lobe(area: str) -> str:
    """Lobe of a DK area."""
    return next(lobe for lobe, areas in LOBES.items() if area in areas)


def area_ticks(ax, areas, axis: str = "both", fontsize: float = 5):
    """Short-name tick labels for an area matrix drawn with ``imshow``."""
    labels = [short(a) for a in areas]
    ticks = np.arange(len(areas))
    if axis in ("both", "x"):
        ax.set_xticks(ticks, labels, rotation=90, fontsize=fontsize)
    if axis in ("both", "y"):
        ax.set_yticks(ticks, labels, fontsize=fontsize)
    ax.tick_params(length=1.5, pad=1)


def panel_label(ax, letter: str, x: float = -0.12, y: float = 1.04):
    """Bold panel letter at the top left of ``ax``."""
    ax.text(x, y, letter, transform=ax.transAxes, fontsize=11, fontweight="bold", va="bottom", ha="right")


# ---------------------------------------------------------------------------------------------
# Placeholder panel (docs/figures.md §1.2)


def placeholder_panel(ax, missing_input: str, how_to_obtain: str, title: str | None = None):
    """Empty axes with the centred note "not available — missing: <input> (<how to obtain it>)"."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_linestyle((0, (4, 3)))
        spine.set_color("#888888")
    ax.set_facecolor("#f4f4f4")
    if title:
        ax.set_title(title)
    wrapped = "\n".join(textwrap.wrap(missing_input, 44, break_on_hyphens=False) + textwrap.wrap(f"({how_to_obtain})", 44))
    ax.text(0.5, 0.5, f"not available — missing:\n{wrapped}", transform=ax.transAxes,
            ha="center", va="center", fontsize=7, color="#b00000",
            bbox=dict(boxstyle="round", facecolor="white", edgecolor="#b00000"))
    ax.set_box_aspect(1)
    ax.set_gid("placeholder")


# ---------------------------------------------------------------------------------------------
# Saving (docs/figures.md §1.3, §1.5)

PNG_METADATA = {"Software": None}
PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None}


def save_figure(fig, path_stem, metadata: dict, pdf: bool = True) -> dict[str, Path]:
    """Write ``<stem>.png`` (and ``<stem>.pdf``) deterministically plus ``<stem>.json``.

    The images carry no dates or software versions, and the resolution is fixed (:data:`DPI`), so
    the same figure gives byte-identical files. ``metadata`` is the sidecar content (figure id,
    inputs with hashes, package version, status, missing panels); it is written as sorted JSON.
    Closes ``fig``. Returns the written paths keyed by "png", "pdf", "json".
    """
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = {"png": stem.with_suffix(".png")}
    fig.savefig(paths["png"], dpi=DPI, metadata=PNG_METADATA)
    if pdf:
        paths["pdf"] = stem.with_suffix(".pdf")
        fig.savefig(paths["pdf"], dpi=DPI, metadata=PDF_METADATA)
    plt.close(fig)
    paths["json"] = stem.with_suffix(".json")
    sidecar = dict(metadata)
    sidecar["files"] = {kind: p.name for kind, p in paths.items() if kind != "json"}
    paths["json"].write_text(json.dumps(sidecar, indent=2, sort_keys=True, default=json_default) + "\n")
    return paths


def norm_log(vmin=None, vmax=None):
    """Normalisation for log10-valued matrices (the values are already log10)."""
    return mcolors.Normalize(vmin=vmin, vmax=vmax)
