"""Every logged model works outside the training process, in fresh processes as users run it.

Models are trained by `seqapps pipeline run` (one process per task), then each is used from
new processes only: `seqapps predict`, `mlflow.pyfunc.load_model(...).predict(...)` and
`seqapps evaluate`, exactly as typed. Predict and pyfunc must give equal rows.

CI trains the pairs in ``CI_PAIRS``: every module that registers a Keras object (core
layers, speech features, music loss, the example plugin's layers) is loaded by at least one,
in a fresh process; `seqapps predict` runs for each task's first arch.
``SEQAPPS_FULL_MATRIX=1`` trains every arch each task accepts (about 50 models, ~15 min).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("models-outside-training")]

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "example-plugin"
FULL = os.environ.get("SEQAPPS_FULL_MATRIX") == "1"
KINDS = {
    "sentiment": "many-to-one",
    "speech": "many-to-one",
    "stock": "forecasting",
    "pos": "tagging",
    "music": "generation",
    "textgen": "generation",
    "translate": "sequence-to-sequence",
    "majority": "many-to-one",
}
CI_PAIRS = {
    "sentiment": ["bilstm", "attention", "esn", "rbf", "transformer"],
    "pos": ["bilstm"],
    "stock": ["lstm"],
    "music": ["lstm"],
    "textgen": ["lstm"],
    "translate": ["seq2seq"],
    "speech": ["bilstm"],
    "majority": ["lngru"],
}
#: Trained too, for the export checks (not run through the predict/pyfunc pair test); a
#: one-way recurrent model is exported from stock's lstm.
EXTRA: dict[str, list[str]] = {}
TINY = {"epochs": 1, "units": 8, "patience": 0}


def _all_archs() -> dict[str, list[str]]:
    from seqapps import registry

    archs = {task: registry.archs_for_kind(kind) for task, kind in KINDS.items()}
    archs["majority"] = [*archs["majority"], "lngru"]
    return archs


PAIRS = _all_archs() if FULL else CI_PAIRS
TRAINED = {
    task: archs + [a for a in EXTRA.get(task, []) if a not in archs]
    for task, archs in PAIRS.items()
}


def _write_data(root: Path) -> dict[str, Path]:
    """Small labelled files of each task's format, written here (no network, no ~)."""
    from seqapps_music.midi import write_midi
    from seqapps_music.notes import Note
    from seqapps_pos import sample as pos_sample
    from seqapps_sentiment import sample as sentiment_sample
    from seqapps_speech import synth
    from seqapps_stock.sample import business_days

    paths = {}
    texts, labels = sentiment_sample.generate(60)
    lines = ["text,label"] + [f'"{t}",{label}' for t, label in zip(texts, labels)]
    paths["sentiment"] = root / "reviews.csv"
    paths["sentiment"].write_text("\n".join(lines) + "\n", encoding="utf-8")

    sentences = pos_sample.generate({"test": 20})["test"]
    blocks = ["\n".join(f"{w}\t{t}" for w, t in zip(s.tokens, s.tags)) for s in sentences]
    paths["pos"] = root / "tagged.tsv"
    paths["pos"].write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")

    rng = np.random.default_rng(0)
    close = 20 * np.exp(np.cumsum(rng.normal(0.0005, 0.01, 200)))
    rows = ["Date,Open,High,Low,Close,Adj Close,Volume"]
    for date, price in zip(business_days(__import__("datetime").datetime(2021, 3, 1), 200), close):
        rows.append(
            f"{date:%Y-%m-%d},{price:.4f},{price:.4f},{price:.4f},{price:.4f},{price:.4f},1000"
        )
    paths["stock"] = root / "prices.csv"
    paths["stock"].write_text("\n".join(rows) + "\n", encoding="utf-8")

    tunes = root / "tunes"
    tunes.mkdir()
    for i in range(6):
        notes = [Note(4 * k, 4, 60 + int(rng.integers(0, 12))) for k in range(24)]
        (tunes / f"tune{i}.mid").write_bytes(write_midi([notes], 96, 4))
    paths["music"] = tunes

    words = root / "words"
    for word in ("ai", "ia", "ou"):
        (words / word).mkdir(parents=True)
        for voice in synth.speakers(10, seed=11):
            waveform = synth.place(synth.say([word], voice, rng, 16000), 1.0, rng, 16000)
            (words / word / f"{voice.name}_nohash_0.wav").write_bytes(
                synth.wav_bytes(waveform, 16000)
            )
    paths["speech"] = words

    paths["textgen"] = root / "lines.txt"
    paths["textgen"].write_text("ROMEO:\nWhat light through yonder window breaks?\n" * 3)
    from num2words import num2words

    paths["translate"] = root / "numbers.tsv"
    paths["translate"].write_text(
        "".join(f"{num2words(n, lang='de')}\t{num2words(n, lang='en')}\n" for n in (7, 97, 1200)),
        encoding="utf-8",
    )

    paths["majority"] = root / "signs.tsv"
    sequences = rng.choice(["1", "-1"], size=(20, 15))
    paths["majority"].write_text(
        "".join(
            f"{'plus' if (s == '1').sum() > 7 else 'minus'}\t{' '.join(s)}\n" for s in sequences
        ),
        encoding="utf-8",
    )
    return paths


