"""Stock forecasting without TensorFlow: baselines in closed form, and no leakage."""

import datetime as dt

import numpy as np
import pytest

from seqapps.data.timeseries import Series
from seqapps.options import defaults
from seqapps_stock import evaluation
from seqapps_stock.sample import business_days
from seqapps_stock.task import Prepared, StockTask


def test_baselines_on_a_straight_line_are_known_in_closed_form():
    # p_t = 100 + 0.5 t: persistence is off by 0.5 k at step k; drift is exact.
    prices = (100 + 0.5 * np.arange(50.0))[:, None]
    origins, horizon = np.arange(10, 40), 3
    actual = evaluation.actuals(prices, origins, horizon)
    naive = evaluation.persistence(prices, origins, horizon)
    np.testing.assert_allclose(
        actual - naive, np.broadcast_to([[[0.5], [1.0], [1.5]]], actual.shape)
    )
    np.testing.assert_allclose(evaluation.drift(prices, origins, horizon), actual)
    # A model that is exactly right everywhere.
    results = evaluation.compare(actual.copy(), actual, prices, origins)
    assert results["baseline_persistence_rmse"] == pytest.approx(np.sqrt((0.25 + 1 + 2.25) / 3))
    assert results["baseline_persistence_mae"] == pytest.approx(1.0)
    assert results["baseline_drift_rmse"] == pytest.approx(0.0, abs=1e-9)
    assert results["rmse"] == 0 and results["mase"] == 0 and results["rmse_ratio"] == 0
    assert results["directional_accuracy"] == 1.0
    expected_mape = 100 * np.mean(np.abs(actual - naive) / actual)
    assert results["baseline_persistence_mape"] == pytest.approx(expected_mape)
    assert "baseline_persistence_directional_accuracy" not in results


def test_mase_and_rmse_ratio_compare_to_persistence():
    prices = (100 + 0.5 * np.arange(30.0))[:, None]
    origins = np.arange(5, 25)
    actual = evaluation.actuals(prices, origins, 1)
    naive = evaluation.persistence(prices, origins, 1)
    halfway = (actual + naive) / 2  # half the persistence error everywhere
    results = evaluation.compare(halfway, actual, prices, origins)
    assert results["mase"] == pytest.approx(0.5)
    assert results["rmse_ratio"] == pytest.approx(0.5)


def series(length=300, seed=0):
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, length)))
    volume = rng.uniform(1e6, 2e6, length)
    dates = business_days(dt.datetime(2020, 1, 1), length)
    return Series(dates, {"Close": close, "Volume": volume}, "test")


OPTIONS = {**defaults(StockTask.options), "window": 10, "horizon": 3, "features": "Close,Volume"}


@pytest.mark.parametrize("transform", ["log_return", "price"])
def test_values_after_the_training_cutoff_never_reach_training(transform):
    options = {**OPTIONS, "target_transform": transform}
    original = Prepared(series(), options)
    changed_series = series()
    cutoff = original.validation_start + original.offset  # first raw row not in training
    for column in changed_series.columns.values():
        column[cutoff:] *= np.random.default_rng(1).uniform(0.5, 2.0, len(column) - cutoff)
    changed = Prepared(changed_series, options)
    for scaler in ("input_scaler", "output_scaler"):
        np.testing.assert_array_equal(getattr(changed, scaler).mean, getattr(original, scaler).mean)
        np.testing.assert_array_equal(getattr(changed, scaler).std, getattr(original, scaler).std)
    origins = original.origins("train")
    np.testing.assert_array_equal(changed.origins("train"), origins)
    for t in origins:
        window = slice(t - original.window + 1, t + 1)
        targets = slice(t + 1, t + 1 + original.horizon)
        np.testing.assert_array_equal(changed.inputs[window], original.inputs[window])
        np.testing.assert_array_equal(changed.outputs[targets], original.outputs[targets])
    # ... while the test windows did change, so the check above could have failed.
    assert not np.array_equal(changed.inputs[-5:], original.inputs[-5:])


