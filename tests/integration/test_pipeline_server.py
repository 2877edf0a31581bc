"""A pipeline against a real `mlflow server` on 127.0.0.1, checked through its REST API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

PIPELINE = """
name: tiny
task: sentiment
experiment: tiny-sweep
params: {epochs: 1, units: 8, max_samples: 100, patience: 0}
grid:
  arch: [bow, gru, lstm, rnn]
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, endpoint: str, **query) -> dict:
    address = f"{url}/api/2.0/mlflow/{endpoint}?" + urllib.parse.urlencode(query)
    with urllib.request.urlopen(address, timeout=30) as response:
        return json.loads(response.read())


def rest(url: str, endpoint: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/api/2.0/mlflow/{endpoint}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """`mlflow server` on a free loopback port, stopped after the module."""
    folder = tmp_path_factory.mktemp("server")
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{folder / 'server.db'}",
            "--artifacts-destination",
            str(folder / "artifacts"),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # GenAI job runners: nothing here submits jobs, and they take a core while starting.
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # bounded wait for the server to answer
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("mlflow server did not start within 120 s")
    yield url
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def runs_of(url: str, experiment_id: str) -> list[dict]:
    return rest(url, "runs/search", {"experiment_ids": [experiment_id], "max_results": 100}).get(
        "runs", []
    )


def tags(run: dict) -> dict:
    return {t["key"]: t["value"] for t in run["data"].get("tags", [])}


def start_pipeline(path, url, cwd):
    return subprocess.Popen(
        [sys.executable, "-m", "seqapps", "pipeline", "run", str(path), "--tracking-uri", url],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.slow
def test_pipeline_nested_runs_survive_a_kill_and_resume(mlflow_server, tmp_path):
    url = mlflow_server
    path = tmp_path / "tiny.yaml"
    path.write_text(PIPELINE)

    # First attempt: killed (SIGKILL) as soon as one child has finished.
    first = start_pipeline(path, url, tmp_path)
    experiment_id, deadline = None, time.monotonic() + 300
    while time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.5)
        try:
            found = get(url, "experiments/get-by-name", experiment_name="tiny-sweep")
            experiment_id = found["experiment"]["experiment_id"]
        except OSError:
            continue
        children = [r for r in runs_of(url, experiment_id) if "mlflow.parentRunId" in tags(r)]
        if any(r["info"]["status"] == "FINISHED" for r in children):
            break
    assert first.poll() is None, "the pipeline ended before it could be interrupted"
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    before = runs_of(url, experiment_id)
    finished_before = {
        tags(r)["seqapps.child_key"]: r["info"]["run_id"]
        for r in before
        if "mlflow.parentRunId" in tags(r) and r["info"]["status"] == "FINISHED"
    }
    assert 1 <= len(finished_before) < 4

    # Second attempt: continues under the same parent and skips what finished.
    second = start_pipeline(path, url, tmp_path)
    output, _ = second.communicate(timeout=600)
    assert second.returncode == 0, output
    assert output.count("skipped, already FINISHED") == len(finished_before)

    runs = runs_of(url, experiment_id)
    parents = [r for r in runs if "mlflow.parentRunId" not in tags(r)]
    assert len(parents) == 1 and parents[0]["info"]["status"] == "FINISHED"
    parent_id = parents[0]["info"]["run_id"]
    children = [r for r in runs if tags(r).get("mlflow.parentRunId") == parent_id]
    finished = [r for r in children if r["info"]["status"] == "FINISHED"]
    assert sorted(
        next(p["value"] for p in r["data"]["params"] if p["key"] == "arch") for r in finished
    ) == ["bow", "gru", "lstm", "rnn"]
    for run in finished:
        metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
        assert 0 <= metrics["test_accuracy"] <= 1
    # The finished children of the first attempt were kept, not trained again.
    assert set(finished_before.values()) <= {r["info"]["run_id"] for r in finished}
    # A child killed mid-run is marked KILLED, never left RUNNING.
    assert not any(r["info"]["status"] == "RUNNING" for r in runs)

    # What the MLflow UI shows, read through the same REST API the UI uses:
    experiment = get(url, "experiments/get", experiment_id=experiment_id)["experiment"]
    kind = {t["key"]: t["value"] for t in experiment.get("tags", [])}
    assert kind["mlflow.experimentKind"] == "custom_model_development"  # opens on its runs
    scores = {
        r["info"]["run_name"]: {m["key"]: m["value"] for m in r["data"]["metrics"]}["test_accuracy"]
        for r in finished
    }
    names = list(scores)
    assert len(set(names)) == 4 and all(len(name) <= 24 for name in names), names
    parent = get(url, "runs/get", run_id=parent_id)["run"]
    parent_metrics = {m["key"]: m["value"] for m in parent["data"]["metrics"]}
    assert parent_metrics["best_test_accuracy"] == pytest.approx(max(scores.values()))
    winner = tags(parent)["seqapps.winner"]
    assert scores[winner] == max(scores.values())
    assert winner in tags(parent)["mlflow.note.content"]  # the run page's description
    listed = get(url, "artifacts/list", run_id=parent_id)
    assert "leaderboard.json" in {f["path"] for f in listed.get("files", [])}
    for run in finished:
        full = get(url, "runs/get", run_id=run["info"]["run_id"])["run"]
        params = {p["key"]: p["value"] for p in full["data"]["params"]}
        (dataset,) = [d["dataset"] for d in full["inputs"]["dataset_inputs"]]
        assert dataset["digest"] == params["data.fingerprint"]
        assert json.loads(dataset["profile"])["train"] == int(params["data.train_size"])
