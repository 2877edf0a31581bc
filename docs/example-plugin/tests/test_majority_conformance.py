"""The example plugin passes the seqapps conformance kit: the way a third party tests a task."""

from seqapps.testing import TaskConformance


class TestMajorityConformance(TaskConformance):
    task = "majority"
    predict_inputs = ["1 -1 1 1 -1 1 1 -1 -1 1 1 1 -1 1 1"]
