"""Every user mistake: one clear line, exit code 2, no traceback, no run left behind."""

import socket

import pytest

from seqapps import registry
from tests.conftest import runs_in


def run_cli(runner, cli, tracking_uri, *args):
    result = runner.invoke(cli, ["run", *args, "--tracking-uri", tracking_uri, "-q"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors, "expected an error line on stderr"
    assert not any(run.info.status == "RUNNING" for run in runs_in(tracking_uri))
    assert runs_in(tracking_uri) == []
    return errors[-1]


@pytest.fixture
def bad(runner, seqapps_cli, tracking_uri):
    return lambda *args: run_cli(runner, seqapps_cli, tracking_uri, *args)


def test_unknown_task(runner, seqapps_cli):
    result = runner.invoke(seqapps_cli, ["run", "sentimental"])
    assert result.exit_code == 2
    available = ", ".join(sorted({r.name for r in registry.task_records()}))
    assert f"unknown task 'sentimental'; available: {available}" in result.stderr
    assert "sentiment" in available


def test_unknown_arch(bad):
    assert "unknown arch 'bilstn'; available: " in bad("sentiment", "--arch", "bilstn")


def test_arch_that_cannot_serve_the_task_names_those_that_can(bad):
    line = bad("sentiment", "--arch", "seq2seq")
    assert "--arch seq2seq: cannot serve task 'sentiment' (many-to-one); archs that fit:" in line
    assert "bilstm" in line and "esn" in line and "seq2seq," not in line


def test_missing_data_file(bad, workdir):
    assert "--data nothere.csv: no such file" in bad("sentiment", "--data", "nothere.csv")


def test_data_folder_instead_of_file(bad, workdir):
    (workdir / "folder").mkdir()
    assert "--data folder: is a folder, expected a file" in bad("sentiment", "--data", "folder")


def test_unreadable_data_file(bad, workdir):
    (workdir / "binary.csv").write_bytes(b"text,label\n\xff\xfe\x00bad,1\n")
    assert "binary.csv: not UTF-8 text" in bad("sentiment", "--data", "binary.csv")


def test_csv_without_the_named_column(bad, workdir):
    (workdir / "reviews.csv").write_text("review,label\ngood,pos\nbad,neg\n")
    line = bad("sentiment", "--data", "reviews.csv")
    assert "reviews.csv: no column 'text' (set it with --set text_column=NAME)" in line


def test_empty_file(bad, workdir):
    (workdir / "empty.csv").write_text("")
    assert "empty.csv: file is empty" in bad("sentiment", "--data", "empty.csv")


def test_header_only_file(bad, workdir):
    (workdir / "header.csv").write_text("text,label\n")
    assert "header.csv: no examples" in bad("sentiment", "--data", "header.csv")


def test_single_class(bad, workdir):
    (workdir / "one.csv").write_text("text,label\n" + "".join(f"nice {i},pos\n" for i in range(30)))
    assert "needs at least 2 classes to classify, found 1 ('pos')" in bad(
        "sentiment", "--data", "one.csv"
    )


def test_unknown_set_key(bad):
    line = bad("sentiment", "--set", "colour=red")
    assert "--set colour: task 'sentiment' and arch 'bilstm' have no such option; allowed:" in line


def test_malformed_config_yaml(bad, workdir):
    (workdir / "run.yaml").write_text("epochs: 2\nunits: [8\n")
    line = bad("sentiment", "--config", "run.yaml")
    assert "config file run.yaml: invalid YAML at line" in line


def test_bad_option_value(bad):
    assert "--epochs must be at least 1, got 0" in bad("sentiment", "--epochs", "0")


def test_unreachable_tracking_server(runner, seqapps_cli):
    with socket.socket() as probe:  # a port on which nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    uri = f"http://127.0.0.1:{port}"
    result = runner.invoke(seqapps_cli, ["run", "sentiment", "--tracking-uri", uri, "-q"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"cannot use tracking store {uri}" in result.stderr
    assert "Epoch" not in result.output  # said before training starts


def test_tracking_store_in_missing_folder(runner, seqapps_cli, workdir):
    uri = f"sqlite:///{workdir}/no/such/dir/mlflow.db"
    result = runner.invoke(seqapps_cli, ["run", "sentiment", "--tracking-uri", uri])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_folds_where_a_task_or_its_data_cannot_fold(bad, workdir):
    assert "--folds 5: the stock task cannot be cross-validated: " in bad("stock", "--folds", "5")
    (workdir / "r.csv").write_text("text,label\n" + "".join(f"t{i},{i % 2}\n" for i in range(40)))
    line = bad("sentiment", "--data", "r.csv", "--folds", "3", "--set", "test_file=r.csv")
    assert line.endswith(
        "--folds 3: --set test_file fixes the test split; cross-validate one "
        "labelled file (or the sample) instead"
    )
    line = bad("sentiment", "--data", "r.csv", "--folds", "3", "--set", "text_column=body")
    assert "r.csv: no column 'body'" in line  # checked before the parent run is opened
    assert "--repeats: expected 1 or more, got 0" in bad("sentiment", "--repeats", "0")
    line = bad("sentiment", "--repeats", "2", "--register-model", "mine")
    assert "--register-model registers one model; with --folds/--repeats" in line
