"""The cluster path under a real SLURM: the one-node cluster that ``scripts/cluster-check.sh`` starts
(as root) and exports as SLURM_CONF. Elsewhere every test here is skipped with one reason.

What runs: the MPI world that ``srun`` gives (and the refusal when the launcher's MPI plugin does
not match), a profile shaped like ``hpc`` whose launcher ``srun -n {processes}`` starts ``humam
simulate`` with the same spikes as ``mpiexec``, and the batch script that ``humam plan
--batch-script`` writes, submitted with ``sbatch --wait``: the pipeline's simulation in it, and a job
whose ranks do not form one world ending with a non-zero exit code and no run.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from humam import layout, parameters, run_record
from tests.test_simulation import assert_same_spikes

REPO = Path(__file__).resolve().parents[1]
EXPERIMENT = "ground_state"
#: MPI processes of the hpc-shaped profile (and of the mpiexec reference)
PROCESSES = 2

pytestmark = pytest.mark.cluster
if not os.environ.get("SLURM_CONF") or shutil.which("sbatch") is None:
    pytest.skip("needs a SLURM cluster: run scripts/cluster-check.sh as root (it starts one)", allow_module_level=True)


def hpc_like_profile() -> dict:
    """The ``hpc`` profile's shape (its launcher form, several processes, static_synapse_hpc) at the
    tiny profile's N = K = 0.002 for 200 ms, with NEST of this environment instead of the image."""
    hpc = yaml.safe_load((REPO / "profiles" / "hpc.yaml").read_text())
    launcher = hpc["launcher"].split(" apptainer ")[0]
    assert launcher == "srun -n {processes}"  # the hpc profile's own launcher, without the image
    return {
        "description": "hpc-shaped test profile",
        "network": {"downscaling": {"n_scaling": 0.002, "k_scaling": 0.002, "scaling_type": "preserve_input_statistics"}},
        "simulation": {"threads": 1, "t_sim_ms": 200.0, "synapse_model": hpc["simulation"]["synapse_model"]},
        "processes": PROCESSES,
        "launcher": launcher,
    }


def run(command, **kwargs) -> subprocess.CompletedProcess:
    print("$", shlex.join(map(str, command)), flush=True)
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=300, **kwargs)


def slurm_env(mpi_type: str = "pmi2") -> dict:
    """The environment a job step gets from the batch script: SLURM_MPI_TYPE set (the cluster's
    default, as on many sites, is none)."""
    return {**os.environ, "SLURM_MPI_TYPE": mpi_type, "PYNEST_QUIET": "1"}


@pytest.fixture(scope="module")
def profile_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("profile") / "hpc-tiny.yaml"
    path.write_text(yaml.safe_dump(hpc_like_profile()))
    return path


@pytest.fixture(scope="module")
def run_folder_of(profile_file):
    """``run_folder_of(out)``: where the pipeline looks for the experiment's run under ``out``."""
    params = parameters.apply_profile(parameters.resolve(EXPERIMENT), parameters.load_profile(str(profile_file)))

    def folder(out: Path) -> Path:
        return layout.Layout(out).run(params, PROCESSES).path

    return folder


@pytest.fixture(scope="module")
def srun_and_mpiexec_runs(profile_file, run_folder_of, tmp_path_factory):
    """The experiment simulated through the profile's launcher under SLURM and under mpiexec with as
    many processes: {"srun": run folder, "mpiexec": run folder}."""
    root = tmp_path_factory.mktemp("runs")
    launcher = parameters.load_profile(str(profile_file))["launcher"]
    simulate = [sys.executable, "-m", "humam", "simulate", EXPERIMENT, "--profile", profile_file]
    folders = {}
    for name, prefix in (("srun", shlex.split(launcher)), ("mpiexec", ["mpiexec", "-n", str(PROCESSES)])):
        result = run([*prefix, *simulate, "--out", root / name], env=slurm_env())
        assert result.returncode == 0, result.stderr[-2000:]
        folders[name] = run_folder_of(root / name)
    return folders


def test_srun_with_pmi2_starts_one_mpi_world():
    code = "from mpi4py import MPI; c = MPI.COMM_WORLD; print(c.Get_rank(), c.Get_size())"
    result = run(["srun", "-n", PROCESSES, sys.executable, "-c", code], env=slurm_env("pmi2"))
    assert result.returncode == 0, result.stderr
    worlds = sorted(tuple(map(int, line.split())) for line in result.stdout.split("\n") if line.strip())
    print("srun --mpi=pmi2: (rank, world size)", worlds)
    assert worlds == [(rank, PROCESSES) for rank in range(PROCESSES)]


def test_simulate_refuses_ranks_that_are_worlds_of_their_own(profile_file, run_folder_of, tmp_path):
    """Under ``srun --mpi=none`` every rank is an MPI world of one; simulating would run the network
    once per rank into the same files. The run stops with one message and leaves no run."""
    result = run(["srun", "-n", PROCESSES, sys.executable, "-m", "humam", "simulate", EXPERIMENT,
                  "--profile", profile_file, "--out", tmp_path], env=slurm_env("none"))
    assert result.returncode != 0
    assert f"started {PROCESSES} processes, but MPI joined them into worlds of 1" in result.stderr
    assert "srun --mpi=pmi2" in result.stderr
    assert not (run_folder_of(tmp_path) / layout.RUN_FILE).exists()


