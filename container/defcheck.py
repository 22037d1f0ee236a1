"""Parse Apptainer.def with spython and print the shell commands of its %environment and %test.

    python defcheck.py Apptainer.def environment|test|summary

Used by container/check.sh, which runs the printed %environment + %test inside the image, so the
check runs exactly the recipe's test. Exits 1 when spython cannot parse the file, a required
section is missing, or spython's reading of %test differs from the section text.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REQUIRED = ("labels", "environment", "help", "runscript", "test")


def sections(text: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Header keywords (Bootstrap, From) and the body lines of each %section."""
    header, body, current = {}, {}, None
    for line in text.splitlines():
        match = re.match(r"^%(\w+)\s*$", line)
        if match:
            current = match.group(1)
            body[current] = []
        elif current is None:
            key = re.match(r"^(\w+):\s*(.*?)\s*$", line)
            if key:
                header[key.group(1)] = key.group(2)
        else:
            body[current].append(line)
    return header, {name: [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
                    for name, lines in body.items()}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in ("environment", "test", "summary"):
        print(__doc__, file=sys.stderr)
        return 2
    path = Path(argv[0])
    from spython.main.parse.parsers import SingularityParser

    recipe = SingularityParser(str(path)).recipe["spython-base"]
    header, body = sections(path.read_text())
    problems = [f"missing %{name}" for name in REQUIRED if not body.get(name)]
    if header.get("Bootstrap") not in ("docker-archive", "docker"):
        problems.append(f"Bootstrap is {header.get('Bootstrap')!r}, expected docker-archive or docker")
    if recipe.fromHeader != header.get("From"):
        problems.append(f"spython reads From {recipe.fromHeader!r}, the file says {header.get('From')!r}")
    # spython turns %test into `echo "<line>" >> /tests.sh` install steps
    spython_test = [m.group(1) for line in recipe.install
                    if (m := re.match(r'^echo "(.*)" >> /tests\.sh$', line))]
    if spython_test != body.get("test"):
        problems.append(f"spython reads %test as {spython_test}, the section is {body.get('test')}")
    if problems:
        for problem in problems:
            print(f"Apptainer.def: {problem}", file=sys.stderr)
        return 1
    if argv[1] == "summary":
        print(f"Apptainer.def parses with spython: Bootstrap {header['Bootstrap']}, From {header['From']}, "
              f"{len(recipe.labels)} labels, {len(recipe.environ)} environment lines, runscript "
              f"{recipe.cmd!r}, %test {body['test']}")
    else:
        print("\n".join(body[argv[1]]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