def _training_data(task: str, paths: dict[str, Path]) -> dict:
    return {
        "music": {"data": str(paths["music"])},
        "speech": {"data": str(paths["speech"])},
        "sentiment": {"max_samples": 120},
        "pos": {"max_samples": 60},
        "stock": {"max_samples": 300},
        "textgen": {"max_samples": 30, "batch_size": 8, "sample_length": 20},
        "translate": {"max_samples": 100, "beam": 2},
        "majority": {"register_model": "majority-demo"},
    }[task]


class Matrix:
    """The trained runs and how to call seqapps and Python in fresh processes."""

    def __init__(self, root: Path):
        self.root = root
        self.uri = f"sqlite:///{root / 'mlflow.db'}"
        self.site = root / "site"
        self.env = {**os.environ, "PYTHONPATH": str(self.site), "MLFLOW_TRACKING_URI": self.uri}
        self.runs: dict[tuple[str, str], str] = {}
        self.predicted: dict[tuple[str, str], list[dict]] = {}

    def seqapps(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
        """`seqapps ARGS` as a user types it, in a new process."""
        return subprocess.run(
            [str(Path(sys.executable).with_name("seqapps")), *args],
            capture_output=True,
            text=True,
            cwd=self.root,
            env=self.env,
            timeout=timeout,
        )

    def python(self, code: str) -> subprocess.CompletedProcess:
        """A new Python process running ``code``."""
        return subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=self.root,
            env=self.env,
            timeout=600,
        )


