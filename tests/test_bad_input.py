"""Bad input of every kind: a ParameterError, FileFormatError or OutputError (for the CLI: exit code 2,
a message naming the problem, no traceback), and no file left behind."""

import errno
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from humam import h5io, parameters
from humam.errors import FileFormatError, HumamError, OutputError, ParameterError

FILE_TYPE, VERSION = "humam.test", 3
SRC = Path(__file__).resolve().parents[1] / "src"


def files_in(folder: Path) -> list[str]:
    """Every file below ``folder`` (hidden ones included), relative."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def write_test_h5(path: Path, file_type: str = FILE_TYPE, version: int = VERSION) -> Path:
    with h5io.atomic_h5(path, file_type, version) as h5:
        h5["x"] = np.arange(1000.0)
    return path


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "humam", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


# ---------------------------------------------------------------------------------------------
# Parameters


NON_FINITE_KEYS = ["network.scaling.chi", "network.connectivity.fln", "network.neuron.E.tau_m_ms",
                   "network.delays.resolution_ms", "network.downscaling.n_scaling", "simulation.t_sim_ms",
                   "simulation.V0_mean_mV"]


@pytest.mark.parametrize("key", NON_FINITE_KEYS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_rejected_by_set_dotted(key, value):
    start = time.perf_counter()
    with pytest.raises(ParameterError, match=rf"'{key}' = {value!r} is not a finite number"):
        parameters.set_dotted(parameters.resolve(), key, value)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("text", [".nan", ".inf", "-.inf"])
def test_non_finite_value_in_an_experiment_file(tmp_path, text):
    exp = tmp_path / "bad.yaml"
    exp.write_text(f"network:\n  scaling:\n    chi: {text}\n")
    with pytest.raises(ParameterError, match=r"network\.scaling\.chi.*not a finite number"):
        parameters.resolve(exp)


def test_perturbation_time_must_be_finite():
    entry = {"area": "caudalanteriorcingulate", "layer": "II/III", "population": "E", "time_ms": math.nan}
    with pytest.raises(ParameterError, match=r"network\.perturbation\[0\]\.time_ms"):
        parameters.set_dotted(parameters.resolve(), "network.perturbation", [entry])


@pytest.mark.parametrize("key", ["simulation.t_sim_ms", "simulation.poisson_delay_ms", "network.delays.resolution_ms",
                                 "network.delays.velocity_mm_per_ms", "network.neuron.I.C_m_pF",
                                 "network.neuron.E.tau_syn_ex_ms", "network.downscaling.k_scaling"])
@pytest.mark.parametrize("value", [0.0, -1.0])
def test_zero_and_negative_times_and_sizes_are_rejected(key, value):
    allowed = parameters.parameter_range(key)
    assert value not in allowed
    with pytest.raises(ParameterError) as info:
        parameters.set_dotted(parameters.resolve(), key, value)
    assert f"'{key}' = {value!r}" in str(info.value) and str(allowed) in str(info.value)


@pytest.mark.parametrize("seed", [0, -1, parameters.NEST_MAX_SEED + 1, 2**40])
def test_seed_outside_nests_range(seed):
    with pytest.raises(ParameterError, match=rf"'simulation\.seed' = {seed}.*\[1, {2**32 - 1}\]"):
        parameters.set_dotted(parameters.resolve(), "simulation.seed", seed)


@pytest.mark.parametrize("seed", [1, 2**32 - 1])
def test_seed_at_the_ends_of_nests_range_is_accepted(seed):
    assert parameters.set_dotted(parameters.resolve(), "simulation.seed", seed)["simulation"]["seed"] == seed


def test_ranges_at_their_ends():
    params = parameters.resolve()
    for key, value in [("network.downscaling.n_scaling", 1.0), ("network.connectivity.fln", 0.0),
                       ("network.connectivity.fln", 1.0), ("network.heterogeneity.E.C_m", 0.0)]:
        parameters.set_dotted(params, key, value)
    for key, value in [("network.downscaling.n_scaling", 1.0 + 1e-12), ("network.connectivity.z_i", -1e-12),
                       ("network.heterogeneity.I.tau_m", -0.1), ("network.weights.transmission_probability", 0.0),
                       ("simulation.threads", 0), ("network.weights.rel_sd", 0.0), ("simulation.V0_sd_mV", 0.0)]:
        with pytest.raises(ParameterError, match=key.replace(".", r"\.")):
            parameters.set_dotted(params, key, value)


def test_k_scaling_above_n_scaling_is_allowed():
    params = parameters.set_dotted(parameters.resolve(), "network.downscaling.n_scaling", 0.01)
    assert parameters.set_dotted(params, "network.downscaling.k_scaling", 0.1)["network"]["downscaling"]["k_scaling"] == 0.1


def test_relations_between_keys():
    params = parameters.resolve()
    e = params["network"]["neuron"]["E"]
    with pytest.raises(ParameterError, match=r"V_th_mV.*V_reset"):
        parameters.set_dotted(params, "network.neuron.E.V_reset_mV", e["V_th_mV"])
    with pytest.raises(ParameterError, match=r"sln_fb"):
        parameters.set_dotted(params, "network.connectivity.sln_fb", params["network"]["connectivity"]["sln_ff"] + 0.01)
    resolution = params["network"]["delays"]["resolution_ms"]
    with pytest.raises(ParameterError, match=r"simulation\.poisson_delay_ms"):
        parameters.set_dotted(params, "simulation.poisson_delay_ms", resolution / 2)
    with pytest.raises(ParameterError, match=r"network\.delays\.resolution_ms.*multiple"):
        parameters.set_dotted(params, "network.delays.resolution_ms", parameters.NEST_TIC_MS / 2)


def test_every_numeric_default_has_a_range_and_lies_in_it():
    defaults = parameters.load_defaults()
    numbers = list(parameters._numbers(defaults, ""))
    assert numbers
    for key, value in numbers:
        allowed = parameters.parameter_range(key)
        assert allowed is not None, key
        assert value in allowed, key
    parameters.validate(defaults)


def test_hashing_a_non_finite_value_names_the_key():
    with pytest.raises(ParameterError, match=r"'network\.scaling\.chi' = nan"):
        parameters.content_hash({"network": {"scaling": {"chi": math.nan}}})


def test_scale_that_leaves_no_neuron():
    largest = 1000  # any population size: the bound follows from round(n N), half to even
    parameters.check_scale_leaves_neurons(1.0, largest)
    parameters.check_scale_leaves_neurons(0.51 / largest, [0, 3, largest])
    for n in (1e-9, 0.5 / largest):  # round(0.5) = 0: half to even
        with pytest.raises(ParameterError, match=r"n_scaling.*leaves no neuron"):
            parameters.check_scale_leaves_neurons(n, [0, 3, largest])


def test_scale_that_leaves_no_neuron_of_the_published_model(cyto_default):
    from humam.downscaling import downscale_counts

    counts = np.asarray(cyto_default.neuron_numbers).ravel()
    zeros = np.zeros((counts.size, counts.size), dtype=np.int64)
    for n in (1e-9, 0.4 / counts.max()):
        with pytest.warns(UserWarning):
            assert downscale_counts(counts, zeros, zeros[0], n, 1.0)[0].sum() == 0
        with pytest.raises(ParameterError, match=r"leaves no neuron"):
            parameters.check_scale_leaves_neurons(n, cyto_default.neuron_numbers)
    n = 0.6 / counts.max()
    with pytest.warns(UserWarning):
        assert downscale_counts(counts, zeros, zeros[0], n, 1.0)[0].sum() > 0
    parameters.check_scale_leaves_neurons(n, cyto_default.neuron_numbers)


@pytest.mark.parametrize("content, problem", [
    ("network:\n  scaling:\n    chi: .nan\n", "network.scaling.chi"),
    ("simulation:\n  t_sim_ms: -100.0\n", "simulation.t_sim_ms"),
    ("simulation:\n  seed: 0\n", "simulation.seed"),
])
def test_cli_rejects_bad_parameters_without_traceback(tmp_path, content, problem):
    exp = tmp_path / "bad.yaml"
    exp.write_text(content)
    out = tmp_path / "out"
    result = run_cli("network", "--experiment", str(exp), "--summary", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert problem in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_cli_set_rejects_infinity_without_traceback(tmp_path):
    out = tmp_path / "out"
    result = run_cli("network", "--set", "network.delays.velocity_mm_per_ms=.inf", "--summary", "--out", str(out),
                     cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "network.delays.velocity_mm_per_ms" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# Reading


def test_good_file_opens(tmp_path):
    path = write_test_h5(tmp_path / "a.h5")
    with h5io.open_h5(path, FILE_TYPE, VERSION) as h5:
        assert h5["x"].shape == (1000,)
    assert h5io.is_readable_h5(path, FILE_TYPE, VERSION)
    assert files_in(tmp_path) == ["a.h5"]


def _missing(path):
    return None


def _truncated(path):
    write_test_h5(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _tiny(path):
    path.write_bytes(b"\x89HDF")


def _text(path):
    path.write_text("this is not a network\n")


def _empty(path):
    path.write_bytes(b"")


def _foreign(path):
    import h5py

    with h5py.File(path, "w") as h5:
        h5["data"] = np.zeros(3)


def _other_kind(path):
    write_test_h5(path, file_type="humam.other")


def _other_version(path):
    write_test_h5(path, version=VERSION + 1)


def _folder(path):
    path.mkdir()


@pytest.mark.parametrize("make, problem", [
    (_missing, "does not exist"), (_truncated, "cannot be opened"), (_tiny, "not an HDF5 file"),
    (_text, "not an HDF5 file"), (_empty, "not an HDF5 file"), (_foreign, "without a humam file_type"),
    (_other_kind, "humam.other file, not a humam.test"), (_other_version, f"version {VERSION + 1}"),
    (_folder, "found a folder"),
])
def test_bad_h5_files(tmp_path, make, problem):
    path = tmp_path / "network.h5"
    make(path)
    before = files_in(tmp_path)
    with pytest.raises(FileFormatError) as info:
        with h5io.open_h5(path, FILE_TYPE, VERSION):
            pass
    message = str(info.value)
    assert str(path) in message and problem in message and "--force" in message and "\n" not in message
    assert not h5io.is_readable_h5(path, FILE_TYPE, VERSION)
    assert files_in(tmp_path) == before


def test_open_h5_takes_the_callers_fix(tmp_path):
    path = tmp_path / "spikes.h5"
    _text(path)
    with pytest.raises(FileFormatError, match="rerun humam simulate"):
        with h5io.open_h5(path, FILE_TYPE, VERSION, fix="rerun humam simulate"):
            pass


@pytest.mark.parametrize("text, problem", [
    (None, "does not exist"), ("", "is empty"), ("  \n", "is empty"), ('{"seed": 5', "not valid JSON"),
    ("[1, 2]", "not an object"), ('"run"', "not an object"),
])
def test_bad_run_json(tmp_path, text, problem):
    path = tmp_path / "run.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(FileFormatError) as info:
        h5io.read_json(path, "run record")
    message = str(info.value)
    assert str(path) in message and "run record" in message and problem in message and "\n" not in message


def test_good_run_json(tmp_path):
    path = h5io.atomic_write_text(tmp_path / "run.json", json.dumps({"seed": 55}))
    assert h5io.read_json(path) == {"seed": 55}
    assert files_in(tmp_path) == ["run.json"]


# ---------------------------------------------------------------------------------------------
# Writing


def _raise_no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _raise_like_hdf5(*args, **kwargs):  # h5py names the errno only in its message
    raise OSError("Can't synchronously write data (file write failed: errno = 28, error message = "
                  "'No space left on device')")


@pytest.mark.parametrize("fail", [_raise_no_space, _raise_like_hdf5])
def test_disk_full_while_writing_h5(tmp_path, fail):
    path = tmp_path / "out" / "network.h5"
    with pytest.raises(OutputError) as info:
        with h5io.atomic_h5(path, FILE_TYPE, VERSION) as h5:
            h5["x"] = np.zeros(10)
            fail()
    assert str(path) in str(info.value) and "space" in str(info.value) and "--out" in str(info.value)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS])
def test_failing_os_calls_become_output_errors(tmp_path, monkeypatch, code):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(h5io.os, "replace", fail)
    with pytest.raises(OutputError, match=os.strerror(code)):
        h5io.atomic_write_text(tmp_path / "run.json", "{}")
    with pytest.raises(OutputError, match=os.strerror(code)):
        write_test_h5(tmp_path / "a.h5")
    assert files_in(tmp_path) == []


def test_other_errors_pass_unchanged_and_leave_nothing(tmp_path):
    with pytest.raises(KeyError):
        with h5io.atomic_h5(tmp_path / "a.h5", FILE_TYPE, VERSION):
            raise KeyError("x")
    with pytest.raises(FileNotFoundError):
        with h5io.atomic_h5(tmp_path / "a.h5", FILE_TYPE, VERSION):
            open(tmp_path / "no-such-input.txt")
    assert files_in(tmp_path) == []


def test_regular_file_where_the_output_folder_should_be(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    for write in (lambda: write_test_h5(blocker / "abc" / "network.h5"),
                  lambda: h5io.atomic_write_text(blocker / "run.json", "{}"),
                  lambda: h5io.ensure_writable_dir(blocker),
                  lambda: h5io.ensure_writable_dir(blocker / "abc")):
        with pytest.raises(OutputError, match=rf"{blocker} is a file, not a folder"):
            write()
    assert files_in(tmp_path) == ["out"] and blocker.read_text() == "not a folder"


def test_ensure_writable_dir_creates_and_leaves_nothing(tmp_path):
    folder = h5io.ensure_writable_dir(tmp_path / "a" / "b")
    assert folder.is_dir() and files_in(tmp_path) == []


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_stale_temporaries_of_a_dead_process_are_removed(tmp_path):
    pid = dead_pid()
    old = time.time() - 2 * h5io.STALE_TEMPORARY_AGE_S
    stale = [tmp_path / f".network.h5.{pid}.tmp", tmp_path / f".spikes.h5.{pid}.tmp"]
    fresh = tmp_path / f".theory.h5.{pid}.tmp"  # recent: possibly written from another machine
    alive = tmp_path / f".run.json.{os.getppid()}.tmp"
    other = tmp_path / ".notes.tmp"
    for path in (*stale, fresh, alive, other):
        path.write_text("partial")
    for path in (*stale, alive, other):
        os.utime(path, (old, old))
    write_test_h5(tmp_path / "network.h5")
    assert files_in(tmp_path) == sorted(p.name for p in (fresh, alive, other)) + ["network.h5"]
    os.utime(fresh, (old, old))
    h5io.atomic_write_text(tmp_path / "run.json", "{}")
    assert files_in(tmp_path) == sorted(p.name for p in (alive, other)) + ["network.h5", "run.json"]


# ---------------------------------------------------------------------------------------------
# Real small and read-only file systems (root with mount permission only)


def test_real_full_disk(small_fs):
    too_big = np.ones(small_fs.stat().st_blksize * 64)  # 8 bytes each: far beyond 64 KiB
    with pytest.raises(OutputError, match=r"No space left on device.*--out"):
        with h5io.atomic_h5(small_fs / "spikes.h5", FILE_TYPE, VERSION) as h5:
            h5["times"] = too_big
    with pytest.raises(OutputError, match="No space left on device"):
        h5io.atomic_write_text(small_fs / "run.json", "x" * too_big.nbytes)
    assert files_in(small_fs) == []
    write_test_h5(small_fs / "network.h5")  # what fits is written
    assert files_in(small_fs) == ["network.h5"]


def test_real_read_only_folder(read_only_fs):
    for write in (lambda: write_test_h5(read_only_fs / "network.h5"),
                  lambda: h5io.atomic_write_text(read_only_fs / "run.json", "{}"),
                  lambda: h5io.ensure_writable_dir(read_only_fs),
                  lambda: h5io.ensure_writable_dir(read_only_fs / "abc")):
        with pytest.raises(OutputError, match=r"Read-only file system.*--out"):
            write()
    assert files_in(read_only_fs) == []


def test_every_error_is_a_humam_error():
    assert issubclass(FileFormatError, HumamError) and issubclass(OutputError, HumamError)
    assert issubclass(FileFormatError, ValueError)  # what open_h5 raised for a wrong type or version before