def test_splits_are_in_time_order_and_do_not_overlap():
    prepared = Prepared(series(), OPTIONS)
    train, validation, test = (prepared.origins(s) for s in ("train", "validation", "test"))
    assert train.max() + prepared.horizon < prepared.validation_start
    assert validation.min() + 1 >= prepared.validation_start
    assert validation.max() + prepared.horizon < prepared.test_start
    assert test.min() + 1 >= prepared.test_start
    assert test.max() + prepared.horizon == len(prepared.inputs) - 1


def _price_file(path, closes, adjusted=None):
    days = business_days(dt.date(2020, 1, 1), len(closes))
    header = "Date,Close" + (",Adj Close" if adjusted is not None else "")
    rows = [header]
    for index, (day, close) in enumerate(zip(days, closes)):
        extra = f",{adjusted[index]:.2f}" if adjusted is not None else ""
        rows.append(f"{day.isoformat()},{close:.2f}{extra}")
    path.write_text("\n".join(rows) + "\n")
    return days


def _read(path):
    from seqapps.config import resolve

    return StockTask().read_series(resolve(StockTask, {"data": str(path)}))


def test_an_unadjusted_split_warns_once_naming_the_date_and_the_adjusted_column(tmp_path):
    import warnings

    from seqapps.exceptions import DataWarning

    walk = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, 80)))
    raw = walk.copy()
    raw[50:] /= 2  # a 2:1 split the vendor did not adjust for
    days = _price_file(tmp_path / "raw.csv", raw, adjusted=walk)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _read(tmp_path / "raw.csv")
    found = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert len(found) == 1, found
    assert f"on {days[50].isoformat()} (x0.50)" in found[0]
    assert "use --set target='Adj Close'" in found[0]

    _price_file(tmp_path / "clean.csv", walk)  # the same walk, adjusted: nothing to say
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _read(tmp_path / "clean.csv")
    assert not [w for w in caught if issubclass(w.category, DataWarning)]

    crash = walk.copy()
    crash[50:] *= 0.6  # a real 40% crash is not a split
    _price_file(tmp_path / "crash.csv", crash)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _read(tmp_path / "crash.csv")
    assert not [w for w in caught if issubclass(w.category, DataWarning)]


def _origins_and_prices(returns):
    prices = (100 * np.exp(np.cumsum(returns)))[:, None]
    origins = np.arange(30, len(prices) - 1)
    return prices, origins, evaluation.actuals(prices, origins, 1)


def test_on_a_random_walk_no_forecast_is_said_to_beat_persistence_across_20_seeds():
    said, lower = [], 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        prices, origins, actual = _origins_and_prices(rng.normal(0, 0.01, 400))
        # A forecast with no real edge: the drift of the walk so far.
        model = evaluation.drift(prices, origins, 1)
        metrics = evaluation.compare(model, actual, prices, origins)
        beats, line = evaluation.verdict(metrics)
        said.append(beats)
        lower += metrics["rmse"] < metrics["baseline_persistence_rmse"]
        assert ("does NOT beat" in line) != beats
    assert not any(said)
    assert lower == 3  # by luck of the draw: "lower RMSE wins" would have said "beats" 3 times


def test_a_forecast_of_real_signal_beats_persistence_and_says_why():
    rng = np.random.default_rng(0)
    returns = np.zeros(400)
    for t in range(1, 400):  # momentum: today's return carries half of yesterday's
        returns[t] = 0.5 * returns[t - 1] + rng.normal(0, 0.01)
    prices, origins, actual = _origins_and_prices(returns)
    last = np.log(prices[origins, 0] / prices[origins - 1, 0])
    model = (prices[origins, 0] * np.exp(0.5 * last))[:, None, None]
    metrics = evaluation.compare(model, actual, prices, origins)
    beats, line = evaluation.verdict(metrics)
    assert beats and metrics["dm_persistence_p"] < 0.05 and metrics["mase"] < 1
    assert line.startswith("the model beats persistence on the test period: RMSE")
    # The same forecast, no better than persistence in truth, is not called a win:
    same = evaluation.compare(prices[origins][:, None, :], actual, prices, origins)
    assert same["dm_persistence_p"] == 0.5 and not evaluation.verdict(same)[0]
