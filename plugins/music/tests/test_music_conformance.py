"""The music plugin passes the seqapps conformance kit (predict composes from scratch)."""

from seqapps.testing import TaskConformance


class TestMusicConformance(TaskConformance):
    task = "music"
    # `seqapps predict` in a fresh process, and the MLflow Model agreeing with it:
    run_checked_by = "tests/integration/test_models_outside_training.py"
    predict_inputs = []
