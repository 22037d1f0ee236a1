"""The ``humam`` command line (also ``python -m humam``).

    humam network [--experiment NAME_OR_PATH] [--scale S | --n-scaling N --k-scaling K] [--out DIR] [--summary]
    humam simulate NETWORK_H5_OR_EXPERIMENT [--t-sim MS] [--seed N] [--threads N] [--out DIR] [--progress]
    humam analyse RUN_FOLDER... [--experiment NAME_OR_PATH] [--profile P] [--set analysis.KEY=VALUE]
    humam data verify
    humam experiments

Errors the user can fix are printed as one paragraph, without a traceback, with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .errors import HumamError, ParameterError


#: File names inside the output tree: OUT/<net_hash>/{theory}, OUT/<net_hash>/<sim_hash>/{analysis}.
THEORY_FILE = "theory.h5"
THEORY_CONVERGED_FILE = "theory_converged.h5"
ANALYSIS_FILE = "analysis.h5"


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


def _network_params(args) -> list[tuple[str, dict]]:
    from . import parameters

    members = parameters.scan_members(args.experiment) if args.experiment else [("defaults", parameters.resolve())]
    profile = parameters.load_profile(args.profile) if args.profile else None
    members = [(label, parameters.apply_profile(params, profile)) for label, params in members]
    if args.scale is not None:
        overrides = {"n_scaling": args.scale, "k_scaling": args.scale}
    else:
        overrides = {key: value for key, value in (("n_scaling", args.n_scaling), ("k_scaling", args.k_scaling))
                     if value is not None}
    return [(label, _apply_settings(parameters.merge(params, {"network": {"downscaling": overrides}}), args.set))
            for label, params in members]


def _ensure_network(label: str, params: dict, out: Path, force: bool = False):
    """The network of ``params``: loaded from OUT/<net_hash>/network.h5, or built and written there.

    Under an MPI launcher every rank builds the network in memory (it is deterministic) and only
    rank 0 writes the file.
    """
    from . import network, parameters, provenance
    from .simulation import launcher_rank

    digest = parameters.net_hash(params)
    path = out / digest / "network.h5"
    if path.is_file() and not force:
        _log(f"{label}: up to date: {path}")
        return network.load_network(path), digest, path
    net = network.build_network(params["network"])
    if launcher_rank() != 0:
        return net, digest, path
    attrs = {
        "net_hash": digest,
        "parameters": parameters.canonical_json(params["network"]),
        "provenance": json.dumps(provenance.record(), sort_keys=True),
    }
    network.save_network(net, path, attrs)
    _log(f"{label}: wrote {path}")
    return net, digest, path


def _cmd_network(args) -> int:
    members = _network_params(args)  # validates everything before anything is built or written
    from . import network

    for label, params in members:
        net, digest, path = _ensure_network(label, params, Path(args.out), args.force)
        if args.summary:
            print(json.dumps({"experiment": label, **network.summary(net), "net_hash": digest, "path": str(path)}))
    return 0


def _simulation_params(args) -> tuple[str, dict, Path | None]:
    """(label, resolved parameters, network file or None) of ``humam simulate``'s target."""
    from . import network, parameters

    target = Path(args.target)
    if target.suffix == ".h5":
        if not target.is_file():
            raise ParameterError(f"Network file {target} does not exist; build one with 'humam network'.")
        attrs = network.read_network_attrs(target)
        if "parameters" not in attrs:
            raise ParameterError(f"{target} was not written by 'humam network' (it has no 'parameters' attribute).")
        params = parameters.merge(parameters.load_defaults(), {"network": json.loads(attrs["parameters"])})
        label, network_file = target.parent.name[:12], target
        if args.profile:
            raise ParameterError("--profile applies to experiments; a network file already fixes the network.")
    else:
        members = parameters.scan_members(args.target)
        if len(members) != 1:
            raise ParameterError(
                f"'{args.target}' is a scan family of {len(members)} runs; simulate its members one by one "
                f"(the pipeline does this) or give a single experiment."
            )
        (label, params), network_file = members[0], None
        if args.profile:
            params = parameters.apply_profile(params, parameters.load_profile(args.profile))
    overrides = {key: value for key, value in (("t_sim_ms", args.t_sim), ("seed", args.seed),
                                               ("threads", args.threads)) if value is not None}
    params = parameters.merge(params, {"simulation": overrides})
    if args.set:
        if network_file is not None and any(item.startswith("network.") for item in args.set):
            raise ParameterError("--set network.* applies to experiments; a network file already fixes the network.")
        params = _apply_settings(params, args.set)
    return label, params, network_file