def _pipeline_file(root: Path, task: str, archs: list[str], data: dict[str, Path]) -> str:
    params = {**TINY, **_training_data(task, data)}
    lines = [f"name: matrix-{task}", f"task: {task}", f"experiment: {task}", "params:"]
    lines += [f"  {key}: {json.dumps(value)}" for key, value in params.items()]
    lines += ["grid:", f"  arch: {json.dumps(archs)}"]
    path = root / f"{task}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """Train every pair once: built-in tasks in this process (training is not what is
    checked here), the third-party plugin from its pip install in a subprocess."""
    from click.testing import CliRunner

    from seqapps.cli import cli

    root = tmp_path_factory.mktemp("models-outside")
    built = Matrix(root)
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
            str(built.site),
            str(EXAMPLE),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=root,
    )
    built.data = _write_data(root)
    paths = {task: _pipeline_file(root, task, archs, built.data) for task, archs in TRAINED.items()}
    # The third-party plugin trains from its pip install in its own process meanwhile, on
    # the same store (concurrent processes on one store are safe: test_never_lose_a_run).
    third_party = subprocess.Popen(
        [str(Path(sys.executable).with_name("seqapps")), "pipeline", "run", paths.pop("majority")],
        cwd=root,
        env=built.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for path in paths.values():
        done = CliRunner().invoke(cli, ["pipeline", "run", path, "--tracking-uri", built.uri])
        assert done.exit_code == 0, done.output[-3000:]
    output, _ = third_party.communicate(timeout=1800)
    assert third_party.returncode == 0, output[-3000:]
    client = MlflowClient(built.uri)
    for experiment in client.search_experiments():
        for run in client.search_runs([experiment.experiment_id]):
            if "arch" in run.data.params and run.info.status == "FINISHED":
                built.runs[(run.data.params["task"], run.data.params["arch"])] = run.info.run_id
    return built


def _predict_args(task: str, data: dict[str, Path]) -> list[str]:
    speech_clip = sorted((data["speech"] / "ou").glob("*.wav"))[0]
    return {
        "sentiment": ["a wonderful film", "not good at all"],
        "pos": ["the old man saw a dog"],
        "stock": ["--data", str(data["stock"])],
        "music": ["--length", "8", "--seed", "3"],
        "textgen": ["--prime", "ROMEO:", "--length", "30", "--top-k", "5", "--seed", "3"],
        "translate": ["siebenundneunzig", "elf", "--set", "beam=3"],
        "speech": [str(speech_clip)],
        "majority": ["1 -1 1 1 -1 1 1 -1 -1 1 1 1 -1 1 -1"],
    }[task]


def _pyfunc_table(task: str, data: dict[str, Path]) -> str:
    """Python source of the table (and params) the pyfunc model gets for the same input."""
    speech_clip = sorted((data["speech"] / "ou").glob("*.wav"))[0]
    return {
        "sentiment": "pd.DataFrame({'input': ['a wonderful film', 'not good at all']}), None",
        "pos": "pd.DataFrame({'input': ['the old man saw a dog']}), None",
        "stock": f"pd.read_csv({str(data['stock'])!r}), None",
        "music": "pd.DataFrame({'prime': ['']}), {'length': 8, 'seed': 3}",
        "textgen": "pd.DataFrame({'prime': ['ROMEO:']}), {'length': 30, 'top_k': 5, 'seed': 3}",
        "translate": "pd.DataFrame({'input': ['siebenundneunzig', 'elf']}), {'beam': 3}",
        "speech": f"pd.DataFrame({{'audio': [open({str(speech_clip)!r}, 'rb').read()]}}), None",
        "majority": "pd.DataFrame({'input': ['1 -1 1 1 -1 1 1 -1 -1 1 1 1 -1 1 -1']}), None",
    }[task]


def _same_rows(predicted: list[dict], served: list[dict]) -> None:
    assert len(predicted) == len(served)
    for mine, theirs in zip(predicted, served):
        for key, value in mine.items():
            if key == "file":  # the served model reads its bytes from a scratch file
                continue
            if isinstance(value, float):
                assert theirs[key] == pytest.approx(value, abs=1e-5), key
            else:
                assert str(theirs[key]) == str(value), key


PAIR_IDS = [(task, arch) for task, archs in PAIRS.items() for arch in archs]


@pytest.fixture(scope="module")
def served(matrix):
    """What the MLflow Models of every pair return, all loaded in one new Python process.

    The fresh-process check of loading is `seqapps predict`, one process per model; this
    process checks the pyfunc flavor (and the sentiment CSV for the evaluate check).
    """
    code = ["import json, mlflow, pandas as pd", "out = {}"]
    for task, arch in PAIR_IDS:
        code += [
            f"model = mlflow.pyfunc.load_model('runs:/{matrix.runs[(task, arch)]}/model')",
            f"table, params = {_pyfunc_table(task, matrix.data)}",
            f"out['{task}/{arch}'] = model.predict(table, params=params).to_dict('records')",
        ]
    sentiment = matrix.runs[("sentiment", PAIRS["sentiment"][0])]
    code += [
        f"model = mlflow.pyfunc.load_model('runs:/{sentiment}/model')",
        f"texts = pd.read_csv({str(matrix.data['sentiment'])!r})['text']",
        "out['sentiment-csv'] = model.predict(pd.DataFrame({'input': texts})).to_dict('records')",
        "print('ROWS=' + json.dumps(out, default=str))",
    ]
    done = matrix.python("\n".join(code))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(next(x for x in done.stdout.splitlines() if x.startswith("ROWS="))[5:])


#: `seqapps predict` in its own process for each task's first arch (and every pair in the full
#: matrix). The other archs' models are loaded in a fresh process by `served` (through the same
#: seqapps.models loader) and by plain Keras: a process per model would add nothing but time.
CLI_PAIRS = PAIR_IDS if FULL else [(task, archs[0]) for task, archs in PAIRS.items()]


@pytest.mark.parametrize(("task", "arch"), CLI_PAIRS, ids=[f"{t}-{a}" for t, a in CLI_PAIRS])
def test_predict_in_a_fresh_process_agrees_with_the_mlflow_model(matrix, served, task, arch):
    run_id = matrix.runs.get((task, arch))
    assert run_id, f"no finished run for {task}/{arch}: {sorted(matrix.runs)}"
    predicted = matrix.seqapps("predict", run_id, *_predict_args(task, matrix.data), "--json")
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    rows = [json.loads(line) for line in predicted.stdout.splitlines() if line.startswith("{")]
    assert rows, predicted.stdout
    matrix.predicted[(task, arch)] = rows
    _same_rows(rows, served[f"{task}/{arch}"])


def test_every_archs_mlflow_model_predicts_in_a_fresh_process(served):
    """Each task's archs answer the same input with rows of the same shape and fields."""
    for task, archs in PAIRS.items():
        first = served[f"{task}/{archs[0]}"]
        assert first, task
        for arch in archs[1:]:
            rows = served[f"{task}/{arch}"]
            assert len(rows) == len(first), (task, arch, rows)
            assert [sorted(row) for row in rows] == [sorted(row) for row in first], (task, arch)


