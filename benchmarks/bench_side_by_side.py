"""humam against the published code on the same network, side by side and interleaved.

    python benchmarks/bench_side_by_side.py [--threads 2] [--repeats 2] [--published DIR] [--json FILE]
        [--synapse-models static_synapse,static_synapse_hpc] [--published-network-built]

Both simulate the published down-scaled example (N = K = 0.005, published down-scaling, chi = 1,
seed 2903, 2,500 ms): the published code through its runner (``run.sh --experiment chi1.0``, a
black box that prints ``RESULT {...}`` lines), humam through ``humam simulate downscaled_ground``
in a fresh process each time. The runs alternate (published, humam, published, humam, ...) so that
a change of the host's speed during the benchmark hits both. Printed: every run's set-up time
(create + connect), simulation time, peak memory (the published code: VmHWM of its simulating
process; humam: the maximum resident set of the whole ``humam simulate`` process, writing the
spike file included) and spike count, then the ratios humam / published of the medians, and whether the spike counts are equal
(they must be: same network, seed and call sequence). Benchmark on an idle machine.
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

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PUBLISHED = ROOT.parent / "shared" / "bench" / "published"
EXPERIMENT = "downscaled_ground"
PUBLISHED_EXPERIMENT = "chi1.0"


def _load() -> float:
    return os.getloadavg()[0]


def run_published(runner: Path, threads: int, phase: str) -> dict:
    """One phase of the published code's runner; its RESULT line as a dict."""
    env = {**os.environ, "HUMAM_DATA_DIR": os.environ.get("HUMAM_DATA_DIR", str(ROOT.parent / "shared" / "humam-data"))}
    result = subprocess.run(["bash", str(runner / "run.sh"), "--threads", str(threads), "--experiment",
                             PUBLISHED_EXPERIMENT, "--phases", phase], capture_output=True, text=True, env=env)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"published code, phase {phase}: exit {result.returncode}\n{result.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def run_humam(out: Path, threads: int, synapse_model: str) -> dict:
    """One ``humam simulate`` of the example in a fresh process; timings from its run.json."""
    command = [sys.executable, "-m", "humam", "-q", "simulate", EXPERIMENT, "--threads", str(threads), "--out",
               str(out), "--force", "--set", f"simulation.synapse_model={synapse_model}"]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        if process.returncode != 0:
            stderr.seek(0)
            raise SystemExit(f"humam simulate: exit {process.returncode}\n{stderr.read().decode()[-3000:]}")
    record = json.loads(max(out.glob("*/*/run.json"), key=lambda p: p.stat().st_mtime).read_text())
    return {"setup_s": record["timings"]["create_connect_s"], "simulate_s": record["timings"]["simulate_s"],
            "spikes": record["spikes"], "connections": record["connections"],
            # the whole process, writing the spike file included (ru_maxrss of the child, kB)
            "peak_rss_MB": usage.ru_maxrss / 1024, "peak_rss_end_of_simulation_MB":
                max(record["peak_memory_bytes_per_rank"]) / 2**20, "process_s": wall,
            "nest_timers": record.get("nest_timers", {})}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="runs of each code (interleaved)")
    parser.add_argument("--published", type=Path, default=DEFAULT_PUBLISHED, help="folder of the published runner")
    parser.add_argument("--json", type=Path, help="also write every run and the ratios to this JSON file")
    parser.add_argument("--synapse-models", default="static_synapse",
                        help="humam's recurrent synapse model(s), comma-separated: one humam run of each per repeat")
    parser.add_argument("--published-network-built", action="store_true",
                        help="skip the published code's network phase (it was run before on this machine)")
    args = parser.parse_args(argv)
    models = args.synapse_models.split(",")
    if not (args.published / "run.sh").is_file():
        raise SystemExit(f"no published runner at {args.published} (run.sh); give --published DIR")

    print(f"machine: {os.cpu_count()} cores, load average {_load():.2f}; threads {args.threads}", flush=True)
    network = {} if args.published_network_built else run_published(args.published, args.threads, "net")
    print(f"published network construction: {network.get('network_build_s', float('nan')):.1f} s", flush=True)
    codes = ["published", *(f"humam {model}" for model in models)]
    runs: dict[str, list[dict]] = {code: [] for code in codes}
    with tempfile.TemporaryDirectory(prefix="humam-bench-") as tmp:
        out = Path(tmp) / "out"
        subprocess.run([sys.executable, "-m", "humam", "-q", "network", "--experiment", EXPERIMENT, "--out", str(out)],
                       check=True)
        for repeat in range(args.repeats):
            for code in codes:
                load = _load()
                result = run_published(args.published, args.threads, "sim") if code == "published" \
                    else run_humam(out, args.threads, code.split()[1])
                result["load_before"] = load
                runs[code].append(result)
                print(f"run {repeat + 1} {code:<29} set-up {result['setup_s']:6.2f} s  simulate {result['simulate_s']:7.2f} s  "
                      f"peak {result['peak_rss_MB'] / 1024:5.2f} GB  spikes {result['spikes']:>9,}  load {load:.2f}",
                      flush=True)

    def median(code, key):
        return statistics.median(r[key] for r in runs[code])

    ratios, identical = {}, True
    spikes = {code: sorted({r["spikes"] for r in runs[code]}) for code in runs}
    for code in codes[1:]:
        ratios[code] = {key: median(code, key) / median("published", key)
                        for key in ("setup_s", "simulate_s", "peak_rss_MB")}
        same = spikes[code] == spikes["published"] and len(spikes[code]) == 1
        identical &= same
        print(f"{code} / published (medians): set-up {ratios[code]['setup_s']:.2f}, simulation "
              f"{ratios[code]['simulate_s']:.2f}, peak memory {ratios[code]['peak_rss_MB']:.2f}; spikes "
              f"{'identical' if same else 'DIFFER'} ({spikes[code]} vs {spikes['published']})")
    if args.json:
        args.json.write_text(json.dumps({"threads": args.threads, "runs": runs, "ratios": ratios,
                                         "spikes_identical": identical, "network": network}, indent=2))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
