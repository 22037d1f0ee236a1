"""The ``humam`` command line (also ``python -m humam``).

    humam network [--experiment NAME_OR_PATH [--member chi=2.5]] [--scale S | --n-scaling N --k-scaling K] [--out DIR] [--summary]
    humam simulate NETWORK_H5_OR_EXPERIMENT [--member chi=2.5] [--t-sim MS] [--seed N] [--threads N] [--out DIR]
    humam analyse RUN_FOLDER_OR_EXPERIMENT [--member chi=2.5] [--profile P] [--out DIR]
    humam theory [--experiment NAME_OR_PATH] [--until-converged] [--out DIR]
    humam journey UNPERTURBED_RUN_FOLDER PERTURBED_RUN_FOLDER --network NETWORK_H5
    humam chi-scan FAMILY [--out DIR]
    humam scan FAMILY [--profile P] [--statistics] [--out DIR]
    humam plan [--profile hpc] [--scale S] [--memory-per-node-gb G] [--cores-per-node C]
    humam data verify
    humam experiments
    humam info

Every output goes where :mod:`humam.layout` says. Used by hand, a command skips work whose output
exists, can be read and (for runs) belongs to the same network content; ``--force`` redoes it
(the task graph always passes ``--force``: there doit alone decides what is stale).
Errors the user can fix are printed as one paragraph, without a traceback, with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from . import __version__
from .errors import HumamError, ParameterError


def _scale_value(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"{text} is outside (0, 1]: scales are fractions of the full-scale model (1 = full scale, "
            f"0.005 = the published laptop example)"
        )
    return value


def _apply_settings(params: dict, settings: list[str] | None) -> dict:
    """``params`` with each ``--set KEY=VALUE`` applied (dotted key; VALUE parsed as YAML, validated)."""
    import yaml

    from . import parameters

    for item in settings or []:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ParameterError(f"--set takes KEY=VALUE with a dotted KEY such as network.scaling.chi=2.5; got {item!r}.")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ParameterError(f"--set {item!r}: the value is not valid YAML ({exc}).") from exc
        params = parameters.set_dotted(params, key, value)
    return params


def _scale_overrides(args) -> dict:
    """The ``network.downscaling`` overrides of ``--scale`` / ``--n-scaling`` / ``--k-scaling``; an
    indegree scale typed on the command line is used as given, whatever the profile's rule."""
    if getattr(args, "scale", None) is not None:
        overrides = {"n_scaling": args.scale, "k_scaling": args.scale}
    else:
        overrides = {key: value for key in ("n_scaling", "k_scaling")
                     if (value := getattr(args, key, None)) is not None}
    if "k_scaling" in overrides:
        overrides["k_scaling_rule"] = "given"
    return overrides


def _network_params(args) -> list[tuple[str, dict]]:
    from . import parameters, scans

    profile = parameters.load_profile(args.profile) if args.profile else None
    if args.member:
        if not args.experiment or not scans.is_family(args.experiment):
            raise ParameterError("--member applies to scan families: give one with --experiment, e.g. "
                                 "--experiment chi_scan_main --member chi=2.5.")
        member = scans.member(args.experiment, scans.parse_member(args.experiment, args.member), profile)
        members = [(member.label, member.params)]
    else:
        members = parameters.scan_members(args.experiment) if args.experiment else [("defaults", parameters.resolve())]
        members = [(label, parameters.apply_profile(params, profile)) for label, params in members]
    overrides = _scale_overrides(args)
    return [(label, _apply_settings(parameters.merge(params, {"network": {"downscaling": overrides}}), args.set))
            for label, params in members]


def _readable(path: Path, reader) -> bool:
    """True if ``path`` exists and ``reader`` can read it; an unreadable cached output is redone."""
    if not path.is_file():
        return False
    try:
        reader(path)
    except Exception as exc:  # any failure to read means: not a usable output
        _log(f"{path} cannot be read ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); redoing it")
        return False
    return True


def _ensure_network(label: str, params: dict, out: Path, force: bool = False):
    """The network of ``params``: loaded from its file in the layout, or built and written there.

    Under an MPI launcher every rank builds the network in memory (it is deterministic) and only
    rank 0 writes the file. Returns (network, network file, content digest).
    """
    from . import build, layout, network_file, parameters, provenance
    from .simulation import launcher_rank

    path = layout.Layout(out).network_file(params)
    if not force and _readable(path, network_file.read_network_attrs):
        try:
            net = network_file.load_network(path)
        except Exception:
            net = None
        if net is not None:
            _log(f"{label}: up to date: {path}")
            return net, path, network_file.content_digest(path)
    net = build.build_network(params["network"])
    if launcher_rank() != 0:
        return net, path, None
    attrs = {
        "net_hash": parameters.net_hash(params),
        "parameters": parameters.canonical_json(params["network"]),
        "provenance": json.dumps(provenance.record(), sort_keys=True),
    }
    stability = build.stability_at_full_scale_rates(net)
    if stability is not None:
        attrs["stability"] = json.dumps(stability, sort_keys=True)
        _warn_if_unstable(label, net, stability)
    network_file.save_network(net, path, attrs)
    _log(f"{label}: wrote {path}")
    return net, path, network_file.content_digest(path)


