"""`--data tfds:imdb_reviews` reads a TFDS dataset prepared locally (nothing downloaded)."""

import json

from mlflow import MlflowClient


def prepare_tiny_imdb(data_dir):
    """Write 40 train and 20 test reviews in the real imdb_reviews TFDS layout."""
    import tensorflow as tf
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.dataset_builders.adhoc_builder import store_as_tfds_dataset

    real = tfds.builder("imdb_reviews", data_dir=str(data_dir))
    signature = {"text": tf.TensorSpec((), tf.string), "label": tf.TensorSpec((), tf.int64)}

    def reviews(count, word):
        rows = [
            {"text": f"a {('great' if i % 2 else 'awful')} {word} {i}", "label": i % 2}
            for i in range(count)
        ]
        return tf.data.Dataset.from_generator(lambda: iter(rows), output_signature=signature)

    store_as_tfds_dataset(
        "imdb_reviews",
        real.info.version,
        real.info.features,
        {"train": reviews(40, "film"), "test": reviews(20, "movie")},
        config="plain_text",
        data_dir=str(data_dir),
    )
    return real.info.version


def test_sentiment_trains_from_local_tfds(runner, seqapps_cli, tracking_uri, workdir):
    version = prepare_tiny_imdb(workdir / "tfds")
    result = runner.invoke(
        seqapps_cli,
        [
            "run",
            "sentiment",
            "--data",
            "tfds:imdb_reviews",
            "--data-dir",
            str(workdir / "tfds"),
            "--epochs",
            "1",
            "--units",
            "8",
            "-q",
            "--tracking-uri",
            tracking_uri,
        ],
    )
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name("sentiment").experiment_id])
    params = run.data.params
    assert params["data.source"] == f"tfds:imdb_reviews {version}"
    assert (
        params["data.train_size"],
        params["data.validation_size"],
        params["data.test_size"],
    ) == ("36", "4", "20")
    from seqapps.models import model_folder
    from seqapps.tracking import Tracker

    local = Tracker(tracking_uri).download_model(f"runs:/{run.info.run_id}/model", workdir / "m")
    metadata = model_folder(local) / "seqapps.json"
    assert json.loads(metadata.read_text())["classes"] == ["neg", "pos"]


def test_other_tfds_names_are_rejected_clearly(runner, seqapps_cli, tracking_uri):
    result = runner.invoke(
        seqapps_cli, ["run", "sentiment", "--data", "tfds:mnist", "--tracking-uri", tracking_uri]
    )
    assert result.exit_code == 2
    assert "the sentiment task reads tfds:imdb_reviews" in result.stderr


def prepare_tiny_shakespeare(data_dir, text: str):
    """Write the three splits of tiny_shakespeare in its real TFDS layout (one text each)."""
    import tensorflow as tf
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.dataset_builders.adhoc_builder import store_as_tfds_dataset

    real = tfds.builder("tiny_shakespeare", data_dir=str(data_dir))
    signature = {"text": tf.TensorSpec((), tf.string)}
    thirds = len(text) // 3

    def split(part):
        rows = [{"text": part}]
        return tf.data.Dataset.from_generator(lambda: iter(rows), output_signature=signature)

    parts = [text[:thirds], text[thirds : 2 * thirds], text[2 * thirds :]]
    store_as_tfds_dataset(
        "tiny_shakespeare",
        real.info.version,
        real.info.features,
        dict(zip(("train", "validation", "test"), map(split, parts), strict=True)),
        data_dir=str(data_dir),
    )


def test_textgen_reads_the_splits_of_local_tfds_and_trains_stateless(
    runner, seqapps_cli, tracking_uri, workdir
):
    """The set's own splits; and training on independent windows, with no state carried
    (the stateful default is tests/integration/test_textgen.py's)."""
    text = "".join(f"line {i} of a play, spoken twice.\n" for i in range(300))
    prepare_tiny_shakespeare(workdir / "tfds", text)
    args = ["run", "textgen", "--data", "tfds:tiny_shakespeare", "--data-dir"]
    args += [str(workdir / "tfds"), "--epochs", "3", "--units", "16", "--layers", "1"]
    args += ["--set", "bptt=20", "--set", "ngram_orders=1-2", "--set", "sample_length=10"]
    args += ["--set", "stateful=false", "--learning-rate", "0.01", "--batch-size", "8"]
    result = runner.invoke(seqapps_cli, [*args, "-q", "--tracking-uri", tracking_uri])
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name("textgen").experiment_id])
    params = run.data.params
    assert params["data.source"].startswith("tfds:tiny_shakespeare")
    third = len(text) // 3
    # the set's own splits, as they are: one third of the characters each
    assert int(params["data.train_tokens"]) == third
    assert int(params["data.test_tokens"]) == len(text) - 2 * third
    assert params["tbptt_chunk"] == ""  # no state carried from window to window
    assert int(params["data.train_size"]) == (third - 1) // 20  # windows of 20 characters
    losses = [m.value for m in client.get_metric_history(run.info.run_id, "val_loss")]
    assert len(losses) == 3 and losses[-1] < losses[0]
    metrics = run.data.metrics
    assert metrics["test_bits_per_char"] < metrics["test_baseline_kn1_bits_per_char"]


def prepare_tiny_translation_set(data_dir) -> str:
    """ted_hrlr_translate/pt_to_en in its real TFDS layout (a Translation feature, source and
    target as supervised keys), with 40/10/10 made-up pairs; returns the TFDS name."""
    import tensorflow as tf
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.dataset_builders.adhoc_builder import store_as_tfds_dataset

    name = "ted_hrlr_translate/pt_to_en"
    real = tfds.builder(name, data_dir=str(data_dir))
    signature = {"pt": tf.TensorSpec((), tf.string), "en": tf.TensorSpec((), tf.string)}

    def pairs(first, count):
        rows = [{"pt": f"numero {i}", "en": f"number {i}"} for i in range(first, first + count)]
        return tf.data.Dataset.from_generator(lambda: iter(rows), output_signature=signature)

    splits = {"train": pairs(0, 40), "validation": pairs(100, 10), "test": pairs(200, 10)}
    store_as_tfds_dataset(
        "ted_hrlr_translate",
        real.info.version,
        real.info.features,
        splits,
        config="pt_to_en",
        data_dir=str(data_dir),
    )
    return name


def test_translate_reads_a_local_tfds_translation_set_by_its_supervised_keys(
    runner, seqapps_cli, tracking_uri, workdir
):
    name = prepare_tiny_translation_set(workdir / "tfds")
    args = ["run", "translate", "--data", f"tfds:{name}", "--data-dir", str(workdir / "tfds")]
    args += ["--epochs", "1", "--units", "8", "--set", "beam=2", "-q"]
    result = runner.invoke(seqapps_cli, [*args, "--tracking-uri", tracking_uri])
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name("translate").experiment_id])
    params = run.data.params
    assert params["data.source"] == f"tfds:{name}"
    sizes = [params[f"data.{split}_size"] for split in ("train", "validation", "test")]
    assert sizes == ["40", "10", "10"]  # the set's own splits
    client.download_artifacts(run.info.run_id, "translations.tsv", str(workdir))
    rows = (workdir / "translations.tsv").read_text(encoding="utf-8").splitlines()[1:]
    # source (pt) and reference (en) from the supervised keys, in that order
    assert sorted(row.split("\t")[:2] for row in rows) == sorted(
        [f"numero {i}", f"number {i}"] for i in range(200, 210)
    )
