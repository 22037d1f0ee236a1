"""doit alone decides what is stale: after an edit of the code of one stage, exactly the tasks that
depend on it run, and their outputs change.

In a copy of the repository (its own ``src`` first on the path), a sub-graph of ``doit profile=tiny``
is run once: the full-scale network and its connectome figure (F3), the ground-state run with its
analysis and spike-statistics figure (F4), the full-scale theory and the figure comparing it with the
run (S-MF). Then the code of each stage is edited, one after the other, and doit is run again.
"""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from helpers import Pipeline, copy_repository

FIGURES = ("figure:fig03_connectome_statistics", "figure:fig04_spike_statistics", "figure:figS_mean_field")
#: The networks of this sub-graph: the full-scale one (F3, theory) and the tiny ground state's (the run).
NETWORKS = {"network:network_only", "network:ground_state"}


def group(names, prefix: str) -> set[str]:
    return {name for name in names if name.startswith(prefix)}


def digest_of_datasets(path: Path) -> str:
    """sha256 over every dataset of an HDF5 file (names, bytes and the datasets' attributes, e.g. units;
    not the file's attributes, which hold the date of writing)."""
    import hashlib

    digest = hashlib.sha256()
    with h5py.File(path, "r") as h5:
        names = []
        h5.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        for name in sorted(names):
            data = np.asarray(h5[name][()])
            digest.update(name.encode() + (data.tobytes() if data.dtype.kind != "O" else repr(data.tolist()).encode()))
            digest.update(repr(sorted((k, str(v)) for k, v in h5[name].attrs.items())).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    pipe = Pipeline(copy_repository(tmp_path_factory.mktemp("repo")))
    first = pipe.executed(*FIGURES)
    assert set(FIGURES) | NETWORKS <= first and group(first, "simulate:") == {"simulate:ground_state"}
    assert pipe.executed(*FIGURES) == set()  # a second run does nothing
    return pipe


def outputs(pipe: Pipeline, task: str) -> dict[Path, str]:
    """Dataset digests of a task's HDF5 targets."""
    return {p: digest_of_datasets(p) for p in pipe.targets()[task] if p.suffix == ".h5"}


def test_network_code_that_leaves_the_network_unchanged_reruns_nothing_downstream(pipeline):
    pipeline.edit("src/humam/network.py", '"""Network parameters', '# the same network\n"""Network parameters')
    pipeline.edit("paper_figures/fig03_connectome_statistics.py", 'TITLE = "Connectome statistics"',
                  'TITLE = "Connectome statistics of the full-scale network"')
    ran = pipeline.executed(*FIGURES)
    assert ran == NETWORKS | {"figure:fig03_connectome_statistics"}, ran


def test_analysis_code_reruns_the_analyses_and_what_is_drawn_from_them(pipeline):
    task = "analyse:ground_state"
    before = outputs(pipeline, task)
    pipeline.edit("src/humam/analysis/statistics.py", "def population_mean_rates(",
                  "def _unscaled_population_mean_rates(")
    pipeline.edit("src/humam/analysis/statistics.py", "def area_mean_rates(",
                  "def population_mean_rates(*args, **kwargs):\n    return 2.0 * _unscaled_population_mean_rates(*args, **kwargs)"
                  "\n\n\ndef area_mean_rates(")
    ran = pipeline.executed(*FIGURES)
    assert ran == {task, "figure:fig04_spike_statistics", "figure:figS_mean_field"}, ran
    assert outputs(pipeline, task) != before


def test_simulation_code_reruns_the_run_but_not_the_network_or_the_theory(pipeline):
    run = pipeline.targets()["simulate:ground_state"]
    spikes = next(p for p in run if p.name == "spikes.h5")
    before = digest_of_datasets(spikes)
    pipeline.edit("src/humam/simulation.py", 'nodes.V_m = nest.random.normal(mean=float(sim["V0_mean_mV"])',
                  'nodes.V_m = nest.random.normal(mean=float(sim["V0_mean_mV"]) + 10.0')
    ran = pipeline.executed(*FIGURES)
    assert ran == {"simulate:ground_state", "analyse:ground_state", "figure:fig04_spike_statistics",
                   "figure:figS_mean_field"}, ran
    assert digest_of_datasets(spikes) != before


def test_theory_code_reruns_the_theory_and_its_figure(pipeline):
    (theory,) = group(pipeline.targets(), "theory:network_only")
    before = outputs(pipeline, theory)
    pipeline.edit("src/humam/theory.py", '"mu_mV": "mV"', '"mu_mV": "millivolt"')  # the file's content changes
    ran = pipeline.executed(*FIGURES)
    # the network stage uses the theory (down-scaling): its networks are rebuilt, unchanged, so no run reruns
    assert ran == NETWORKS | {theory, "figure:figS_mean_field"}, ran
    assert outputs(pipeline, theory) != before


def test_doubling_the_weights_reruns_everything_and_the_run_matches_its_network(pipeline):
    from humam import network_file

    run = pipeline.targets()["simulate:ground_state"]
    record = next(p for p in run if p.name == "run.json")
    before = json.loads(record.read_text())["network_digest"]
    pipeline.edit("src/humam/network.py", "    weights_pA = base_weights_pA(neuron_params,",
                  "    weights_pA = 2.0 * base_weights_pA(neuron_params,")
    ran = pipeline.executed(*FIGURES)
    theory = group(pipeline.targets(), "theory:network_only")
    sub_graph = NETWORKS | theory | {"simulate:ground_state", "analyse:ground_state", *FIGURES}
    assert ran == sub_graph, ran ^ sub_graph
    now = json.loads(record.read_text())["network_digest"]
    assert now != before
    assert now == network_file.content_digest(record.parent.parent / "network.h5")
