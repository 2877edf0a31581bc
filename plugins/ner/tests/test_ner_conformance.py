"""The ner plugin passes the seqapps conformance kit."""

from seqapps.testing import TaskConformance


class TestNerConformance(TaskConformance):
    task = "ner"
    predict_inputs = ["Shares of Kelmar Group rose in Vrala Bay ."]
    options = {"sample_sentences": 60}
