"""Commands that must answer without TensorFlow: --help, tasks, archs, refusals, serve."""

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from click.testing import CliRunner
from seqapps.cli import cli
result = CliRunner().invoke(cli, {args!r})
assert result.exit_code == 0, result.output
print(result.output)
print("TF_IMPORTED" if "tensorflow" in sys.modules or "keras" in sys.modules else "TF_NOT_IMPORTED")
"""


def run_probe(args):
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_does_not_import_tensorflow():
    out = run_probe(["--help"])
    assert "run" in out and "predict" in out
    assert out.strip().endswith("TF_NOT_IMPORTED")


def test_tasks_lists_sentiment_without_importing_tensorflow():
    out = run_probe(["tasks"])
    assert "sentiment" in out and "seqapps-sentiment" in out and "bilstm" in out
    assert "tfds:imdb_reviews" in out
    assert out.strip().endswith("TF_NOT_IMPORTED")


def test_archs_lists_kinds_and_fused_kernel(runner, seqapps_cli):
    result = runner.invoke(seqapps_cli, ["archs"])
    assert result.exit_code == 0
    line = next(x for x in result.output.splitlines() if x.startswith("bilstm "))
    assert "many-to-one" in line and "yes" in line


def test_run_help_shows_every_option(runner, seqapps_cli):
    result = runner.invoke(seqapps_cli, ["run", "--help"])
    for option in (
        "--arch",
        "--data",
        "--data-dir",
        "--epochs",
        "--batch-size",
        "--units",
        "--layers",
        "--dropout",
        "--learning-rate",
        "--clip-norm",
        "--seed",
        "--max-samples",
        "--experiment",
        "--tracking-uri",
        "--run-name",
        "--output-dir",
        "--set",
        "--config",
    ):
        assert option in result.output, option


MISSING = """
import atexit, sys
atexit.register(lambda: print("TF_IMPORTED" if "tensorflow" in sys.modules else "TF_NOT_IMPORTED"))
atexit.register(lambda: print("MLFLOW_IMPORTED" if "mlflow" in sys.modules else "NO_MLFLOW"))
from seqapps.cli import cli
cli(["run", "sentiment", "--data", "nothere.csv", "--tracking-uri", "sqlite:///never.db"])
"""


def test_a_missing_data_file_is_named_before_tensorflow_or_mlflow_load(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", MISSING], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == ["Error: --data nothere.csv: no such file or folder"]
    assert done.stdout.split() == ["NO_MLFLOW", "TF_NOT_IMPORTED"]  # atexit runs last first
    assert not (tmp_path / "never.db").exists()


def test_tasks_and_archs_as_json_carry_what_verbose_shows(runner, seqapps_cli):
    import json

    tasks = json.loads(runner.invoke(seqapps_cli, ["tasks", "--format", "json"]).output)
    sentiment = next(t for t in tasks if t["name"] == "sentiment")
    assert sentiment["default_arch"] == "bilstm" and sentiment["run_defaults"]["epochs"] == 15
    assert (sentiment["headline_metric"], sentiment["goal"]) == ("test_accuracy", "max")
    assert sentiment["options"]["max_tokens"]["default"] == 20000
    archs = json.loads(runner.invoke(seqapps_cli, ["archs", "--format", "json"]).output)
    bilstm = next(a for a in archs if a["name"] == "bilstm")
    assert "tagging" in bilstm["kinds"] and bilstm["fused_gpu_kernel"] is True


def test_mlflow_experiment_name_is_the_default_experiment(monkeypatch):
    from seqapps.config import experiment_name

    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    assert experiment_name(None, "pos") == "pos"
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "team-runs")
    assert experiment_name(None, "pos") == "team-runs"
    assert experiment_name("mine", "pos") == "mine"  # --experiment wins


SERVE_TAKEN = """
import atexit, socket, sys
atexit.register(lambda: print("TF_IMPORTED" if "tensorflow" in sys.modules else "TF_NOT_IMPORTED"))
holder = socket.socket()
holder.bind(("127.0.0.1", 0))
holder.listen()
print("PORT", holder.getsockname()[1])
from seqapps.cli import cli
cli(["serve", "0123456789abcdef0123456789abcdef", "--port", str(holder.getsockname()[1])])
"""


def test_serve_resolves_a_run_id_and_refuses_a_taken_port_before_tensorflow_loads(tmp_path):
    """The scoring server's process loads the model; `seqapps serve` itself never needs it."""
    done = subprocess.run(
        [sys.executable, "-c", SERVE_TAKEN],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    port = done.stdout.split()[1]
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Error: --port {port}: 127.0.0.1:{port} is already in use; choose another --port"
    ]
    assert done.stdout.split()[2:] == ["TF_NOT_IMPORTED"]


def test_tune_mistakes_are_one_line_before_anything_is_written(tmp_path):
    seqapps = str(Path(sys.executable).with_name("seqapps"))
    for args, expected in [
        (["--search", "units=64"], "Error: --search units='64': expected a range LOW..HIGH"),
        (["--search", "units=8..16", "--storage", "optuna.db"], "Error: --storage optuna.db:"),
        (["--search", "units=8..16", "--sampler", "grid"], "Error: --sampler grid needs choices"),
        ([], "Error: give at least one --search NAME=SPEC"),
    ]:
        done = subprocess.run(
            [seqapps, "tune", "stock", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(expected), line
    assert list(tmp_path.iterdir()) == []  # no study, no tracking store
