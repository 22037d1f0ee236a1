"""NEST simulation of a network description (docs/model.md §7). The only module that imports NEST.

:func:`simulate` instantiates a :class:`~humam.network.Network` in NEST 3.10 following the call
sequence of docs/model.md §7.6 exactly (that sequence fixes every random draw, so the same seed and the same
number of virtual processes give the same spikes whatever the split into MPI ranks × threads),
simulates it in one call and writes

* ``spikes.h5``: a SONATA spike file, ``/spikes/<population>/node_ids`` (0-based within the
  population) and ``/timestamps`` (ms), sorted by time then node id, population size and first NEST
  node id as attributes (written by :func:`humam.spikefile.write_spikes`);
* ``run.json``: resolved simulation parameters, hashes, seeds, ranks, threads, NEST build, library
  versions, container identity, phase timings, real-time factor and peak memory per rank.

Both are written to temporary names and renamed when complete, ``run.json`` last: a folder without
``run.json`` is an unfinished run and is redone. Under MPI, rank 0 alone prints and writes; spikes
of the other ranks are gathered with mpi4py.

Everything that does not need NEST (the connection plan, the memory estimate, launcher detection)
is plain NumPy so that it can be tested and used without a simulator.
"""

from __future__ import annotations

import json
import logging
import math
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import layout
from .errors import HumamError, ParameterError
from .h5io import atomic_write_text, json_default
from .network import NEURON_PARAMETERS, Network
from .spikefile import write_spikes
from .tables import POPULATION_IS_EXCITATORY
#: Synapse models of the recurrent connections (``simulation.synapse_model``): same dynamics and
#: spikes, different costs (benchmarks/README.md).
SYNAPSE_MODELS = ("static_synapse", "static_synapse_hpc")


class SimulationError(HumamError):
    """A simulation cannot be run as asked (missing NEST, MPI mismatch, too little memory)."""


# ---------------------------------------------------------------------------------------------
# What to create and connect, prepared as arrays (no NEST)


@dataclass(frozen=True)
class ConnectionPlan:
    """Every recurrent ``Connect`` call, target-major in canonical order (docs/model.md §7.6 step 6)."""

    target: np.ndarray  #: canonical population index of the target
    source: np.ndarray  #: canonical population index of the source
    count: np.ndarray  #: synapses S'_ij (fixed_total_number N) or indegree (fixed_indegree)
    weight_pA: np.ndarray
    weight_sd_pA: np.ndarray
    excitatory_source: np.ndarray  #: True: weights clipped at 0 from below, False: from above
    delay_location_ms: np.ndarray  #: lognormal: mu of the underlying normal (ln ms); normal: mean (ms)
    delay_scale: np.ndarray  #: lognormal: sigma; normal: SD (ms)
    delay_min_ms: np.ndarray


def connection_plan(net: Network, rule: str = "fixed_total_number") -> ConnectionPlan:
    """The recurrent connections of ``net``: pairs of non-empty populations with S'_ij > 0 and a
    non-zero mean weight (pairs with mean weight 0, e.g. at chi = 0, are not connected)."""
    if rule not in ("fixed_total_number", "fixed_indegree"):
        raise ParameterError(f"simulation.connection_rule must be fixed_total_number or fixed_indegree, got {rule!r}.")
    nonempty = net.neuron_numbers > 0
    connect = (net.synapses > 0) & nonempty[:, None] & nonempty[None, :] & (net.weights_pA != 0.0)
    target, source = np.nonzero(connect)  # row-major: target-major, canonical order
    count = net.synapses[target, source].astype(np.int64)
    if rule == "fixed_indegree":
        count = np.round(count / net.neuron_numbers[target]).astype(np.int64)
        keep = count > 0
        target, source, count = target[keep], source[keep], count[keep]
    if net.delay_distribution == "lognormal":
        location, scale = net.delay_lognormal_mu[target, source], net.delay_lognormal_sigma[target, source]
    else:
        location, scale = net.delay_mean_ms[target, source], net.delay_sd_ms[target, source]
    return ConnectionPlan(
        target=target, source=source, count=count,
        weight_pA=net.weights_pA[target, source], weight_sd_pA=net.weights_sd_pA[target, source],
        excitatory_source=POPULATION_IS_EXCITATORY[source],
        delay_location_ms=location, delay_scale=scale, delay_min_ms=net.delay_min_ms[target, source],
    )