def _cmd_simulate(args) -> int:
    from . import network, parameters, simulation

    label, params, network_file = _simulation_params(args)
    out = Path(args.out)
    if network_file is not None:
        net, digest = network.load_network(network_file), parameters.net_hash(params)
    else:
        net, digest, _ = _ensure_network(label, params, out)
    vps = params["simulation"]["threads"] * simulation.launcher_world_size()
    folder = out / digest / parameters.sim_hash(params, vps)
    if simulation.run_is_complete(folder) and not args.force:
        _log(f"{label}: up to date: {folder}")
        return 0
    metadata = {"experiment": label, "net_hash": digest, "sim_hash": folder.name,
                "parameters": parameters.canonical_json(params)}
    simulation.simulate(net, params["simulation"], folder, metadata=metadata,
                        show_progress=args.progress, force_memory=args.force_memory)
    return 0


def _analysis_section(args, run: dict) -> dict:
    """The resolved ``analysis`` parameters of ``humam analyse`` for a run: the experiment's section
    (``--experiment``) or else the one recorded in run.json (the defaults for runs without one), then
    the profile's ``analysis`` overrides and ``--set analysis.*``."""
    from . import parameters

    if args.experiment:
        section = parameters.resolve(args.experiment)["analysis"]
    else:
        section = json.loads(run.get("parameters") or "{}").get("analysis", {})
    params = {"analysis": parameters.resolve_analysis(section)}
    if args.profile:
        params = parameters.merge(params, {"analysis": parameters.load_profile(args.profile)["overrides"].get("analysis", {})})
    if any(not item.startswith("analysis.") for item in args.set or []):
        raise ParameterError("'humam analyse' takes --set analysis.KEY=VALUE only; the run fixes everything else.")
    return parameters.resolve_analysis(_apply_settings(params, args.set)["analysis"])


def _cmd_analyse(args) -> int:
    from . import analysis, parameters, simulation

    folders = [Path(f) for f in args.runs]
    for folder in folders:  # check every input before the first (slow) analysis
        if not simulation.run_is_complete(folder):
            raise ParameterError(
                f"{folder} holds no complete simulation ({simulation.SPIKES_FILE} and {simulation.RUN_FILE}); "
                f"run 'humam simulate' first.")
        if not (folder.parent / "network.h5").is_file():
            raise ParameterError(f"{folder.parent / 'network.h5'} (the network of run {folder}) is missing.")
    for folder in folders:
        target = folder / ANALYSIS_FILE
        run = json.loads((folder / simulation.RUN_FILE).read_text())
        section = _analysis_section(args, run)
        digest = parameters.analysis_hash({**json.loads(run["parameters"]), "analysis": section},
                                          run["virtual_processes"]) if run.get("parameters") else ""
        if target.is_file() and not args.force:
            if analysis.read_analysis_attrs(target).get("analysis_hash") == digest:
                _log(f"{folder}: up to date: {target}")
                continue
            _log(f"{folder}: {target} was made with other analysis parameters; analysing again")
        results = analysis.analyse_run(folder / simulation.SPIKES_FILE, folder.parent / "network.h5", section)
        attrs = {"net_hash": run.get("net_hash", ""), "sim_hash": run.get("sim_hash", folder.name),
                 "analysis_hash": digest, "experiment": run.get("experiment", ""),
                 "run_parameters": run.get("parameters", "")}
        analysis.write_analysis(results, target, attrs)
        summary = results["summary"]
        wall = sum(results["timings_s"].values())
        _log(f"{run.get('experiment', folder.name)}: {summary['neurons']} neurons, {summary['spikes']} spikes, "
             f"mean rate {summary['neuron_weighted_rate_hz']:.2f} spikes/s (neuron-weighted), "
             f"CV ISI {summary['mean_cv_isi']:.2f}, cc {summary['mean_cc']:.4f}; analysed in {wall:.1f} s; wrote {target}")
    return 0


