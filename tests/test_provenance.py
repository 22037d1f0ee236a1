"""Provenance records: the container an output was made in."""


def test_provenance_names_the_image_it_runs_in(monkeypatch):
    from humam import provenance

    for variable in ("APPTAINER_CONTAINER", "SINGULARITY_CONTAINER", "HUMAM_IMAGE", "HUMAM_IMAGE_REVISION"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HUMAM_IMAGE", "humam:0.1.0")
    monkeypatch.setenv("HUMAM_IMAGE_REVISION", "abc123")
    assert provenance.container() == {"runtime": "oci", "image": "humam:0.1.0", "revision": "abc123"}
    monkeypatch.setenv("APPTAINER_CONTAINER", "/scratch/humam.sif")
    assert provenance.container()["runtime"] == "apptainer"
    assert provenance.container()["image"] == "/scratch/humam.sif"