def _warn_if_unstable(label: str, net, stability: dict) -> None:
    if not stability["stable"]:
        log.warning(f"{label}: the full-scale rates are an UNSTABLE fixed point of this down-scaled network "
                    f"(leading eigenvalue {stability['leading_eigenvalue']:.2f} >= 1 at N = {net.n_scaling:g}, "
                    f"K = {net.k_scaling:g}, {net.scaling_type}): it will not fire at the full-scale rates. Larger "
                    f"indegrees help (k_scaling > n_scaling, or k_scaling_rule: smallest_stable).")


def _cmd_network(args) -> int:
    members = _network_params(args)  # validates everything before anything is built or written
    from . import network, network_file

    for label, params in members:
        net, path, digest = _ensure_network(label, params, Path(args.out), args.force)
        if args.summary:
            attrs = network_file.read_network_attrs(path)
            stability = json.loads(attrs["stability"]) if "stability" in attrs else None
            print(json.dumps({"experiment": label, **network.summary(net), "net_hash": path.parent.name,
                              "network_digest": digest, "path": str(path), "stability": stability}))
    return 0


def _profile(args):
    from . import parameters

    return parameters.load_profile(args.profile) if getattr(args, "profile", None) else None


def _experiment_params(target: str, args, what: str) -> tuple[str, dict]:
    """(label, parameters) of one experiment with the profile and ``--set`` applied."""
    from . import parameters

    member = _scan_member(target, args, what)
    if member is not None:
        return member.label, _apply_settings(member.params, args.set)
    label, params = parameters.scan_members(target)[0]
    return label, _apply_settings(parameters.apply_profile(params, _profile(args)), args.set)


def _scan_member(target: str, args, what: str):
    """The member of scan family ``target`` named by ``--member`` (profile and the profile's scan
    length applied), None for a plain experiment; a family without ``--member`` is refused with its
    members, a plain experiment with ``--member`` likewise."""
    from . import scans

    text = getattr(args, "member", None)
    if not scans.is_family(target):
        if text:
            raise ParameterError(f"--member applies to scan families; '{target}' is a single experiment.")
        return None
    name, grid = scans.family_name(target), scans.grid(target)
    if not text:
        raise ParameterError(
            f"'{target}' is a scan family of {len(grid)} runs; name the one to {what} with --member, e.g. "
            f"--member {scans.label(scans.parameter(target), grid[-1])} ('humam scan {name}' lists the members and "
            f"what exists of them).")
    return scans.member(target, scans.parse_member(target, text), _profile(args))


def _check_processes(profile: dict | None, world_size: int) -> None:
    """A profile fixes the number of MPI processes, and with it the run folder: refuse a launch that
    disagrees instead of writing a run where the pipeline does not look for it."""
    if profile is not None and profile["processes"] != world_size:
        raise ParameterError(
            f"profile {profile['name']} runs simulations on {profile['processes']} MPI process(es), but this command "
            f"was started on {world_size}; start it with the profile's launcher ({profile['launcher'] or 'none'}).")


def _simulation_params(args) -> tuple[str, dict, Path | None]:
    """(label, resolved parameters, given network file or None) of ``humam simulate``'s target."""
    from . import network_file, parameters

    target = Path(args.target)
    if target.suffix == ".h5":
        if args.profile or args.member:
            raise ParameterError("--profile and --member apply to experiments; a network file already fixes the network.")
        if args.set and any(item.startswith("network.") for item in args.set):
            raise ParameterError("--set network.* applies to experiments; a network file already fixes the network.")
        if not target.is_file():
            raise ParameterError(f"Network file {target} does not exist; build one with 'humam network'.")
        attrs = network_file.read_network_attrs(target)
        if "parameters" not in attrs:
            raise ParameterError(f"{target} was not written by 'humam network' (it has no 'parameters' attribute).")
        params = parameters.merge(parameters.load_defaults(), {"network": json.loads(attrs["parameters"])})
        label, network_path = target.parent.name[:12], target
        params = _apply_settings(params, args.set)
    else:
        (label, params), network_path = _experiment_params(args.target, args, "simulate"), None
    overrides = {key: value for key, value in (("t_sim_ms", args.t_sim), ("seed", args.seed),
                                               ("threads", args.threads)) if value is not None}
    return label, parameters.merge(params, {"simulation": overrides}), network_path


