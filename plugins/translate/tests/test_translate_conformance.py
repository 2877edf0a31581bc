"""The translate plugin passes the seqapps conformance kit."""

from seqapps.testing import TaskConformance


class TestTranslateConformance(TaskConformance):
    task = "translate"
    # `seqapps predict` in a fresh process, and the MLflow Model agreeing with it:
    run_checked_by = "tests/integration/test_models_outside_training.py"
    predict_inputs = ["siebenundneunzig"]
