"""The forecaster interface and the helpers the model files share (the baselines are in
``_forecast_baselines.py``, the reservoirs in ``_forecast_reservoir.py``, N-BEATS in
``_forecast_nbeats.py``).

Every forecaster is a frozen configuration (a hashable dataclass, so it is static under ``jit``)
with one shared interface:

* ``params = fit_forecaster(config, series, *, key)`` — fit on one series ``(T, D)``;
* ``yhat = forecast(params, context, horizon)`` — the next ``horizon`` points ``(horizon, D)``
  after ``context`` ``(T_c, D)`` (usually the fitted series itself);
* ``fit_forecasters`` / ``forecast_many`` — the same for a batch of series ``(B, T, D)`` at once
  (vmapped closed-form fits; joint training for neural models), with
  ``fit_forecasters(c, S, key=k)[b] == fit_forecaster(c, S[b], key=k)``: every member uses the
  same key, as the paper's per-system runs used one seed.

``params`` is an Equinox module that carries its configuration as a static field, so
``forecast`` needs nothing else. A custom forecaster plugs into the same functions and the runner
by implementing two methods on a hashable configuration: ``_fit_batch(series (B, T, D), key) ->
params`` (an Equinox module with the static field ``config`` and an array ``mean`` of shape
``(B, D)``) and ``_predict(params, context (T, D), horizon) -> (horizon, D)`` (traceable). Multi-step forecasts are recursive (each prediction is fed back),
except N-BEATS, which emits a block of ``output_size`` points at a time.

Models with learned weights work on the series standardised per coordinate with the fitted
series' mean and standard deviation (a constant coordinate gets scale 1); forecasts are returned
in the original units, and metrics are computed there (as in the paper).

Example::

    from jentropy import chaos
    cfg = chaos.LinearAR(lags=4, ridge=1e-4)
    params = chaos.fit_forecaster(cfg, y[:150], key=jax.random.key(0))
    yhat = chaos.forecast(params, y[:150], 30)        # (30, D)
"""

from __future__ import annotations

import functools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

__all__ = [
    "fit_forecaster",
    "fit_forecasters",
    "forecast",
    "forecast_many",
    "ridge_regression",
]


# --- helpers shared by the model files -----------------------------------------------------------
def as_series(series: ArrayLike, name: str = "series", *, batched: bool = False) -> Array:
    """Validate a series ``(T, D)`` (or ``(T,)`` → ``(T, 1)``), or a batch ``(B, T, D)``."""
    y = jnp.asarray(series)
    if not jnp.issubdtype(y.dtype, jnp.floating):
        if not jnp.issubdtype(y.dtype, jnp.integer):
            raise TypeError(f"{name} must be a real array, got dtype {y.dtype}")
        y = y.astype(jnp.zeros(()).dtype)
    want = 3 if batched else 2
    if y.ndim == want - 1:
        y = y[..., None]
    if y.ndim != want:
        shape = "(B, T, D)" if batched else "(T, D) or (T,)"
        raise ValueError(f"{name} must have shape {shape}, got {y.shape}")
    return y