def _cmd_theory(args) -> int:
    members = _network_params(args)
    from . import parameters, provenance, theory

    for label, params in members:
        net, digest, path = _ensure_network(label, params, Path(args.out))
        target = path.parent / (THEORY_CONVERGED_FILE if args.until_converged else THEORY_FILE)
        if target.is_file() and not args.force:
            _log(f"{label}: up to date: {target}")
            continue
        result = theory.theory_rates(net, until_converged=args.until_converged)
        attrs = {"net_hash": digest, "experiment": label,
                 "parameters": parameters.canonical_json(params["network"]),
                 "provenance": json.dumps(provenance.record(), sort_keys=True)}
        theory.write_theory(result, target, attrs)
        n = net.neuron_numbers
        rates = result.rates_hz[n > 0]
        weighted = float((result.rates_hz * n).sum() / n.sum())
        _log(f"{label}: theory rates at pseudo-time {result.times[-1]:g}: mean over populations {rates.mean():.6f} "
             f"spikes/s (neuron-weighted {weighted:.6f}), range {rates.min():.3g}-{rates.max():.3g}; "
             f"wrote {target}")
    return 0


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


def _log(message: str) -> None:
    from .simulation import launcher_rank

    if launcher_rank() == 0:
        print(message, file=sys.stderr, flush=True)


def _add_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override one parameter, e.g. network.scaling.chi=2.5 (repeatable; validated like an experiment file)")


def _add_network_selection(parser: argparse.ArgumentParser) -> None:
    """The options that select a network: experiment, scales, profile and --set overrides."""
    parser.add_argument("--experiment", help="shipped experiment name (see 'humam experiments') or YAML file "
                                             "(default: the published defaults)")
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--scale", type=_scale_value, help="down-scale neurons and indegrees by S (0 < S <= 1)")
    parser.add_argument("--n-scaling", type=_scale_value, help="neuron-number scale n (0 < n <= 1)")
    parser.add_argument("--k-scaling", type=_scale_value, help="indegree scale k (0 < k <= 1)")
    parser.add_argument("--profile", help="pipeline profile (tiny, laptop, hpc or a YAML file) applied to the experiment")
    _add_settings(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="humam", description="Human Multi-Area Model (Pronold et al. 2024).")
    parser.add_argument("--version", action="version", version=f"humam {__version__}")
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
    _add_settings(sim)
    sim.add_argument("--progress", action="store_true", help="show progress bars (rank 0)")
    sim.add_argument("--force", action="store_true", help="rerun even if a complete run exists")
    sim.add_argument("--force-memory", action="store_true", help="run even if the memory estimate exceeds what is available")
    sim.set_defaults(func=_cmd_simulate)

    ana = commands.add_parser("analyse", help="spike statistics, BOLD and FC of finished runs (analysis.h5 in each run folder)")
    ana.add_argument("runs", nargs="+", metavar="RUN_FOLDER", help="OUT/<net_hash>/<sim_hash> folder written by 'humam simulate'")
    ana.add_argument("--experiment", help="take the analysis parameters from this experiment (default: those "
                                          "recorded in the run's run.json)")
    ana.add_argument("--profile", help="pipeline profile whose analysis overrides apply")
    _add_settings(ana)
    ana.add_argument("--force", action="store_true", help="reanalyse even if analysis.h5 exists")
    ana.set_defaults(func=_cmd_analyse)

    theo = commands.add_parser("theory", help="mean-field (shifted Siegert) rates of an experiment's network")
    _add_network_selection(theo)
    theo.add_argument("--until-converged", action="store_true",
                      help="continue the pseudo-dynamics to the fixed point (published: stop at t = 9.9)")
    theo.add_argument("--out", default="out", help=f"output root: OUT/<net_hash>/{THEORY_FILE}")
    theo.add_argument("--force", action="store_true", help="recompute even if the output exists")
    theo.set_defaults(func=_cmd_theory)

    data_cmd = commands.add_parser("data", help="raw data registry")
    data_sub = data_cmd.add_subparsers(dest="data_command", required=True)
    verify = data_sub.add_parser("verify", help="check every registered raw file (fetching what is missing)")
    verify.set_defaults(func=_cmd_data_verify)

    exps = commands.add_parser("experiments", help="list the shipped experiments")
    exps.set_defaults(func=_cmd_experiments)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "scale", None) is not None and (args.n_scaling is not None or args.k_scaling is not None):
        parser.error("--scale and --n-scaling/--k-scaling exclude each other")
    try:
        return args.func(args)
    except HumamError as exc:
        print(f"humam: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("humam: interrupted; no partial output was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
