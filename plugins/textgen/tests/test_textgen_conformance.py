"""The textgen plugin passes the seqapps conformance kit (predict continues a prime)."""

from seqapps.testing import TaskConformance


class TestTextgenConformance(TaskConformance):
    task = "textgen"
    # `seqapps predict` in a fresh process: tests/integration/test_textgen.py
    run_checked_by = "tests/integration/test_textgen.py"
    predict_inputs = ["ROMEO:"]