def expected_max_delay_ms(net: Network, plan: ConnectionPlan | None = None) -> float:
    """Median of the largest drawn delay over all synapses (ms), which sizes NEST's ring buffers.

    With S_p synapses per pair p and survival functions G_p, the largest of all draws stays below d
    with probability exp(-sum_p S_p G_p(d)); the median solves sum_p S_p G_p(d) = ln 2.
    """
    from scipy import optimize, stats

    plan = plan if plan is not None else connection_plan(net)
    if plan.count.size == 0:
        return 0.0
    counts = plan.count.astype(float)
    if net.delay_distribution == "lognormal":
        def exceedances(d):
            return float(np.sum(counts * stats.norm.sf((np.log(d) - plan.delay_location_ms) / plan.delay_scale)))
    else:
        def exceedances(d):
            return float(np.sum(counts * stats.norm.sf((d - plan.delay_location_ms) / plan.delay_scale)))
    low = float(np.max(plan.delay_min_ms))
    high = max(low, 1.0)
    while exceedances(high) > math.log(2):
        high *= 2.0
    largest = low if exceedances(low) <= math.log(2) else optimize.brentq(lambda d: exceedances(d) - math.log(2), low, high)
    return min(largest, net.delay_cap_ms) if net.delay_cap_ms > 0 else largest


#: Memory model of a NEST 3.10 run (bytes), fitted to peak memory measured at N = K = 0.002, 0.005,
#: 0.01 and 0.02 with 2 threads (benchmarks/README.md); per synapse model. The per-neuron part is
#: small because no neuron is connected to a device (spikes are recorded through the sink, step 9).
MEMORY_MODEL = {
    "static_synapse": {"base": 228e6, "per_neuron": 1.78e3, "per_synapse": 40.4},
    "static_synapse_hpc": {"base": 228e6, "per_neuron": 1.78e3, "per_synapse": 24.4},
}
#: NEST's ring buffers: 4 doubles per neuron and 0.1 ms step of the largest delay.
RING_BUFFER_BYTES_PER_NEURON_MS = 322.0
#: Spikes held by the in-memory recorder and gathered on rank 0 (sender, time).
BYTES_PER_SPIKE = 24.0


def estimate_memory_bytes(net: Network, t_sim_ms: float, synapse_model: str = "static_synapse", ranks: int = 1,
                          expected_rate_hz: float = 20.0) -> dict[str, float]:
    """Predicted peak memory of one run, per component and in total (bytes, all ranks together),
    and the expected largest delay (ms) that sizes the ring buffers."""
    model = MEMORY_MODEL[synapse_model]
    plan = connection_plan(net)
    neurons = float(net.neuron_numbers.sum())
    max_delay = expected_max_delay_ms(net, plan)
    parts = {
        "base": model["base"] * ranks,
        "synapses": model["per_synapse"] * float(plan.count.sum()),
        "neurons": model["per_neuron"] * neurons,
        "ring_buffers": RING_BUFFER_BYTES_PER_NEURON_MS * neurons * max_delay,
        "spikes": BYTES_PER_SPIKE * neurons * expected_rate_hz * t_sim_ms / 1000.0,
    }
    parts["total"] = sum(parts.values())
    parts["max_delay_ms"] = max_delay
    return parts


#: What to change when a component of the memory estimate is what does not fit.
_MEMORY_REMEDIES = {
    "spikes": "the recorded spikes are what does not fit: simulate a shorter time (simulation.t_sim_ms), "
              "or split the run into shorter ones",
    "ring_buffers": "NEST's ring buffers for delays up to about {max_delay:.0f} ms are what does not fit: use "
                    "a smaller scale, more nodes, or a delay cap (network.delays.cap_ms, a model change)",
    "synapses": "the synapses are what does not fit: use a smaller scale, static_synapse_hpc "
                "(simulation.synapse_model) or more nodes",
    "neurons": "the neurons are what does not fit: use a smaller scale or more nodes",
    "base": "NEST's own base memory per process is what does not fit: use fewer MPI processes per node",
}


