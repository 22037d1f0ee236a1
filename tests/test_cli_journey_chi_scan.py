"""`humam journey` and `humam chi-scan`: the files the task graph expects, up-to-date checks, --force,
and one-line errors with exit code 2 for bad runs and families."""

import os
import subprocess
import sys

import numpy as np
import pytest

from humam import cli, layout
from humam.analysis import chi_scan, journey

#: Length of the perturbation runs: just past the 100 ms window after the extra spike (ms).
PAIR_T_SIM_MS = 2100.0


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "humam", *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ))


def assert_one_line_error(result, *words):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("humam: error:") and "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


# ---------------------------------------------------------------------------------------------
# humam chi-scan


def test_chi_scan_writes_the_layout_file_and_skips_when_up_to_date(tmp_path, capsys):
    family = "lichtman_chii2_smaller_g"
    target = layout.Layout(tmp_path).chi_scan_file(family)
    assert cli.main(["chi-scan", family, "--out", str(tmp_path)]) == 0
    assert target.is_file() and "wrote" in capsys.readouterr().err
    stats = chi_scan.read_chi_scan_statistics(target)
    assert stats["family"] == family and stats["sample_chi"]["bestfit"] == 1.75
    inode = target.stat().st_ino
    assert cli.main(["chi-scan", family, "--out", str(tmp_path)]) == 0
    assert "up to date" in capsys.readouterr().err and target.stat().st_ino == inode
    # the long folder name names the same family and file; --force writes it again
    assert cli.main(["chi-scan", f"scaling_experiment_{family}", "--out", str(tmp_path), "--force"]) == 0
    assert "wrote" in capsys.readouterr().err and target.stat().st_ino != inode
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
    # an unreadable file is computed again
    target.write_bytes(b"not hdf5")
    assert cli.main(["chi-scan", family, "--out", str(tmp_path)]) == 0
    assert chi_scan.read_chi_scan_statistics(target)["family"] == family


def test_chi_scan_refuses_an_unknown_family(tmp_path):
    result = run_cli("chi-scan", "no_such_family", "--out", tmp_path)
    assert_one_line_error(result, "no_such_family", "lichtman_chii2_different_seed")
    assert not (tmp_path / "chi_scan").exists()


# ---------------------------------------------------------------------------------------------
# humam journey


@pytest.fixture(scope="module")
def pair(simulate_experiments):
    runs = simulate_experiments(("perturbation_ground_unperturbed", "perturbation_ground_perturbed"), PAIR_T_SIM_MS)
    return runs["perturbation_ground_unperturbed"], runs["perturbation_ground_perturbed"]


def test_journey_writes_the_layout_file_and_skips_when_up_to_date(pair, capsys):
    unperturbed, perturbed = pair
    network = layout.RunFolder(unperturbed).network  # the run's own network orders the populations here
    target = layout.journey_file(layout.RunFolder(perturbed), layout.RunFolder(unperturbed))
    assert cli.main(["journey", str(unperturbed), str(perturbed), "--network", str(network), "--force"]) == 0
    assert target.is_file() and "wrote" in capsys.readouterr().err
    data = journey.read_journey(target)
    assert data["attrs"]["unperturbed_run"] == str(unperturbed) and data["attrs"]["perturbed_run"] == str(perturbed)
    assert data["runs"]["perturbed"]["experiment"] == "perturbation_ground_perturbed"
    assert set(journey.BIN_WIDTHS_MS) == {0.1, 1.0}
    for bin_ms in journey.BIN_WIDTHS_MS:
        raster = data[journey.bin_key(bin_ms)]["raster"]
        assert raster.shape == (272, round(100 / bin_ms)) and raster.dtype == bool
    np.testing.assert_array_equal(data["window_ms"], journey.WINDOW_MS)
    inode = target.stat().st_ino
    assert cli.main(["journey", str(unperturbed), str(perturbed), "--network", str(network)]) == 0
    assert "up to date" in capsys.readouterr().err and target.stat().st_ino == inode
    assert cli.main(["journey", str(unperturbed), str(perturbed), "--network", str(network), "--force"]) == 0
    assert "wrote" in capsys.readouterr().err and target.stat().st_ino != inode


def test_journey_refuses_bad_runs_and_networks(pair, tmp_path):
    unperturbed, perturbed = pair
    network = layout.RunFolder(unperturbed).network
    result = run_cli("journey", tmp_path / "missing", perturbed, "--network", network)
    assert_one_line_error(result, str(tmp_path / "missing"), "humam simulate")
    result = run_cli("journey", unperturbed, perturbed, "--network", tmp_path / "none.h5")
    assert_one_line_error(result, "none.h5", "humam network")
