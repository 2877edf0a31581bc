"""Naive baselines and forecast metrics, on the price scale (pure NumPy)."""

from __future__ import annotations

import numpy as np


def persistence(prices: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Random-walk forecast: every future step equals the price at the origin."""
    return np.repeat(prices[origins][:, None, ...], horizon, axis=1)


def drift(prices: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Drift forecast: the origin's price plus k times the average change so far."""
    slope = (prices[origins] - prices[0]) / np.maximum(origins, 1)[:, None]
    steps = np.arange(1, horizon + 1)[None, :, None]
    return prices[origins][:, None, :] + steps * slope[:, None, :]


def actuals(prices: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """The true prices at origin + 1 .. origin + horizon: (windows, horizon, targets)."""
    index = origins[:, None] + np.arange(1, horizon + 1)[None, :]
    return prices[index]


def scores(forecast: np.ndarray, actual: np.ndarray, origin_prices: np.ndarray) -> dict[str, float]:
    """RMSE, MAE, MAPE (%), and directional accuracy of (windows, horizon, targets) forecasts."""
    error = forecast - actual
    moved = np.sign(actual - origin_prices[:, None, :])
    called = np.sign(forecast - origin_prices[:, None, :])
    counted = moved != 0
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "mape": float(100 * np.mean(np.abs(error) / np.abs(actual))),
        "directional_accuracy": float(np.mean(called[counted] == moved[counted]))
        if counted.any()
        else float("nan"),
    }


def rmse_by_step(forecast: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """RMSE at each horizon step (over windows and targets)."""
    return np.sqrt(np.mean((forecast - actual) ** 2, axis=(0, 2)))


def compare(
    model: np.ndarray, actual: np.ndarray, prices: np.ndarray, origins: np.ndarray
) -> dict[str, float]:
    """Model and baseline scores on the same windows, with MASE and RMSE ratio to persistence."""
    horizon = actual.shape[1]
    origin_prices = prices[origins]
    naive = persistence(prices, origins, horizon)
    results = {}
    for name, forecast in (
        ("", model),
        ("persistence_", naive),
        ("drift_", drift(prices, origins, horizon)),
    ):
        for key, value in scores(forecast, actual, origin_prices).items():
            results[name + key] = value
    # Persistence never calls a direction, so its directional accuracy means nothing.
    del results["persistence_directional_accuracy"]
    naive_mae, naive_rmse = results["persistence_mae"], results["persistence_rmse"]
    results["mase"] = results["mae"] / naive_mae if naive_mae else float("inf")
    results["rmse_ratio"] = results["rmse"] / naive_rmse if naive_rmse else float("inf")
    results["drift_mase"] = results["drift_mae"] / naive_mae if naive_mae else float("inf")
    return results
