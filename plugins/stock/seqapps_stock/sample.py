"""The embedded price history: a synthetic daily series that behaves like a stock.

Log returns follow a regime-switching drift (calm, bull and bear markets that persist for
months), GARCH(1,1) volatility clusters, fat-tailed shocks (Student t) and a faint
short-term momentum. Like real prices it is close to a random walk: a forecaster that does
not beat "tomorrow equals today" has learned nothing, and the task says so.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

#: Fixed so the embedded data is the same for every run and every --seed.
DATA_SEED = 1987
START = dt.datetime(2014, 1, 2)
#: (daily drift, long-run daily volatility) of the calm, bull and bear regimes.
REGIMES = ((0.0002, 0.007), (0.0007, 0.010), (-0.0009, 0.020))
SWITCH_PROBABILITY = 0.008
MOMENTUM = 0.08


def business_days(start: dt.datetime, count: int) -> list[dt.datetime]:
    """``count`` weekdays from ``start`` on (exchange holidays are ignored)."""
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def generate(days: int = 2500) -> tuple[list[dt.datetime], dict[str, np.ndarray]]:
    """Dates and Open/High/Low/Close/Adj Close/Volume columns, always the same ones."""
    rng = np.random.default_rng(DATA_SEED)
    alpha, beta = 0.08, 0.9
    regime, variance, previous = 0, REGIMES[0][1] ** 2, 0.0
    returns, volatility = np.empty(days), np.empty(days)
    for t in range(days):
        if rng.random() < SWITCH_PROBABILITY:
            regime = int(rng.integers(len(REGIMES)))
        drift, long_run = REGIMES[regime]
        omega = long_run**2 * (1 - alpha - beta)
        variance = omega + alpha * previous**2 + beta * variance
        shock = rng.standard_t(5) / np.sqrt(5 / 3)  # unit variance
        previous = drift + MOMENTUM * previous + np.sqrt(variance) * shock
        returns[t], volatility[t] = previous, np.sqrt(variance)
    close = 50.0 * np.exp(np.cumsum(returns))
    gap = rng.normal(0, 0.3, days) * volatility
    open_ = np.concatenate([[50.0], close[:-1]]) * np.exp(gap)
    spread = np.abs(rng.normal(0, 0.5, (2, days))) * volatility
    high = np.maximum(open_, close) * (1 + spread[0])
    low = np.minimum(open_, close) * (1 - spread[1])
    volume = np.round(2e6 * np.exp(rng.normal(0, 0.3, days)) * (1 + 30 * np.abs(returns)))
    columns = {
        "Open": open_,
        "High": high,
        "Low": low,
        "Close": close,
        "Adj Close": close,
        "Volume": volume,
    }
    return business_days(START, days), columns