def memory_refusal(estimate: dict, needed_bytes: float, available_bytes: float, t_sim_ms: float) -> str:
    """The message refusing a run whose estimated memory exceeds what is available: the estimate by
    component and what to change for the largest one."""
    parts = ("spikes", "ring_buffers", "synapses", "neurons", "base")
    largest = max(parts, key=lambda key: estimate[key])
    detail = ", ".join(f"{estimate[key] / 1e9:.1f} GB {key.replace('_', ' ')}" for key in parts)
    remedy = _MEMORY_REMEDIES[largest].format(max_delay=estimate["max_delay_ms"])
    return (f"This run needs about {needed_bytes / 1e9:.1f} GB on this node ({detail}; {t_sim_ms:g} ms simulated), "
            f"but only {available_bytes / 1e9:.1f} GB are available; {remedy}. --force-memory runs it anyway.")


#: Time model of a NEST 3.10 run (core-seconds), calibrated on single-node runs of the published
#: N = K = 0.005 example (benchmarks/README.md): about 15 s per biological second on 2 idle cores, and
#: hardly less for the preserve_input_statistics scheme, which fires 29 times fewer spikes, so the
#: cost is per neuron and time step (neuron update, Poisson drive, ring buffers) far more than per
#: spike. Communication between nodes is not in the model.
CORE_SECONDS_PER_NEURON_STEP = 1.7e-7
CORE_SECONDS_PER_SYNAPTIC_EVENT = 3.0e-8
#: Memory kept free on a node beyond the estimate (the model's uncertainty at scales never measured).
MEMORY_HEADROOM = 0.3


def plan_run(net: Network, sim: dict, processes: int, *, memory_per_node_bytes: float, cores_per_node: int,
             expected_rate_hz: float = 2.0) -> dict:
    """The plan of a run of ``net`` on ``processes`` MPI processes x ``sim["threads"]`` threads: the
    memory estimate (:func:`estimate_memory_bytes`), the nodes it needs with
    :data:`MEMORY_HEADROOM` (and enough cores for the processes' threads), memory per node, and the
    expected wall time of the simulation from the calibrated time model (``expected_rate_hz``: the mean
    rate assumed for the synaptic events; the full-scale ground state fires at about 0.4–1 spikes/s,
    down-scaled networks with the published scheme at tens)."""
    threads = int(sim["threads"])
    t_sim_ms = float(sim["t_sim_ms"])
    estimate = estimate_memory_bytes(net, t_sim_ms, sim["synapse_model"], processes, expected_rate_hz)
    by_memory = math.ceil(estimate["total"] * (1.0 + MEMORY_HEADROOM) / memory_per_node_bytes)
    by_cores = math.ceil(processes * threads / cores_per_node)
    nodes = max(1, by_memory, by_cores)
    neurons = float(net.neuron_numbers.sum())
    synapses = float(connection_plan(net).count.sum())
    steps = t_sim_ms / float(net.resolution_ms)
    events = synapses * expected_rate_hz * t_sim_ms / 1000.0
    core_seconds = CORE_SECONDS_PER_NEURON_STEP * neurons * steps + CORE_SECONDS_PER_SYNAPTIC_EVENT * events
    return {
        "neurons": int(neurons), "synapses": int(synapses), "processes": int(processes), "threads": threads,
        "virtual_processes": int(processes) * threads, "nodes": int(nodes),
        "nodes_for_memory": int(by_memory), "nodes_for_cores": int(by_cores),
        "processes_per_node": math.ceil(processes / nodes),
        "memory_estimate_bytes": estimate, "memory_per_node_bytes": estimate["total"] / nodes,
        "memory_per_node_available_bytes": float(memory_per_node_bytes),
        "t_sim_ms": t_sim_ms, "expected_rate_hz": expected_rate_hz,
        "expected_simulation_s": core_seconds / (processes * threads),
    }