def _place_network(given: Path, params: dict, out: Path) -> Path:
    """The layout's network file for ``params``, copied from ``given`` when it is elsewhere, so that
    the run folder sits beside its network and can be analysed."""
    import shutil

    from . import layout, network_file

    path = layout.Layout(out).network_file(params)
    if path.resolve() == given.resolve():
        return path
    if path.is_file() and network_file.content_digest(path) == network_file.content_digest(given):
        return path
    if path.is_file():
        raise ParameterError(f"{path} already holds a network with the same parameters but other content than {given}; "
                             f"rebuild it ('humam network --force') or choose another --out.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.copy.tmp")
    shutil.copyfile(given, tmp)
    tmp.replace(path)
    _log(f"copied {given} to {path}")
    return path


def _cmd_simulate(args) -> int:
    from . import layout, network_file, parameters, run_record, simulation

    label, params, network_path = _simulation_params(args)
    out = Path(args.out)
    world_size = simulation.launcher_world_size()
    _check_processes(_profile(args), world_size)
    if network_path is not None:
        network_path = _place_network(network_path, params, out) if simulation.launcher_rank() == 0 \
            else layout.Layout(out).network_file(params)
        net, digest = network_file.load_network(network_path), network_file.content_digest(network_path)
    else:
        net, network_path, digest = _ensure_network(label, params, out)  # digest None on ranks > 0 (they write nothing)
    run = layout.Layout(out).run(params, world_size)
    if run.is_complete() and not args.force:
        try:
            recorded = run_record.read_run_record(run.path).get("network_digest")
        except run_record.RunRecordError:
            recorded = None
        if recorded == digest:
            _log(f"{label}: up to date: {run.path}")
            return 0
        _log(f"{label}: the run in {run.path} was simulated from other network content "
             f"({recorded or 'unknown'}, now {digest}); simulating again")
    metadata = {"experiment": label, "net_hash": parameters.net_hash(params), "sim_hash": run.path.name,
                "network_digest": digest, "parameters": parameters.canonical_json(params)}
    simulation.simulate(net, params["simulation"], run.path, metadata=metadata,
                        show_progress=args.progress, force_memory=args.force_memory)
    return 0


def _analysis_targets(args) -> list[tuple[str, dict, "object", int]]:
    """(label, parameters, run folder, MPI processes) of each ``humam analyse`` target: a run folder
    (its recorded parameters, with ``--set analysis.*`` applied) or an experiment (with the profile)."""
    from . import layout, run_record

    targets = []
    for target in args.runs:
        folder = Path(target)
        if folder.is_dir():
            record = run_record.read_run_record(folder)
            params = run_record.run_parameters(record)
            if args.profile or args.member:
                raise ParameterError("--profile and --member apply to experiments; a run folder already fixes the run.")
            from . import parameters

            if any(not item.startswith("analysis.") for item in args.set or []):
                raise ParameterError("for a run folder, 'humam analyse' takes --set analysis.KEY=VALUE only: "
                                     "the run fixes the network and the simulation.")
            params = parameters.merge(parameters.load_defaults(), params)
            params = _apply_settings(params, args.set)
            targets.append((record.get("experiment", folder.name), params, layout.RunFolder(folder),
                            int(record.get("mpi_processes", 1))))
        else:
            label, params = _experiment_params(target, args, "analyse")
            processes = _profile(args)["processes"] if args.profile else 1
            targets.append((label, params, layout.Layout(Path(args.out)).run(params, processes), processes))
    return targets


def _cmd_analyse(args) -> int:
    from . import analysis, layout, parameters, run_record

    targets = _analysis_targets(args)
    for label, params, run, processes in targets:  # check every input before the first (slow) analysis
        run_record.check_run_network(run.path)
    for label, params, run, processes in targets:
        target = run.analysis(params, processes)
        if not args.force and _readable(target, analysis.read_analysis_attrs):
            _log(f"{label}: up to date: {target}")
            continue
        record = run_record.read_run_record(run.path)
        results = analysis.analyse_run(run.spikes, run.network, params.get("analysis"))
        attrs = {"net_hash": record.get("net_hash", ""), "sim_hash": record.get("sim_hash", run.path.name),
                 "analysis_hash": parameters.analysis_hash(params, layout.virtual_processes(params, processes)),
                 "network_digest": record.get("network_digest", ""),
                 "experiment": record.get("experiment", ""), "run_parameters": record.get("parameters", "")}
        analysis.write_analysis(results, target, attrs)
        summary = results["summary"]
        wall = sum(results["timings_s"].values())
        _log(f"{label}: {summary['neurons']} neurons, {summary['spikes']} spikes, "
             f"mean rate {summary['neuron_weighted_rate_hz']:.2f} spikes/s (neuron-weighted), "
             f"CV ISI {summary['mean_cv_isi']:.2f}, cc {summary['mean_cc']:.4f}; analysed in {wall:.1f} s; wrote {target}")
    return 0