EVALUATED = sorted(PAIRS)


#: `seqapps evaluate` as typed, in its own process: the third-party plugin (importable only
#: there) and speech (custom layers, audio files). The others' models load in fresh processes
#: through `predict` and `served`; their evaluation runs in this process, which saves a
#: TensorFlow start-up each and checks the same run.
EVALUATED_FRESH = {"majority", "speech"}


def _evaluate(matrix, run_id: str, data: Path, fresh: bool) -> tuple[int, str, str]:
    """`seqapps evaluate RUN --data DATA`: exit code, stdout and stderr."""
    if fresh:
        done = matrix.seqapps("evaluate", run_id, "--data", str(data))
        return done.returncode, done.stdout, done.stderr
    from click.testing import CliRunner

    from seqapps.cli import cli

    args = ["evaluate", run_id, "--data", str(data), "--tracking-uri", matrix.uri]
    done = CliRunner().invoke(cli, args)
    return done.exit_code, done.stdout, done.stderr


@pytest.mark.parametrize("task", EVALUATED)
def test_evaluate_logs_a_run_linked_to_the_evaluated_one(matrix, served, task):
    arch = PAIRS[task][0]
    run_id = matrix.runs[(task, arch)]
    fresh = FULL or task in EVALUATED_FRESH
    code, stdout, stderr = _evaluate(matrix, run_id, matrix.data[task], fresh)
    assert code == 0, stderr[-3000:]
    new_run = next(x.split()[1] for x in stdout.splitlines() if x.startswith("run "))
    client = MlflowClient(matrix.uri)
    run = client.get_run(new_run)
    assert run.data.tags["seqapps.evaluated_run"] == run_id
    assert run.data.params["data"] == str(matrix.data[task])
    metrics = {k: v for k, v in run.data.metrics.items() if k.startswith("test_")}
    assert metrics, run.data.metrics
    assert all(np.isfinite(v) for v in metrics.values())
    assert "test: test_" in stdout
    if task == "sentiment":  # the share of the file the MLflow Model gets right
        import csv

        with matrix.data["sentiment"].open(encoding="utf-8") as handle:
            truth = [row["label"] for row in csv.DictReader(handle)]
        guesses = [row["label"] for row in served["sentiment-csv"]]
        expected = np.mean([g == t for g, t in zip(guesses, truth)])
        assert metrics["test_accuracy"] == pytest.approx(expected)


def test_plain_keras_loads_any_model_after_one_import(matrix):
    """`import seqapps.keras_objects` then keras.saving.load_model, in safe mode."""
    run_ids = {pair: matrix.runs[pair] for pair in matrix.runs if pair[1] != "lngru"}
    code = [
        "import json, mlflow, keras",
        "import seqapps.keras_objects",
        "loaded = {}",
    ]
    for (task, arch), run_id in sorted(run_ids.items()):
        code.append(
            f"p = mlflow.artifacts.download_artifacts('runs:/{run_id}/model')\n"
            "import glob\n"
            "m = keras.saving.load_model(glob.glob(p + '/artifacts/*/model.keras')[0], "
            "safe_mode=True)\n"
            f"loaded['{task}/{arch}'] = m.count_params()"
        )
    code.append("print('LOADED=' + json.dumps(loaded))")
    result = matrix.python("\n".join(code))
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(next(x for x in result.stdout.splitlines() if x.startswith("LOADED="))[7:])
    assert len(loaded) == len(run_ids) and all(v > 0 for v in loaded.values())