def ranks_on_this_node(world_size: int) -> int:
    """MPI processes sharing this node's memory (launcher variables; all of them if unknown)."""
    for variable in ("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"):
        value = os.environ.get(variable, "")
        if value.isdigit():
            return min(int(value), world_size)
    return world_size


def available_memory_bytes() -> float:
    """Memory available to this run: MemAvailable of /proc/meminfo, capped by a cgroup limit."""
    available = math.inf
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = float(line.split()[1]) * 1024
    except OSError:
        pass
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            available = min(available, float(text))
    return available


# ---------------------------------------------------------------------------------------------
# MPI launcher detection (no NEST, no mpi4py)

_LAUNCHER_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS")


def launcher_world_size() -> int:
    """Number of processes an MPI launcher (mpirun, mpiexec, srun) started, 1 if none."""
    for variable in _LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(variable, "")
        if value.isdigit() and int(value) > 1:
            if variable == "SLURM_NTASKS" and "SLURM_STEP_ID" not in os.environ:
                continue  # inside an allocation but not a parallel step
            return int(value)
    return 1


_LAUNCHER_RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID")


def launcher_rank() -> int:
    """This process's rank as set by the MPI launcher (0 without one)."""
    if launcher_world_size() == 1:
        return 0
    for variable in _LAUNCHER_RANK_VARIABLES:
        value = os.environ.get(variable, "")
        if value.isdigit():
            return int(value)
    return 0


# ---------------------------------------------------------------------------------------------
# NEST


def _import_nest(world_size: int):
    os.environ.setdefault("PYNEST_QUIET", "1")
    try:
        import nest
    except ImportError as exc:
        raise SimulationError(
            "NEST is not installed. Install it with 'pip install nest-simulator==3.10.0' (threads only) or "
            "build it with MPI with 'bash scripts/provision-nest.sh' (see README)."
        ) from exc
    if world_size > 1 and not nest_has_mpi(nest):
        raise SimulationError(
            f"This run was started by an MPI launcher with {world_size} processes, but the installed NEST "
            f"{nest.__version__} was built without MPI: every process would simulate the whole network on "
            f"its own. Install the MPI-enabled NEST ('bash scripts/provision-nest.sh') or run without the "
            f"launcher and use --threads instead."
        )
    return nest


def nest_has_mpi(nest) -> bool:
    """True if this NEST was built with MPI (the PyPI wheel is not)."""
    return bool(nest.build_info.get("have_mpi", False))


class _Comm:
    """The few collective operations a run needs; a single process without mpi4py works too."""

    def __init__(self, nest):
        self.rank = nest.Rank()
        self.size = nest.NumProcesses()
        self._mpi = None
        if self.size > 1:
            try:
                from mpi4py import MPI
            except ImportError as exc:
                raise SimulationError(
                    "MPI runs need mpi4py to gather spikes: 'pip install mpi4py' in this environment."
                ) from exc
            self._mpi = MPI.COMM_WORLD

    def gather(self, value):
        return [value] if self._mpi is None else self._mpi.gather(value, root=0)

    def bcast(self, value):
        return value if self._mpi is None else self._mpi.bcast(value, root=0)

    def barrier(self):
        if self._mpi is not None:
            self._mpi.Barrier()


def _nest_neuron_params(net: Network, index: int) -> dict:
    """NEST's names for the neuron parameters of population ``index`` (units stripped from keys)."""
    return {name.rsplit("_", 1)[0]: float(net.neuron_params[name][index]) for name in NEURON_PARAMETERS}


def _configure_kernel(nest, net: Network, sim: dict, threads: int) -> None:
    """Step 1 of docs/model.md §7.6: a fresh kernel with the run's threads, resolution and master seed."""
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.WARNING
    nest.set(local_num_threads=threads)
    nest.set(resolution=float(net.resolution_ms), rng_seed=int(sim["seed"]))


