"""The sentiment plugin passes the seqapps conformance kit."""

from seqapps.testing import TaskConformance


class TestSentimentConformance(TaskConformance):
    task = "sentiment"
    # `seqapps predict` in a fresh process, and the MLflow Model agreeing with it:
    run_checked_by = "tests/integration/test_models_outside_training.py"
    predict_inputs = ["the plot was not good but the acting was great"]