def _cmd_theory(args) -> int:
    members = _network_params(args)
    from . import layout, parameters, provenance, theory

    for label, params in members:
        if args.until_converged:
            params = parameters.set_dotted(params, "theory.until_converged", True)
        target = layout.Layout(Path(args.out)).theory_file(params)
        if not args.force and _readable(target, theory.read_theory_attrs):
            _log(f"{label}: up to date: {target}")
            continue
        net, path, digest = _ensure_network(label, params, Path(args.out))
        result = theory.theory_rates(net, **params["theory"])
        attrs = {"net_hash": parameters.net_hash(params), "network_digest": digest, "experiment": label,
                 "parameters": parameters.canonical_json(params["network"]),
                 "theory_parameters": parameters.canonical_json(params["theory"]),
                 "provenance": json.dumps(provenance.record(), sort_keys=True)}
        theory.write_theory(result, target, attrs, stability=theory.network_stability(net, result))
        n = net.neuron_numbers
        rates = result.rates_hz[n > 0]
        weighted = float((result.rates_hz * n).sum() / n.sum())
        _log(f"{label}: theory rates at pseudo-time {result.times[-1]:g}: mean over populations {rates.mean():.6f} "
             f"spikes/s (neuron-weighted {weighted:.6f}), range {rates.min():.3g}-{rates.max():.3g}; "
             f"wrote {target}")
    return 0


def _cmd_journey(args) -> int:
    import numpy as np

    from . import layout, network_file, run_record
    from .analysis import journey

    unperturbed, perturbed = layout.RunFolder(Path(args.unperturbed)), layout.RunFolder(Path(args.perturbed))
    digests = {run.path: run_record.check_run_network(run.path) for run in (unperturbed, perturbed)}
    network = Path(args.network)
    if not network.is_file():
        raise ParameterError(f"Network file {network} does not exist; build it with 'humam network' (or doit).")
    target = layout.journey_file(perturbed, unperturbed)
    if not args.force and _readable(target, journey.read_journey_attrs):
        _log(f"up to date: {target}")
        return 0
    result = journey.compare_runs(unperturbed.path, perturbed.path, network)
    times = {key: list(result["runs"][key]["perturbation_times_ms"]) for key in ("unperturbed", "perturbed")}
    if times["unperturbed"]:
        log.warning(f"the unperturbed run {unperturbed.path} carries perturbations at {times['unperturbed']} ms")
    if times["perturbed"] != [float(result["window_ms"][0])]:
        log.warning(f"the perturbed run {perturbed.path} has perturbations at {times['perturbed']} ms, expected "
                    f"one at {result['window_ms'][0]:g} ms")
    attrs = {"unperturbed_run": str(unperturbed.path), "perturbed_run": str(perturbed.path),
             "unperturbed_network_digest": digests[unperturbed.path],
             "perturbed_network_digest": digests[perturbed.path],
             "network": str(network), "network_digest": network_file.content_digest(network),
             "net_hash": network_file.read_network_attrs(network).get("net_hash", "")}
    journey.write_journey(result, target, attrs)
    fine = result[journey.bin_key(journey.BIN_WIDTHS_MS[0])]
    reached = int(np.isfinite(fine["first_difference_ms"]).sum())
    _log(f"journey: {int(fine['raster'].sum())} differing {fine['bin_ms']:g} ms bins, {reached} of "
         f"{len(fine['first_difference_ms'])} areas reached in {result['window_ms'][1] - result['window_ms'][0]:g} ms; "
         f"wrote {target}")
    return 0


def _cmd_chi_scan(args) -> int:
    from . import layout
    from .analysis import chi_scan

    family = chi_scan.chi_scan_name(args.family)
    target = layout.Layout(Path(args.out)).chi_scan_file(family)
    if not args.force and _readable(target, chi_scan.read_chi_scan_statistics_attrs):
        _log(f"{family}: up to date: {target}")
        return 0
    statistics = chi_scan.chi_scan_statistics(family)
    chi_scan.write_chi_scan_statistics(statistics, target)
    experimental = statistics["experimental_fc"]
    _log(f"{family}: {len(statistics['chi'])} values of chi; experimental FC "
         f"{'compared' if experimental['available'] else 'unavailable'}; wrote {target}")
    return 0


