"""Stock forecasting: a window of daily history in, the next `horizon` prices out.

    seqapps run stock --arch lstm
    seqapps run stock --data prices.csv --set features=Close,Volume --set horizon=5
    seqapps predict RUN_ID prices.csv

Every run is judged against the persistence ("tomorrow equals today") and drift baselines
on the same test windows, and says plainly whether the model beats persistence.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from seqapps.api import (
    SPLITS,
    DataBundle,
    DataError,
    Option,
    Report,
    Scaler,
    Series,
    Spec,
    Task,
    UserInputError,
    cap_splits,
    existing_file,
    fingerprint_file,
    fingerprint_rows,
    import_tensorflow,
    parse_source,
    read_series,
    split_points,
    window_origins,
    windows_dataset,
)
from seqapps_stock import evaluation, sample, sanity

TRANSFORMS = ("log_return", "price")


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class Prepared:
    """A series turned into model rows: transformed inputs/targets, prices, splits, scalers."""

    def __init__(self, series: Series, options: dict[str, Any]):
        self.targets = _names(options["target"])
        self.features = _names(options["features"]) or self.targets
        self.transform = options["target_transform"]
        self.window, self.horizon = options["window"], options["horizon"]
        if self.transform not in TRANSFORMS:
            raise DataError(
                f"--set target_transform={self.transform}: expected log_return or price"
            )
        if self.window < 1 or self.horizon < 1:
            raise DataError("--set window and --set horizon must be at least 1")
        features = series.matrix(self.features)
        prices = series.matrix(self.targets)
        if self.transform == "log_return":
            for name, column in zip(self.features + self.targets, np.hstack([features, prices]).T):
                if (column <= 0).any():
                    raise DataError(
                        f"--data {series.source}: column {name!r} has values <= 0; log returns "
                        "need positive values (use --set target_transform=price)"
                    )
            # Row t holds the change from t-1 to t, so the first date has no row.
            inputs, outputs = np.diff(np.log(features), axis=0), np.diff(np.log(prices), axis=0)
            self.offset = 1
        else:
            inputs, outputs = features, prices
            self.offset = 0
        self.date_column = options["date_column"]
        self.series = series
        #: Raw target prices; model row t is raw row t + offset.
        self.raw_prices, self.raw_dates = prices, series.dates
        steps = len(inputs)
        self.validation_start, self.test_start = split_points(
            steps, options["validation_fraction"], options["test_fraction"]
        )
        needed = self.window + self.horizon
        test_steps, validation_steps = (
            steps - self.test_start,
            self.test_start - self.validation_start,
        )
        if (
            self.validation_start < needed
            or validation_steps < self.horizon
            or test_steps < self.horizon
        ):
            raise DataError(
                f"--data {series.source}: {len(series)} rows are too few for window {self.window} "
                f"+ horizon {self.horizon} with validation and test splits; use a longer "
                "history or a smaller --set window/horizon"
            )
        # Scalers see only rows before the training cut-off.
        self.input_scaler = Scaler.fit(inputs[: self.validation_start])
        self.output_scaler = Scaler.fit(outputs[: self.validation_start])
        self.inputs = self.input_scaler.transform(inputs)
        self.outputs = self.output_scaler.transform(outputs)

    def origins(self, split: str) -> np.ndarray:
        """Forecast origins whose targets lie entirely inside ``split``."""
        bounds = {
            "train": (0, self.validation_start),
            "validation": (self.validation_start - 1, self.test_start),
            "test": (self.test_start - 1, len(self.inputs)),
        }
        first, last = bounds[split]
        return window_origins(first, last, self.window, self.horizon)

    def to_prices(self, scaled: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Model outputs (windows, horizon, targets) back to prices."""
        values = self.output_scaler.inverse(scaled)
        if self.transform == "price":
            return values
        return self.raw_prices[origins + self.offset][:, None, :] * np.exp(
            np.cumsum(values, axis=1)
        )