def _create_populations(nest, net: Network, sim: dict) -> dict[int, object]:
    """Step 2: one ``iaf_psc_exp`` population per non-empty population key, with its parameters, DC
    drive, initial membrane potentials and (optional) per-neuron heterogeneity."""
    populations: dict[int, object] = {}
    for i in np.flatnonzero(net.neuron_numbers > 0):
        nodes = nest.Create("iaf_psc_exp", int(net.neuron_numbers[i]))
        nodes.set(_nest_neuron_params(net, i))
        nodes.set(I_e=float(net.dc_drive_pA[i]))
        nodes.V_m = nest.random.normal(mean=float(sim["V0_mean_mV"]), std=float(sim["V0_sd_mV"]))
        for name, draw in net.heterogeneity.items():  # order V_th, C_m, tau_m
            if draw["rel_sd"][i] > 0:
                value = float(draw["offset"][i]) + nest.random.lognormal(mean=float(draw["mu"][i]),
                                                                         std=float(draw["sigma"][i]))
                nodes.set({name.rsplit("_", 1)[0]: value})
        populations[int(i)] = nodes
    return populations


#: The weightless synapse model of the recording connections (step 9): a copy of
#: ``static_synapse_hom_w_hpc`` that reports every spike it transmits to the weight recorder.
RECORDING_SYNAPSE = "humam_recording_synapse"


@dataclass
class _Devices:
    recorder: object  #: the weight recorder that receives every spike through the recording synapses
    generators: dict[int, object]  #: one Poisson generator per population (the external drive)
    perturbers: list  #: one spike generator per single-spike perturbation


def _create_devices(nest, net: Network) -> _Devices:
    """Steps 3–5: the recorder, the Poisson generators and the single-spike generators, in this
    order (it fixes the node ids and with them the random streams)."""
    recorder = nest.Create("weight_recorder")
    generators = {int(i): nest.Create("poisson_generator", params={"rate": float(net.poisson_rate_hz[i])})
                  for i in np.flatnonzero(net.neuron_numbers > 0)}
    perturbers = [nest.Create("spike_generator", params={"spike_times": [float(t)]})
                  for t in net.perturbation["time_ms"]]
    return _Devices(recorder, generators, perturbers)


def _synapse(net: Network, sim: dict) -> tuple[str, dict]:
    """The recurrent synapse model and its extra parameters (bernoulli_synapse when transmission is
    unreliable)."""
    if net.transmission_probability != 1.0:
        return "bernoulli_synapse", {"p_transmit": float(net.transmission_probability)}
    return sim["synapse_model"], {}


def _connect_populations(nest, net: Network, sim: dict, plan: ConnectionPlan, populations: dict, log) -> None:
    """Step 6: every projection of the connection plan, with clipped normal weights and
    lognormal (or normal) delays clipped below (and, with a cap, above)."""
    synapse_model, extra = _synapse(net, sim)
    rule = sim["connection_rule"]
    count_key = "N" if rule == "fixed_total_number" else "indegree"
    progress = log.progress(len(plan.target), "connecting")
    for k in range(len(plan.target)):
        normal = nest.random.normal(mean=float(plan.weight_pA[k]), std=float(plan.weight_sd_pA[k]))
        weight = nest.math.max(normal, 0.0) if plan.excitatory_source[k] else nest.math.min(normal, 0.0)
        if net.delay_distribution == "lognormal":
            draw = nest.random.lognormal(mean=float(plan.delay_location_ms[k]), std=float(plan.delay_scale[k]))
        else:
            draw = nest.random.normal(mean=float(plan.delay_location_ms[k]), std=float(plan.delay_scale[k]))
        delay = nest.math.max(draw, float(plan.delay_min_ms[k]))
        if net.delay_cap_ms > 0:
            delay = nest.math.min(delay, float(net.delay_cap_ms))
        conn_spec = {"rule": rule, count_key: int(plan.count[k]), "allow_autapses": True, "allow_multapses": True}
        nest.Connect(populations[int(plan.source[k])], populations[int(plan.target[k])], conn_spec,
                     {"synapse_model": synapse_model, "weight": weight, "delay": delay, **extra})
        progress.update(1)
    progress.close()


