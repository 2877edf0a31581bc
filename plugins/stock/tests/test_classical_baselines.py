"""ARIMA and exponential smoothing: fitted on training rows, rolled forward exactly."""

import warnings

import numpy as np

from seqapps_stock import classical


def prices(days: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    returns = rng.normal(0.0005, 0.01, days)
    returns[1:] += 0.3 * returns[:-1]  # some momentum for ARIMA to find
    return 100 * np.exp(np.cumsum(returns))[:, None]


def test_forecasts_from_each_origin_equal_statsmodels_refiltered_up_to_that_origin():
    series = prices(500)
    origins, horizon = np.array([350, 420, 494]), 5
    found, fitted = classical.forecasts(series, 300, origins, horizon)
    assert fitted["arima"].startswith("ARIMA(") and fitted["arima"].endswith("on log prices")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fit in (("arima", classical._fit_arima), ("ets", classical._fit_ets)):
            result, _ = fit(np.log(series[:300, 0]))
            # statsmodels' own forecast, with the same parameters and only the data up to
            # each origin: the rolled forecasts must match it to rounding.
            expected = [
                np.exp(result.apply(np.log(series[: o + 1, 0])).forecast(horizon)) for o in origins
            ]
            assert np.allclose(found[name][:, :, 0], np.stack(expected), rtol=1e-9)


def test_the_fit_sees_only_the_training_rows():
    series = prices(400)
    changed = series.copy()
    changed[300:] *= 1.5  # a jump after training must not change the fitted parameters
    origins = np.array([350])
    first, _ = classical.forecasts(series, 300, origins, 1)
    second, _ = classical.forecasts(changed, 300, origins, 1)
    # The same model, filtered over different later data: the forecast scales with the level.
    assert np.allclose(second["arima"], first["arima"] * 1.5, rtol=1e-6)