def _cmd_scan(args) -> int:
    """The members of a scan family and what exists of them under a profile; with ``--statistics``
    the statistics of their runs (OUT/chi_scan/<family>-<hash>.h5)."""
    from . import layout, scans
    from .analysis import scan as scan_statistics

    profile = _profile(args)
    processes = profile["processes"] if profile else 1
    out = layout.Layout(Path(args.out))
    name, grid = scans.family_name(args.family), scans.grid(args.family)
    running = scans.members(args.family, profile)  # validates the profile's members first
    chosen = {m.value for m in running}
    rows, missing = [], []
    plain = scans.plain_runs(profile, processes)
    for member in scans.members(args.family, profile, whole_grid=True):
        value = member.value
        run = out.run(member.params, processes)
        analysis_file = run.analysis(member.params, processes)
        states = {"network": out.network_file(member.params).is_file(), "run": run.is_complete(),
                  "analysis": analysis_file.is_file()}
        shared = ", ".join(plain.get(run.path.name, []))
        rows.append((member.label, "yes" if value in chosen else "no",
                     *("yes" if states[k] else "missing" for k in ("network", "run", "analysis")),
                     shared or "—", str(run.path)))
        if value in chosen and not states["analysis"]:
            missing.append(member)
    target = out.scan_statistics_file(name, [m.params for m in running], processes) if running else None
    if args.statistics:
        if not running:
            raise ParameterError(f"profile {profile['name'] if profile else '(none)'} runs no member of {name}: "
                                 f"name some under scan.members.{name} in the profile.")
        if missing:
            options = f" --profile {args.profile}" if args.profile else ""
            raise ParameterError(
                f"{len(missing)} of the {len(running)} members of {name} under this profile are not analysed yet "
                f"({', '.join(m.label for m in missing)}): run 'doit' (tasks simulate, analyse), or "
                f"'humam simulate {args.family} --member {missing[0].label}{options}' and 'humam analyse' likewise.")
        if not args.force and _readable(target, scan_statistics.read_scan_statistics_attrs):
            _log(f"{name}: up to date: {target}")
            return 0
        items = [{"label": m.label, "value": m.value,
                  "analysis": out.run(m.params, processes).analysis(m.params, processes)} for m in running]
        statistics = scan_statistics.simulated_scan_statistics(name, items, profile=profile["name"] if profile else "")
        scan_statistics.write_scan_statistics(statistics, target)
        star = statistics["chi_star"]["chi_star"]
        _log(f"{name}: {len(items)} members; chi* = {star:g} ({', '.join(statistics['chi_star']['measures'])}); "
             f"experimental FC {'compared' if statistics['experimental_fc']['available'] else 'unavailable'}; "
             f"wrote {target}")
        return 0
    header = ("member", "runs under profile", "network", "run", "analysis", "same run as", "run folder")
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    print(f"scan family {name}: {len(grid)} members, {len(running)} run under "
          f"{'profile ' + profile['name'] if profile else 'no profile (the whole grid at the experiment scale)'}")
    for row in [header] + rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
    if target is not None:
        print(f"statistics: {target} ({'exists' if target.is_file() else 'missing'})")
    if missing:
        print(f"missing: {len(missing)} analysed member(s); 'doit' makes them, or by hand "
              f"'humam simulate {args.family} --member {missing[0].label}"
              f"{' --profile ' + args.profile if args.profile else ''}' and 'humam analyse' with the same arguments")
    return 0


def _cmd_plan(args) -> int:
    """Print the plan of a run: nodes, processes, threads, memory per node and expected time."""
    from . import parameters, simulation

    label, params = _experiment_params(args.experiment, args, "plan")
    profile = _profile(args)
    if args.scale is not None:
        params = parameters.merge(params, {"network": {"downscaling": _scale_overrides(args)}})
    if args.t_sim is not None:
        params = _apply_settings(params, [f"simulation.t_sim_ms={args.t_sim}"])
    processes = args.processes or (profile["processes"] if profile else 1)
    from . import build

    net = build.build_network(params["network"])
    plan = simulation.plan_run(net, params["simulation"], processes, memory_per_node_bytes=args.memory_per_node_gb * 1e9,
                               cores_per_node=args.cores_per_node, expected_rate_hz=args.rate)
    if args.batch_script:
        _write_batch_script(args, plan, profile, label)
    if args.json:
        print(json.dumps({"experiment": label, **plan}, default=float))
        return 0
    memory = plan["memory_estimate_bytes"]
    rule = " (smallest stable k)" if params["network"]["downscaling"].get("k_scaling_rule") == "smallest_stable" \
        and net.k_scaling != 1.0 else ""
    seconds = plan["expected_simulation_s"]
    duration = f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min" if seconds >= 60 \
        else f"{seconds:.0f} s"
    lines = [
        f"run             {label}, N = {net.n_scaling:g}, K = {net.k_scaling:.3g}{rule}, {net.scaling_type} down-scaling, "
        f"{plan['t_sim_ms']:g} ms simulated, {params['simulation']['synapse_model']}",
        f"network         {plan['neurons']:,} neurons, {plan['synapses']:,} synapses",
        f"decomposition   {plan['processes']} MPI processes x {plan['threads']} threads = "
        f"{plan['virtual_processes']} virtual processes",
        f"nodes           {plan['nodes']} ({plan['processes_per_node']} processes each; {plan['nodes_for_memory']} for "
        f"memory with {simulation.MEMORY_HEADROOM:.0%} headroom, {plan['nodes_for_cores']} for "
        f"{args.cores_per_node} cores per node)",
        f"memory          {memory['total'] / 1e9:,.1f} GB in all, {plan['memory_per_node_bytes'] / 1e9:,.1f} GB per node "
        f"of {args.memory_per_node_gb:g} GB: synapses {memory['synapses'] / 1e9:,.1f}, ring buffers "
        f"{memory['ring_buffers'] / 1e9:,.1f} (delays up to {memory['max_delay_ms']:.0f} ms), neurons "
        f"{memory['neurons'] / 1e9:,.1f}, spikes {memory['spikes'] / 1e9:,.1f}, base {memory['base'] / 1e9:,.1f}",
        f"expected time   {duration} of simulation at {plan['expected_rate_hz']:g} spikes/s "
        f"(calibrated on single-node runs, communication not included: take it as a lower bound)",
    ]
    print("\n".join(lines))
    return 0


