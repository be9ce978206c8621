"""A small N-BEATS forecaster (generic architecture) trained with :func:`jentropy.train.fit`.

N-BEATS (Oreshkin, Carpov, Chapados & Bengio, "N-BEATS: Neural basis expansion analysis for
interpretable time series forecasting", ICLR 2020): a stack of blocks, each an MLP that reads the
residual input window x_b (length L) and emits a backcast and a forecast through linear heads
(the "generic" basis); x_{b+1} = x_b − backcast_b and ŷ = Σ_b forecast_b (doubly residual
stacking, their Eqs. 1–2). The best model of the paper's benchmark (median sMAPE 50.6 coarse,
67.7 fine).

Here every coordinate of a series is forecast by the same univariate network (channel-independent
weights shared across coordinates), on the series standardised with the fitted part's mean and
standard deviation, trained with Adam on the mean squared error of all windows
``(L + H consecutive points)`` of the fitted series. Horizons longer than H are forecast block by
block, feeding forecasts back.

A batch of B series trains B networks jointly in ONE ``train.fit`` run on a vmapped (stacked)
model whose loss is the sum of the members' losses: the gradient of member b's parameters is the
gradient of its own loss, and Adam's update is elementwise, so this is B independent trainings
(the same minibatch positions are drawn for every member) at the cost of one batched run.

Example::

    cfg = NBeats(input_size=45, output_size=30, steps=500)
    params = fit_forecaster(cfg, y, key=jax.random.key(0))
    forecast(params, y, 30)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from jentropy import nn

from ._forecast_models import check_context, check_int, check_positive, standardizer

__all__ = ["NBeats", "NBeatsNetwork"]


class NBeatsNetwork(eqx.Module):
    """The N-BEATS generic network: ``blocks`` MLP blocks with backcast/forecast heads.

    Maps a window ``(L,)`` to a forecast ``(H,)``.

    Example::

        net = NBeatsNetwork(45, 30, blocks=3, width=64, depth=2, key=jax.random.key(0))
        net(jnp.zeros(45)).shape     # (30,)
    """

    blocks: tuple[nn.MLP, ...]
    input_size: int = eqx.field(static=True)
    output_size: int = eqx.field(static=True)

    def __init__(
        self,
        input_size: int,
        output_size: int,
        *,
        blocks: int,
        width: int,
        depth: int,
        key: PRNGKeyArray,
        dtype: Any = None,
    ):
        keys = jax.random.split(key, blocks)
        self.blocks = tuple(
            nn.MLP(
                input_size,
                input_size + output_size,
                width,
                depth,
                activation=jax.nn.relu,
                dtype=dtype,
                key=k,
            )
            for k in keys
        )
        self.input_size, self.output_size = input_size, output_size

    def __call__(self, x: Float[Array, " L"]) -> Float[Array, " H"]:
        out = jnp.zeros((self.output_size,), x.dtype)
        for block in self.blocks:
            theta = block(x)
            x = x - theta[: self.input_size]
            out = out + theta[self.input_size :]
        return out


class NBeatsParams(eqx.Module):
    """Trained (stacked, when batched) ``network``, the standardisation and the final loss."""

    config: Any = eqx.field(static=True)
    network: NBeatsNetwork
    mean: Array
    scale: Array
    final_loss: Array


@dataclasses.dataclass(frozen=True)
class NBeats:
    """N-BEATS-style MLP forecaster (see the module docstring), trained with ``jentropy.train``.

    Args:
        input_size: L, the lookback window (points per coordinate).
        output_size: H, points forecast per network call.
        blocks: number of blocks.
        width, depth: each block's MLP (hidden width and number of hidden layers).
        steps: Adam steps.
        learning_rate: Adam's step size (cosine-decayed to 10% over ``steps``).
        batch_size: windows per step (all windows when there are fewer).

    Example::

        params = fit_forecaster(NBeats(input_size=45, output_size=30), y, key=key)
    """

    input_size: int = 45
    output_size: int = 30
    blocks: int = 3
    width: int = 128
    depth: int = 2
    steps: int = 1000
    learning_rate: float = 1e-3
    batch_size: int = 64
    name = "NBeats"

    def __post_init__(self) -> None:
        for f in ("input_size", "output_size", "blocks", "width", "steps", "batch_size"):
            check_int(getattr(self, f), f)
        check_int(self.depth, "depth", minimum=0)
        check_positive(self.learning_rate, "learning_rate")

    def _fit_batch(self, series: Array, key: PRNGKeyArray) -> NBeatsParams:
        import optax

        from jentropy import train

        b, t, _ = series.shape
        span = self.input_size + self.output_size
        if t < span:
            raise ValueError(
                f"series needs at least input_size + output_size = {span} points, got {t}"
            )
        mean, scale = jax.vmap(standardizer)(series)
        z = (series - mean[:, None]) / scale[:, None]
        # windows of every coordinate: (n_windows * D, B, L + H)
        idx = jnp.arange(t - span + 1)[:, None] + jnp.arange(span)[None, :]
        win = jnp.moveaxis(z, 2, 0)[:, :, idx]  # (D, B, n, span)
        win = jnp.moveaxis(win, 2, 1).reshape(-1, b, span)
        data = {"x": win[..., : self.input_size], "y": win[..., self.input_size :]}
        k_init, k_train = jax.random.split(key)
        stacked = _init_stacked(self, b, series.dtype, k_init)
        schedule = optax.cosine_decay_schedule(self.learning_rate, self.steps, alpha=0.1)
        n_win = win.shape[0]
        result = train.fit(
            _stacked_loss,
            stacked,
            optax.adam(schedule),
            data,
            key=k_train,
            steps=self.steps,
            batch_size=self.batch_size if n_win > self.batch_size else None,
            chunk=self.steps,  # one scan: a shorter last chunk would compile a second time
            progress=False,
        )
        final = jnp.asarray(result.history["loss"][-1]) / b
        return NBeatsParams(self, result.model, mean, scale, jnp.broadcast_to(final, (b,)))

    def _predict(self, params: NBeatsParams, context: Array, horizon: int) -> Array:
        z = (check_context(context, params, self.input_size) - params.mean) / params.scale
        window = z[-self.input_size :].T  # (D, L)
        n_calls = -(-horizon // self.output_size)

        def body(w: Array, _: None) -> tuple[Array, Array]:
            y = jax.vmap(params.network)(w)  # (D, H)
            w = jnp.concatenate([w, y], axis=1)[:, -self.input_size :]
            return w, y

        _, ys = jax.lax.scan(body, window, None, length=n_calls)  # (calls, D, H)
        zs = jnp.moveaxis(ys, 1, 2).reshape(-1, z.shape[1])[:horizon]
        return zs * params.scale + params.mean


@eqx.filter_jit
def _init_stacked(cfg: NBeats, b: int, dtype: Any, key: PRNGKeyArray) -> NBeatsNetwork:
    """B copies of one initialisation (one compiled call instead of an eager op per layer)."""
    net = NBeatsNetwork(
        cfg.input_size,
        cfg.output_size,
        blocks=cfg.blocks,
        width=cfg.width,
        depth=cfg.depth,
        key=key,
        dtype=dtype,
    )
    return jax.tree_util.tree_map(
        lambda a: jnp.broadcast_to(a, (b, *a.shape)) if eqx.is_array(a) else a, net
    )


def _member_loss(net: NBeatsNetwork, x: Array, y: Array) -> Array:
    return jnp.mean(jnp.square(jax.vmap(net)(x) - y))


def _stacked_loss(model: NBeatsNetwork, batch: dict[str, Array], key: PRNGKeyArray) -> Array:
    # batch leaves are (batch, B, ·): member b sees column b
    losses = eqx.filter_vmap(_member_loss, in_axes=(eqx.if_array(0), 1, 1))(
        model, batch["x"], batch["y"]
    )
    return jnp.sum(losses)
