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

Series = Float[ArrayLike, "*batch time dim"]


def _as_series(y: ArrayLike, name: str) -> Array:
    y = jnp.asarray(y)
    if not jnp.issubdtype(y.dtype, jnp.floating):
        if not (jnp.issubdtype(y.dtype, jnp.integer) or y.dtype == jnp.bool_):
            raise TypeError(f"{name} must be a real array, got dtype {y.dtype}")
        y = y.astype(jnp.zeros(()).dtype)
    if y.ndim == 0:
        raise ValueError(f"{name} must have shape (T,) or (..., T, D), got a scalar")
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[-2] < 1:
        raise ValueError(f"{name} must hold at least one time point, got shape {y.shape}")
    return y


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[Array, Array]:
    yt = _as_series(y_true, "y_true")
    yp = _as_series(y_pred, "y_pred")
    if yt.shape != yp.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape (..., T, D), got {yt.shape} and {yp.shape}"
        )
    dtype = jnp.result_type(yt.dtype, yp.dtype)
    return yt.astype(dtype), yp.astype(dtype)


def _finite(*ys: Array) -> Array:
    """True per series where every entry of every input is finite (shape ``(...)``)."""
    ok = [jnp.all(jnp.isfinite(y), axis=(-2, -1)) for y in ys]
    out = ok[0]
    for o in ok[1:]:
        out = out & o
    return out


def _nan_unless_finite(value: Array, *ys: Array) -> Array:
    return jnp.where(_finite(*ys), value, jnp.nan)


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
    yt, yp = _pair(y_true, y_pred)
    terms = _ratio(jnp.abs(yt - yp), jnp.abs(yt) + jnp.abs(yp))
    return _nan_unless_finite(200 * _mean_td(terms), yt, yp)