class StockTask(Task):
    """Forecast the next `horizon` daily prices from a window of history."""

    name = "stock"
    summary = "Stock price forecasting against persistence, drift, ARIMA and ETS baselines"
    kind = "forecast"
    default_arch = "lstm"
    data_sources = (
        "sample",
        "PATH.csv (Date, Open, High, Low, Close, Adj Close, Volume)",
        "yfinance:TICKER (with the yfinance extra, online)",
    )
    options = {
        "date_column": Option("Date", "CSV column holding the dates"),
        "target": Option("Close", "column(s) to forecast, comma-separated"),
        "features": Option("", "input columns, comma-separated; empty = the target(s)"),
        "window": Option(30, "days of history per forecast"),
        "horizon": Option(1, "days ahead to forecast"),
        "target_transform": Option(
            "log_return",
            "log_return (model daily log returns) or price (model prices)",
            ("log_return", "price"),
        ),
        "fill": Option(
            "",
            "missing values: empty = error, ffill = carry forward, drop = drop the rows",
            ("", "ffill", "drop"),
        ),
        "validation_fraction": Option(0.15, "share of the series (in time order) for validation"),
        "test_fraction": Option(0.15, "share of the series (the most recent) for testing"),
        "sample_days": Option(2500, "trading days in the embedded sample"),
        "classical_baselines": Option(
            True,
            "also fit ARIMA and exponential smoothing (statsmodels) on the training rows and "
            "score them on the test windows (a few seconds)",
        ),
    }
    defaults = {"epochs": 20, "units": 32, "patience": 5}
    headline_metrics = ("test_rmse", "test_mae", "test_mape", "test_mase", "test_rmse_ratio")
    no_folds_because = (
        "a forecast is tested on days after the ones it was trained on, so shuffled folds "
        "would leak the future"
    )

    # -- data ---------------------------------------------------------------------------

    def read_series(self, config) -> tuple[Series, str]:
        """The series named by --data, and its fingerprint."""
        options = config.options
        columns = list(dict.fromkeys(_names(options["target"]) + _names(options["features"])))
        source = parse_source(config.data, prefixes=("yfinance",))
        if source.kind == "sample":
            dates, values = sample.generate(options["sample_days"])
            unknown = [c for c in columns if c not in values]
            if unknown:
                raise DataError(
                    f"--data sample: unknown column {unknown[0]!r}; columns: {', '.join(values)}"
                )
            series = Series(dates, {c: values[c] for c in columns}, "sample")
            fingerprint = fingerprint_rows(zip(dates, *series.columns.values()))
        elif source.kind == "yfinance":
            path = _download_yfinance(source.value, config)
            series = read_series(path, "Date", columns, options["fill"])
            fingerprint = fingerprint_file(path)
        else:
            path = existing_file(source.value)
            series = read_series(path, options["date_column"], columns, options["fill"])
            fingerprint = fingerprint_file(path)
        if source.kind != "sample":
            sanity.warn_about_splits(series, _names(options["target"]), Path(path))
        return series, fingerprint

    def load_data(self, config) -> DataBundle:
        """Transform, split in time order, scale on training rows, build tf.data windows."""
        series, fingerprint = self.read_series(config)
        self.prepared = prepared = Prepared(series, config.options)
        import_tensorflow()
        every = {split: prepared.origins(split) for split in SPLITS}
        kept = cap_splits(every, config.max_samples, config.seed)
        self.test_origins = kept["test"]
        datasets, sizes = {}, {}
        for split, origins in kept.items():
            datasets[split] = windows_dataset(
                prepared.inputs, prepared.outputs, origins, prepared.window, prepared.horizon
            )
            sizes[split] = len(origins)
        spec = Spec(
            sequence_length=prepared.window,
            features=len(prepared.features),
            extra={"horizon": prepared.horizon, "targets": len(prepared.targets)},
        )
        return DataBundle.from_splits(datasets, spec, series.source, fingerprint, sizes)

    # -- model --------------------------------------------------------------------------

    def build_model(self, spec, arch, config):
        """Window of scaled features -> encoder -> `horizon` x `targets` scaled values."""
        import keras

        from seqapps.api import encoder_settings

        horizon, targets = spec.extra["horizon"], spec.extra["targets"]
        window = keras.Input(shape=(spec.sequence_length, spec.features), name="window")
        encoded = arch.build_encoder(window, encoder_settings(config), self.arch_kind(config))
        flat = keras.layers.Dense(horizon * targets, dtype="float32", name="forecast")(encoded)
        outputs = keras.layers.Reshape((horizon, targets), name="horizon_by_target")(flat)
        return keras.Model(window, outputs, name=f"stock_{arch.name}")

    def loss_and_metrics(self, spec):
        """Mean squared error on scaled targets; MAE."""
        return "mse", ["mae"]

    # -- after training -----------------------------------------------------------------

    def report(self, model, data, config) -> Report:
        """Model vs persistence and drift on the test windows, in prices; two figures."""
        from seqapps.api import plots

        prepared = self.prepared
        origins = self.test_origins
        raw_origins = origins + prepared.offset
        prices, horizon = prepared.raw_prices, prepared.horizon
        scaled = model.predict(data.test.batch(256), verbose=0)
        forecast = prepared.to_prices(scaled, origins)
        actual = evaluation.actuals(prices, raw_origins, horizon)
        others, fitted = {}, {}
        if config.options["classical_baselines"]:
            from seqapps_stock import classical

            train_rows = prepared.validation_start + prepared.offset
            others, fitted = classical.forecasts(prices, train_rows, raw_origins, horizon)
        metrics = evaluation.compare(forecast, actual, prices, raw_origins, others)
        beats, line = evaluation.verdict(metrics)
        summary = [line, _baselines_line(metrics, fitted)]
        dates = [prepared.raw_dates[t + 1] for t in raw_origins]
        by_step = {
            "model": forecast,
            "persistence": evaluation.persistence(prices, raw_origins, horizon),
            "drift": evaluation.drift(prices, raw_origins, horizon),
            **{fitted[name].split(" on ")[0]: values for name, values in others.items()},
        }
        figures = {
            "forecast_vs_actual": plots.forecast_vs_actual(
                dates,
                actual[:, 0, 0],
                forecast[:, 0, 0],
                prices[raw_origins, 0],
                prepared.targets[0],
            ),
            "error_by_horizon": plots.error_by_step(
                {name: evaluation.rmse_by_step(f, actual) for name, f in by_step.items()}
            ),
        }
        metrics["beats_persistence"] = float(beats)
        texts = {"classical_baselines.json": json.dumps(fitted, indent=2)} if fitted else {}
        return Report(metrics=metrics, figures=figures, summary=summary, texts=texts)

    def export_model(self, model, data):
        """The trained model; `predict` turns a CSV into its input window."""
        return model

    def export_metadata(self, data) -> dict[str, Any]:
        """Everything `predict` needs to rebuild an input window from a CSV."""
        prepared = self.prepared
        return {
            "date_column": prepared.date_column,
            "targets": prepared.targets,
            "features": prepared.features,
            "transform": prepared.transform,
            "window": prepared.window,
            "horizon": prepared.horizon,
            "input_mean": prepared.input_scaler.mean.tolist(),
            "input_std": prepared.input_scaler.std.tolist(),
            "output_mean": prepared.output_scaler.mean.tolist(),
            "output_std": prepared.output_scaler.std.tolist(),
        }

    def evaluate(self, model, metadata, source, options) -> Report:
        """Model vs persistence and drift at every origin of a dated price CSV (in prices)."""
        path = existing_file(source)
        window, horizon = metadata["window"], metadata["horizon"]
        _, inputs, prices, offset = _model_rows(metadata, path)
        # Model row o ends a window; its raw origin is o + offset, and it needs the horizon.
        origins = np.arange(window - 1, len(prices) - horizon - offset)
        if len(origins) == 0:
            raise DataError(
                f"--data {path}: needs at least {window + horizon + offset} rows to score "
                f"one forecast (window {window}, horizon {horizon})"
            )
        windows = np.stack([inputs[o - window + 1 : o + 1] for o in origins])
        values = _output_scaler(metadata).inverse(model.predict(windows, verbose=0))
        raw_origins = origins + offset
        if metadata["transform"] == "log_return":
            values = prices[raw_origins][:, None, :] * np.exp(np.cumsum(values, axis=1))
        actual = evaluation.actuals(prices, raw_origins, horizon)
        metrics = evaluation.compare(values, actual, prices, raw_origins)
        _, line = evaluation.verdict(metrics)
        line = line.replace(" on the test period", "")
        return Report(metrics=metrics, summary=[f"{len(origins)} forecasts on {path}: {line}"])

    def serving_columns(self, metadata: dict[str, Any]) -> dict[str, str]:
        """A price history: the date column and each target and feature column."""
        columns = {metadata.get("date_column", "Date"): "string"}
        for name in dict.fromkeys(metadata["targets"] + metadata["features"]):
            columns[name] = "double"
        return columns

    def inputs_from_table(self, table, metadata: dict[str, Any], scratch: Path) -> list[str]:
        """The table as one CSV file in ``scratch``: predict forecasts from its last rows."""
        missing = [name for name in self.serving_columns(metadata) if name not in table.columns]
        if missing:
            raise DataError("the model takes a price table; missing columns: " + ", ".join(missing))
        path = scratch / "history.csv"
        table[list(self.serving_columns(metadata))].to_csv(path, index=False)
        return [str(path)]

    def example_table(self, data, metadata: dict[str, Any]) -> dict[str, list]:
        """The last rows of the training source: just enough history for one forecast."""
        series, rows = self.prepared.series, metadata["window"] + 1
        table = {metadata["date_column"]: [f"{d:%Y-%m-%d}" for d in series.dates[-rows:]]}
        for name in dict.fromkeys(metadata["targets"] + metadata["features"]):
            table[name] = [float(v) for v in series.matrix([name])[-rows:, 0]]
        return table

    def predict(self, model, metadata: dict[str, Any], inputs: list[str]) -> list[dict[str, Any]]:
        """For each CSV path, the next `horizon` values of each target, with dates."""
        rows = []
        for text in inputs:
            rows.extend(_forecast_file(model, metadata, text))
        return rows


