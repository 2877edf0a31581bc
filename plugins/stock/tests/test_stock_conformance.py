"""The stock plugin passes the seqapps conformance kit (predict reads a price table)."""

import csv

from seqapps.testing import TaskConformance
from seqapps_stock import sample


class TestStockConformance(TaskConformance):
    task = "stock"
    # `seqapps predict` in a fresh process, and the MLflow Model agreeing with it:
    run_checked_by = "tests/integration/test_models_outside_training.py"

    def make_predict_inputs(self, folder):
        dates, columns = sample.generate(days=120)
        path = folder / "prices.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Date", *columns])
            for i, day in enumerate(dates):
                writer.writerow([day.date().isoformat(), *(columns[c][i] for c in columns)])
        return [str(path)]
