"""RunConfig resolution: precedence, typed task options, and clear errors."""

import math

import pytest

from seqapps import config
from seqapps.exceptions import ConfigError
from seqapps_sentiment.task import SentimentTask


def test_precedence_defaults_task_file_flags():
    resolved = config.resolve(
        SentimentTask,
        flags={"epochs": 3, "units": None},
        file_values={"epochs": 7, "units": 16, "batch-size": 8},
    )
    assert resolved.epochs == 3  # flag beats file
    assert resolved.units == 16  # file beats default
    assert resolved.dropout == SentimentTask.defaults["dropout"]  # task default beats base
    assert resolved.arch == "bilstm"  # the task's default arch
    assert resolved.batch_size == 8


def test_set_values_are_typed_from_task_defaults():
    resolved = config.resolve(
        SentimentTask,
        {},
        {"options": {"max_tokens": 100}},
        {"max_tokens": "50", "text_column": "review"},
    )
    assert resolved.options["max_tokens"] == 50
    assert resolved.options["text_column"] == "review"
    assert resolved.options["embedding_dim"] == 64


def test_unknown_set_key_lists_task_options():
    with pytest.raises(ConfigError, match=r"no such option; allowed: .*text_column"):
        config.resolve(SentimentTask, {}, set_values={"colour": "red"})


def test_option_with_wrong_type_names_it():
    with pytest.raises(ConfigError, match="--set max_tokens=many: task 'sentiment': expected int"):
        config.resolve(SentimentTask, {}, set_values={"max_tokens": "many"})


def test_out_of_range_flag_names_the_flag():
    with pytest.raises(ConfigError, match=r"--dropout must be in \[0, 1\), got 1.5"):
        config.resolve(SentimentTask, {"dropout": 1.5})


def test_malformed_yaml_names_file_and_line(tmp_path):
    bad = tmp_path / "run.yaml"
    bad.write_text("epochs: 3\nunits: [16\n")
    with pytest.raises(ConfigError, match=r"run.yaml: invalid YAML at line \d+"):
        config.read_config_file(bad)


def test_unknown_file_key_is_rejected(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("epocs: 3\n")
    with pytest.raises(ConfigError, match="unknown key 'epocs'"):
        config.read_config_file(path)


def test_set_pair_without_equals_is_rejected():
    with pytest.raises(ConfigError, match="expected key=value"):
        config.parse_set_pairs(["max_tokens"])


def test_yaml_round_trip_gives_the_same_config(tmp_path):
    resolved = config.resolve(SentimentTask, {"epochs": 2}, set_values={"max_tokens": "99"})
    path = tmp_path / "resolved.yaml"
    path.write_text(resolved.to_yaml())
    again = config.resolve(SentimentTask, {}, config.read_config_file(path))
    assert again == resolved


def test_folds_are_checked_and_refused_where_a_task_cannot_fold():
    from seqapps_stock.task import StockTask

    assert config.resolve(SentimentTask, {"folds": 5}).folds == 5
    with pytest.raises(ConfigError, match=r"--folds must be 0 \(no folds\) or at least 2, got 1"):
        config.resolve(SentimentTask, {"folds": 1})
    with pytest.raises(ConfigError, match=r"--fold must be between 1 and --folds \(5\), got 6"):
        config.resolve(SentimentTask, {"folds": 5, "fold": 6})
    with pytest.raises(ConfigError) as refused:
        config.resolve(StockTask, {"folds": 5})
    assert str(refused.value) == (
        "--folds 5: the stock task cannot be cross-validated: a forecast is tested on days "
        "after the ones it was trained on, so shuffled folds would leak the future; "
        "--repeats N averages over seeds instead"
    )


def test_the_cosine_schedule_falls_from_the_rate_to_its_floor_over_every_step(tmp_path):
    from seqapps import fitting

    (tmp_path / "run.yaml").write_text("lr_schedule: linear\n")
    with pytest.raises(ConfigError, match="--lr-schedule must be constant or cosine, got 'lin"):
        config.resolve(SentimentTask, {}, config.read_config_file(tmp_path / "run.yaml"))
    constant = config.resolve(SentimentTask, {"learning_rate": 0.01})
    assert fitting.learning_rate(constant, steps_per_epoch=7) == 0.01
    cosine = config.resolve(SentimentTask, {"learning_rate": 0.01, "lr_schedule": "cosine"})
    schedule = fitting.learning_rate(cosine, steps_per_epoch=7)
    total = cosine.epochs * 7
    steps = (0, total // 3, total, total + 5)
    floor = 0.01 * fitting.COSINE_FLOOR
    expected = [
        floor + (0.01 - floor) * (1 + math.cos(math.pi * min(s, total) / total)) / 2 for s in steps
    ]
    assert [float(schedule(step)) for step in steps] == pytest.approx(expected, rel=1e-5)
    assert expected[-1] == pytest.approx(0.0005)  # the floor, then held
