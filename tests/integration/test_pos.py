"""`seqapps run pos` on files written here: every test token evaluated, padding excluded."""

import json

import pytest
from mlflow import MlflowClient

from tests.conftest import runs_in

WORDS = {
    "DET": ["the", "a"],
    "NOUN": ["dog", "cat", "tree"],
    "VERB": ["sees", "likes"],
    "ADJ": ["big", "red"],
}


def sentence(i: int, length_units: int = 1) -> list[tuple[str, str]]:
    tokens = []
    for unit in range(length_units):
        k = i + unit
        tokens += [
            (WORDS["DET"][k % 2], "DET"),
            (WORDS["ADJ"][k % 2], "ADJ"),
            (WORDS["NOUN"][k % 3], "NOUN"),
            (WORDS["VERB"][k % 2], "VERB"),
            (WORDS["DET"][(k + 1) % 2], "DET"),
            (WORDS["NOUN"][(k + 1) % 3], "NOUN"),
        ]
    return [*tokens, (".", "PUNCT")]


def write_conllu(path, sentences):
    blocks = []
    for n, tokens in enumerate(sentences):
        lines = [f"# sent_id = {n}"]
        lines += [f"{i}\t{w}\t{w}\t{t}\t_\t_\t0\tdep\t_\t_" for i, (w, t) in enumerate(tokens, 1)]
        blocks.append("\n".join(lines))
    path.write_text("\n\n".join(blocks) + "\n")


def write_two_column(path, sentences):
    path.write_text("\n\n".join("\n".join(f"{w}\t{t}" for w, t in s) for s in sentences) + "\n")


def metrics_of(uri, output):
    run_id = next(x.split()[1] for x in output.splitlines() if x.startswith("run "))
    return run_id, MlflowClient(uri).get_run(run_id).data.metrics


@pytest.mark.parametrize("form", ["conllu", "tsv"])
def test_every_test_token_is_evaluated_and_padding_is_excluded(
    runner, seqapps_cli, tracking_uri, workdir, form
):
    train = [sentence(i) for i in range(60)]
    dev = [sentence(i) for i in range(8)]
    test = [sentence(i) for i in range(5)] + [sentence(3, length_units=20)]  # a 121-token sentence
    writer = write_conllu if form == "conllu" else write_two_column
    for name, data in (("train", train), ("dev", dev), ("test", test)):
        writer(workdir / f"{name}.{form}", data)
    result = runner.invoke(
        seqapps_cli,
        [
            "run",
            "pos",
            "--data",
            f"train.{form}",
            "--set",
            f"dev_file=dev.{form}",
            "--set",
            f"test_file=test.{form}",
            "--epochs",
            "3",
            "--units",
            "16",
            "--batch-size",
            "4",
            "-q",
            "--tracking-uri",
            tracking_uri,
        ],
    )
    assert result.exit_code == 0, result.output
    run_id, metrics = metrics_of(tracking_uri, result.output)
    assert metrics["test_tokens_evaluated"] == sum(len(s) for s in test) == 5 * 7 + 121
    artifacts = {a.path for a in MlflowClient(tracking_uri).list_artifacts(run_id)}
    assert "per_tag.csv" in artifacts


def test_padding_changes_neither_predictions_nor_loss(workdir):
    import keras
    import numpy as np

    from seqapps import config as config_module
    from seqapps import registry
    from seqapps_pos.task import PosTask

    keras.utils.set_random_seed(0)
    config = config_module.resolve(
        PosTask, {"units": 16}, set_values={"sample_sentences": 200}, load_arch=registry.load_arch
    )
    task = PosTask()
    data = task.load_data(config)
    model = task.build_model(data.spec, registry.load_arch("bilstm"), config)
    loss, _ = task.loss_and_metrics(data.spec)
    model.compile(optimizer="adam", loss=loss)
    model.fit(task.batch(data.train, 8), epochs=2, verbose=0)
    sentences = [s.tokens for s in task.test_sentences]
    assert max(map(len, sentences)) > 3 * min(map(len, sentences))  # real padding happens
    assert task.tag(model, sentences, batch_size=64) == task.tag(model, sentences, batch_size=1)
    # The loss of one padded batch of every test sentence equals the mean cross-entropy over
    # their real tokens, each sentence predicted alone (no padding at all).
    padded = model.evaluate(data.test.padded_batch(10_000), verbose=0, return_dict=True)["loss"]
    index = {tag: i for i, tag in enumerate(task.tags)}
    losses = []
    for sentence in task.test_sentences:
        encoded = {k: v[None] for k, v in task.encode(sentence.tokens).items()}
        probabilities = model.predict_on_batch(encoded)[0]
        losses += [-np.log(probabilities[i, index[t]]) for i, t in enumerate(sentence.tags)]
    assert padded == pytest.approx(float(np.mean(losses)), rel=1e-4)


