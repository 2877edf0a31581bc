"""The conformance kit passes a sound toy plugin and catches each kind of broken one."""

import pytest

from seqapps.testing import (
    check_arch_trains,
    check_bad_inputs,
    check_declarations,
    check_run_and_predict,
)
from tests.integration import toy_tasks

INPUTS = ["1 -2 0.5 1 1"]


@pytest.mark.slow
def test_a_sound_plugin_passes_every_check(tmp_path):
    assert check_declarations(toy_tasks.SoundTask) == []
    assert check_bad_inputs(toy_tasks.SoundTask, tmp_path / "bad") == []
    assert check_run_and_predict(toy_tasks.SoundTask, tmp_path, INPUTS) == []


def test_a_missing_abstract_method_is_caught():
    assert check_declarations(toy_tasks.MissingPredict) == [
        "MissingPredict does not implement predict"
    ]


def test_an_option_without_help_is_caught():
    assert check_declarations(toy_tasks.OptionWithoutHelp) == ["options['length'] has no help text"]


@pytest.mark.slow
def test_a_predict_that_works_only_in_the_training_process_is_caught(tmp_path):
    problems = check_run_and_predict(toy_tasks.PredictNeedsTraining, tmp_path, INPUTS)
    assert len(problems) == 1
    assert problems[0].startswith("predict fails in a fresh process: AttributeError")
    assert "classes" in problems[0]


def test_a_traceback_on_a_missing_file_is_caught(tmp_path):
    problems = check_bad_inputs(toy_tasks.TracebackOnMissingFile, tmp_path)
    assert "--data missing.csv: FileNotFoundError instead of one clear line" in problems


@pytest.mark.slow
def test_an_arch_whose_saved_model_cannot_load_elsewhere_is_caught(tmp_path):
    from seqapps.tensorflow_import import import_tensorflow

    import_tensorflow()  # a sound arch passes: test_scaffold.py (the convgru template)
    problems = check_arch_trains(toy_tasks.unregistered_arch(), tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("a saved model does not load in a fresh process:")
    assert "unregistered-many-to-one.keras" in problems[0]