def test_the_run_lists_its_logged_model_and_the_model_names_its_distributions(matrix):
    run_id = matrix.runs[("speech", PAIRS["speech"][0])]
    client = MlflowClient(matrix.uri)
    run = client.get_run(run_id)
    (output,) = run.outputs.model_outputs
    logged = client.get_logged_model(output.model_id)
    assert logged.source_run_id == run_id and logged.name == "model"
    assert logged.experiment_id == run.info.experiment_id
    from seqapps.tracking import Tracker

    folder = Tracker(matrix.uri).download_model(f"runs:/{run_id}/model", matrix.root / "dl")
    requirements = (folder / "requirements.txt").read_text().split()
    assert any(r.startswith("seqapps-speech==") for r in requirements)
    assert any(r.startswith("seqapps==") for r in requirements)
    from mlflow.models import Model

    signature = Model.load(str(folder)).signature
    assert signature.inputs.to_dict() == [{"name": "audio", "type": "binary", "required": True}]
    assert {"word", "probability"} <= set(signature.outputs.input_names())
    assert (folder / "input_example.json").is_file()


def _predicted(matrix, task: str, arch: str) -> list[dict]:
    if (task, arch) not in matrix.predicted:
        done = matrix.seqapps(
            "predict", matrix.runs[(task, arch)], *_predict_args(task, matrix.data), "--json"
        )
        assert done.returncode == 0, done.stderr[-2000:]
        matrix.predicted[(task, arch)] = [
            json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")
        ]
    return matrix.predicted[(task, arch)]


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _start(matrix, command: list[str], ready: str, timeout: float = 180):
    """Start a server command; return (process, first lines) once ``ready`` is printed."""
    import time

    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=matrix.root,
        env=matrix.env,
        start_new_session=True,
    )
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if ready in line:
            return process, lines
    process.kill()
    raise AssertionError("server never got ready:\n" + "".join(lines[-40:]))