def _connect_drive(nest, net: Network, sim: dict, populations: dict, devices: _Devices) -> None:
    """Steps 7–8: each Poisson generator to its population (clipped normal weights), each single
    spike to the first neuron of its population."""
    for i, generator in devices.generators.items():
        normal = nest.random.normal(mean=float(net.weights_ext_pA[i]), std=float(net.weights_ext_sd_pA[i]))
        nest.Connect(generator, populations[i], "all_to_all",
                     {"synapse_model": "static_synapse", "weight": nest.math.max(normal, 0.0),
                      "delay": float(sim["poisson_delay_ms"])})
    for generator, i, weight, delay in zip(devices.perturbers, net.perturbation["population_index"],
                                           net.perturbation["weight_pA"], net.perturbation["delay_ms"]):
        nest.Connect(generator, populations[int(i)][0], syn_spec={"weight": float(weight), "delay": float(delay)})


def _connect_recording(nest, populations: dict, devices: _Devices) -> None:
    """Step 9: every neuron, population by population in canonical order, to one silent sink neuron
    created last, through :data:`RECORDING_SYNAPSE`, which reports each spike it transmits to the
    recorder (sender and time of the spike).

    A ``spike_recorder`` would give the same spikes, but NEST keeps each neuron's connections to
    devices in a connection block of its own (1,024 connections, about 34 kB with
    ``static_synapse``), so recording that way costs 0.59 GB at N = K = 0.005. The sink's incoming
    connections share one block, about 8 bytes per neuron. No random numbers are drawn; the delay
    is the network's smallest, so NEST's communication interval and ring buffers are unchanged."""
    nest.CopyModel("static_synapse_hom_w_hpc", RECORDING_SYNAPSE, {"weight": 0.0, "weight_recorder": devices.recorder})
    sink = nest.Create("iaf_psc_exp")
    delay = float(nest.GetKernelStatus("min_delay"))
    for nodes in populations.values():
        nest.Connect(nodes, sink, "all_to_all", {"synapse_model": RECORDING_SYNAPSE, "delay": delay})


def _build(nest, net: Network, sim: dict, threads: int, plan: ConnectionPlan, log):
    """Create and connect the network in the order of docs/model.md §7.6; returns nodes and the recorder."""
    _configure_kernel(nest, net, sim, threads)
    populations = _create_populations(nest, net, sim)
    devices = _create_devices(nest, net)
    _connect_populations(nest, net, sim, plan, populations, log)
    _connect_drive(nest, net, sim, populations, devices)
    _connect_recording(nest, populations, devices)
    return populations, devices.recorder


#: Biological time per chunk of the simulation (ms): the recorder is emptied and the progress shown
#: after each chunk.
PROGRESS_CHUNK_MS = 100.0


#: NEST timers that restart with every ``Simulate`` call (and their ``_cpu`` counterparts): summed over
#: the chunks of a run.
PER_CALL_TIMERS = ("time_simulate", "time_update", "time_gather_spike_data", "time_deliver_spike_data",
                   "time_collocate_spike_data", "time_communicate_spike_data", "time_omp_synchronization_simulation",
                   "time_mpi_synchronization", "time_gather_secondary_data", "time_deliver_secondary_data")


