"""Time every analysis metric (docs/model.md §8) of one simulation and print per-metric timings and the total.

    python benchmarks/bench_analysis.py [RUN] [--network NETWORK_H5] [--repeat 3]
    python benchmarks/bench_analysis.py --scale 0.01 --t-sim 10000      # simulate that run first

RUN is a run folder written by ``humam simulate`` (``<out>/<net_hash>/<sim_hash>/``) or its
``spikes.h5``; the network defaults to ``network.h5`` of the parent folder. Without RUN the published
N = K = 0.005 example (χ = 1, seed 2903, 2 threads) is simulated for ``--t-sim`` ms (default 2500)
at ``--scale`` (default 0.005) into ``--cache`` and reused by later calls.

Targets on an idle 2-core machine: all metrics of the 2.5 s N = K = 0.005 run in under 3 s, of a
10 s N = K = 0.01 run in under 10 s. The load average before and after is printed, because a loaded
machine is slower. The first repetition includes the first use of SciPy's ODE solver and h5py in
this process; the best repetition is printed too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _simulated_run(scale: float, t_sim_ms: float, cache: Path) -> Path:
    """Simulate (or reuse) the down-scaled example at ``scale`` for ``t_sim_ms``; its run folder."""
    cache.mkdir(parents=True, exist_ok=True)
    experiment = cache / f"bench_n{scale:g}_t{t_sim_ms:g}.yaml"
    experiment.write_text(
        "description: analysis benchmark run (published down-scaled example at another scale/duration)\n"
        "network:\n  scaling: {chi: 1.0, chi_I: 2.0}\n"
        f"  downscaling: {{n_scaling: {scale!r}, k_scaling: {scale!r}, scaling_type: linear}}\n"
        f"simulation:\n  t_sim_ms: {float(t_sim_ms)!r}\n  seed: 2903\n"
    )
    out = cache / "runs"
    subprocess.run([sys.executable, "-m", "humam", "simulate", str(experiment), "--threads", "2", "--out", str(out)],
                   check=True)
    import json

    for run_json in sorted(out.glob("*/*/run.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        record = json.loads(run_json.read_text())
        if record.get("experiment") == experiment.stem:
            return run_json.parent
    raise RuntimeError(f"no finished run of {experiment} under {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", help="run folder or spikes.h5 (default: simulate the example)")
    parser.add_argument("--network", help="network.h5 (default: ../network.h5 of the run folder)")
    parser.add_argument("--scale", type=float, default=0.005, help="n = k of the simulated default run")
    parser.add_argument("--t-sim", type=float, default=2500.0, help="ms, for the simulated default run")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "humam-bench-analysis"),
                        help="folder of the simulated default runs")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    if args.run:
        run = Path(args.run)
        spikes = run if run.suffix == ".h5" else run / "spikes.h5"
    else:
        spikes = _simulated_run(args.scale, args.t_sim, Path(args.cache)) / "spikes.h5"
    network = Path(args.network) if args.network else spikes.parent.parent / "network.h5"
    print(f"spikes: {spikes}\nnetwork: {network}")
    print(f"load average before: {tuple(round(x, 2) for x in os.getloadavg())}, cpus: {os.cpu_count()}")

    start = time.perf_counter()
    from humam import analysis

    print(f"import humam.analysis: {time.perf_counter() - start:.2f} s")
    totals, cpu_totals = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for repetition in range(args.repeat):
            start, cpu = time.perf_counter(), time.process_time()
            results = analysis.analyse_run(spikes, network, analysis.resolve_params({"exclude_diagonal": False}))
            analysis.write_analysis(results, Path(tmp) / "analysis.h5")
            totals.append(time.perf_counter() - start)
            cpu_totals.append(time.process_time() - cpu)
            written = totals[-1] - sum(results["timings_s"].values())
            timings = {**results["timings_s"], "write+other": written}
            cpu_timings = {**results["cpu_timings_s"],
                           "write+other": cpu_totals[-1] - sum(results["cpu_timings_s"].values())}
            if repetition == 0:
                s = results["summary"]
                print(f"{s['neurons']} neurons, {s['spikes']} spikes, t_sim {results['window']['t_sim_ms']:.0f} ms; "
                      f"rates: population mean {s['population_mean_rate_hz']:.1f}, neuron-weighted "
                      f"{s['neuron_weighted_rate_hz']:.1f} spikes/s; CV {s['mean_cv_isi']:.2f}, LvR {s['mean_lvr']:.2f}, "
                      f"cc {s['mean_cc']:.4f}, synaptic vs BOLD FC {s['synaptic_vs_bold_fc']:.3f}")
                first, first_cpu = timings, cpu_timings
            print(f"repetition {repetition + 1}: wall {totals[-1]:.2f} s, CPU {cpu_totals[-1]:.2f} s")
    print(f"per-metric timings of the first repetition (s): {'wall':>8s} {'CPU':>8s}")
    for key, value in first.items():
        print(f"  {key:45s} {value:8.3f} {first_cpu[key]:8.3f}")
    print(f"total wall: first {totals[0]:.2f} s, best {min(totals):.2f} s of {len(totals)}; "
          f"CPU: first {cpu_totals[0]:.2f} s, best {min(cpu_totals):.2f} s")
    print(f"load average after: {tuple(round(x, 2) for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