def test_predict_tags_tokens_and_writes_conllu(runner, seqapps_cli, tracking_uri, workdir):
    write_two_column(workdir / "train.tsv", [sentence(i) for i in range(80)])
    result = runner.invoke(
        seqapps_cli,
        [
            "run",
            "pos",
            "--data",
            "train.tsv",
            "--epochs",
            "4",
            "-q",
            "--tracking-uri",
            tracking_uri,
        ],
    )
    assert result.exit_code == 0, result.output
    run_id, _ = metrics_of(tracking_uri, result.output)
    (workdir / "in.txt").write_text("the big dog likes a cat .\n\na red tree sees the dog .\n")
    predicted = runner.invoke(
        seqapps_cli,
        [
            "predict",
            run_id,
            "--input",
            "in.txt",
            "--json",
            "--output",
            "out.conllu",
            "--tracking-uri",
            tracking_uri,
        ],
    )
    assert predicted.exit_code == 0, predicted.output
    rows = [json.loads(line) for line in predicted.stdout.splitlines()]
    assert [r["sentence"] for r in rows] == [1] * 7 + [2] * 7
    assert [r["token"] for r in rows[:3]] == ["the", "big", "dog"]
    conllu = (workdir / "out.conllu").read_text().split("\n\n")[0].splitlines()
    assert conllu[0] == "# text = the big dog likes a cat ."
    assert conllu[1].split("\t")[:4] == ["1", "the", "_", rows[0]["tag"]]


