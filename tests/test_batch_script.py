"""The SLURM batch script that ``humam plan --batch-script`` writes (humam.batch_script); it runs
under SLURM in tests/test_cluster.py."""

import shlex
from pathlib import Path

import pytest

from humam import batch_script, cli
from humam.errors import ParameterError

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "container" / "slurm-full-scale.sbatch"


def test_shipped_script_is_what_its_recorded_command_writes(tmp_path):
    """container/slurm-full-scale.sbatch regenerated with the command in its header is unchanged
    (regenerate it with that command after changing the template, the profile or the plan)."""
    text = SHIPPED.read_text()
    command = shlex.split(text.splitlines()[2].lstrip("# "))
    assert command[:2] == ["humam", "plan"]
    target = command.index("--batch-script") + 1
    written = tmp_path / "script.sbatch"
    command[target] = str(written)
    assert cli.main(command[1:]) == 0
    assert written.read_text().replace(str(written), "container/slurm-full-scale.sbatch") == text


def test_shipped_script_asks_for_the_hpc_profiles_decomposition():
    text = SHIPPED.read_text()
    assert "#SBATCH --ntasks-per-node=32" in text and "#SBATCH --nodes=6" in text  # 192 processes
    assert "#SBATCH --cpus-per-task=4" in text  # the profile's threads
    assert "srun -n 192 apptainer exec" in text


@pytest.mark.parametrize("text, seconds", [("90", 5400.0), ("02:30:00", 9000.0), ("1-00:00:00", 86400.0),
                                           ("2-12", 216000.0)])
def test_slurm_time_forms(text, seconds):
    assert batch_script.parse_slurm_time(text) == seconds


def test_slurm_time_round_trip():
    assert batch_script.slurm_time(batch_script.parse_slurm_time("1-02:03:04")) == "1-02:03:04"


@pytest.mark.parametrize("text", ["soon", "1:2:3:4", "-5"])
def test_bad_slurm_time_is_refused(text):
    with pytest.raises(ParameterError, match="not a SLURM time"):
        batch_script.parse_slurm_time(text)


def test_batch_script_needs_a_profile(tmp_path, capsys):
    assert cli.main(["plan", "--experiment", "ground_state", "--batch-script", str(tmp_path / "x.sbatch")]) == 2
    assert "--batch-script needs --profile" in capsys.readouterr().err
    assert not (tmp_path / "x.sbatch").exists()
