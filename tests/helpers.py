"""Small helpers shared by the figure tests."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def sha256_file(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_sidecar(result) -> dict:
    """The JSON sidecar of a built figure (a ``FigureResult``)."""
    return json.loads(Path(result.paths["json"]).read_text())


def figure_inputs(**kinds):
    """FigureInputs from ``kind={name: path}`` keyword arguments, e.g.
    ``figure_inputs(network={"full": path}, run={"best_fit": analysis_file})``."""
    from paper_figures.common import FigureInputs

    return FigureInputs({(kind, name): Path(path) for kind, items in kinds.items() for name, path in items.items()})


ROOT = Path(__file__).resolve().parents[1]


def copy_repository(target: Path) -> Path:
    """The files git knows (tracked, and untracked but not ignored) copied to ``target``."""
    listing = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    for name in filter(None, listing.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


class Pipeline:
    """``doit`` in a copy of the repository, the copy's code first on the path."""

    def __init__(self, repo: Path):
        self.repo, self.out = repo, repo / "out"
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo / "src"), str(repo)]),
                    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.variables = ["profile=tiny", f"out={self.out}", f"dep_file={repo / '.doit.db'}"]

    def run(self, *tasks: str) -> dict[str, str]:
        """Run ``tasks`` (default: every default task); task name -> doit's result for it."""
        command = [sys.executable, "-m", "doit", "run", "--reporter", "json", *self.variables, *tasks]
        result = subprocess.run(command, cwd=self.repo, capture_output=True, text=True, env=self.env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        report = json.loads(result.stdout[result.stdout.index("{"):])
        return {task["name"]: task["result"] for task in report["tasks"]}

    def status(self) -> dict[str, str]:
        """Task name -> doit's status letter (R: would run, U: up to date) of every task."""
        command = [sys.executable, "-m", "doit", "list", "--all", "--status", *self.variables]
        result = subprocess.run(command, cwd=self.repo, capture_output=True, text=True, env=self.env)
        assert result.returncode == 0, result.stderr[-3000:]
        return {line.split()[1]: line.split()[0] for line in result.stdout.splitlines() if line[:2] in ("R ", "U ")}

    def executed(self, *tasks: str) -> set[str]:
        """The tasks doit executed (not the task groups, which have no action)."""
        return {name for name, outcome in self.run(*tasks).items()
                if outcome == "success" and (":" in name or name in ("report", "verify_data"))}

    def targets(self) -> dict[str, list[Path]]:
        """Task name -> its targets, from the copy's dodo.py with the same variables."""
        script = ("import json, sys\nfrom doit import doit_cmd\ndoit_cmd.reset_vars()\n"
                  "for item in sys.argv[1:]:\n    key, value = item.split('=', 1)\n    doit_cmd.set_var(key, value)\n"
                  "import dodo\nout = {}\n"
                  "for name in dir(dodo):\n    if not name.startswith('task_'):\n        continue\n"
                  "    made = getattr(dodo, name)()\n    group = name[5:]\n"
                  "    for task in (made if not isinstance(made, dict) else [made]):\n"
                  "        full = group if 'name' not in task else f\"{group}:{task['name']}\"\n"
                  "        out[full] = task.get('targets', [])\n"
                  "print(json.dumps(out))\n")
        result = subprocess.run([sys.executable, "-c", script, *self.variables], cwd=self.repo, capture_output=True,
                                text=True, env=self.env, check=True)
        return {name: [self.repo / p if not Path(p).is_absolute() else Path(p) for p in paths]
                for name, paths in json.loads(result.stdout).items()}

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.repo / relative
        text = path.read_text()
        assert text.count(old) == 1, (relative, old)
        path.write_text(text.replace(old, new))


def synthetic_fmri(rng):
    """A synthetic 7T resting-state array of the real shape (600 time points x 85 ROIs x 19 subjects)
    and its ROI names (14 subcortical, 34 left, 34 right cortical areas in file order, 3 others); the
    left insula is a copy of the left bankssts."""
    from humam import tables

    roi_names = [f"subcortical-{k}" for k in range(14)]
    roi_names += [f"ctx-lh-{a}" for a in tables.AREAS_FILE_ORDER] + [f"ctx-rh-{a}" for a in tables.AREAS_FILE_ORDER]
    roi_names += ["x", "y", "z"]
    data = rng.normal(size=(600, 85, 19))
    lh = {a: 14 + k for k, a in enumerate(tables.AREAS_FILE_ORDER)}
    data[:, lh["insula"], :] = data[:, lh["bankssts"], :]  # identical ROIs in the left hemisphere
    return data, roi_names


def synthetic_run(tmp_path, spikes: int = 20_000, t_sim_ms: float = 1000.0):
    """A run folder with synthetic spikes (uniform over neurons and [0.1, t_sim_ms) ms) beside its
    network file in ``tmp_path/out`` (no NEST): (parameters, layout.RunFolder)."""
    import numpy as np

    from humam import build, layout, network_file, parameters, spikefile

    params = parameters.merge(parameters.resolve("downscaled_ground"), {
        "network": {"downscaling": {"n_scaling": 0.002, "k_scaling": 0.002}}, "simulation": {"t_sim_ms": float(t_sim_ms)}})
    net = build.build_network(params["network"])
    out = layout.Layout(tmp_path / "out")
    network_file.save_network(net, out.network_file(params))
    run = out.run(params, 1)
    first_ids = {int(i): 1 + int(net.neuron_numbers[:i].sum()) for i in np.flatnonzero(net.neuron_numbers)}
    rng = np.random.default_rng(4)
    senders = rng.integers(1, int(net.neuron_numbers.sum()) + 1, spikes)
    spikefile.write_spikes(run.spikes, net.neuron_numbers, first_ids, senders,
                           np.round(rng.uniform(0.1, t_sim_ms, senders.size), 1), float(t_sim_ms), {})
    run.record.write_text(json.dumps({
        "parameters": parameters.canonical_json(params), "virtual_processes": 1, "mpi_processes": 1,
        "sim_hash": run.path.name, "experiment": "synthetic",
        "network_digest": network_file.content_digest(out.network_file(params))}))
    return params, run