def _baselines_line(metrics: dict[str, float], fitted: dict[str, str]) -> str:
    """Every baseline's test RMSE in one line, and whether the model beats the best."""
    from seqapps.api import verdict_line

    names = {"persistence": "persistence", "drift": "drift"}
    names.update({name: description.split(" on ")[0] for name, description in fitted.items()})
    scores = {shown: metrics[f"baseline_{name}_rmse"] for name, shown in names.items()}
    return verdict_line("RMSE", metrics["rmse"], scores, "min")


def _model_rows(metadata, path):
    """(series, scaled model input rows, raw target prices, offset) of a dated price CSV.

    With log returns, model row t is the change into raw row t + 1 (offset 1).
    """
    columns = list(dict.fromkeys(metadata["targets"] + metadata["features"]))
    series = read_series(path, metadata.get("date_column", "Date"), columns, fill="ffill")
    features = series.matrix(metadata["features"])
    prices = series.matrix(metadata["targets"])
    offset = 0
    if metadata["transform"] == "log_return":
        features, offset = np.diff(np.log(features), axis=0), 1
    scaler = Scaler(np.array(metadata["input_mean"]), np.array(metadata["input_std"]))
    return series, scaler.transform(features).astype("float32"), prices, offset


def _output_scaler(metadata) -> Scaler:
    return Scaler(np.array(metadata["output_mean"]), np.array(metadata["output_std"]))