def _invoke(port: int, table: dict) -> list[dict]:
    import urllib.request

    body = json.dumps({"dataframe_split": table}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["predictions"]


def _speech_table(matrix) -> dict:
    import base64

    clip = sorted((matrix.data["speech"] / "ou").glob("*.wav"))[0]
    return {"columns": ["audio"], "data": [[base64.b64encode(clip.read_bytes()).decode()]]}


SENTIMENT_TABLE = {"columns": ["input"], "data": [["a wonderful film"], ["not good at all"]]}


def test_seqapps_serve_answers_like_predict_and_stops_cleanly(matrix):
    """Speech: its audio arrives as bytes in JSON, the hardest input to serve (the scoring
    server is the same code for every task; mlflow models serve checks sentiment below)."""
    import signal

    seqapps_exe = str(Path(sys.executable).with_name("seqapps"))
    for task, table in (("speech", _speech_table(matrix)),):
        port = _free_port()
        run_id = matrix.runs[(task, "bilstm")]
        process, _ = _start(
            matrix, [seqapps_exe, "serve", run_id, "--port", str(port)], "serving runs:/"
        )
        try:
            _same_rows(_predicted(matrix, task, "bilstm"), _invoke(port, table))
            taken = matrix.seqapps("serve", run_id, "--port", str(port))
            assert taken.returncode == 2
            assert taken.stderr.strip().splitlines() == [
                f"Error: --port {port}: 127.0.0.1:{port} is already in use; choose another --port"
            ]
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        assert not _listening(port), "a server process still listens after SIGTERM"


def test_mlflow_models_serve_answers_like_predict(matrix):
    env_path = str(Path(sys.executable).parent) + os.pathsep + matrix.env.get("PATH", "")
    matrix.env["PATH"] = env_path  # uvicorn from this environment, as an activated venv has
    for task, table in (("sentiment", SENTIMENT_TABLE),):
        port = _free_port()
        run_id = matrix.runs[(task, "bilstm")]
        command = [
            *(sys.executable, "-m", "mlflow", "models", "serve", "-m", f"runs:/{run_id}/model"),
            *("--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)),
            *("--workers", "1"),
        ]
        process, _ = _start(matrix, command, "Uvicorn running")
        try:
            _same_rows(_predicted(matrix, task, "bilstm"), _invoke(port, table))
        finally:
            os.killpg(process.pid, 15)  # mlflow's CLI and its uvicorn worker
            process.wait(timeout=60)


EXPORTS = [
    (task, arch, form)
    for task, arch in (("sentiment", "bilstm"), ("stock", "lstm"))
    for form in ("saved_model", "tflite", "onnx")
]


@pytest.mark.parametrize(("task", "arch", "form"), EXPORTS, ids=["-".join(x) for x in EXPORTS])
def test_export_reloads_and_matches_keras(matrix, task, arch, form):
    # In this process: exporting is not about what a fresh process imports (predict is).
    from click.testing import CliRunner

    from seqapps.cli import cli

    out = matrix.root / "exports" / f"{task}-{arch}-{form}"
    args = ["export", matrix.runs[(task, arch)], "--format", form, "--out", str(out)]
    done = CliRunner().invoke(cli, [*args, "--tracking-uri", matrix.uri])
    assert done.exit_code == 0, done.output[-3000:]
    assert f"wrote {form} to {out}" in done.output
    difference = float(done.output.split("largest difference ")[1].split()[0])
    assert difference <= 1e-4
    expected = {"saved_model": "saved_model.pb", "tflite": "model.tflite", "onnx": "model.onnx"}
    assert (out / expected[form]).is_file()
    if task == "sentiment" and form != "saved_model":  # the string front is split off
        vocabulary = (out / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
        assert vocabulary[:2] == ["", "[UNK]"] and len(vocabulary) > 10
        assert "string preprocessing split off" in done.output


def test_export_refusals_are_one_line_and_write_nothing(matrix):
    run_id = matrix.runs[("stock", "lstm")]
    taken = matrix.root / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    done = matrix.seqapps("export", run_id, "--format", "onnx", "--out", str(taken))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"Error: --out {taken}: folder exists and is not empty; choose a new one"
    ]
    assert sorted(p.name for p in taken.iterdir()) == ["keep.txt"]
    bad = matrix.seqapps("export", run_id, "--format", "pmml", "--out", str(matrix.root / "x"))
    assert bad.returncode == 2 and "pmml" in bad.stderr and not (matrix.root / "x").exists()


def test_register_model_creates_versions_that_predict_in_a_fresh_process(matrix):
    client = MlflowClient(matrix.uri)
    versions = client.search_model_versions("name='majority-demo'")
    assert len(versions) == len(TRAINED["majority"])
    assert {v.run_id for v in versions} == {
        matrix.runs[("majority", arch)] for arch in TRAINED["majority"]
    }
    done = matrix.seqapps("predict", "models:/majority-demo/1", "1 1 1 1 1 1 1 1 1 1 1 -1 -1 1 1")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\t")[0] in ("plus", "minus")


def test_the_ui_server_lists_the_logged_model_and_stops_on_sigterm(matrix):
    """`seqapps ui` serves this store on loopback; a second UI on its port is refused."""
    import signal
    import urllib.request

    port = _free_port()
    seqapps_exe = str(Path(sys.executable).with_name("seqapps"))
    process, _ = _start(
        matrix, [seqapps_exe, "ui", "--port", str(port)], "MLflow UI on http://127.0.0.1"
    )
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as reply:
            assert reply.status == 200
        # A second UI on the same port: one line, exit 2, at once (before MLflow starts).
        taken = matrix.seqapps("ui", "--port", str(port), timeout=60)
        assert taken.returncode == 2, taken.stderr
        assert taken.stderr.strip().splitlines() == [
            f"Error: --port {port}: 127.0.0.1:{port} is already in use; choose another --port"
        ]
        run_id = matrix.runs[("sentiment", "bilstm")]
        base = f"http://127.0.0.1:{port}/api/2.0/mlflow"
        with urllib.request.urlopen(f"{base}/runs/get?run_id={run_id}", timeout=30) as reply:
            run = json.loads(reply.read())["run"]
        (output,) = run["outputs"]["model_outputs"]
        with urllib.request.urlopen(
            f"{base}/logged-models/{output['model_id']}", timeout=30
        ) as reply:
            logged = json.loads(reply.read())["model"]["info"]
        assert logged["source_run_id"] == run_id and logged["name"] == "model"
        assert logged["status"] == "LOGGED_MODEL_READY"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert not _listening(port)


def test_the_third_party_plugin_is_listed_with_its_distribution(matrix):
    listed = matrix.seqapps("tasks")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.startswith("majority"))
    assert "which sign holds the majority" in line
    assert "seqapps-majority 0.1.0" in listed.stdout
    archs = matrix.seqapps("archs")
    assert any(
        x.startswith("lngru ") and "RMS normalization" in x for x in archs.stdout.splitlines()
    )
    run = MlflowClient(matrix.uri).get_run(matrix.runs[("majority", "lngru")])
    assert run.info.status == "FINISHED" and 0.0 <= run.data.metrics["test_accuracy"] <= 1.0
