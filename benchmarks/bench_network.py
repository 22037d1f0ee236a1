"""Time `humam network --scale 1` (the full-scale network) with a cold and a warm integral cache.

Each run is a fresh process writing to a fresh output folder, so the times include start-up,
network construction and writing network.h5. Prints one line per run and the machine load.

    python benchmarks/bench_network.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def run(cache: str, out: str) -> float:
    env = dict(os.environ, HUMAM_CACHE_DIR=cache)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "humam", "network", "--scale", "1", "--out", out, "--summary"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}, cpus: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        cold = run(cache, os.path.join(tmp, "out-cold"))
        print(f"cold integral cache: {cold:.1f} s")
        for i in range(args.repeats):
            warm = run(cache, os.path.join(tmp, f"out-warm-{i}"))
            print(f"warm integral cache, run {i + 1}: {warm:.2f} s")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