def _forecast_file(model, metadata, path_text: str) -> list[dict[str, Any]]:
    path = existing_file(path_text)
    window, horizon = metadata["window"], metadata["horizon"]
    series, inputs, prices, _ = _model_rows(metadata, path)
    if len(inputs) < window:
        raise UserInputError(f"{path}: needs at least {window + 1} rows of history")
    values = _output_scaler(metadata).inverse(model.predict(inputs[-window:][None], verbose=0)[0])
    if metadata["transform"] == "log_return":
        values = prices[-1] * np.exp(np.cumsum(values, axis=0))
    dates = sample.business_days(series.dates[-1] + dt.timedelta(days=1), horizon)
    return [
        {"date": f"{date:%Y-%m-%d}", "target": name, "forecast": float(values[step, column])}
        for step, date in enumerate(dates)
        for column, name in enumerate(metadata["targets"])
    ]


def _download_yfinance(ticker: str, config):
    """Fetch a daily history with yfinance into a CSV in --data-dir (online only)."""
    from pathlib import Path

    try:
        import yfinance
    except ImportError:
        raise DataError(
            f"--data yfinance:{ticker}: needs the yfinance extra "
            "(pip install 'seqapps-stock[yfinance]')"
        ) from None
    folder = Path(config.data_dir or ".")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ticker}.csv"
    try:
        frame = yfinance.download(ticker, period="max", auto_adjust=False, progress=False)
    except Exception as error:
        raise DataError(f"--data yfinance:{ticker}: download failed ({error})") from None
    if frame is None or frame.empty:
        raise DataError(f"--data yfinance:{ticker}: no data (unknown ticker or no network)")
    frame.columns = [c[0] if isinstance(c, tuple) else c for c in frame.columns]
    frame.to_csv(path, index_label="Date")
    return path