def test_hpc_launcher_under_slurm_gives_the_spikes_of_mpiexec(srun_and_mpiexec_runs):
    srun, mpiexec = srun_and_mpiexec_runs["srun"], srun_and_mpiexec_runs["mpiexec"]
    assert srun.name == mpiexec.name
    assert_same_spikes(srun / layout.SPIKES_FILE, mpiexec / layout.SPIKES_FILE)
    record = run_record.read_run_record(srun)
    print(f"srun run: {record['spikes']} spikes on {record['mpi_processes']} ranks, identical to mpiexec's "
          f"{run_record.read_run_record(mpiexec)['spikes']}")
    assert record["mpi_processes"] == PROCESSES and len(record["peak_memory_bytes_per_rank"]) == PROCESSES
    assert record["synapse_model"] == "static_synapse_hpc"
    assert record["spikes"] > 0


def test_memory_estimate_predicts_each_ranks_peak_under_slurm(srun_and_mpiexec_runs):
    record = run_record.read_run_record(srun_and_mpiexec_runs["srun"])
    predicted = record["memory_estimate_bytes"]["total"] / record["mpi_processes"]
    peaks = record["peak_memory_bytes_per_rank"]
    print(f"memory per rank: predicted {predicted / 1e6:.0f} MB, measured peaks "
          f"{', '.join(f'{p / 1e6:.0f}' for p in peaks)} MB")
    for peak in peaks:
        assert predicted == pytest.approx(peak, rel=0.25)


def _batch_script(profile_file: Path, folder: Path, *plan_options) -> Path:
    """The batch script of the profile as ``humam plan --batch-script`` writes it, for this node."""
    script = folder / "humam.sbatch"
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    result = run([sys.executable, "-m", "humam", "plan", "--experiment", EXPERIMENT, "--profile", profile_file,
                  "--cores-per-node", "4", "--memory-per-node-gb", f"{memory_gb:.1f}", *plan_options,
                  "--batch-script", script])
    assert result.returncode == 0, result.stderr
    return script


def _submit(script: Path, out: Path, *doit_args, extra_env: str = "") -> tuple[int, str]:
    """``sbatch --wait`` of ``script`` from the checkout: (exit code, the job's output)."""
    log = out.parent / f"{out.name}.job.out"
    exports = f"ALL,HUMAM_OUT={out},HUMAM_VENV={sys.prefix}{extra_env}"
    result = run(["sbatch", "--wait", "--chdir", REPO, "--output", log, "--export", exports, script, *doit_args])
    text = log.read_text() if log.exists() else ""
    shown = [line for line in text.splitlines() if line.strip() and "\r" not in line and "it/s]" not in line
             and "area/s]" not in line]
    print(f"sbatch --wait exit code {result.returncode}; job output (last lines):", *shown[-8:], sep="\n  ")
    return result.returncode, text + result.stderr


def test_batch_script_runs_the_pipelines_simulation(profile_file, run_folder_of, srun_and_mpiexec_runs, tmp_path):
    script = _batch_script(profile_file, tmp_path)
    text = script.read_text()
    assert "#SBATCH --ntasks-per-node=2" in text and "#SBATCH --cpus-per-task=1" in text
    code, output = _submit(script, tmp_path / "out", f"simulate:{EXPERIMENT}")
    assert code == 0, output[-3000:]
    assert f"rank 0: MPI world of {PROCESSES} process(es), the profile runs {PROCESSES}" in output
    folder = run_folder_of(tmp_path / "out")
    assert_same_spikes(folder / layout.SPIKES_FILE, srun_and_mpiexec_runs["mpiexec"] / layout.SPIKES_FILE)
    assert json.loads((folder / layout.RUN_FILE).read_text())["mpi_processes"] == PROCESSES


def test_batch_job_whose_ranks_are_no_world_fails(profile_file, run_folder_of, tmp_path):
    """A site whose srun speaks another MPI plugin (here SLURM_MPI_TYPE=none given to the job): the
    script's check of the world stops the job before any task, with a non-zero exit code."""
    script = _batch_script(profile_file, tmp_path)
    code, output = _submit(script, tmp_path / "out", f"simulate:{EXPERIMENT}", extra_env=",SLURM_MPI_TYPE=none")
    assert code != 0
    assert f"MPI world of 1 process(es), the profile runs {PROCESSES}" in output
    assert not run_folder_of(tmp_path / "out").exists()


def test_two_simulations_at_once_in_one_job(profile_file, srun_and_mpiexec_runs, tmp_path):
    """``--parallel-runs 2``: one allocation for two simulations, doit running both as job steps at
    once; each equals its run made alone."""
    second = "best_fit"
    params = parameters.apply_profile(parameters.resolve(second), parameters.load_profile(str(profile_file)))
    alone = run([*shlex.split(parameters.load_profile(str(profile_file))["launcher"]), sys.executable, "-m", "humam",
                 "simulate", second, "--profile", profile_file, "--out", tmp_path / "alone"], env=slurm_env())
    assert alone.returncode == 0, alone.stderr[-2000:]
    script = _batch_script(profile_file, tmp_path, "--runs", "2", "--parallel-runs", "2")
    assert f"#SBATCH --ntasks-per-node={2 * PROCESSES}" in script.read_text()
    code, output = _submit(script, tmp_path / "out", f"simulate:{EXPERIMENT}", f"simulate:{second}")
    assert code == 0, output[-3000:]
    lines = output.splitlines()
    built = [i for i, line in enumerate(lines) if line.startswith("network built in")]
    simulated = [i for i, line in enumerate(lines) if " spikes in " in line]
    assert len(built) == len(simulated) == 2 and max(built) < min(simulated), "the two runs did not overlap"
    together = layout.Layout(tmp_path / "out")
    assert_same_spikes(together.run(params, PROCESSES).path / layout.SPIKES_FILE,
                       layout.Layout(tmp_path / "alone").run(params, PROCESSES).path / layout.SPIKES_FILE)
    first = srun_and_mpiexec_runs["mpiexec"]
    assert_same_spikes(tmp_path / "out" / first.parent.name / first.name / layout.SPIKES_FILE,
                       first / layout.SPIKES_FILE)
