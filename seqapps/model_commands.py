"""CLI commands that start from a logged model: evaluate, export, serve.

MODEL is what ``seqapps run`` printed (a run id), ``runs:/ID/model``, ``models:/NAME/VERSION``
from the Model Registry, or a local model folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from seqapps import cli_options
from seqapps import config as config_module
from seqapps.exceptions import UserInputError


@click.command()
@click.argument("model")
@click.option("--data", required=True, help="New labelled data in a format the task reads.")
@cli_options.set_pairs("Reading options, e.g. text_column=review (as for `seqapps run`).")
@click.option(
    "--experiment",
    help="Experiment of the new run. [default: $MLFLOW_EXPERIMENT_NAME, else the task name]",
)
@cli_options.tracking_uri("MLflow store.")
def evaluate(model, data, set_pairs, experiment, tracking_uri):
    """Score MODEL on new labelled data with its task's metrics; log it as a new run.

    \b
    Examples:
      seqapps evaluate 3f2c...e9 --data reviews.csv
      seqapps evaluate models:/sentiment/1 --data more.csv --set text_column=review
      seqapps evaluate 8a1b...07 --data en_ewt-ud-test.conllu      # pos
    """
    from seqapps import evaluating

    options = {k: str(v) for k, v in config_module.parse_set_pairs(set_pairs).items()}
    result = evaluating.evaluate(model, data, tracking_uri, options, experiment)
    for line in result.summary:
        click.echo(line)


@click.command()
@click.argument("model")
@click.option(
    "--format",
    "form",
    type=click.Choice(["saved_model", "tflite", "onnx"]),
    default="saved_model",
    show_default=True,
    help="saved_model: TF Serving, raw input included. tflite/onnx: string preprocessing is "
    "split off and written beside the model.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="New folder to write.")
@cli_options.tracking_uri("MLflow store.")
def export(model, form, out, tracking_uri):
    """Export MODEL to SavedModel, TFLite or ONNX; reload it and compare outputs with Keras.

    \b
    Examples:
      seqapps export 3f2c...e9 --format saved_model --out exported/sentiment
      seqapps export 3f2c...e9 --format tflite --out exported/sentiment-tflite
      seqapps export 3f2c...e9 --format onnx --out exported/stock-onnx
    """
    out_path = Path(out)
    if out_path.exists() and any(out_path.iterdir()):
        raise UserInputError(f"--out {out}: folder exists and is not empty; choose a new one")
    if out_path.exists():
        out_path.rmdir()
    from seqapps import exporting, models
    from seqapps.predicting import model_source

    with model_source(model, tracking_uri) as folder:
        loaded = models.load_folder(folder)
        result = exporting.export(loaded.model, folder, form, out_path)
    click.echo(f"wrote {form} to {out}: {', '.join(result.files)}")
    click.echo(
        f"reloaded and compared on {result.compared_on}: largest difference "
        f"{result.max_difference:.2e} (tolerance {exporting.TOLERANCE:g})"
    )
    for note in result.notes:
        click.echo(f"note: {note}")


@click.command()
@click.argument("model")
@click.option("--port", type=int, default=5001, show_default=True, help="Port on 127.0.0.1.")
@click.option("--workers", type=int, default=1, show_default=True, help="Server processes.")
@cli_options.tracking_uri("MLflow store.")
def serve(model, port, workers, tracking_uri):
    """Serve MODEL with MLflow's scoring server on 127.0.0.1 (POST /invocations).

    \b
    Examples:
      seqapps serve 3f2c...e9
      seqapps serve models:/sentiment/1 --port 8080
      curl -s http://127.0.0.1:5001/invocations -H 'Content-Type: application/json' \\
           -d '{"dataframe_split": {"columns": ["input"], "data": [["a wonderful film"]]}}'
    """
    from seqapps import serving
    from seqapps.tracking import Tracker

    uri = serving.model_uri(model)
    serving.check_port_free(port)
    tracker = Tracker(tracking_uri)  # checks the store, and a run id names a real run
    if uri.startswith("runs:/"):
        tracker.get_run(uri[len("runs:/") :].split("/", 1)[0])
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "models",
        "serve",
        "--model-uri",
        uri,
        "--env-manager",
        "local",
        "--host",
        serving.HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracker.uri}
    base = f"http://{serving.HOST}:{port}"

    def announce():
        click.echo(f"serving {uri} at {base}/invocations (Ctrl-C to stop)")

    sys.exit(serving.run_server(command, f"{base}/ping", announce, env=env))