def _write_batch_script(args, plan: dict, profile: dict | None, label: str) -> None:
    """``humam plan --batch-script FILE``: the SLURM batch script of this plan (humam.batch_script)."""
    import shlex

    from . import batch_script, simulation

    if profile is None:
        raise ParameterError("--batch-script needs --profile: the job runs the pipeline of a profile (e.g. hpc).")
    if args.scale is not None or args.t_sim is not None or args.set:
        raise ParameterError("--batch-script plans the profile's own runs, which the job runs: put --scale, --t-sim "
                             "or --set into a copy of the profile and pass its path as --profile.")
    command = shlex.join(["humam", "plan", "--experiment", label, "--profile", args.profile, "--memory-per-node-gb",
                          f"{args.memory_per_node_gb:g}", "--cores-per-node", str(args.cores_per_node), "--rate",
                          f"{args.rate:g}", "--runs", str(args.runs), "--parallel-runs", str(args.parallel_runs),
                          *(["--time-limit", args.time_limit] if args.time_limit else []), "--batch-script",
                          args.batch_script])
    text = batch_script.render(plan, profile, experiment=label, runs=args.runs, parallel_runs=args.parallel_runs,
                               cores_per_node=args.cores_per_node, headroom=simulation.MEMORY_HEADROOM,
                               command=command, version=__version__, time_limit=args.time_limit)
    _log(f"wrote {batch_script.write(Path(args.batch_script), text)}: submit it with sbatch from the checkout")


def _cmd_data_verify(args) -> int:
    from . import config, data

    rows = data.verify_all()
    mirror = config.data_dir()
    print(f"raw data source: {'local mirror ' + str(mirror) if mirror else 'download cache ' + str(config.cache_dir())}")
    width = max(len(row["path"]) for row in rows)
    for row in rows:
        detail = "" if row["status"] == "ok" else f"  {row['detail']}"
        print(f"{row['path']:<{width}}  {row['status']}{detail}")
    failed = [row for row in rows if row["status"] in ("missing", "error")]
    print(f"{len(rows)} files: {sum(r['status'] == 'ok' for r in rows)} ok, "
          f"{sum(r['status'] == 'optional, missing' for r in rows)} optional missing, {len(failed)} failed")
    return 1 if failed else 0


def _cmd_experiments(args) -> int:
    from . import parameters

    for name in parameters.available_experiments():
        content = parameters.load_experiment(name)
        print(f"{name:<32} {content.get('description', '')}")
    return 0


log = logging.getLogger("humam")


def _log(message: str) -> None:
    log.info(message)


def configure_logging(verbosity: int) -> None:
    """One handler on the ``humam`` logger that prints to stderr on MPI rank 0 only (the other ranks
    stay silent); ``verbosity`` -1 (``-q``: warnings and errors), 0 (progress messages) or 1 (``-v``:
    debug details)."""
    from .simulation import launcher_rank

    logger = logging.getLogger("humam")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    if launcher_rank() == 0:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.NullHandler()
    logger.addHandler(handler)
    logger.setLevel({-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG))
    logger.propagate = False


def _cmd_info(args) -> int:
    """Versions and places: humam, Python, NEST (MPI, OpenMP), mpi4py, the data source and caches."""
    import platform

    from . import config, provenance

    rows = [("humam", f"{__version__} ({Path(__file__).resolve().parent})"),
            ("python", f"{platform.python_version()} ({sys.executable})")]
    os.environ.setdefault("PYNEST_QUIET", "1")
    try:
        import nest

        info = nest.build_info
        rows.append(("nest", f"{nest.__version__}; MPI: {'yes' if info.get('have_mpi') else 'no'}; "
                             f"threads: {info.get('threads_model', 'unknown')} (OpenMP "
                             f"{'yes' if info.get('threads_model') == 'openmp' else 'no'})"))
    except ImportError:
        rows.append(("nest", "not installed: 'bash scripts/setup-env.sh' (MPI build) or "
                             "'pip install nest-simulator==3.10.0' (threads only)"))
    try:
        import mpi4py

        rows.append(("mpi4py", mpi4py.__version__))
    except ImportError:
        rows.append(("mpi4py", "not installed (needed only for runs on several MPI processes)"))
    mirror = config.data_dir()
    rows.append(("raw data", f"local mirror {mirror}" if mirror else f"downloaded on first use into {config.cache_dir()}"))
    rows.append(("cache", str(config.cache_dir())))
    rows.append(("config file", f"{config.config_file()}{'' if config.config_file().is_file() else ' (none)'}"))
    libraries = provenance.record().get("libraries", {})
    if libraries:
        rows.append(("libraries", ", ".join(f"{k} {v}" for k, v in sorted(libraries.items()))))
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def _add_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override one parameter, e.g. network.scaling.chi=2.5 (repeatable; validated like an experiment file)")


