"""Where the simulation time goes: the run of one network with parts of the protocol left out, each
variant in a fresh process, variants interleaved, and the cost per neuron and time step of each part.

    python benchmarks/bench_cost_split.py [--experiment ground_state] [--profile laptop]
                                          [--t-sim 1000] [--threads 2] [--repeats 2]

Variants (docs/model.md §7.6 numbers the protocol's steps):

    neurons          the populations only (step 2), one Simulate call: the neuron update and its
                     ring buffers
    drive            + the Poisson generators connected (step 7): the external drive's draws
    recurrent        + the recurrent connections (step 6): spike delivery, and ring buffers as
                     long as the largest delay
    full             + the recording (step 9) and the chunked run that empties the recorder:
                     what `humam simulate` runs
    spike_recorder   recurrent + a spike_recorder connected to every neuron, one Simulate call:
                     how the published code records
    hpc              full with static_synapse_hpc for the recurrent connections

Each part's cost is the difference of the median simulation times of consecutive variants, divided
by neurons x time steps. Run it on an idle machine (NEST slows 10-20x when the cores are shared);
the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = ("neurons", "drive", "recurrent", "full", "spike_recorder", "hpc")
#: (part, variant with it, variant without it)
PARTS = (("neuron update", "neurons", None), ("external Poisson drive", "drive", "neurons"),
         ("recurrent connections", "recurrent", "drive"), ("recording, chunked run", "full", "recurrent"),
         ("spike_recorder instead", "spike_recorder", "full"), ("static_synapse_hpc instead", "hpc", "full"))


def run_variant(network_path: str, variant: str, sim: dict, threads: int) -> dict:
    """Set up and simulate one variant in this process; the measurements as a dict."""
    import numpy as np

    from humam import simulation as s
    from humam.network_file import load_network

    net = load_network(network_path)
    sim = dict(sim, synapse_model="static_synapse_hpc" if variant == "hpc" else sim["synapse_model"])
    nest = s._import_nest(1)
    log = s._Log(0, show_progress=False)
    plan = s.connection_plan(net, sim["connection_rule"])
    start = time.perf_counter()
    s._configure_kernel(nest, net, sim, threads)
    populations = s._create_populations(nest, net, sim)
    devices = s._create_devices(nest, net)
    if variant not in ("neurons", "drive"):
        s._connect_populations(nest, net, sim, plan, populations, log)
    if variant != "neurons":
        s._connect_drive(nest, net, sim, populations, devices)
    if variant == "spike_recorder":
        recorder = nest.Create("spike_recorder")
        nest.Connect(nest.NodeCollection(list(range(1, int(np.sum(net.neuron_numbers)) + 1))), recorder)
    elif variant not in ("neurons", "drive", "recurrent"):
        s._connect_recording(nest, populations, devices)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    if variant in ("full", "hpc"):
        senders, _, timers = s._run(nest, float(sim["t_sim_ms"]), devices.recorder, log)
        spikes = int(senders.size)
    else:
        nest.Simulate(float(sim["t_sim_ms"]))
        spikes, timers = int(nest.GetKernelStatus("local_spike_counter")), s.nest_timers(nest)
    simulate = time.perf_counter() - start
    return {"variant": variant, "setup_s": setup, "simulate_s": simulate, "spikes": spikes,
            "neurons": int(np.sum(net.neuron_numbers)), "connections": int(nest.num_connections),
            "steps": int(round(sim["t_sim_ms"] / net.resolution_ms)), "peak_memory_bytes": s._peak_memory_bytes(),
            "nest_timers": timers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="ground_state")
    parser.add_argument("--profile", default="laptop", help="a profile, or 'none' for the experiment as it is")
    parser.add_argument("--t-sim", type=float, default=1000.0, help="biological time in ms")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--one", nargs=2, metavar=("NETWORK", "VARIANT"), help=argparse.SUPPRESS)
    parser.add_argument("--sim", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_variant(args.one[0], args.one[1], json.loads(args.sim), args.threads)))
        return

    from humam import parameters
    from humam.build import build_network
    from humam.network_file import save_network

    profile = None if args.profile == "none" else parameters.load_profile(args.profile)
    params = parameters.apply_profile(parameters.resolve(args.experiment), profile)
    sim = dict(params["simulation"], t_sim_ms=args.t_sim)
    variants = args.variants.split(",")
    print(f"load average before: {os.getloadavg()}, cpus: {os.cpu_count()}")
    results: dict[str, list[dict]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        network_path = str(Path(tmp) / "network.h5")
        save_network(build_network(params["network"]), network_path)
        for repeat in range(args.repeats):
            for variant in variants:
                out = subprocess.run([sys.executable, __file__, "--one", network_path, variant, "--sim",
                                      json.dumps(sim), "--threads", str(args.threads)],
                                     check=True, capture_output=True, text=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                results[variant].append(result)
                print(f"  run {repeat + 1} {variant:10s} set-up {result['setup_s']:6.2f} s  simulate "
                      f"{result['simulate_s']:7.2f} s  spikes {result['spikes']:>9,}  peak "
                      f"{result['peak_memory_bytes'] / 1e9:.2f} GB", flush=True)
    print(f"load average after: {os.getloadavg()}")

    median = {v: statistics.median(r["simulate_s"] for r in rs) for v, rs in results.items() if rs}
    some = next(iter(results.values()))[0]
    neuron_steps = some["neurons"] * some["steps"]
    print(f"\n{args.experiment} on profile {args.profile}: {some['neurons']:,} neurons, {args.t_sim:.0f} ms, "
          f"{args.threads} threads; medians of {args.repeats} runs")
    print(f"{'part':30s} {'time (s)':>9s} {'share of full':>14s} {'ns per neuron-step':>19s}")
    for part, with_it, without in PARTS:
        if with_it not in median or (without is not None and without not in median):
            continue
        cost = median[with_it] - (median[without] if without else 0.0)
        share = f"{cost / median['full']:13.0%}" if "full" in median else ""
        print(f"{part:30s} {cost:9.2f} {share:>14s} {cost / neuron_steps * 1e9 * args.threads:19.1f}")
    if "full" in median:
        print(f"{'full run':30s} {median['full']:9.2f} {'100%':>14s} "
              f"{median['full'] / neuron_steps * 1e9 * args.threads:19.1f}")
    print("(ns per neuron-step counts CPU time: wall time x threads)")
    timers = results.get("full", [{}])[0].get("nest_timers", {})
    if "time_update" in timers:
        import numpy as np

        print("\nNEST's detailed timers of the first 'full' run (s, per thread):")
        for key in ("time_simulate", "time_update", "time_deliver_spike_data", "time_gather_spike_data",
                    "time_communicate_spike_data", "time_omp_synchronization_simulation"):
            if key in timers:
                print(f"  {key:40s} {' '.join(f'{v:7.2f}' for v in np.ravel(timers[key]))}")


if __name__ == "__main__":
    main()