@jax.jit
def mae(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Mean absolute error, mean |y − ŷ| over time and coordinates. Shapes as :func:`smape`.

    Example::

        mae(jnp.zeros(4), jnp.ones(4))   # 1.0
    """
    yt, yp = _pair(y_true, y_pred)
    return _nan_unless_finite(_mean_td(jnp.abs(yt - yp)), yt, yp)


@jax.jit
def mse(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Mean squared error, mean (y − ŷ)² over time and coordinates. Shapes as :func:`smape`.

    Example::

        mse(jnp.zeros(4), 2 * jnp.ones(4))   # 4.0
    """
    yt, yp = _pair(y_true, y_pred)
    return _nan_unless_finite(_mean_td(jnp.square(yt - yp)), yt, yp)


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
    yt, yp = _pair(y_true, y_pred)
    sigma = jnp.std(yt, axis=-2) if scale is None else jnp.asarray(scale, yt.dtype)
    if sigma.shape != yt.shape[:-2] + yt.shape[-1:]:
        raise ValueError(
            f"scale must have shape {yt.shape[:-2] + yt.shape[-1:]}, got {sigma.shape}"
        )
    terms = _ratio(jnp.square(yt - yp), jnp.square(sigma)[..., None, :])
    return _nan_unless_finite(jnp.sqrt(_mean_td(terms)), yt, yp)


@jax.jit
def r2_score(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Coefficient of determination per coordinate, averaged over coordinates.

    R²_d = 1 − Σ_t (y − ŷ)²_{t,d} / Σ_t (y_{t,d} − ȳ_d)², the mean over d as sklearn's
    ``r2_score(..., multioutput="uniform_average")``; a constant coordinate scores 1 when
    predicted exactly and 0 otherwise (sklearn's ``force_finite``). Can be negative.

    Example::

        y = jnp.array([1.0, 2.0, 3.0]); r2_score(y, jnp.full(3, 2.0))   # 0.0
    """
    yt, yp = _pair(y_true, y_pred)
    sse = jnp.sum(jnp.square(yt - yp), axis=-2)
    sst = jnp.sum(jnp.square(yt - jnp.mean(yt, axis=-2, keepdims=True)), axis=-2)
    r2 = jnp.where(sst > 0, 1 - sse / jnp.where(sst > 0, sst, 1), jnp.where(sse > 0, 0, 1))
    return _nan_unless_finite(jnp.mean(r2, axis=-1), yt, yp)


@jax.jit
def mape(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Mean absolute percentage error, 100 · mean |y − ŷ| / |y| (+inf where y = 0 ≠ ŷ).

    Example::

        mape(jnp.array([2.0, 4.0]), jnp.array([1.0, 4.0]))   # 25.0
    """
    yt, yp = _pair(y_true, y_pred)
    return _nan_unless_finite(100 * _mean_td(_ratio(jnp.abs(yt - yp), jnp.abs(yt))), yt, yp)


@jax.jit
def wape(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Weighted absolute percentage error, 100 · Σ |y − ŷ| / Σ |y|.

    Example::

        wape(jnp.array([2.0, 4.0]), jnp.array([1.0, 4.0]))   # 100·1/6 ≈ 16.67
    """
    yt, yp = _pair(y_true, y_pred)
    num = jnp.sum(jnp.abs(yt - yp), axis=(-2, -1))
    return _nan_unless_finite(100 * _ratio(num, jnp.sum(jnp.abs(yt), axis=(-2, -1))), yt, yp)


@jax.jit
def marre(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Mean absolute ranged relative error, 100 · mean_{t,d} |y − ŷ|_{t,d} / range_t(y_d).

    The range is taken per coordinate (max − min over time of ``y_true``).

    Example::

        marre(jnp.array([0.0, 4.0]), jnp.array([1.0, 4.0]))   # 100·(1/4 + 0)/2 = 12.5
    """
    yt, yp = _pair(y_true, y_pred)
    rng = (jnp.max(yt, axis=-2) - jnp.min(yt, axis=-2))[..., None, :]
    return _nan_unless_finite(100 * _mean_td(_ratio(jnp.abs(yt - yp), rng)), yt, yp)


@jax.jit
def coefficient_of_variation(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Coefficient of variation of the error, 100 · rmse / mean(y) (darts' definition).

    Signed (a negative-mean series gives a negative value); ±inf when mean(y) = 0.

    Example::

        coefficient_of_variation(jnp.array([1.0, 3.0]), jnp.array([2.0, 2.0]))   # 50.0
    """
    yt, yp = _pair(y_true, y_pred)
    r = jnp.sqrt(_mean_td(jnp.square(yt - yp)))
    m = _mean_td(yt)
    safe = jnp.where(m != 0, m, 1)
    out = jnp.where(m != 0, 100 * r / safe, jnp.where(r > 0, jnp.inf, 0))
    return _nan_unless_finite(out, yt, yp)


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
    yt, yp = _pair(y_true, y_pred)
    ytr = _as_series(y_train, "y_train").astype(yt.dtype)
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
    return _nan_unless_finite(out, yt, yp, ytr)


def _pearson_columns(a: Array, b: Array) -> Array:
    """Pearson correlation over axis −2 per column (NaN for a zero-variance column)."""
    a = a - jnp.mean(a, axis=-2, keepdims=True)
    b = b - jnp.mean(b, axis=-2, keepdims=True)
    # normalise before multiplying so that tiny or huge scales neither underflow nor overflow
    na = jnp.sqrt(jnp.sum(jnp.square(a), axis=-2, keepdims=True))
    nb = jnp.sqrt(jnp.sum(jnp.square(b), axis=-2, keepdims=True))
    ok = (na > 0) & (nb > 0)
    a = a / jnp.where(ok, na, 1)
    b = b / jnp.where(ok, nb, 1)
    r = jnp.clip(jnp.sum(a * b, axis=-2), -1, 1)
    return jnp.where(ok[..., 0, :], r, jnp.nan)


@jax.jit
def pearson(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Pearson correlation of y_d and ŷ_d over time, averaged over coordinates d.

    NaN when a coordinate of either series is constant (as ``scipy.stats.pearsonr``).

    Example::

        pearson(jnp.array([1.0, 2.0, 3.0]), jnp.array([2.0, 4.0, 7.0]))   # ≈ 0.9934
    """
    yt, yp = _pair(y_true, y_pred)
    return _nan_unless_finite(jnp.mean(_pearson_columns(yt, yp), axis=-1), yt, yp)


def _average_ranks(x: Array) -> Array:
    """1-based ranks along axis −2, ties receiving the mean of their positions (scipy's
    ``rankdata(method="average")``)."""

    def ranks_1d(v: Array) -> Array:
        s = jnp.sort(v)
        lo = jnp.searchsorted(s, v, side="left")
        hi = jnp.searchsorted(s, v, side="right")
        return (lo + hi + 1).astype(v.dtype) / 2

    moved = jnp.moveaxis(x, -2, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    ranks = jax.vmap(ranks_1d)(flat).reshape(moved.shape)
    return jnp.moveaxis(ranks, -1, -2)


@jax.jit
def spearman(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Spearman rank correlation per coordinate (Pearson of average ranks), averaged over d.

    Matches ``scipy.stats.spearmanr`` including ties; NaN for a constant coordinate.

    Example::

        spearman(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 5.0, 4.0]))   # 0.5
    """
    yt, yp = _pair(y_true, y_pred)
    r = _pearson_columns(_average_ranks(yt), _average_ranks(yp))
    return _nan_unless_finite(jnp.mean(r, axis=-1), yt, yp)


def _kendall_1d(x: Array, y: Array) -> Array:
    n = x.shape[0]

    def row(i, acc):
        s, tx, ty = acc
        later = jnp.arange(n) > i
        dx = jnp.sign(x - x[i])
        dy = jnp.sign(y - y[i])
        s = s + jnp.sum(jnp.where(later, dx * dy, 0))
        tx = tx + jnp.sum(later & (dx == 0)).astype(jnp.int32)
        ty = ty + jnp.sum(later & (dy == 0)).astype(jnp.int32)
        return s, tx, ty

    zero_i = jnp.zeros((), jnp.int32)
    s, tx, ty = jax.lax.fori_loop(0, n, row, (jnp.zeros((), x.dtype), zero_i, zero_i))
    n0 = n * (n - 1) // 2
    den = jnp.sqrt((n0 - tx).astype(x.dtype)) * jnp.sqrt((n0 - ty).astype(x.dtype))
    return jnp.where(den > 0, jnp.clip(s / jnp.where(den > 0, den, 1), -1, 1), jnp.nan)


@jax.jit
def kendall(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Kendall's τ-b per coordinate (ties corrected, as ``scipy.stats.kendalltau``), averaged
    over coordinates. O(T²) work, O(T) memory per series. NaN for a constant coordinate.

    τ-b = Σ_{i<j} sgn(x_j − x_i) sgn(y_j − y_i) / sqrt((n0 − n_x)(n0 − n_y)), n0 = T(T−1)/2,
    n_x and n_y the numbers of tied pairs.

    Example::

        kendall(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 3.0, 2.0]))   # 1/3
    """
    yt, yp = _pair(y_true, y_pred)
    a = jnp.moveaxis(yt, -2, -1)
    b = jnp.moveaxis(yp, -2, -1)
    flat = jax.vmap(_kendall_1d)(a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1]))
    tau = flat.reshape(a.shape[:-1])
    return _nan_unless_finite(jnp.mean(tau, axis=-1), yt, yp)


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
    if "mase" in names:
        # validate eagerly (shapes, season), so the jitted call below sees checked inputs
        mase(jnp.zeros((2, 1)), jnp.zeros((2, 1)), jnp.zeros((season + 1, 1)), season)
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