def _add_member(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--member", metavar="NAME=VALUE",
                        help="the member of a scan family, e.g. chi=2.5 ('humam scan FAMILY' lists them)")


def _add_network_selection(parser: argparse.ArgumentParser) -> None:
    """The options that select a network: experiment, scales, profile and --set overrides."""
    parser.add_argument("--experiment", help="shipped experiment name (see 'humam experiments') or YAML file "
                                             "(default: the published defaults)")
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--scale", type=_scale_value, help="down-scale neurons and indegrees by S (0 < S <= 1)")
    parser.add_argument("--n-scaling", type=_scale_value, help="neuron-number scale n (0 < n <= 1)")
    parser.add_argument("--k-scaling", type=_scale_value, help="indegree scale k (0 < k <= 1)")
    parser.add_argument("--profile", help="pipeline profile (tiny, laptop, hpc or a YAML file) applied to the experiment")
    _add_member(parser)
    _add_settings(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="humam", description="Human Multi-Area Model (Pronold et al. 2024).")
    parser.add_argument("--version", action="version", version=f"humam {__version__}")
    parser.add_argument("-v", "--verbose", action="store_const", const=1, default=0, dest="verbosity",
                        help="more detail in the messages")
    parser.add_argument("-q", "--quiet", action="store_const", const=-1, dest="verbosity",
                        help="only warnings and errors")
    commands = parser.add_subparsers(dest="command", required=True)

    net = commands.add_parser("network", help="build the network description (network.h5) of an experiment")
    _add_network_selection(net)
    net.add_argument("--out", default="out", help="output root; the network goes to OUT/<net_hash>/network.h5")
    net.add_argument("--summary", action="store_true", help="print the network totals as one JSON object")
    net.add_argument("--force", action="store_true", help="rebuild even if the output exists")
    net.set_defaults(func=_cmd_network)

    sim = commands.add_parser("simulate", help="simulate a network with NEST (threads; MPI under mpirun/srun)")
    sim.add_argument("target", metavar="NETWORK_H5_OR_EXPERIMENT",
                     help="a network.h5 written by 'humam network', or an experiment name or YAML file")
    sim.add_argument("--profile", help="pipeline profile (tiny, laptop, hpc or a YAML file) applied to the experiment")
    sim.add_argument("--t-sim", type=float, help="simulated time in ms (default: the experiment's)")
    sim.add_argument("--seed", type=int, help="NEST master seed (default: the experiment's)")
    sim.add_argument("--threads", type=int, help="OpenMP threads per process (default: the experiment's)")
    sim.add_argument("--out", default="out", help="output root: OUT/<net_hash>/<sim_hash>/{spikes.h5,run.json}")
    _add_member(sim)
    _add_settings(sim)
    sim.add_argument("--progress", action="store_true", help="show progress bars (rank 0)")
    sim.add_argument("--force", action="store_true", help="rerun even if a complete run exists")
    sim.add_argument("--force-memory", action="store_true", help="run even if the memory estimate exceeds what is available")
    sim.set_defaults(func=_cmd_simulate)

    ana = commands.add_parser("analyse", help="spike statistics, BOLD and FC of finished runs (an analysis file in each run folder)")
    ana.add_argument("runs", nargs="+", metavar="RUN_FOLDER_OR_EXPERIMENT",
                     help="OUT/<net_hash>/<sim_hash> folder written by 'humam simulate', or an experiment (its run under --profile)")
    ana.add_argument("--profile", help="pipeline profile applied to experiments (as for 'humam simulate')")
    ana.add_argument("--out", default="out", help="output root of the runs of experiments")
    _add_member(ana)
    _add_settings(ana)
    ana.add_argument("--force", action="store_true", help="reanalyse even if the analysis file exists")
    ana.set_defaults(func=_cmd_analyse)

    theo = commands.add_parser("theory", help="mean-field (shifted Siegert) rates of an experiment's network")
    _add_network_selection(theo)
    theo.add_argument("--until-converged", action="store_true",
                      help="continue the pseudo-dynamics to the fixed point (published: stop at t = 9.9)")
    theo.add_argument("--out", default="out", help="output root: OUT/<net_hash>/theory-<theory_hash>.h5")
    theo.add_argument("--force", action="store_true", help="recompute even if the output exists")
    theo.set_defaults(func=_cmd_theory)

    jour = commands.add_parser("journey", help="spike journey of a perturbed run against its unperturbed twin")
    jour.add_argument("unperturbed", metavar="UNPERTURBED_RUN_FOLDER", help="OUT/<net_hash>/<sim_hash> of the unperturbed run")
    jour.add_argument("perturbed", metavar="PERTURBED_RUN_FOLDER", help="OUT/<net_hash>/<sim_hash> of the perturbed run")
    jour.add_argument("--network", required=True, metavar="NETWORK_H5",
                      help="network.h5 whose graph distances order the populations (the full-scale network)")
    jour.add_argument("--force", action="store_true", help="recompute even if the output exists")
    jour.set_defaults(func=_cmd_journey)

    chi = commands.add_parser("chi-scan", help="statistics of a shipped chi-scan family (OUT/chi_scan/FAMILY.h5)")
    chi.add_argument("family", metavar="FAMILY", help="a shipped chi-scan family, e.g. lichtman_chii2_different_seed "
                                                      "(simulated_data/scaling_experiment_FAMILY)")
    chi.add_argument("--out", default="out", help="output root: OUT/chi_scan/FAMILY.h5")
    chi.add_argument("--force", action="store_true", help="recompute even if the output exists")
    chi.set_defaults(func=_cmd_chi_scan)

    scan = commands.add_parser("scan", help="the members of a scan family and what exists of them; with --statistics "
                                            "the statistics of their runs")
    scan.add_argument("family", metavar="FAMILY", help="a scan family (e.g. chi_scan_main) or its YAML file")
    scan.add_argument("--profile", help="pipeline profile: which members run, at which scale and for how long")
    scan.add_argument("--out", default="out", help="output root (the runs, and OUT/chi_scan/FAMILY-<hash>.h5)")
    scan.add_argument("--statistics", action="store_true",
                      help="gather the statistics of the analysed members into OUT/chi_scan/FAMILY-<hash>.h5")
    scan.add_argument("--force", action="store_true", help="with --statistics: recompute even if the file exists")
    scan.set_defaults(func=_cmd_scan)

    plan = commands.add_parser("plan", help="nodes, processes, threads, memory per node and expected time of a run "
                                            "(a dry run: nothing is simulated)")
    plan.add_argument("--experiment", default="ground_state", help="experiment to plan (default: ground_state)")
    plan.add_argument("--profile", help="pipeline profile (e.g. hpc): processes, threads, synapse model and scale")
    plan.add_argument("--scale", type=_scale_value, help="down-scale neurons and indegrees by S instead")
    plan.add_argument("--t-sim", type=float, help="simulated time in ms (default: the experiment's)")
    plan.add_argument("--processes", type=int, help="MPI processes (default: the profile's, else 1)")
    plan.add_argument("--memory-per-node-gb", type=float, default=512.0, help="memory of one node (GB, default 512)")
    plan.add_argument("--cores-per-node", type=int, default=128, help="cores of one node (default 128)")
    plan.add_argument("--rate", type=float, default=2.0, help="assumed mean rate for the spike costs (spikes/s)")
    plan.add_argument("--json", action="store_true", help="print the plan as one JSON object")
    _add_member(plan)
    plan.add_argument("--batch-script", metavar="FILE", help="also write the SLURM batch script of this plan to FILE "
                                                              "(needs --profile)")
    plan.add_argument("--runs", type=int, default=1, help="simulations the batch job runs, for its time limit (default 1)")
    plan.add_argument("--parallel-runs", type=int, default=1,
                      help="simulations the batch job runs at once, each its own job step (default 1)")
    plan.add_argument("--time-limit", metavar="HH:MM:SS", help="the batch job's time limit instead of the plan's")
    _add_settings(plan)
    plan.set_defaults(func=_cmd_plan)

    data_cmd = commands.add_parser("data", help="raw data registry")
    data_sub = data_cmd.add_subparsers(dest="data_command", required=True)
    verify = data_sub.add_parser("verify", help="check every registered raw file (fetching what is missing)")
    verify.set_defaults(func=_cmd_data_verify)

    exps = commands.add_parser("experiments", help="list the shipped experiments")
    exps.set_defaults(func=_cmd_experiments)

    info = commands.add_parser("info", help="versions (humam, Python, NEST with MPI/OpenMP) and where data and caches are")
    info.set_defaults(func=_cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "scale", None) is not None and (getattr(args, "n_scaling", None) is not None
                                                     or getattr(args, "k_scaling", None) is not None):
        parser.error("--scale and --n-scaling/--k-scaling exclude each other")
    configure_logging(args.verbosity)
    try:
        return args.func(args)
    except HumamError as exc:
        print(f"humam: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("humam: interrupted; no partial output was kept", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug, not a user error: one line, the traceback on request
        if os.environ.get("HUMAM_DEBUG"):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(f"humam: internal error: {type(exc).__name__}: {first}. No partial output was kept; this is a bug "
              f"in humam (HUMAM_DEBUG=1 shows the traceback).", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
