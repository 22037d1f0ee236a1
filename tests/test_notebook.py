"""The tutorial notebook examples/humam_tutorial.ipynb: stored without outputs, and executed end to
end at its tiny scale (HUMAM_TUTORIAL_SCALE=tiny: n = k = 0.002, 1 s) in a temporary folder."""

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "humam_tutorial.ipynb"
KERNEL_NAME = "humam-notebook-test"
#: Figures the notebook draws: connectivity, neuron numbers, raster, rate/CV distributions,
#: rates against theory, functional connectivity.
MIN_FIGURES = 6
CELL_TIMEOUT_S = 900


def test_notebook_is_stored_without_outputs():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "the notebook has no code cells"
    for index, cell in enumerate(code):
        assert cell.get("outputs") == [], f"code cell {index} has stored outputs; clear them before committing"
        assert cell.get("execution_count") is None, f"code cell {index} has an execution count"


def _kernel_environment(tmp_path: Path, monkeypatch) -> None:
    """A kernel spec for this interpreter in a private Jupyter data folder, so that the notebook runs
    with the test's Python (and its humam) whatever kernels the machine has installed."""
    import humam

    data_dir = tmp_path / "jupyter"
    spec_dir = data_dir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "humam test kernel", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(data_dir))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    # the humam the test imports, also where it is not installed (PYTHONPATH checkouts)
    package_root = str(Path(humam.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook executed at the tiny scale in a temporary folder: (notebook, output folder)."""
    import nbclient
    import nbformat

    tmp_path = tmp_path_factory.mktemp("notebook")
    monkeypatch = pytest.MonkeyPatch()
    try:
        _kernel_environment(tmp_path, monkeypatch)
        monkeypatch.setenv("HUMAM_TUTORIAL_SCALE", "tiny")
        monkeypatch.setenv("HUMAM_TUTORIAL_OUT", str(tmp_path / "out"))
        monkeypatch.delenv("MPLBACKEND", raising=False)
        nb = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=CELL_TIMEOUT_S,
                                         resources={"metadata": {"path": str(tmp_path)}})
        client.execute()  # raises CellExecutionError, with the cell and traceback, if a cell fails
    finally:
        monkeypatch.undo()
    return nb, tmp_path / "out"


def _outputs(nb, output_type=None):
    for cell in nb.cells:
        if cell.cell_type == "code":
            for output in cell.outputs:
                if output_type is None or output.output_type == output_type:
                    yield cell, output


def _summary(nb) -> dict:
    cells = [cell for cell in nb.cells if "summary" in cell.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "expected one code cell tagged 'summary'"
    text = "".join(output.text for output in cells[0].outputs if output.output_type == "stream")
    return json.loads(text)


def _first_cell_value(nb, name: str):
    """The value assigned to ``name`` in the notebook's first code cell (its parameters)."""
    import ast

    first = next(cell for cell in nb.cells if cell.cell_type == "code")
    for node in ast.parse(first.source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not set in the first code cell")


def test_notebook_runs_without_errors_and_draws_every_figure(executed):
    nb, _ = executed
    assert not list(_outputs(nb, "error"))
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code), "not every code cell ran"
    images = [output for _, output in _outputs(nb) if "image/png" in output.get("data", {})]
    assert len(images) >= MIN_FIGURES


def test_notebook_numbers_follow_from_the_model(executed):
    from humam import analysis, build, parameters
    from humam.layout import Layout

    nb, out = executed
    summary = _summary(nb)
    assert summary["tutorial_scale"] == "tiny"
    assert summary["n_scaling"] == summary["k_scaling"] == 0.002
    # N' = round(n N) per population, from the full-scale network built here with the same parameters
    scheme = _first_cell_value(nb, "SCALING_TYPE")
    params = parameters.merge(parameters.resolve("tutorial"), {
        "network": {"downscaling": {"n_scaling": 0.002, "k_scaling": 0.002, "scaling_type": scheme}},
        "simulation": {"t_sim_ms": 1000.0, "threads": 2}})
    full = build.build_network(parameters.merge(params, {"network": {"downscaling": {"n_scaling": 1.0, "k_scaling": 1.0}}})["network"])
    assert summary["neurons"] == int(np.round(0.002 * full.neuron_numbers).sum())
    # the run is where the layout puts it, and the spike counts of the notebook are those of its files
    run = Layout(out).run(params)
    assert Path(summary["run_folder"]) == run.path
    record = json.loads(run.record.read_text())
    assert summary["spikes_in_file"] == summary["spikes_in_record"] == record["spikes"]
    assert analysis.read_spike_trains(run.spikes).n_spikes == record["spikes"] > 0
    assert record["neurons"] == summary["neurons"]