def _run(nest, t_sim: float, recorder, log) -> tuple[np.ndarray, np.ndarray, dict]:
    """Simulate ``t_sim`` ms as ``Simulate`` calls of :data:`PROGRESS_CHUNK_MS` (NEST continues
    where the previous call ended: the same spikes as one call; tested), taking the recorded spikes
    out of the recorder after every chunk, so that NEST holds at most one chunk of them. The spikes of
    the last communication interval reach the recording synapses only in the next one, so one more
    interval (``min_delay``) is simulated and spikes after ``t_sim`` are dropped.

    Returns this process's spikes, senders (NEST node ids) and times (ms), and NEST's timers of the
    whole run (:func:`nest_timers`, :data:`PER_CALL_TIMERS` summed over the calls)."""
    bar = log.progress(t_sim, "simulating", unit="ms")
    senders, times, sums = [], [], {}
    done = 0.0
    try:
        while True:
            finished = t_sim - done < 1e-9
            step = float(nest.GetKernelStatus("min_delay")) if finished else min(PROGRESS_CHUNK_MS, t_sim - done)
            nest.Simulate(step)
            for key, value in nest_timers(nest).items():
                if key.removesuffix("_cpu") in PER_CALL_TIMERS:
                    sums[key] = sums.get(key, 0.0) + np.asarray(value, dtype=float)
            events = recorder.get("events")
            chunk_times = np.asarray(events["times"], dtype=np.float64)
            keep = chunk_times <= t_sim
            senders.append(np.asarray(events["senders"], dtype=np.int64)[keep])
            times.append(chunk_times[keep])
            del events
            recorder.n_events = 0
            if finished:
                break
            done += step
            bar.update(step)
    finally:
        bar.close()
    timers = {**nest_timers(nest), **{key: value.tolist() for key, value in sums.items()}}
    return np.concatenate(senders), np.concatenate(times), timers


class _Log:
    """Messages (through the ``humam`` logger) and progress bars, on rank 0 only."""

    def __init__(self, rank: int, show_progress: bool):
        self.rank, self.show_progress = rank, show_progress

    def __call__(self, message: str) -> None:
        if self.rank == 0:
            logging.getLogger("humam.simulation").info(message)

    def progress(self, total: float, description: str, unit: str = "it"):
        from tqdm import tqdm

        return tqdm(total=total, desc=description, unit=unit, file=sys.stderr, delay=2.0,
                    disable=self.rank != 0 or not self.show_progress or not sys.stderr.isatty(), leave=False)


def nest_timers(nest) -> dict[str, float]:
    """NEST's own timers of this process (seconds), under NEST's kernel-status names (``time_simulate``,
    ``time_construction_create``, ``time_construction_connect``, ``time_communicate_prepare``, their
    ``*_cpu`` counterparts and, in builds with detailed timers, ``time_update``,
    ``time_deliver_spike_data``, ...), as benchmarking tools for NEST report them; taken on rank 0."""
    timers = {}
    for key, value in sorted(nest.GetKernelStatus().items()):
        if key.startswith("time_"):
            values = np.asarray(value, dtype=float).ravel()
            timers[key] = float(values[0]) if np.ndim(value) == 0 else [float(v) for v in values]
    return timers


