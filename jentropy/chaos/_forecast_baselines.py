"""The baseline forecasters: naive mean / last value / drift / seasonal naive, and linear
autoregression fitted in closed form (ridge). They implement the interface of
:mod:`._forecast_models` (``_fit_batch`` and ``_predict`` on a frozen, hashable configuration).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from ._forecast_models import (
    check_context,
    check_int,
    check_positive,
    ridge_regression,
    rollout,
    standardizer,
    windows,
)

__all__ = ["LinearAR", "NaiveDrift", "NaiveLast", "NaiveMean", "SeasonalNaive"]


# --- naive baselines ------------------------------------------------------------------------------
class NaiveParams(eqx.Module):
    """Parameters of the naive baselines: the fitted series' mean (``(D,)``)."""

    config: Any = eqx.field(static=True)
    mean: Array


class _Naive:
    def _fit_batch(self, series: Array, key: PRNGKeyArray) -> NaiveParams:
        return NaiveParams(self, jnp.mean(series, axis=1))


@dataclasses.dataclass(frozen=True)
class NaiveMean(_Naive):
    """Forecast the mean of the fitted series at every step (darts' ``NaiveMean``).

    Example::

        forecast(fit_forecaster(NaiveMean(), y, key=key), y, 10)   # 10 copies of y.mean(0)
    """

    name = "NaiveMean"

    def _predict(self, params: NaiveParams, context: Array, horizon: int) -> Array:
        return jnp.broadcast_to(params.mean, (horizon, params.mean.shape[-1]))


@dataclasses.dataclass(frozen=True)
class NaiveLast(_Naive):
    """Persistence: repeat the last observed value ŷ_{T+h} = y_T.

    Example::

        forecast(fit_forecaster(NaiveLast(), y, key=key), y, 5)   # 5 copies of y[-1]
    """

    name = "NaiveLast"

    def _predict(self, params: NaiveParams, context: Array, horizon: int) -> Array:
        return jnp.broadcast_to(context[-1], (horizon, context.shape[-1]))


@dataclasses.dataclass(frozen=True)
class NaiveDrift(_Naive):
    """Drift: extend the line through the first and last context points,
    ŷ_{T+h} = y_T + h (y_T − y_1)/(T − 1) (darts' ``NaiveDrift``).

    Example::

        forecast(fit_forecaster(NaiveDrift(), y, key=key), y, 5)
    """

    name = "NaiveDrift"

    def _predict(self, params: NaiveParams, context: Array, horizon: int) -> Array:
        t = context.shape[0]
        slope = (context[-1] - context[0]) / max(t - 1, 1)
        h = jnp.arange(1, horizon + 1, dtype=context.dtype)[:, None]
        return context[-1] + h * slope


@dataclasses.dataclass(frozen=True)
class SeasonalNaive(_Naive):
    """Seasonal naive: repeat the last season, ŷ_{T+h} = y_{T+h−m·⌈h/m⌉} with m = ``season``.

    In the benchmark m is one period (``pts_per_period`` points).

    Example::

        forecast(fit_forecaster(SeasonalNaive(season=15), y, key=key), y, 30)
    """

    season: int = 1
    name = "SeasonalNaive"

    def __post_init__(self) -> None:
        check_int(self.season, "season")

    def _predict(self, params: NaiveParams, context: Array, horizon: int) -> Array:
        if context.shape[0] < self.season:
            raise ValueError(
                f"context needs at least season={self.season} points, got {context.shape[0]}"
            )
        last = context[-self.season :]
        return last[jnp.arange(horizon) % self.season]


# --- linear autoregression ------------------------------------------------------------------------
class ARParams(eqx.Module):
    """Linear AR parameters: ``weights`` ``(1 + lags·D, D)`` (row 0 the intercept, then lag 1's
    D rows, lag 2's …, in standardised units) and the standardisation ``mean``/``scale``."""

    config: Any = eqx.field(static=True)
    weights: Array
    mean: Array
    scale: Array


@dataclasses.dataclass(frozen=True)
class LinearAR:
    """Vector autoregression of order p fitted by ridge regression (closed form).

    z_{t+1} = c + Σ_{k=1..p} A_k z_{t+1−k}, z the series standardised per coordinate; the
    weights minimise (1/n) Σ ‖z_{t+1} − ẑ_{t+1}‖² + λ Σ ‖A_k‖² (:func:`ridge_regression`).
    Forecasts are recursive. ``lag_coefficients`` returns the A_k in original units.

    Args:
        lags: the order p ≥ 1.
        ridge: λ ≥ 0.

    Example::

        params = fit_forecaster(LinearAR(lags=2, ridge=0.0), ar2_series, key=key)
        LinearAR.lag_coefficients(params)        # (2, D, D) ≈ [[φ1]], [[φ2]]
    """

    lags: int = 8
    ridge: float = 1e-4
    name = "LinearAR"

    def __post_init__(self) -> None:
        check_int(self.lags, "lags")
        check_positive(self.ridge, "ridge", allow_zero=True)

    def _features(self, w: Array) -> Array:
        newest_first = w[::-1].reshape(-1)
        return jnp.concatenate([jnp.ones((1,), w.dtype), newest_first])

    def _fit_batch(self, series: Array, key: PRNGKeyArray) -> ARParams:
        if series.shape[1] <= self.lags:
            raise ValueError(
                f"series needs more than lags={self.lags} points, got {series.shape[1]}"
            )
        return _fit_ar(self, series)

    def _predict(self, params: ARParams, context: Array, horizon: int) -> Array:
        z = (check_context(context, params, self.lags) - params.mean) / params.scale
        zs = rollout(lambda w: self._features(w) @ params.weights, z[-self.lags :], horizon)
        return zs * params.scale + params.mean

    @staticmethod
    def lag_coefficients(params: ARParams) -> Float[Array, "*batch lags D D"]:
        """A_k in original units: ``A[k-1][i, j]`` multiplies y_{t+1−k, j} in ŷ_{t+1, i}."""
        p, d = params.config.lags, params.mean.shape[-1]
        a = params.weights[..., 1:, :].reshape(*params.weights.shape[:-2], p, d, d)
        a = jnp.swapaxes(a, -1, -2)  # [k, i (output), j (input)]
        return a * params.scale[..., None, :, None] / params.scale[..., None, None, :]


@functools.partial(jax.jit, static_argnums=0)
def _fit_ar(cfg: LinearAR, series: Array) -> ARParams:
    def one(y: Array) -> tuple[Array, Array, Array]:
        mean, scale = standardizer(y)
        z = (y - mean) / scale
        w, target = windows(z, cfg.lags)
        phi = jax.vmap(cfg._features)(w)
        return ridge_regression(phi, target, cfg.ridge), mean, scale

    weights, mean, scale = jax.vmap(one)(series)
    return ARParams(cfg, weights, mean, scale)
