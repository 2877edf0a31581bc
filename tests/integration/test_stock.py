"""`seqapps run stock` end to end: baselines logged, multi-step, multivariate, CSV, predict."""

import datetime as dt
import json

import numpy as np
import pytest
from mlflow import MlflowClient

from seqapps_stock.sample import business_days
from tests.conftest import runs_in

QUICK = ["--epochs", "2", "--units", "8", "-q"]


def write_daily_csv(path, rows=400, seed=0, edit=None):
    """A CSV in the common daily layout (as yfinance or a broker exports it)."""
    rng = np.random.default_rng(seed)
    close = 20 * np.exp(np.cumsum(rng.normal(0.0005, 0.01, rows)))
    lines = ["Date,Open,High,Low,Close,Adj Close,Volume"]
    for date, price in zip(business_days(dt.datetime(2021, 3, 1), rows), close):
        volume = int(rng.uniform(1e5, 5e5))
        ohlc = [price, price * 1.01, price * 0.99, price, price]
        lines.append(f"{date:%Y-%m-%d}," + ",".join(f"{v:.4f}" for v in ohlc) + f",{volume}")
    if edit:
        lines = edit(lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def run_stock(runner, cli, uri, *args):
    result = runner.invoke(cli, ["run", "stock", *args, "--tracking-uri", uri])
    assert result.exit_code == 0, result.output
    run_id = next(x.split()[1] for x in result.output.splitlines() if x.startswith("run "))
    return run_id, result.output


def test_sample_run_logs_metrics_baselines_and_verdict(runner, seqapps_cli, tracking_uri):
    run_id, output = run_stock(
        runner, seqapps_cli, tracking_uri, "--arch", "lstm", "--max-samples", "800", *QUICK
    )
    assert "persistence on the test period: RMSE" in output
    assert ("the model beats persistence" in output) or ("does NOT beat persistence" in output)
    client = MlflowClient(tracking_uri)
    metrics = client.get_run(run_id).data.metrics
    for name in (
        "rmse",
        "mae",
        "mape",
        "mase",
        "rmse_ratio",
        "directional_accuracy",
        "baseline_persistence_rmse",
        "baseline_persistence_mae",
        "baseline_drift_rmse",
        "baseline_drift_mae",
    ):
        assert f"test_{name}" in metrics, name
    assert metrics["test_rmse_ratio"] == pytest.approx(
        metrics["test_rmse"] / metrics["test_baseline_persistence_rmse"]
    )
    figures = {a.path for a in client.list_artifacts(run_id, "figures")}
    assert {"figures/forecast_vs_actual.png", "figures/error_by_horizon.png"} <= figures


def test_multi_step_multivariate_csv_run_and_predict_with_dates(
    runner, seqapps_cli, tracking_uri, workdir
):
    csv = write_daily_csv(workdir / "prices.csv")
    run_id, _ = run_stock(
        runner,
        seqapps_cli,
        tracking_uri,
        "--data",
        "prices.csv",
        "--arch",
        "gru",
        "--set",
        "features=Close,Volume",
        "--set",
        "horizon=3",
        "--set",
        "window=12",
        *QUICK,
    )
    params = MlflowClient(tracking_uri).get_run(run_id).data.params
    assert params["option.horizon"] == "3" and params["option.features"] == "Close,Volume"
    result = runner.invoke(
        seqapps_cli,
        ["predict", run_id, "--data", str(csv), "--json", "--tracking-uri", tracking_uri],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    # The last row is Friday 2022-09-09: the forecast skips the weekend.
    assert business_days(dt.datetime(2021, 3, 1), 400)[-1] == dt.datetime(2022, 9, 9)
    assert [row["date"] for row in rows] == ["2022-09-12", "2022-09-13", "2022-09-14"]
    assert all(row["target"] == "Close" and row["forecast"] > 0 for row in rows)


def test_two_targets_with_price_transform(runner, seqapps_cli, tracking_uri, workdir):
    write_daily_csv(workdir / "prices.csv", rows=300)
    run_id, _ = run_stock(
        runner,
        seqapps_cli,
        tracking_uri,
        "--data",
        "prices.csv",
        "--arch",
        "esn",
        "--set",
        "target=Close,Open",
        "--set",
        "target_transform=price",
        "--set",
        "horizon=2",
        *QUICK,
    )
    metrics = MlflowClient(tracking_uri).get_run(run_id).data.metrics
    assert np.isfinite(metrics["test_rmse"]) and np.isfinite(metrics["test_baseline_drift_rmse"])


@pytest.mark.parametrize("arch", ["rbf", "bilstm"])
def test_other_archs_forecast(runner, seqapps_cli, tracking_uri, arch):
    run_stock(runner, seqapps_cli, tracking_uri, "--arch", arch, "--max-samples", "500", *QUICK)


def bad(runner, cli, uri, csv, *sets):
    args = ["run", "stock", "--data", str(csv), "--tracking-uri", uri, "-q"]
    for item in sets:
        args += ["--set", item]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert runs_in(uri) == []
    return result.stderr.strip().splitlines()[-1]


def test_missing_values_name_the_rows_and_fill_handles_them(
    runner, seqapps_cli, tracking_uri, workdir
):
    def blank(lines):
        fields = lines[10].split(",")
        fields[4] = ""  # Close
        lines[10] = ",".join(fields)
        lines[20] = lines[20].split(",")[0] + ",x,x,x,n/a,x,100"
        return lines

    csv = write_daily_csv(workdir / "gaps.csv", edit=blank)
    line = bad(runner, seqapps_cli, tracking_uri, csv)
    assert "gaps.csv: missing or non-numeric values in rows 11, 21" in line
    assert "--set fill=ffill" in line
    for fill in ("ffill", "drop"):
        result = runner.invoke(
            seqapps_cli,
            [
                "run",
                "stock",
                "--data",
                str(csv),
                "--set",
                f"fill={fill}",
                *QUICK,
                "--tracking-uri",
                tracking_uri,
            ],
        )
        assert result.exit_code == 0, result.output


def test_unsorted_dates(runner, seqapps_cli, tracking_uri, workdir):
    csv = write_daily_csv(workdir / "unsorted.csv", edit=lambda ls: [ls[0], ls[2], ls[1], *ls[3:]])
    line = bad(runner, seqapps_cli, tracking_uri, csv)
    assert "unsorted.csv: dates not in increasing order at row 3" in line


def test_duplicate_dates(runner, seqapps_cli, tracking_uri, workdir):
    csv = write_daily_csv(workdir / "dup.csv", edit=lambda ls: [*ls[:6], ls[5], *ls[6:]])
    assert "dup.csv: duplicate date 2021-03-05 in rows 6 and 7" in bad(
        runner, seqapps_cli, tracking_uri, csv
    )


def test_series_too_short(runner, seqapps_cli, tracking_uri, workdir):
    csv = write_daily_csv(workdir / "short.csv", rows=40)
    line = bad(runner, seqapps_cli, tracking_uri, csv)
    assert "short.csv: 40 rows are too few for window 30 + horizon 1" in line


def test_unknown_column(runner, seqapps_cli, tracking_uri, workdir):
    csv = write_daily_csv(workdir / "prices.csv")
    line = bad(runner, seqapps_cli, tracking_uri, csv, "features=Close,Sentiment")
    assert "prices.csv: unknown column 'Sentiment'; columns: Date, Open, High, Low, Close" in line


def test_bad_transform_value(runner, seqapps_cli, tracking_uri, workdir):
    csv = write_daily_csv(workdir / "prices.csv")
    line = bad(runner, seqapps_cli, tracking_uri, csv, "target_transform=returns")
    assert "--set target_transform=returns: " in line
    assert "expected one of log_return, price" in line
