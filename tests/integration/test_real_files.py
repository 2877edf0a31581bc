"""What real files and real users do: Excel's BOM, huge fields, many unnamed runs."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient

from seqapps.exceptions import DataWarning


def test_a_bom_csv_with_a_one_megabyte_field_trains(runner, seqapps_cli, tracking_uri, workdir):
    from seqapps_sentiment import sample

    texts, labels = sample.generate(80)
    texts[0] = "long " * 210_000  # a 1 MB field: Python's csv module stops at 128 KB
    rows = ["text,label", *(f'"{t}",{label}' for t, label in zip(texts, labels))]
    # Excel's "CSV UTF-8" starts with a byte-order mark.
    (workdir / "excel.csv").write_bytes(b"\xef\xbb\xbf" + "\n".join(rows).encode("utf-8"))
    args = ["run", "sentiment", "--data", "excel.csv", "--epochs", "1", "--units", "4", "-q"]
    args += ["--set", "sequence_length=20", "--tracking-uri", tracking_uri]
    with pytest.warns(DataWarning, match=r"longer than 20 tokens were cut \(head\): 1 in training"):
        result = runner.invoke(seqapps_cli, args)  # the huge text is cut, and the run says so
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name("sentiment").experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["data.train_size"] == "64"  # every row, the huge one too


def test_ten_unnamed_runs_get_ten_names(tracking_uri):
    """Names come from MLflow's generator on Python's random, which a run seeds: the run
    must be named before it seeds."""
    from seqapps import registry, run_setup
    from seqapps.config import resolve
    from seqapps_sentiment.task import SentimentTask

    config = resolve(
        SentimentTask,
        {"tracking_uri": tracking_uri, "max_samples": 20, "seed": 7},
        load_arch=registry.load_arch,
    )
    names = []
    for _ in range(10):
        ctx = run_setup.resolve(SentimentTask, config, lambda line: None, resuming_run=False)
        run_setup.load_data(ctx)
        run_setup.choose_strategy(ctx)
        run_setup.open_run(ctx, None, None)
        names.append(ctx.tracker.get_run(ctx.run_id).info.run_name)
        ctx.tracker.fail(ctx.run_id, "opened by a test", status="KILLED")
    assert len(set(names)) == 10, names


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_the_byte_order_mark_is_not_part_of_the_first_column(tmp_path, suffix):
    from seqapps.data.text import read_labelled_text

    separator = "\t" if suffix == ".tsv" else ","
    path = tmp_path / f"data{suffix}"
    path.write_bytes(b"\xef\xbb\xbf" + f"text{separator}label\nhi{separator}a\n".encode())
    assert read_labelled_text(path, "text", "label") == (["hi"], ["a"])


def test_a_json_file_is_named_not_dumped(runner, seqapps_cli, tracking_uri, workdir):
    (workdir / "reviews.json").write_text('[{"text": "' + "x" * 5000 + '", "label": "a"}]')
    args = ["run", "sentiment", "--data", "reviews.json", "--tracking-uri", tracking_uri]
    result = runner.invoke(seqapps_cli, args)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.endswith("a .json file; expected a CSV or TSV file with a header row")
    assert len(line) < 300 and "Traceback" not in result.output


def test_a_sqlite_uri_at_another_kind_of_file_is_refused_without_a_lock_file(
    runner, seqapps_cli, workdir
):
    notes = workdir / "notes.txt"
    notes.write_text("not a database\n")
    result = runner.invoke(
        seqapps_cli, ["run", "sentiment", "--tracking-uri", f"sqlite:///{notes}"]
    )
    assert result.exit_code == 2
    assert f"{notes} is not an SQLite file" in result.stderr
    assert notes.read_text() == "not a database\n"
    assert sorted(p.name for p in workdir.iterdir()) == ["notes.txt"]  # no .seqapps-lock


def test_empty_texts_are_kept_and_counted_in_one_warning(tmp_path):
    from seqapps.data.text import read_labelled_text
    from seqapps.exceptions import DataWarning

    path = tmp_path / "reviews.csv"
    path.write_text('text,label\n"",pos\ngood,pos\n"  ",neg\n')
    with pytest.warns(DataWarning, match=r"reviews\.csv: 2 rows have an empty text"):
        texts, labels = read_labelled_text(path, "text", "label")
    assert (texts, labels) == (["", "good", "  "], ["pos", "pos", "neg"])
