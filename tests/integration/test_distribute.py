"""tf.distribute: MirroredStrategy over two logical CPU devices matches one device."""

import os
import subprocess
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.conftest import THREAD_CAP, runs_in

COMMON = ["run", "sentiment", "--arch", "lstm", "--units", "16", "--epochs", "2"]
COMMON += ["--max-samples", "200", "-q"]


def default_threads() -> dict[str, str]:
    """This environment without the suite's one-thread cap: replicas run side by side."""
    return {k: v for k, v in os.environ.items() if k not in THREAD_CAP}


def seqapps(python_exe, tracking_uri, *args):
    script = Path(python_exe).with_name("seqapps")
    # A fresh process: the CPU can only be split into logical devices before TF starts.
    return subprocess.run(
        [str(script), *COMMON, *args, "--tracking-uri", tracking_uri],
        capture_output=True,
        text=True,
        timeout=600,
        env=default_threads(),
    )


@pytest.mark.slow
def test_mirrored_on_two_logical_cpus_matches_one_device(python_exe, tracking_uri):
    one = seqapps(python_exe, tracking_uri, "--strategy", "default", "--batch-size", "32")
    assert one.returncode == 0, one.stderr
    two = seqapps(
        python_exe,
        tracking_uri,
        "--strategy",
        "mirrored",
        "--devices",
        "cpu:0,cpu:1",
        "--batch-size",
        "16",
    )
    assert two.returncode == 0, two.stderr
    runs = {r.data.params["strategy"]: r for r in runs_in(tracking_uri)}
    assert set(runs) == {"default", "mirrored"}
    mirrored, single = runs["mirrored"].data, runs["default"].data
    assert mirrored.params["replicas"] == "2" and single.params["replicas"] == "1"
    assert mirrored.params["batch_size"] == "16"
    assert mirrored.params["global_batch_size"] == single.params["global_batch_size"] == "32"
    assert mirrored.params["devices"] == "/device:CPU:0,/device:CPU:1"
    # Same data, same initial weights, same global batches. Gradients are summed across
    # replicas in another order, and Adam amplifies those last-bit differences where a
    # gradient is near zero, so the runs agree closely but not bit for bit. Tolerance:
    # 0.01 on every loss. (Accuracy of a two-epoch model near 50% flips on such noise, so it
    # is not compared.)
    for name in ("test_loss", "train_loss", "val_loss"):
        assert mirrored.metrics[name] == pytest.approx(single.metrics[name], abs=0.01), name


def test_bad_strategy_and_device_choices_are_one_line(runner, seqapps_cli, tracking_uri):
    cases = [
        (["--strategy", "mirrored"], "needs two or more devices"),
        (["--devices", "tpu:0"], "'tpu:0' is not like cpu:0 or gpu:1"),
        (["--devices", "gpu:0"], "no gpu:0 on this machine; available: cpu:0"),
        (["--mixed-precision"], "--mixed-precision needs a GPU"),
        (["--steps-per-execution", "0"], "--steps-per-execution must be at least 1"),
        (["--strategy", "multi-worker"], "--strategy multi-worker needs TF_CONFIG"),
    ]
    for args, expected in cases:
        result = runner.invoke(
            seqapps_cli,
            ["run", "sentiment", "--epochs", "1", *args, "--tracking-uri", tracking_uri],
        )
        assert result.exit_code == 2, (args, result.output)
        assert expected in result.stderr, (args, result.stderr)
    client = MlflowClient(tracking_uri)
    assert not runs_in(tracking_uri) or client is None  # nothing opened for any of them


def free_ports(count):
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_train_one_run_with_identical_weights(python_exe, tracking_uri, workdir):
    import json

    import h5py
    import numpy as np

    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    script = Path(python_exe).with_name("seqapps")
    command = [str(script), *COMMON, "--strategy", "multi-worker", "--batch-size", "16"]
    command += ["--output-dir", str(workdir / "out"), "--tracking-uri", tracking_uri]
    workers = []
    for index in range(2):
        env = {
            **default_threads(),
            "TF_CONFIG": json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            ),
        }
        workers.append(
            subprocess.Popen(
                command,
                env=env,
                cwd=workdir,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [w.communicate(timeout=600) for w in workers]
    for worker, (_, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
    assert "FINISHED" in outputs[0][0] and "worker 1 of 2 finished" in outputs[1][0]

    (run,) = runs_in(tracking_uri)  # exactly one run: the chief's
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert (params["strategy"], params["workers"], params["replicas"]) == ("multi-worker", "2", "2")
    assert params["global_batch_size"] == "32"
    steps = [
        m.step for m in MlflowClient(tracking_uri).get_metric_history(run.info.run_id, "val_loss")
    ]
    assert sorted(steps) == [1, 2]

    def weights(path):
        with h5py.File(path) as handle:
            arrays = []
            handle.visititems(
                lambda _, item: arrays.append(item[()]) if isinstance(item, h5py.Dataset) else None
            )
            return arrays

    first, second = (
        weights(workdir / "out" / "workers" / f"worker-{i}.weights.h5") for i in (0, 1)
    )
    assert len(first) == len(second) > 0
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
