"""Every document the code cites is in the repository: ``docs/<name>.md §N.M`` names a section that
exists, ``docs/quirks.md QN`` a quirk of its table, and nothing cites a document outside ``docs/``."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"docs/([\w-]+\.md) §\s?(\d+(?:\.\d+)*)")
QUIRK = re.compile(r"docs/quirks\.md (Q\d+)(?:[–-](Q\d+))?")
#: How the code cited the specification before it became docs/: none of these may remain.
OUTSIDE = re.compile(r"(?<![\w/])(?:spec|model|figures)(?:\.md)? §|\bthe spec\b")


def tracked_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / n for n in names if n.endswith((".py", ".yaml", ".md", ".ipynb", ".sh", ".toml"))
            and not n.startswith("docs/") and n != "CHANGELOG.md" and (ROOT / n).is_file()]


def sections(doc: Path) -> set[str]:
    """Section numbers of the Markdown headings of ``doc`` ("## 4. ..." -> "4", "### 4.3 ..." -> "4.3")."""
    found = set()
    for line in doc.read_text().splitlines():
        match = re.match(r"#+\s+(\d+(?:\.\d+)*)\.?\s", line)
        if match:
            found.add(match.group(1))
    return found


def test_every_cited_section_exists():
    missing, count = [], 0
    cache: dict[str, set[str]] = {}
    for path in tracked_files():
        for doc, section in CITATION.findall(path.read_text(encoding="utf-8")):
            count += 1
            target = ROOT / "docs" / doc
            if not target.is_file():
                missing.append((path.name, doc))
                continue
            cache.setdefault(doc, sections(target))
            if section not in cache[doc]:
                missing.append((path.name, f"{doc} §{section}"))
    assert count > 100 and not missing, (count, missing)


def test_every_cited_quirk_is_in_the_table():
    table = (ROOT / "docs" / "quirks.md").read_text()
    known = set(re.findall(r"^\|\s*(Q\d+)\s*\|", table, re.MULTILINE))
    assert len(known) >= 20
    cited = set()
    for path in tracked_files():
        for first, last in QUIRK.findall(path.read_text(encoding="utf-8")):
            cited.update(q for q in (first, last) if q)
    assert cited and cited <= known, cited - known


def test_no_citation_of_a_document_outside_the_repository():
    offenders = [(p.relative_to(ROOT), m.group(0)) for p in tracked_files()
                 for m in OUTSIDE.finditer(p.read_text(encoding="utf-8"))]
    assert not offenders, offenders[:20]


def test_the_package_has_citation_and_changelog():
    import yaml

    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert citation["preferred-citation"]["doi"] == "10.1093/cercor/bhae409"
    import humam

    assert str(citation["version"]) == humam.__version__
    assert humam.__version__ in (ROOT / "CHANGELOG.md").read_text()


def test_no_import_cycle_between_the_modules_of_the_package():
    """The stages import only what comes before them (docs/pipeline.md): the module graph of
    ``src/humam`` (every import, also inside functions) has no cycle."""
    from humam import stage_code

    package = stage_code.PACKAGE_DIR
    modules = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        imported = stage_code._imported_modules(path, name)
        # a package's own __init__ importing its submodules is not a cycle of stages
        graph[name] = {m for m in imported if m in modules and m != name and not m.startswith(name + ".")
                       and not name.startswith(m + ".")}
    state, cycle = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycle.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycle, cycle[:3]


def _package_modules() -> dict[str, Path]:
    """Dotted name → source file of every module of ``src/humam``."""
    from humam import stage_code

    package = stage_code.PACKAGE_DIR
    modules = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _module_floors() -> dict[str, int]:
    """Floor of every module named in the module map of docs/pipeline.md §9 (``analysis.*`` stands
    for every module of the analysis package)."""
    text = (ROOT / "docs" / "pipeline.md").read_text()
    section = text[text.index("## 9. Module map"):]
    floors = {}
    for row in re.findall(r"^\| (\d+) [^|]*\| ([^|]+) \|", section, re.MULTILINE):
        for name in re.findall(r"`([\w.*]+)`", row[1]):
            floors[f"humam.{name}"] = int(row[0])
    return floors


def _floor(module: str, floors: dict[str, int]) -> int | None:
    if module in floors:
        return floors[module]
    parent = module.rpartition(".")[0]
    return floors.get(f"{parent}.*") if parent else None


def test_every_module_is_on_a_floor_of_the_module_map():
    floors = _module_floors()
    modules = [name for name in _package_modules() if name != "humam"]
    assert len(floors) >= 25
    unplaced = [name for name in modules if _floor(name, floors) is None]
    named_but_absent = [name for name in floors if not name.endswith("*") and name not in modules]
    assert not unplaced and not named_but_absent, (unplaced, named_but_absent)


def test_no_import_runs_back_up_the_floors():
    """A module imports only its own floor and those below (docs/pipeline.md §9); every import
    counts, also inside functions. ``from . import x`` names the package too: a package's own
    parents are not counted."""
    from humam import stage_code

    floors, modules = _module_floors(), _package_modules()
    upward = []
    for name, path in modules.items():
        if name == "humam":
            continue
        for imported in stage_code._imported_modules(path, name):
            if imported not in modules or imported in (name, "humam") or name.startswith(imported + "."):
                continue
            if _floor(imported, floors) > _floor(name, floors):
                upward.append(f"{name} (floor {_floor(name, floors)}) imports {imported} "
                              f"(floor {_floor(imported, floors)})")
    assert not upward, upward


def test_the_package_never_imports_the_figures():
    from humam import stage_code

    offenders = [name for name, path in _package_modules().items()
                 if any(m.split(".")[0] in ("paper_figures", "dodo") for m in stage_code._imported_modules(path, name))]
    assert not offenders, offenders
