"""The baselines a forecaster reaches for first: ARIMA and exponential smoothing.

Both come from statsmodels and are fitted on the training rows only. Their parameters then
stay fixed while the series is filtered forward over every later row, so each test origin
is forecast from the data up to that origin and nothing after it (the same information the
network has). Prices that are all positive are modelled in logs, as returns compound.
"""

from __future__ import annotations

import warnings

import numpy as np

#: ARIMA orders tried on the training rows (d = 1: prices wander); the lowest AIC wins.
ARIMA_ORDERS = ((0, 1, 0), (1, 1, 0), (0, 1, 1), (1, 1, 1))


def forecasts(
    prices: np.ndarray, train_rows: int, origins: np.ndarray, horizon: int
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """ARIMA and damped-trend exponential smoothing forecasts, shaped (origins, horizon,
    targets) like the model's, and a description of each fitted model per target."""
    shape = (len(origins), horizon, prices.shape[1])
    found = {"arima": np.empty(shape), "ets": np.empty(shape)}
    chosen = {"arima": [], "ets": []}
    with warnings.catch_warnings():
        # Convergence chatter from the optimizer on a random walk says nothing to the user.
        warnings.simplefilter("ignore")
        for column in range(prices.shape[1]):
            series = prices[:, column].astype("float64")
            logs = bool((series > 0).all())
            values = np.log(series) if logs else series
            for name, fit in (("arima", _fit_arima), ("ets", _fit_ets)):
                fitted, description = fit(values[:train_rows])
                path = rolled(fitted.apply(values), origins, horizon)
                found[name][:, :, column] = np.exp(path) if logs else path
                chosen[name].append(description + (" on log prices" if logs else ""))
    return found, {name: "; ".join(parts) for name, parts in chosen.items()}


def _fit_arima(values: np.ndarray):
    from statsmodels.tsa.arima.model import ARIMA

    best = None
    for order in ARIMA_ORDERS:
        result = ARIMA(values, order=order, trend="t").fit()
        if best is None or result.aic < best[0].aic:
            best = (result, order)
    result, order = best
    return result, f"ARIMA({','.join(map(str, order))}) with drift"


def _fit_ets(values: np.ndarray):
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

    result = ExponentialSmoothing(values, trend=True, damped_trend=True).fit(disp=False)
    return result, "damped-trend exponential smoothing"


def rolled(result, origins: np.ndarray, horizon: int) -> np.ndarray:
    """h-step forecasts from every origin of a filtered state-space result: from the state
    filtered at the origin, the transition is applied h times (exact for these models, and
    one pass over the series instead of one per origin)."""
    ssm = result.model.ssm
    design, transition = _at(ssm["design"]), _at(ssm["transition"])
    state_intercept = ssm["state_intercept"]
    obs_intercept = ssm["obs_intercept"]
    states = result.filtered_state[:, origins]  # (k_states, origins)
    path = np.empty((len(origins), horizon))
    for step in range(1, horizon + 1):
        states = transition @ states + _column(state_intercept, origins + step)
        path[:, step - 1] = (design @ states)[0] + _column(obs_intercept, origins + step)[0]
    return path


def _at(matrix: np.ndarray) -> np.ndarray:
    """A time-invariant system matrix as 2-D (statsmodels keeps a trailing time axis)."""
    return matrix[..., 0] if matrix.ndim == 3 else matrix


def _column(intercept: np.ndarray, times: np.ndarray) -> np.ndarray:
    """An intercept at each of ``times``: (rows, len(times)), time-varying or not."""
    if intercept.ndim == 2 and intercept.shape[1] > 1:
        return intercept[:, np.minimum(times, intercept.shape[1] - 1)]
    flat = intercept.reshape(len(intercept), -1)[:, :1]
    return np.repeat(flat, len(times), axis=1)
