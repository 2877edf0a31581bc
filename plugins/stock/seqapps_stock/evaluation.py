"""Naive baselines and forecast metrics, on the price scale (pure NumPy)."""

from __future__ import annotations

import math

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
    model: np.ndarray,
    actual: np.ndarray,
    prices: np.ndarray,
    origins: np.ndarray,
    others: dict[str, np.ndarray] | None = None,
) -> dict[str, float]:
    """Model and baseline scores on the same windows, with MASE and RMSE ratio to
    persistence; ``others`` are more baselines by name (arima, ets), scored the same way."""
    horizon = actual.shape[1]
    origin_prices = prices[origins]
    naive = persistence(prices, origins, horizon)
    results = {}
    drifted = drift(prices, origins, horizon)
    named = [("", model), ("baseline_persistence_", naive), ("baseline_drift_", drifted)]
    named += [(f"baseline_{name}_", forecast) for name, forecast in (others or {}).items()]
    for name, forecast in named:
        for key, value in scores(forecast, actual, origin_prices).items():
            results[name + key] = value
    # Persistence never calls a direction, so its directional accuracy means nothing.
    del results["baseline_persistence_directional_accuracy"]
    naive_mae = results["baseline_persistence_mae"]
    naive_rmse = results["baseline_persistence_rmse"]
    results["mase"] = results["mae"] / naive_mae if naive_mae else float("inf")
    results["rmse_ratio"] = results["rmse"] / naive_rmse if naive_rmse else float("inf")
    for name, forecast in [("drift", drifted), *(others or {}).items()]:
        mae = results[f"baseline_{name}_mae"]
        results[f"baseline_{name}_mase"] = mae / naive_mae if naive_mae else float("inf")
        results[f"dm_{name}_p"] = diebold_mariano(model, forecast, actual)
    results["dm_persistence_p"] = diebold_mariano(model, naive, actual)
    return results


#: The level below which a Diebold-Mariano p-value lets the verdict say "beats".
ALPHA = 0.05


def diebold_mariano(model: np.ndarray, baseline: np.ndarray, actual: np.ndarray) -> float:
    """One-sided p-value that the model's squared error is lower than the baseline's
    (Diebold-Mariano, with the Harvey-Leybourne-Newbold correction for small samples).

    One loss difference per forecast origin (the mean over horizon steps and targets); its
    variance allows autocorrelation up to lag horizon - 1, as h-step forecasts from adjacent
    origins overlap. 0.5 when the two forecasts are identical.
    """
    horizon = actual.shape[1]
    losses = ((model - actual) ** 2 - (baseline - actual) ** 2).mean(axis=(1, 2))
    count = len(losses)
    if count < 3:
        return float("nan")
    centered = losses - losses.mean()
    variance = centered @ centered / count
    for lag in range(1, min(horizon, count)):
        variance += 2 * (centered[lag:] @ centered[:-lag]) / count
    if variance <= 0:
        return 0.5
    statistic = losses.mean() / np.sqrt(variance / count)
    statistic *= np.sqrt((count + 1 - 2 * horizon + horizon * (horizon - 1) / count) / count)
    return float(0.5 * math.erfc(-statistic / math.sqrt(2)))  # P(Z <= statistic)


def verdict(metrics: dict[str, float]) -> tuple[bool, str]:
    """Whether the model beats persistence, and the sentence that says so: only when the
    Diebold-Mariano test is significant at ALPHA and MASE and the RMSE ratio agree."""
    p = metrics["dm_persistence_p"]
    beats = p < ALPHA and metrics["mase"] < 1 and metrics["rmse_ratio"] < 1
    numbers = (
        f"RMSE {metrics['rmse']:.4f} vs {metrics['baseline_persistence_rmse']:.4f} (ratio "
        f"{metrics['rmse_ratio']:.3f}, MASE {metrics['mase']:.3f}, Diebold-Mariano p={p:.3f}, "
        f"direction right {metrics['directional_accuracy']:.1%})"
    )
    if beats:
        return True, f"the model beats persistence on the test period: {numbers}"
    why = "" if p < ALPHA else f"; a difference this size is noise at the {ALPHA:.0%} level"
    return False, f"the model does NOT beat persistence on the test period: {numbers}{why}"
