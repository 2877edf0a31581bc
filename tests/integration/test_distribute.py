"""tf.distribute: MirroredStrategy over two logical CPU devices matches one device."""

import subprocess
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.conftest import runs_in

COMMON = ["run", "sentiment", "--arch", "lstm", "--units", "16", "--epochs", "2"]
COMMON += ["--max-samples", "400", "-q"]


def seqapps(python_exe, tracking_uri, *args):
    script = Path(python_exe).with_name("seqapps")
    # A fresh process: the CPU can only be split into logical devices before TF starts.
    return subprocess.run(
        [str(script), *COMMON, *args, "--tracking-uri", tracking_uri],
        capture_output=True,
        text=True,
        timeout=600,
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
        (["--strategy", "multi-worker"], "multi-worker is not available yet"),
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
