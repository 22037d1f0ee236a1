"""Build and simulate the published N = K = 0.005 example (chi = 1, seed 2903) and print the phase
timings, connections, spikes, mean rate and peak memory.

    python benchmarks/bench_simulation.py [--t-sim 1000] [--threads 2] [--experiment downscaled_ground]

Run it on an idle machine: with other processes on the cores NEST runs 10-20x slower. The load
average before and after the run is printed so that a loaded measurement can be recognised.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="downscaled_ground")
    parser.add_argument("--t-sim", type=float, default=1000.0, help="biological time in ms")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--launcher", default="", help="e.g. 'mpiexec -n 2' for an MPI run")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}, cpus: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as out:
        command = [*args.launcher.split(), sys.executable, "-m", "humam", "simulate", args.experiment,
                   "--t-sim", str(args.t_sim), "--threads", str(args.threads), "--out", out]
        start = time.perf_counter()
        subprocess.run(command, check=True)
        wall = time.perf_counter() - start
        run = json.loads(next(Path(out).glob("*/*/run.json")).read_text())
    t = run["timings"]
    print(f"experiment {args.experiment}: {run['neurons']} neurons, {run['connections']} connections, "
          f"{run['mpi_processes']} process(es) x {run['threads']} thread(s), NEST {run['nest']['version']}")
    print(f"set-up (create + connect): {t['create_connect_s']:.2f} s")
    print(f"simulation of {args.t_sim:.0f} ms: {t['simulate_s']:.2f} s "
          f"({t['real_time_factor']:.2f} s per biological second)")
    print(f"spikes: {run['spikes']}, mean rate {run['mean_rate_hz']:.2f} spikes/s")
    peaks = run["peak_memory_bytes_per_rank"]
    print(f"peak memory per rank: {', '.join(f'{p / 1e9:.2f} GB' for p in peaks)}; "
          f"predicted {run['memory_estimate_bytes']['total'] / 1e9:.2f} GB")
    print(f"whole command (incl. start-up and network file): {wall:.1f} s")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
