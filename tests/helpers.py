"""Small helpers shared by the figure tests."""

import hashlib
import json
from pathlib import Path


def sha256_file(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_sidecar(result) -> dict:
    """The JSON sidecar of a built figure (a ``FigureResult``)."""
    return json.loads(Path(result.paths["json"]).read_text())
