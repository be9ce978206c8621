"""The benchmark runner: every model on every system, batched, with progress and resumable results.

For each model and each group of tasks that share a shape, systems are processed in chunks of
``chunk_size``: the chunk's series are stacked and fitted in one call (:func:`fit_forecasters`,
vmapped or jointly trained), forecast (:func:`forecast_many`) and scored with every metric of
:data:`METRICS`. A model given as a list of configurations is tuned as in the paper: each system
keeps the candidate with the lowest validation sMAPE on its ``train`` series (fit on the first 10
periods, forecast the last 2), and that candidate is then fitted and scored on the ``test``
series.

Results are written after every chunk to ``path`` (JSON, atomically: a temporary file renamed
over the old one), so an interrupted run continues where it stopped; a file from a different
protocol (other tasks, models, metrics or key) is refused. Every member of a batch uses the same
key (``fold_in(key, model)``), so a system's result does not depend on which chunk it was in.

Failures are recorded, never dropped: a failed or escaped trajectory (``task.success`` False), a fit that
raised (the chunk is retried system by system; the error is stored) or a forecast with non-finite
values all give ``failed=True``. :meth:`ForecastResults.median` counts failed sMAPE as 200 (the
metric's maximum) and reports how many there were.

Example::

    from jentropy import chaos
    tasks = chaos.make_forecast_tasks(granularity="coarse", key=jax.random.key(0))
    models = chaos.default_forecasters(15)
    res = chaos.run_forecast_benchmark(tasks, models, key=jax.random.key(1), path="coarse.json")
    res.median("smape")                     # {model: median sMAPE over systems}
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from ._forecast_baselines import LinearAR, NaiveDrift, NaiveLast, NaiveMean, SeasonalNaive
from ._forecast_data import ForecastTask, tasks_summary
from ._forecast_models import fit_forecasters, forecast_many
from ._forecast_nbeats import NBeats
from ._forecast_reservoir import NVAR, EchoStateNetwork
from ._metrics import METRICS, forecast_metrics, smape

__all__ = ["ForecastResults", "default_forecasters", "run_forecast_benchmark"]

_FORMAT = 1


@dataclasses.dataclass
class ForecastResults:
    """Per-system, per-model benchmark results.

    Attributes:
        models: model names (in the order given).
        systems: system names (task order).
        records: ``records[model][system]`` = ``{"metrics": {name: float}, "failed": bool,
            "error": str | None, "candidate": int, "seconds": float}`` (+ ``"forecast"`` when
            kept); ``seconds`` is the system's share of its chunk's wall time.
        max_lyapunov: ``{system: stored maximum Lyapunov exponent}``.
        meta: the protocol fingerprint stored in the results file.
    """

    models: list[str]
    systems: list[str]
    records: dict[str, dict[str, dict[str, Any]]]
    max_lyapunov: dict[str, float]
    meta: dict[str, Any]

    def values(self, metric: str = "smape", *, failed_value: float | None = None) -> np.ndarray:
        """``(systems, models)`` array of ``metric``; failed entries are NaN or ``failed_value``.

        Example::

            res.values("smape", failed_value=200.0)
        """
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {list(METRICS)}, got {metric!r}")
        out = np.full((len(self.systems), len(self.models)), np.nan)
        for j, m in enumerate(self.models):
            for i, s in enumerate(self.systems):
                rec = self.records.get(m, {}).get(s)
                if rec is None:
                    continue
                if rec["failed"] and failed_value is not None:
                    out[i, j] = failed_value
                elif not rec["failed"]:
                    out[i, j] = float(rec["metrics"].get(metric, np.nan))
        return out

    def median(self, metric: str = "smape") -> dict[str, float]:
        """Median of ``metric`` over systems per model; failed sMAPE counts as 200, failed
        entries of other metrics are left out.

        Example::

            res.median()["NBeats"]
        """
        fill = 200.0 if metric == "smape" else None
        vals = self.values(metric, failed_value=fill)
        return {m: float(np.nanmedian(vals[:, j])) for j, m in enumerate(self.models)}

    def failures(self) -> dict[str, int]:
        """Number of failed systems per model."""
        return {
            m: sum(bool(r["failed"]) for r in self.records.get(m, {}).values()) for m in self.models
        }

    def complete(self) -> bool:
        """Whether every (model, system) pair has a record."""
        return all(s in self.records.get(m, {}) for m in self.models for s in self.systems)


def default_forecasters(
    pts_per_period: int,
    *,
    neural_steps: int = 1000,
    reservoir_size: int = 300,
    tune: bool = True,
    max_candidates: int | None = None,
    include: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The benchmark's model set for series with ``pts_per_period`` points per period.

    Naive baselines (mean, last value, drift, seasonal naive with one period), linear AR, NVAR,
    an echo-state network and N-BEATS. With ``tune=True`` the closed-form models come with small
    hyperparameter grids (selected per system on the train series, as in the paper); N-BEATS
    is not tuned (one configuration: 3 blocks of width 128, lookback 3 periods (2 for fine
    sampling), forecasting 2 periods per call).

    Args:
        pts_per_period: p (15 coarse, 100 fine); the forecast horizon is 2p.
        neural_steps: N-BEATS training steps.
        reservoir_size: echo-state network units.
        tune: give grids (True) or single configurations (False).
        max_candidates: keep at most this many candidates per grid (evenly spaced, first and
            last included), to trade tuning for speed.
        include: model names to keep (default all).

    Example::

        default_forecasters(15, neural_steps=300, include=["NaiveMean", "NVAR"])
    """
    p = int(pts_per_period)
    lags = sorted({max(2, p // 5), max(2, p // 2), p})
    skip = max(1, p // 20)
    models: dict[str, Any] = {
        "NaiveMean": NaiveMean(),
        "NaiveLast": NaiveLast(),
        "NaiveDrift": NaiveDrift(),
        "SeasonalNaive": SeasonalNaive(season=p),
        "LinearAR": [LinearAR(lags=k, ridge=1e-4) for k in lags],
        "NVAR": [
            NVAR(taps=2, skip=1, ridge=1e-6),
            NVAR(taps=2, skip=1, ridge=1e-3),
            NVAR(taps=3, skip=skip, ridge=1e-4),
            NVAR(taps=4, skip=skip, ridge=1e-2),
        ],
        "EchoStateNetwork": [
            EchoStateNetwork(size=reservoir_size, spectral_radius=r, ridge=lam)
            for r, lam in ((0.9, 1e-6), (0.5, 1e-4), (1.2, 1e-4))
        ],
        "NBeats": NBeats(
            input_size=3 * p if p <= 50 else 2 * p,
            output_size=2 * p,
            steps=neural_steps,
        ),
    }
    if not tune:
        models = {k: v[0] if isinstance(v, list) else v for k, v in models.items()}
    elif max_candidates is not None:
        if (
            isinstance(max_candidates, bool)
            or not isinstance(max_candidates, int)
            or max_candidates < 1
        ):
            raise ValueError(f"max_candidates must be an int >= 1, got {max_candidates!r}")
        for k, v in models.items():
            if isinstance(v, list) and len(v) > max_candidates:
                idx = np.unique(np.linspace(0, len(v) - 1, max_candidates).round().astype(int))
                models[k] = [v[i] for i in idx]
    if include is not None:
        unknown = sorted(set(include) - set(models))
        if unknown:
            raise ValueError(f"include: unknown model(s) {unknown}; known: {list(models)}")
        models = {k: v for k, v in models.items() if k in include}
    return models


def _candidates(name: str, spec: Any) -> list[Any]:
    cands = list(spec) if isinstance(spec, (list, tuple)) else [spec]
    if not cands or not all(hasattr(c, "_fit_batch") for c in cands):
        raise TypeError(f"models[{name!r}] must be a forecaster configuration or a list of them")
    return cands


def _stable_hash(text: str) -> int:
    return int.from_bytes(text.encode()[:8].ljust(8, b"\0"), "little") % (2**31 - 1)


def _fingerprint(tasks, models, key, names) -> dict[str, Any]:
    return {
        "format": _FORMAT,
        "tasks": tasks_summary(tasks),
        "models": {m: [repr(c) for c in _candidates(m, spec)] for m, spec in models.items()},
        "key": np.asarray(jax.random.key_data(key)).tolist(),
        "metrics": list(names),
    }


def _load(path: str | None, fingerprint: dict, overwrite: bool) -> dict[str, Any]:
    if path is None or not os.path.exists(path):
        return {}
    with open(path) as f:
        data = json.load(f)
    if data.get("fingerprint") != json.loads(json.dumps(fingerprint)):
        if overwrite:
            return {}
        raise ValueError(
            f"path {path!r} holds results of a different protocol (tasks, models, metrics or "
            "key differ); pass overwrite=True to discard them or choose another path"
        )
    return data.get("records", {})


def _as_float(v: Any) -> float:
    return float(v)  # also parses the "nan"/"inf" strings JSON files hold


def _run_chunk(
    cands: list[Any], chunk: list[ForecastTask], key: PRNGKeyArray, names: list[str], keep: bool
) -> list[dict[str, Any]]:
    split = chunk[0].split
    horizon = chunk[0].horizon
    train = jnp.asarray(np.stack([t.train for t in chunk]))
    test = jnp.asarray(np.stack([t.test for t in chunk]))
    choice = np.zeros(len(chunk), dtype=np.int64)
    if len(cands) > 1:
        val = []
        for c in cands:
            params = fit_forecasters(c, train[:, :split], key=key)
            pred = forecast_many(params, train[:, :split], horizon, on_failure="nan")
            val.append(np.nan_to_num(np.asarray(smape(train[:, split:], pred)), nan=np.inf))
        choice = np.argmin(np.stack(val), axis=0)
    pred = np.zeros(test[:, split:].shape, test.dtype)
    for ci in sorted(set(choice.tolist())):
        params = fit_forecasters(cands[ci], test[:, :split], key=key)
        pc = np.asarray(forecast_many(params, test[:, :split], horizon, on_failure="nan"))
        pred[choice == ci] = pc[choice == ci]
    values = forecast_metrics(test[:, split:], jnp.asarray(pred), test[:, :split], names=names)
    values = {k: np.asarray(v) for k, v in values.items()}
    out = []
    for b in range(len(chunk)):
        ok = bool(np.all(np.isfinite(pred[b])))
        rec: dict[str, Any] = {
            "metrics": {k: float(v[b]) for k, v in values.items()},
            "failed": not ok,
            "error": None if ok else "non-finite forecast",
            "candidate": int(choice[b]),
        }
        if keep:
            rec["forecast"] = pred[b].tolist()
        out.append(rec)
    return out


def _failed(error: str) -> dict[str, Any]:
    return {"metrics": {}, "failed": True, "error": error, "candidate": -1, "seconds": 0.0}


def run_forecast_benchmark(
    tasks: Sequence[ForecastTask],
    models: Mapping[str, Any],
    *,
    key: PRNGKeyArray,
    path: str | os.PathLike | None = None,
    chunk_size: int = 32,
    metrics: Sequence[str] | None = None,
    keep_forecasts: bool = False,
    overwrite: bool = False,
    show_progress: bool = True,
    on_chunk: Callable[[str, list[str]], Any] | None = None,
) -> ForecastResults:
    """Run every model on every task (see the module docstring) and return the results.

    Args:
        tasks: from :func:`make_forecast_tasks`.
        models: ``{name: config}`` or ``{name: [config, …]}`` (a tuning grid).
        key: PRNG key; model ``m`` uses ``fold_in(key, hash(m))`` for every system.
        path: JSON results file; existing results of the same protocol are reused, and the file
            is rewritten atomically after every chunk.
        chunk_size: systems fitted together (larger: fewer calls, more memory).
        metrics: metric names (default all of :data:`METRICS`).
        keep_forecasts: also store each forecast (``(horizon, D)`` lists) in the records.
        overwrite: discard an existing file of a different protocol instead of raising.
        show_progress: progress bar over chunks.
        on_chunk: ``on_chunk(model, systems)`` after each chunk is saved (e.g. to stop a run).

    Returns:
        :class:`ForecastResults`.

    Example::

        res = run_forecast_benchmark(tasks, {"NVAR": NVAR()}, key=key, path="nvar.json")
    """
    from jentropy.reproduce import progress, write_json_atomic

    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    if not tasks:
        raise ValueError("tasks must not be empty")
    names = list(METRICS) if metrics is None else list(metrics)
    if "smape" not in names:
        names.insert(0, "smape")
    for m, spec in models.items():
        _candidates(m, spec)
    path = None if path is None else os.fspath(path)
    fingerprint = _fingerprint(tasks, models, key, names)
    records: dict[str, dict[str, Any]] = _load(path, fingerprint, overwrite)

    groups: dict[tuple, list[ForecastTask]] = {}
    for t in tasks:
        if t.success:
            groups.setdefault((t.train.shape, t.test.shape, t.split), []).append(t)
    work = []
    for m in models:
        rec = records.setdefault(m, {})
        for t in tasks:
            if not t.success and t.system not in rec:
                rec[t.system] = _failed(
                    "trajectory failed (integration error or escape from the attractor)"
                )
        for group in groups.values():
            for i in range(0, len(group), chunk_size):
                chunk = group[i : i + chunk_size]
                if any(t.system not in rec for t in chunk):
                    work.append((m, chunk, min(chunk_size, len(group))))

    for m, chunk, width in progress(work, desc="forecast benchmark", disable=not show_progress):
        cands = _candidates(m, models[m])
        mkey = jax.random.fold_in(key, _stable_hash(m))
        padded = chunk + [chunk[-1]] * (width - len(chunk))  # one compiled shape per group
        start = time.perf_counter()
        try:
            recs = _run_chunk(cands, padded, mkey, names, keep_forecasts)[: len(chunk)]
        except Exception:
            recs = []
            for t in chunk:  # isolate the member that failed
                try:
                    recs.append(_run_chunk(cands, [t], mkey, names, keep_forecasts)[0])
                except Exception:
                    recs.append(_failed(traceback.format_exc().strip().splitlines()[-1]))
        seconds = (time.perf_counter() - start) / len(chunk)
        for t, r in zip(chunk, recs):
            r.setdefault("seconds", seconds)
            records[m][t.system] = r
        if path is not None:
            write_json_atomic(path, {"fingerprint": fingerprint, "records": records})
        if on_chunk is not None:
            on_chunk(m, [t.system for t in chunk])

    for per_model in records.values():
        for r in per_model.values():
            r["metrics"] = {k: _as_float(v) for k, v in r["metrics"].items()}
    if path is not None and not work and not os.path.exists(path):
        write_json_atomic(path, {"fingerprint": fingerprint, "records": records})
    lyap = {t.system: t.max_lyapunov for t in tasks}
    lyap = {k: (v if math.isfinite(v) else float("nan")) for k, v in lyap.items()}
    return ForecastResults(
        list(models), [t.system for t in tasks], records, lyap, json.loads(json.dumps(fingerprint))
    )
