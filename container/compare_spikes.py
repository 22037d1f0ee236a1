"""Compare the spikes of two humam runs dataset by dataset (used by container/check.sh).

    python compare_spikes.py RUN_A RUN_B

RUN_A and RUN_B are spikes.h5 files or folders holding exactly one spikes.h5 (e.g. the --out
root of one `humam simulate`). For every population group under /spikes the node ids, the spike
times and the group attributes must be equal. Prints one line starting with "spikes identical"
and exits 0, or lists the differences and exits 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np


def spikes_file(path: Path) -> Path:
    if path.is_file():
        return path
    found = sorted(path.rglob("spikes.h5"))
    if len(found) != 1:
        raise SystemExit(f"expected exactly one spikes.h5 under {path}, found {len(found)}")
    return found[0]


def content(path: Path) -> dict:
    with h5py.File(path, "r") as f:
        return {label: (g["node_ids"][()], g["timestamps"][()], dict(g.attrs)) for label, g in f["spikes"].items()}


def same_attrs(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    return all(np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in a)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    file_a, file_b = (spikes_file(Path(p)) for p in argv)
    a, b = content(file_a), content(file_b)
    problems = []
    if a.keys() != b.keys():
        problems.append(f"population groups differ: only in A {sorted(a.keys() - b.keys())}, "
                        f"only in B {sorted(b.keys() - a.keys())}")
    for label in sorted(a.keys() & b.keys()):
        (ids_a, t_a, attrs_a), (ids_b, t_b, attrs_b) = a[label], b[label]
        if not np.array_equal(ids_a, ids_b):
            problems.append(f"{label}: node_ids differ ({ids_a.size} vs {ids_b.size} spikes)")
        if not np.array_equal(t_a, t_b):
            problems.append(f"{label}: timestamps differ ({t_a.size} vs {t_b.size} spikes)")
        if not same_attrs(attrs_a, attrs_b):
            problems.append(f"{label}: attributes differ")
    if problems:
        print(f"spikes DIFFER between {file_a} and {file_b}:")
        for line in problems[:20]:
            print("  " + line)
        if len(problems) > 20:
            print(f"  ... and {len(problems) - 20} more")
        return 1
    total = sum(v[1].size for v in a.values())
    print(f"spikes identical: {len(a)} populations, {total} spikes, node_ids, timestamps and attributes "
          f"equal dataset by dataset ({file_a} vs {file_b})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
