"""The sentiment plugin passes the seqapps conformance kit."""

from seqapps.testing import TaskConformance


class TestSentimentConformance(TaskConformance):
    task = "sentiment"
    predict_inputs = ["the plot was not good but the acting was great"]
