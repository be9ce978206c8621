"""Forecast-error metrics of the benchmark (sMAPE, MASE, MAE, MSE, RMSE, NRMSE, R², correlations …).

Series are arrays of shape ``(..., T, D)``: time on axis −2, the D coordinates on axis −1, any
leading axes are a batch (systems, models …) and every metric returns one number per batch entry,
shape ``(...)``. A 1-D array ``(T,)`` is one univariate series (``D = 1``); a batch of univariate
series must carry the trailing ``D = 1`` axis, ``(B, T, 1)``. All functions are pure ``jnp`` code:
``jit``/``vmap``-able, dtype-following (float32 in, float32 out; integers are promoted to the
default float dtype).

Definitions (e = y − ŷ; means over time and coordinates unless stated):

====================  ==================================================================
``smape``             200 · mean |e| / (|y| + |ŷ|)            ∈ [0, 200]  (the paper's headline)
``mase``              mean |e| / mean_t |y_train[t] − y_train[t − m]|  (seasonal naive scale)
``mae``, ``mse``      mean |e|, mean e²
``rmse``              sqrt(mean e²)
``nrmse``             sqrt(mean_{t,d} e²_{t,d} / σ_d²), σ_d the std of y_d over time (or given)
``r2_score``          mean_d [1 − Σ_t e²_{t,d} / Σ_t (y_{t,d} − ȳ_d)²]  (sklearn's uniform average)
``mape``              100 · mean |e| / |y|
``wape``              100 · Σ |e| / Σ |y|
``marre``             100 · mean_{t,d} |e_{t,d}| / (max_t y_d − min_t y_d)
``coefficient_of_variation``  100 · rmse / mean y
``pearson``, ``spearman``, ``kendall``  correlation of y_d and ŷ_d over time, averaged over d
                      (Spearman: Pearson of average ranks; Kendall: τ-b, ties corrected)
====================  ==================================================================

Conventions (the benchmark's forecasts can be degenerate, so they are fixed here):

* NaN or ±inf anywhere in a series makes that series' metric NaN — never an exception, never a
  silently finite number. (The runner records such forecasts as failures.)
* 0/0 in a pointwise ratio counts as a perfect point: sMAPE terms with y = ŷ = 0 and MAPE terms
  with y = ŷ = 0 are 0. A nonzero error over a zero scale is +inf (MAPE with y = 0, MASE with a
  constant training series, NRMSE/MARRE with a constant coordinate, WAPE with y ≡ 0).
* R² of a constant coordinate is 1 for a perfect forecast and 0 otherwise (sklearn's
  ``force_finite`` convention).
* A correlation with a constant series (zero variance) is NaN, as in scipy.

The paper (Gilpin 2021) scores forecasts with darts' sMAPE, which is this 0–200 definition; it
leaves out MASE and RMSLE (the latter needs positive series, so it is not provided here).

Example::

    from jentropy import chaos
    y = jnp.sin(jnp.linspace(0, 6, 50))
    chaos.smape(y, y + 0.1)                       # one number
    chaos.forecast_metrics(y_batch, pred_batch)   # dict name -> (B,) array
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._metrics_common import Series, as_series, nan_unless_finite, pair
from ._metrics_correlation import kendall, pearson, spearman

__all__ = [
    "METRICS",
    "coefficient_of_variation",
    "forecast_metrics",
    "kendall",
    "mae",
    "mape",
    "marre",
    "mase",
    "mse",
    "nrmse",
    "pearson",
    "r2_score",
    "rmse",
    "smape",
    "spearman",
    "wape",
]


def _ratio(num: Array, den: Array) -> Array:
    """num / den with 0/0 → 0 and x/0 → +inf for x > 0 (num, den ≥ 0)."""
    safe = jnp.where(den > 0, den, 1)
    return jnp.where(den > 0, num / safe, jnp.where(num > 0, jnp.inf, 0))


def _mean_td(x: Array) -> Array:
    return jnp.mean(x, axis=(-2, -1))


@jax.jit
def smape(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Symmetric mean absolute percentage error, 200 · mean |y − ŷ| / (|y| + |ŷ|), in [0, 200].

    The paper's headline metric (darts' definition). Not shift-invariant: it is computed on the
    raw series, as in the paper. y = ŷ = 0 counts as a perfect point.

    Args:
        y_true, y_pred: ``(T,)`` or ``(..., T, D)``.

    Returns:
        shape ``(...)`` (a scalar for one series).

    Example::

        smape(jnp.array([1.0, 2.0]), jnp.array([1.0, 1.0]))   # 200·(0 + 1/3)/2 ≈ 33.33
    """
    yt, yp = pair(y_true, y_pred)
    terms = _ratio(jnp.abs(yt - yp), jnp.abs(yt) + jnp.abs(yp))
    return nan_unless_finite(200 * _mean_td(terms), yt, yp)


