"""Small helpers shared by the figure tests."""

import hashlib
import json
from pathlib import Path


def sha256_file(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_sidecar(result) -> dict:
    """The JSON sidecar of a built figure (a ``FigureResult``)."""
    return json.loads(Path(result.paths["json"]).read_text())


def figure_inputs(**kinds):
    """FigureInputs from ``kind={name: path}`` keyword arguments, e.g.
    ``figure_inputs(network={"full": path}, run={"best_fit": analysis_file})``."""
    from paper_figures.common import FigureInputs

    return FigureInputs({(kind, name): Path(path) for kind, items in kinds.items() for name, path in items.items()})
