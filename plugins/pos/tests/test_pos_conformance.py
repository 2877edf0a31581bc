"""The pos plugin passes the seqapps conformance kit."""

from seqapps.testing import TaskConformance


class TestPosConformance(TaskConformance):
    task = "pos"
    # `seqapps predict` in a fresh process, and the MLflow Model agreeing with it:
    run_checked_by = "tests/integration/test_models_outside_training.py"
    predict_inputs = ["the old man saw a dog in the park"]
    options = {"sample_sentences": 200, "char_features": True}
    settings = {"max_samples": 40}
