"""A task and an arch from a separately installed distribution are found, listed, trained."""

import os
import subprocess
import sys
from pathlib import Path

from mlflow import MlflowClient

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "example-plugin"


def seqapps(args, site, cwd):
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-m", "seqapps", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def test_installed_third_party_task_is_listed_and_runs(tmp_path):
    site = tmp_path / "site"
    # A real install (wheel build, dist-info, entry points) into a folder outside the repo.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(EXAMPLE),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=tmp_path,
    )
    listed = seqapps(["tasks"], site, tmp_path)
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.startswith("majority"))
    assert "which sign holds the majority" in line
    assert "seqapps-majority 0.1.0" in listed.stdout

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    trained = seqapps(
        ["run", "majority", "--epochs", "2", "-q", "--tracking-uri", uri], site, tmp_path
    )
    assert trained.returncode == 0, trained.stderr
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("majority").experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["arch"] == "gru"
    assert 0.0 <= run.data.metrics["test_accuracy"] <= 1.0

    archs = seqapps(["archs"], site, tmp_path)
    assert any(
        x.startswith("lngru ") and "layer normalization" in x for x in archs.stdout.splitlines()
    )
    with_arch = seqapps(
        ["run", "majority", "--arch", "lngru", "--epochs", "1", "-q", "--tracking-uri", uri],
        site,
        tmp_path,
    )
    assert with_arch.returncode == 0, with_arch.stderr
    assert "model: lngru" in with_arch.stdout

    predicted = seqapps(
        ["predict", run.info.run_id, "1 1 1 1 1 1 1 1 1 1 1 1 1 1 -1", "--tracking-uri", uri],
        site,
        tmp_path,
    )
    assert predicted.returncode == 0, predicted.stderr
    assert predicted.stdout.split("\t")[0] in ("plus", "minus")
