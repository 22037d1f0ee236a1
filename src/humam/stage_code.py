"""The code each pipeline stage runs, so that the task graph can rerun a stage when its code changes.

A stage's output depends on the modules of its entry point and on everything they import from
``humam`` (at module level or inside functions), found by reading the sources, not by importing
them. The task graph (``dodo.py``) makes every task depend on these files: editing the analysis
code reruns the analyses and what is drawn from them, editing the network construction rebuilds
the networks (and reruns the simulations only if a network's content changed).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = "humam"
PACKAGE_DIR = Path(__file__).resolve().parent

#: Entry modules of the stages (what ``humam <command>`` runs to produce each output).
STAGE_MODULES: dict[str, tuple[str, ...]] = {
    "network": ("humam.build", "humam.network_file"),
    "simulate": ("humam.simulation",),
    "analyse": ("humam.analysis",),
    "theory": ("humam.theory",),
}


def _module_file(name: str, roots: dict[str, Path]) -> Path | None:
    """Source file of module ``name`` below one of ``roots`` (top-level package -> its folder)."""
    top, _, rest = name.partition(".")
    if top not in roots:
        return None
    base = roots[top].joinpath(*rest.split(".")) if rest else roots[top]
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path, name: str) -> set[str]:
    """Names of the modules imported anywhere in ``path`` (absolute and relative imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from . import x` imports a module
    return found


def code_dependencies(*modules: str, roots: dict[str, Path] | None = None) -> list[Path]:
    """Source files of ``modules`` and of every module they import, transitively, below ``roots``
    (default: the ``humam`` package), sorted."""
    roots = roots or {PACKAGE: PACKAGE_DIR}
    return list(_closure(tuple(sorted(modules)), tuple(sorted((k, str(v)) for k, v in roots.items()))))


@functools.lru_cache(maxsize=None)
def _closure(modules: tuple[str, ...], roots_key: tuple[tuple[str, str], ...]) -> tuple[Path, ...]:
    roots = {k: Path(v) for k, v in roots_key}
    seen: dict[str, Path] = {}
    pending = list(modules)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        path = _module_file(name, roots)
        if path is None:
            continue
        seen[name] = path
        pending.extend(sorted(_imported_modules(path, name) - set(seen)))
    return tuple(sorted(set(seen.values())))


def stage_sources(stage: str) -> list[Path]:
    """Source files whose change reruns ``stage`` (a key of :data:`STAGE_MODULES`)."""
    return code_dependencies(*STAGE_MODULES[stage])