@jax.jit
def mae(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Mean absolute error, mean |y − ŷ| over time and coordinates. Shapes as :func:`smape`.

    Example::

        mae(jnp.zeros(4), jnp.ones(4))   # 1.0
    """
    yt, yp = pair(y_true, y_pred)
    return nan_unless_finite(_mean_td(jnp.abs(yt - yp)), yt, yp)


@jax.jit
def mse(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Mean squared error, mean (y − ŷ)² over time and coordinates. Shapes as :func:`smape`.

    Example::

        mse(jnp.zeros(4), 2 * jnp.ones(4))   # 4.0
    """
    yt, yp = pair(y_true, y_pred)
    return nan_unless_finite(_mean_td(jnp.square(yt - yp)), yt, yp)


@jax.jit
def rmse(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Root mean squared error, sqrt(mse). Shapes as :func:`smape`.

    Example::

        rmse(jnp.zeros(4), 2 * jnp.ones(4))   # 2.0
    """
    return jnp.sqrt(mse(y_true, y_pred))


@jax.jit
def nrmse(
    y_true: Series, y_pred: Series, scale: Float[ArrayLike, "*batch dim"] | None = None
) -> Float[Array, "*batch"]:
    """Normalised RMSE, sqrt(mean_{t,d} (y − ŷ)²_{t,d} / σ_d²).

    σ_d is the (population) standard deviation of ``y_true[..., :, d]`` over time, or ``scale``
    (shape ``(..., D)``, e.g. the training series' std, which keeps short horizons comparable).
    A coordinate with σ_d = 0 contributes 0 where its error is 0 and +inf otherwise.

    Example::

        y = jnp.array([0.0, 2.0]); nrmse(y, y + 1.0)   # σ = 1 → 1.0
    """
    yt, yp = pair(y_true, y_pred)
    sigma = jnp.std(yt, axis=-2) if scale is None else jnp.asarray(scale, yt.dtype)
    if sigma.shape != yt.shape[:-2] + yt.shape[-1:]:
        raise ValueError(
            f"scale must have shape {yt.shape[:-2] + yt.shape[-1:]}, got {sigma.shape}"
        )
    terms = _ratio(jnp.square(yt - yp), jnp.square(sigma)[..., None, :])
    return nan_unless_finite(jnp.sqrt(_mean_td(terms)), yt, yp)


@jax.jit
def r2_score(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Coefficient of determination per coordinate, averaged over coordinates.

    R²_d = 1 − Σ_t (y − ŷ)²_{t,d} / Σ_t (y_{t,d} − ȳ_d)², the mean over d as sklearn's
    ``r2_score(..., multioutput="uniform_average")``; a constant coordinate scores 1 when
    predicted exactly and 0 otherwise (sklearn's ``force_finite``). Can be negative.

    Example::

        y = jnp.array([1.0, 2.0, 3.0]); r2_score(y, jnp.full(3, 2.0))   # 0.0
    """
    yt, yp = pair(y_true, y_pred)
    sse = jnp.sum(jnp.square(yt - yp), axis=-2)
    sst = jnp.sum(jnp.square(yt - jnp.mean(yt, axis=-2, keepdims=True)), axis=-2)
    r2 = jnp.where(sst > 0, 1 - sse / jnp.where(sst > 0, sst, 1), jnp.where(sse > 0, 0, 1))
    return nan_unless_finite(jnp.mean(r2, axis=-1), yt, yp)


@jax.jit
def mape(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Mean absolute percentage error, 100 · mean |y − ŷ| / |y| (+inf where y = 0 ≠ ŷ).

    Example::

        mape(jnp.array([2.0, 4.0]), jnp.array([1.0, 4.0]))   # 25.0
    """
    yt, yp = pair(y_true, y_pred)
    return nan_unless_finite(100 * _mean_td(_ratio(jnp.abs(yt - yp), jnp.abs(yt))), yt, yp)


@jax.jit
def wape(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Weighted absolute percentage error, 100 · Σ |y − ŷ| / Σ |y|.

    Example::

        wape(jnp.array([2.0, 4.0]), jnp.array([1.0, 4.0]))   # 100·1/6 ≈ 16.67
    """
    yt, yp = pair(y_true, y_pred)
    num = jnp.sum(jnp.abs(yt - yp), axis=(-2, -1))
    return nan_unless_finite(100 * _ratio(num, jnp.sum(jnp.abs(yt), axis=(-2, -1))), yt, yp)


@jax.jit
def marre(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Mean absolute ranged relative error, 100 · mean_{t,d} |y − ŷ|_{t,d} / range_t(y_d).

    The range is taken per coordinate (max − min over time of ``y_true``).

    Example::

        marre(jnp.array([0.0, 4.0]), jnp.array([1.0, 4.0]))   # 100·(1/4 + 0)/2 = 12.5
    """
    yt, yp = pair(y_true, y_pred)
    rng = (jnp.max(yt, axis=-2) - jnp.min(yt, axis=-2))[..., None, :]
    return nan_unless_finite(100 * _mean_td(_ratio(jnp.abs(yt - yp), rng)), yt, yp)


@jax.jit
def coefficient_of_variation(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Coefficient of variation of the error, 100 · rmse / mean(y) (darts' definition).

    Signed (a negative-mean series gives a negative value); ±inf when mean(y) = 0.

    Example::

        coefficient_of_variation(jnp.array([1.0, 3.0]), jnp.array([2.0, 2.0]))   # 50.0
    """
    yt, yp = pair(y_true, y_pred)
    r = jnp.sqrt(_mean_td(jnp.square(yt - yp)))
    m = _mean_td(yt)
    safe = jnp.where(m != 0, m, 1)
    out = jnp.where(m != 0, 100 * r / safe, jnp.where(r > 0, jnp.inf, 0))
    return nan_unless_finite(out, yt, yp)


@functools.partial(jax.jit, static_argnames="season")
def mase(
    y_true: Series, y_pred: Series, y_train: Series, season: int = 1
) -> Float[Array, "*batch"]:
    """Mean absolute scaled error (Hyndman & Koehler 2006).

    MASE = mean |y − ŷ| / mean_{t ≥ m} |y_train[t] − y_train[t − m]|: the forecast's MAE in units
    of the in-sample MAE of the seasonal naive forecast with season ``m``; < 1 beats it.

    Args:
        y_true, y_pred: ``(T,)`` or ``(..., T, D)``.
        y_train: the series the model was fitted on, ``(T_train,)`` or ``(..., T_train, D)``
            (same batch and D), with ``T_train > season``.
        season: the seasonal lag m (a Python int ≥ 1; 1 is the naive random walk).

    Example::

        mase(jnp.array([3.0, 4.0]), jnp.array([3.0, 3.0]), jnp.array([0.0, 1.0, 2.0]))  # 0.5
    """
    yt, yp = pair(y_true, y_pred)
    ytr = as_series(y_train, "y_train").astype(yt.dtype)
    if isinstance(season, bool) or not isinstance(season, int) or season < 1:
        raise ValueError(f"season must be an int >= 1, got {season!r}")
    if ytr.shape[:-2] != yt.shape[:-2] or ytr.shape[-1] != yt.shape[-1]:
        raise ValueError(
            f"y_train must have shape {yt.shape[:-2]} + (T_train, {yt.shape[-1]}), got {ytr.shape}"
        )
    if ytr.shape[-2] <= season:
        raise ValueError(f"y_train needs more than season={season} time points, got {ytr.shape}")
    scale = _mean_td(jnp.abs(ytr[..., season:, :] - ytr[..., :-season, :]))
    out = _ratio(_mean_td(jnp.abs(yt - yp)), scale)
    return nan_unless_finite(out, yt, yp, ytr)


#: Metric name → function of ``(y_true, y_pred)``; ``mase`` also takes ``y_train``.
METRICS: dict[str, Callable[..., Array]] = {
    "smape": smape,
    "mase": mase,
    "mae": mae,
    "mse": mse,
    "rmse": rmse,
    "nrmse": nrmse,
    "r2_score": r2_score,
    "mape": mape,
    "wape": wape,
    "marre": marre,
    "coefficient_of_variation": coefficient_of_variation,
    "pearson": pearson,
    "spearman": spearman,
    "kendall": kendall,
}


def forecast_metrics(
    y_true: Series,
    y_pred: Series,
    y_train: Series | None = None,
    *,
    names: Sequence[str] | None = None,
    season: int = 1,
) -> dict[str, Float[Array, "*batch"]]:
    """Several metrics at once: ``{name: value of shape (...)}``.

    Args:
        y_true, y_pred: ``(T,)`` or ``(..., T, D)``.
        y_train: the fitted series (needed for ``"mase"``; without it MASE is left out when
            ``names`` is None and an error when it is asked for).
        names: which metrics (keys of :data:`METRICS`); default all.
        season: MASE's seasonal lag.

    Example::

        m = forecast_metrics(test, pred, train)        # batch of systems: each value (B,)
        float(jnp.median(m["smape"]))
    """
    if names is None:
        names = [n for n in METRICS if n != "mase" or y_train is not None]
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"names: unknown metric(s) {unknown}; known: {list(METRICS)}")
    if "mase" in names and y_train is None:
        raise ValueError("names includes 'mase', which needs y_train")
    return _metrics_jit(tuple(names), season, y_true, y_pred, y_train)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _metrics_jit(names, season, y_true, y_pred, y_train):
    out = {}
    for n in names:
        if n == "mase":
            out[n] = mase(y_true, y_pred, y_train, season)
        else:
            out[n] = METRICS[n](y_true, y_pred)
    return out
