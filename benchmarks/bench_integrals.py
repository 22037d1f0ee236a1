"""Benchmark of the type-I/II split integrals (docs/model.md §4.4) for 34 representative areas.

Prints, each run in a fresh Python process:

* cold: empty integral cache (a temporary HUMAM_CACHE_DIR), numba's compiled-function cache as is;
* cold + compile: also an empty numba cache (NUMBA_CACHE_DIR), so the integrand is compiled;
* warm: the cache filled by the cold run;

and the time of the plain-Python reference integrals for a few areas (also checked to be
bit-identical to the fast results). Usage: python benchmarks/bench_integrals.py [--reference N] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

N_AREAS = 34
T_RANGE = (1.58, 4.03)      # total thickness T_D (mm)
S_RANGE = (980.0, 13799.0)  # surface Surf_D (mm^2)


def representative_areas() -> tuple[list[float], list[float]]:
    """34 (thickness, surface) pairs spanning both ranges, extremes included, in scrambled pairing."""
    thickness = np.linspace(*T_RANGE, N_AREAS)
    surface = np.geomspace(*S_RANGE, N_AREAS)
    surface = surface[np.random.default_rng(34).permutation(N_AREAS)]
    return [float(round(t, 4)) for t in thickness], [float(round(s, 1)) for s in surface]


def _child(workers: int | None) -> None:
    t0 = time.perf_counter()
    c0 = time.process_time()
    from humam.lateral_integrals import split_integrals_many

    t_import = time.perf_counter() - t0
    thickness, surface = representative_areas()
    p_in, p_out = split_integrals_many(thickness, surface, workers=workers)
    print(json.dumps({
        "import_s": t_import,
        "total_s": time.perf_counter() - t0,
        "cpu_s_main_process": time.process_time() - c0,
        "p_in": [v.hex() for v in p_in],
        "p_out": [v.hex() for v in p_out],
    }))


def _run_child(env: dict, workers: int | None) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child"]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - t0
    return result


def _load() -> str:
    try:
        return "load average %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load average unavailable"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: all CPUs)")
    parser.add_argument("--reference", type=int, default=3, help="areas timed with the reference integrand")
    args = parser.parse_args()
    if args.child:
        _child(args.workers)
        return

    print(f"{N_AREAS} areas, {2 * N_AREAS} integrals; CPUs: {os.cpu_count()}; {_load()} (start)")
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as numba_cache:
        base = dict(os.environ, HUMAM_CACHE_DIR=cache)
        runs = {}
        runs["cold + compile"] = _run_child(dict(base, NUMBA_CACHE_DIR=numba_cache), args.workers)
        for name in ("cold", "warm"):
            if name == "cold":
                for entry in os.listdir(cache):  # empty the integral cache again
                    subprocess.run(["rm", "-rf", os.path.join(cache, entry)], check=True)
            runs[name] = _run_child(dict(base, NUMBA_CACHE_DIR=numba_cache), args.workers)
        for name, r in runs.items():
            print(f"{name:>15}: {r['process_s']:6.2f} s for the whole process "
                  f"(import {r['import_s']:.2f} s, import + integrals {r['total_s']:.2f} s, "
                  f"CPU in main process {r['cpu_s_main_process']:.2f} s)")
        same = all(runs[n]["p_in"] == runs["cold"]["p_in"] and runs[n]["p_out"] == runs["cold"]["p_out"]
                   for n in runs)
        print(f"identical results in all runs: {same}")

    if args.reference > 0:
        from humam.lateral_integrals import _reference_split_integrals

        thickness, surface = representative_areas()
        picks = np.linspace(0, N_AREAS - 1, args.reference).round().astype(int)
        total = 0.0
        identical = True
        for i in picks:
            c0 = time.process_time()
            ref = _reference_split_integrals(thickness[i], surface[i])
            total += time.process_time() - c0
            fast = (float.fromhex(runs["cold"]["p_in"][i]), float.fromhex(runs["cold"]["p_out"][i]))
            identical &= ref == fast
        print(f"      reference: {total / len(picks):.2f} s CPU per area (2 integrals), mean of {len(picks)}; "
              f"extrapolated {total / len(picks) * N_AREAS:.0f} s for {N_AREAS} areas; "
              f"bit-identical to the fast results: {identical}")
    print(_load() + " (end)")


if __name__ == "__main__":
    main()