def check_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not (value >= 0 if allow_zero else value > 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a number {bound}, got {value!r}")
    return float(value)


def standardizer(series: Array) -> tuple[Array, Array]:
    """Per-coordinate mean and standard deviation of ``(T, D)`` (scale 1 where constant)."""
    mean = jnp.mean(series, axis=0)
    std = jnp.std(series, axis=0)
    return mean, jnp.where(std > 0, std, jnp.ones_like(std))


def ridge_regression(
    features: Float[ArrayLike, "n f"],
    targets: Float[ArrayLike, "n k"],
    penalty: float | Array,
    *,
    intercept_column: int | None = 0,
) -> Float[Array, "f k"]:
    """Ridge readout W = argmin (1/n) ‖Φ W − Y‖² + λ ‖W‖² (closed form, Cholesky).

    Solves ``(ΦᵀΦ/n + λ I) W = ΦᵀY/n``; the column ``intercept_column`` (a constant feature) is
    not penalised. A relative jitter of ``F·eps`` times the largest diagonal entry keeps the
    solve defined for λ = 0 with collinear features.

    Args:
        features: Φ, shape ``(n, F)``.
        targets: Y, shape ``(n, K)``.
        penalty: λ ≥ 0 (per-sample scale, so it does not grow with n).
        intercept_column: index of the unpenalised constant column, or None.

    Returns:
        W, shape ``(F, K)``.

    Example::

        W = ridge_regression(jnp.c_[jnp.ones(100), x], y[:, None], 1e-6)
    """
    phi = jnp.asarray(features)
    y = jnp.asarray(targets).astype(phi.dtype)
    n, f = phi.shape
    gram = phi.T @ phi / n
    diag = jnp.full((f,), penalty, phi.dtype)
    if intercept_column is not None:
        diag = diag.at[intercept_column].set(0)
    scale = jnp.max(jnp.diagonal(gram))
    jitter = f * jnp.finfo(phi.dtype).eps * jnp.where(scale > 0, scale, 1)
    gram = gram + jnp.diag(diag + jitter)
    return jsl.cho_solve(jsl.cho_factor(gram, lower=True), phi.T @ y / n)


def windows(z: Array, memory: int) -> tuple[Array, Array]:
    """Training pairs of a series ``(T, D)``: windows ``(N, memory, D)`` and next points ``(N, D)``,
    N = T − memory (window i is ``z[i : i + memory]``, its target ``z[i + memory]``)."""
    n = z.shape[0] - memory
    idx = jnp.arange(n)[:, None] + jnp.arange(memory)[None, :]
    return z[idx], z[memory:]


def rollout(step: Any, window: Array, horizon: int) -> Array:
    """Recursive forecast: ``y = step(window)``, then the window slides over ``y``; ``(horizon, D)``."""

    def body(w: Array, _: None) -> tuple[Array, Array]:
        y = step(w)
        return jnp.concatenate([w[1:], y[None]], axis=0), y

    _, ys = jax.lax.scan(body, window, None, length=horizon)
    return ys


def check_context(context: ArrayLike, params: Any, memory: int) -> Array:
    ctx = as_series(context, "context")
    d = params.mean.shape[-1]
    if ctx.shape[1] != d:
        raise ValueError(
            f"context must have D={d} coordinates like the fitted series, got {ctx.shape}"
        )
    if ctx.shape[0] < memory:
        raise ValueError(
            f"context needs at least {memory} time points for this model, got {ctx.shape[0]}"
        )
    return ctx.astype(params.mean.dtype)


# --- the interface ---------------------------------------------------------------------------------
def fit_forecaster(config: Any, series: Float[ArrayLike, "T D"], *, key: PRNGKeyArray) -> Any:
    """Fit the forecaster ``config`` on one series and return its parameters.

    Args:
        config: a forecaster configuration (:class:`NaiveMean`, :class:`LinearAR`,
            :class:`NVAR`, :class:`EchoStateNetwork`, :class:`NBeats` …).
        series: ``(T, D)`` or ``(T,)``; long enough for the model's memory.
        key: PRNG key (random reservoirs, network initialisation, minibatches); deterministic
            models ignore it. Same key, same parameters.

    Returns:
        an Equinox module of parameters for :func:`forecast`.

    Example::

        params = fit_forecaster(NVAR(taps=2), y, key=jax.random.key(0))
    """
    if not hasattr(config, "_fit_batch"):
        raise TypeError(f"config must be a forecaster configuration, got {type(config).__name__}")
    y = as_series(series)
    params = config._fit_batch(y[None], key)
    return jax.tree_util.tree_map(lambda a: a[0] if eqx.is_array(a) else a, params)


def fit_forecasters(config: Any, series: Float[ArrayLike, "B T D"], *, key: PRNGKeyArray) -> Any:
    """Fit one forecaster per series of a batch ``(B, T, D)`` (same key for all members).

    Closed-form models are vmapped; :class:`NBeats` trains the B networks jointly in one
    ``jentropy.train.fit`` run whose loss is the sum of the members' losses (with Adam, whose
    update is elementwise, this is B independent trainings). Returns stacked parameters (array
    leaves with a leading axis B) for :func:`forecast_many`.

    Example::

        params = fit_forecasters(LinearAR(lags=5), train_batch, key=key)
        preds = forecast_many(params, train_batch, 30)         # (B, 30, D)
    """
    if not hasattr(config, "_fit_batch"):
        raise TypeError(f"config must be a forecaster configuration, got {type(config).__name__}")
    return config._fit_batch(as_series(series, batched=True), key)


def forecast(
    params: Any, context: Float[ArrayLike, "T D"], horizon: int, *, on_failure: str = "raise"
) -> Float[Array, "H D"]:
    """Forecast the ``horizon`` points that follow ``context`` ``(T_c, D)``; returns ``(horizon, D)``.

    ``params`` comes from :func:`fit_forecaster`. The context is usually the fitted series
    (the benchmark protocol), but any history from the same system works.

    Recursive forecasts can diverge (a quadratic NVAR, a reservoir in closed loop): with
    ``on_failure="raise"`` a forecast holding NaN/inf raises ``FloatingPointError`` (under an
    outer ``jit``: an Equinox runtime error); ``on_failure="nan"`` returns it as it is, for
    callers that record failures themselves (the benchmark runner does).

    Example::

        yhat = forecast(params, series, horizon=200)
    """
    if not hasattr(params, "config"):
        raise TypeError(f"params must come from fit_forecaster, got {type(params).__name__}")
    check_int(horizon, "horizon")
    out = _forecast_one(params, check_context(context, params, 1), horizon)
    return _checked(out[None], on_failure, "forecast")[0]


def forecast_many(
    params: Any, contexts: Float[ArrayLike, "B T D"], horizon: int, *, on_failure: str = "raise"
) -> Float[Array, "B H D"]:
    """:func:`forecast` for stacked parameters and a batch of contexts ``(B, T_c, D)``.

    ``on_failure`` as in :func:`forecast`; the error names the members whose forecast is not
    finite.

    Example::

        preds = forecast_many(fit_forecasters(cfg, S, key=k), S, 30)
    """
    if not hasattr(params, "config"):
        raise TypeError(f"params must come from fit_forecasters, got {type(params).__name__}")
    check_int(horizon, "horizon")
    ctx = as_series(contexts, "contexts", batched=True)
    return _checked(_forecast_many(params, ctx, horizon), on_failure, "forecast_many")


def _checked(out: Array, on_failure: str, fn: str) -> Array:
    if on_failure not in ("raise", "nan"):
        raise ValueError(f"on_failure must be 'raise' or 'nan', got {on_failure!r}")
    if on_failure == "nan":
        return out
    finite = jnp.all(jnp.isfinite(out), axis=(-2, -1))
    if isinstance(out, jax.core.Tracer):
        return eqx.error_if(out, ~jnp.all(finite), f"{fn}: the forecast diverged (NaN/inf)")
    bad = np.flatnonzero(~np.asarray(finite))
    if bad.size:
        raise FloatingPointError(
            f"{fn}: the forecast diverged (NaN/inf) for member(s) {bad.tolist()[:20]}; pass "
            "on_failure='nan' to get it anyway"
        )
    return out


@eqx.filter_jit
def _forecast_one(params: Any, ctx: Array, horizon: int) -> Array:
    return _predict_one(params, ctx, horizon)


@eqx.filter_jit
def _forecast_many(params: Any, ctx: Array, horizon: int) -> Array:
    one = functools.partial(_predict_one, horizon=horizon)
    return eqx.filter_vmap(one)(params, ctx)


def _predict_one(params: Any, ctx: Array, horizon: int) -> Array:
    return params.config._predict(params, ctx.astype(params.mean.dtype), horizon)