def bad(runner, cli, uri, *args):
    result = runner.invoke(cli, ["run", "pos", *args, "--tracking-uri", uri, "-q"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and runs_in(uri) == []
    return result.stderr.strip().splitlines()[-1]


def test_malformed_conllu_line(runner, seqapps_cli, tracking_uri, workdir):
    (workdir / "bad.conllu").write_text("1\tthe\tthe\tDET\t_\t_\t0\tdep\t_\t_\n2\tdog\tNOUN\n")
    assert "bad.conllu: line 2: expected 10 tab-separated CoNLL-U columns, found 3" in bad(
        runner, seqapps_cli, tracking_uri, "--data", "bad.conllu"
    )


def test_empty_file(runner, seqapps_cli, tracking_uri, workdir):
    (workdir / "empty.conllu").write_text("")
    assert "empty.conllu: file is empty" in bad(
        runner, seqapps_cli, tracking_uri, "--data", "empty.conllu"
    )


def test_tag_column_all_underscores(runner, seqapps_cli, tracking_uri, workdir):
    write_conllu(workdir / "t.conllu", [sentence(i) for i in range(20)])
    line = bad(runner, seqapps_cli, tracking_uri, "--data", "t.conllu", "--set", "tag_column=xpos")
    assert "the xpos column is empty ('_' everywhere); try --set tag_column=upos" in line


def test_tags_training_never_saw_are_scored_as_errors_and_a_tag_map_merges_spellings(
    runner, seqapps_cli, tracking_uri, workdir
):
    from seqapps.config import resolve
    from seqapps.exceptions import DataWarning
    from seqapps_pos.task import PosTask

    write_two_column(workdir / "train.tsv", [sentence(i) for i in range(20)])
    # Another corpus' test file: it spells NOUN as NN, and has an INTJ training never shows.
    write_two_column(workdir / "test.tsv", [[("wow", "INTJ"), ("the", "DET"), ("dog", "NN")]])
    settings = {"data": "train.tsv"}
    with pytest.warns(DataWarning) as warned:
        PosTask().load_data(resolve(PosTask, settings, set_values={"test_file": "test.tsv"}))
    (message,) = [str(w.message) for w in warned if "never in training" in str(w.message)]
    assert message.startswith("test.tsv: tags 'INTJ' (1), 'NN' (1) occur in the test split")
    assert "those 2 tokens count as errors" in message

    (workdir / "map.tsv").write_text("# the test corpus' spellings\nNN\tNOUN\n")
    args = ["run", "pos", "--data", "train.tsv", "--set", "test_file=test.tsv", "--epochs", "1"]
    args += ["--set", "tag_map=map.tsv", "--units", "8", "-q", "--tracking-uri", tracking_uri]
    with pytest.warns(DataWarning) as warned:
        result = runner.invoke(seqapps_cli, args)
    assert result.exit_code == 0, result.output
    (message,) = [str(w.message) for w in warned if "never in training" in str(w.message)]
    assert message.startswith("test.tsv: tags 'INTJ' (1) occur in the test split")
    assert "that token counts as an error" in message
    _, metrics = metrics_of(tracking_uri, result.output)
    assert metrics["test_tokens_evaluated"] == 3
    assert metrics["test_token_accuracy"] <= 2 / 3  # INTJ can never be right


def test_a_rare_tag_cut_into_validation_never_stops_a_run_whatever_the_seed(workdir):
    import warnings

    from seqapps.config import resolve
    from seqapps.exceptions import DataWarning
    from seqapps_pos.task import PosTask

    rare = [[("wow", "INTJ"), ("!", "PUNCT")]]
    write_two_column(workdir / "all.tsv", [sentence(i) for i in range(30)] + rare)
    placed = set()
    for seed in range(1, 9):
        task = PosTask()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            task.load_data(resolve(PosTask, {"data": "all.tsv", "seed": seed}))
        placed |= set(task.unseen_tags)  # where the rare tag landed, if not in training
    assert placed  # some seeds put it out of training, and none refused to start


def test_tfds_conll2003_read_from_a_local_folder(runner, seqapps_cli, tracking_uri, workdir):
    import tensorflow as tf
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.dataset_builders.adhoc_builder import store_as_tfds_dataset

    real = tfds.builder("conll2003", data_dir=str(workdir / "tfds"))
    features = real.info.features
    pos_names = features["pos"].feature.names

    def split(count):
        rows = []
        for i in range(count):
            tokens = sentence(i)
            rows.append(
                {
                    "tokens": [w for w, _ in tokens],
                    "pos": [
                        pos_names.index(
                            {"DET": "DT", "ADJ": "JJ", "NOUN": "NN", "VERB": "VBZ", "PUNCT": "."}[t]
                        )
                        for _, t in tokens
                    ],
                    "chunks": [0] * len(tokens),
                    "ner": [0] * len(tokens),
                }
            )
        signature = {
            "tokens": tf.TensorSpec((None,), tf.string),
            "pos": tf.TensorSpec((None,), tf.int64),
            "chunks": tf.TensorSpec((None,), tf.int64),
            "ner": tf.TensorSpec((None,), tf.int64),
        }
        return tf.data.Dataset.from_generator(lambda: iter(rows), output_signature=signature)

    store_as_tfds_dataset(
        "conll2003",
        real.info.version,
        features,
        {"train": split(30), "dev": split(5), "test": split(6)},
        config=real.builder_config,
        data_dir=str(workdir / "tfds"),
    )
    result = runner.invoke(
        seqapps_cli,
        [
            "run",
            "pos",
            "--data",
            "tfds:conll2003",
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
    run_id, metrics = metrics_of(tracking_uri, result.output)
    assert metrics["test_tokens_evaluated"] == 6 * 7
    params = MlflowClient(tracking_uri).get_run(run_id).data.params
    assert params["data.source"].startswith("tfds:conll2003") and params["data.train_size"] == "30"


def test_word_dropout_only_acts_in_training_and_spares_padding(tmp_path):
    import keras
    import numpy as np

    from seqapps.layers.heads import WordDropout

    ids = np.tile(np.array([[5, 6, 7, 8, 1, 0, 0, 0]], "int32"), (500, 1))
    layer = WordDropout(0.3, seed=1)
    np.testing.assert_array_equal(layer(ids, training=False), ids)
    dropped = keras.ops.convert_to_numpy(layer(ids, training=True))
    known = ids > 1
    assert 0.25 < np.mean(dropped[known] == 1) < 0.35
    np.testing.assert_array_equal(dropped[~known], ids[~known])  # padding and <unk> untouched
    inputs = keras.Input((None,), dtype="int32")
    model = keras.Model(inputs, WordDropout(0.2, seed=3)(inputs))
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    assert reloaded.layers[-1].get_config()["rate"] == 0.2
