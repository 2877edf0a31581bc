"""The music plugin passes the seqapps conformance kit (predict composes from scratch)."""

from seqapps.testing import TaskConformance


class TestMusicConformance(TaskConformance):
    task = "music"
    predict_inputs = []