def _peak_memory_bytes() -> float:
    """Peak resident memory of this process (bytes). VmHWM of /proc/self/status, which starts anew
    at exec; ru_maxrss would include the peak of the parent a process was forked from."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0


def simulate(net: Network, sim: dict, out_dir: str | Path, *, threads: int | None = None, metadata: dict | None = None,
             show_progress: bool = False, force_memory: bool = False) -> Path:
    """Simulate ``net`` with the ``simulation`` parameters ``sim`` and write spikes.h5 and run.json
    into ``out_dir`` (a run folder of :mod:`humam.layout`). Returns ``out_dir``. ``metadata``
    (hashes, parameters, the network's content digest) goes into run.json and spikes.h5.

    Before NEST is set up, the folder is created and checked for writability and a previous
    run.json in it is removed, so the folder counts as unfinished until the new run is written."""
    from . import provenance

    out_dir = Path(out_dir)
    threads = int(threads if threads is not None else sim["threads"])
    if threads < 1:
        raise ParameterError(f"threads must be >= 1, got {threads}.")
    if sim["synapse_model"] not in SYNAPSE_MODELS:
        raise ParameterError(f"simulation.synapse_model must be one of {', '.join(SYNAPSE_MODELS)}, "
                             f"got {sim['synapse_model']!r}.")
    world_size = launcher_world_size()
    plan = connection_plan(net, sim["connection_rule"])
    estimate = estimate_memory_bytes(net, float(sim["t_sim_ms"]), sim["synapse_model"], world_size)
    needed_here = estimate["total"] * ranks_on_this_node(world_size) / world_size
    available = available_memory_bytes()
    if needed_here > available and not force_memory:
        raise SimulationError(memory_refusal(estimate, needed_here, available, float(sim["t_sim_ms"])))

    if launcher_rank() == 0:
        prepare_run_folder(out_dir)
    nest = _import_nest(world_size)
    comm = _Comm(nest)
    if comm.size != world_size:
        raise SimulationError(
            f"The launcher started {world_size} processes, but MPI joined them into worlds of {comm.size}: each "
            f"would simulate the whole network on its own. The launcher's MPI plugin does not match this MPI "
            f"(MPICH speaks PMI-2: srun --mpi=pmi2, or export SLURM_MPI_TYPE=pmi2; 'srun --mpi=list' shows the site's).")
    log = _Log(comm.rank, show_progress)
    timings = {}
    start = time.perf_counter()
    populations, recorder = _build(nest, net, sim, threads, plan, log)
    timings["create_connect_s"] = time.perf_counter() - start
    log(f"network built in {timings['create_connect_s']:.1f} s: {int(net.neuron_numbers.sum())} neurons, "
        f"{nest.num_connections} connections")

    t_sim = float(sim["t_sim_ms"])
    start = time.perf_counter()
    senders, times, timers = _run(nest, t_sim, recorder, log)
    timings["simulate_s"] = time.perf_counter() - start
    timings["real_time_factor"] = timings["simulate_s"] / (t_sim / 1000.0) if t_sim > 0 else float("nan")

    gathered = comm.gather((senders, times, _peak_memory_bytes(), int(nest.num_connections)))
    first_ids = {i: int(nodes[0].global_id) for i, nodes in populations.items()}
    if comm.rank == 0:
        senders = np.concatenate([g[0] for g in gathered])
        times = np.concatenate([g[1] for g in gathered])
        write_spikes(out_dir / layout.SPIKES_FILE, net.neuron_numbers, first_ids, senders, times, t_sim, metadata or {})
        record = {
            **(metadata or {}),
            "simulation": sim,
            "threads": threads,
            "mpi_processes": comm.size,
            "virtual_processes": threads * comm.size,
            "seed": int(sim["seed"]),
            "nest": {"version": nest.__version__, "have_mpi": nest_has_mpi(nest),
                     "threads_model": nest.build_info.get("threads_model")},
            "synapse_model": sim["synapse_model"],
            "max_delay_ms": float(nest.GetKernelStatus("max_delay")),
            "neurons": int(net.neuron_numbers.sum()),
            "connections": int(sum(g[3] for g in gathered)),
            "spikes": int(senders.size),
            "mean_rate_hz": float(senders.size / max(net.neuron_numbers.sum(), 1) / (t_sim / 1000.0)),
            "timings": timings,
            "nest_timers": timers,
            "peak_memory_bytes_per_rank": [float(g[2]) for g in gathered],
            "memory_estimate_bytes": estimate,
            "provenance": provenance.record(),
        }
        atomic_write_text(out_dir / layout.RUN_FILE, json.dumps(record, indent=2, sort_keys=True, default=json_default))
        log(f"{senders.size} spikes in {timings['simulate_s']:.1f} s (real-time factor "
            f"{timings['real_time_factor']:.1f}); wrote {out_dir}")
    comm.barrier()
    return out_dir


def prepare_run_folder(folder: Path) -> None:
    """Create ``folder``, check that it is writable, remove a previous run record (the folder is an
    unfinished run until the new one is written) and temporaries left by killed runs. A
    :class:`SimulationError` says what to do when the folder cannot be written, before any
    simulation time is spent."""
    from .h5io import ensure_writable_dir, remove_stale_temporaries

    ensure_writable_dir(folder)
    (folder / layout.RUN_FILE).unlink(missing_ok=True)
    remove_stale_temporaries(folder)
