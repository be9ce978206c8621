"""Reservoir forecasters: next-generation reservoir computing (NVAR) and an echo-state network.

NVAR (Gauthier, Bollt, Griffith & Barbosa, "Next generation reservoir computing", Nat. Commun. 12,
5564 (2021)): the feature vector of time t is a constant, k delay taps of the state
(z_t, z_{t−s}, …, z_{t−(k−1)s}) and all their unique quadratic monomials; a ridge readout maps it
to the increment z_{t+1} − z_t (their Eqs. 3–5).

Echo-state network (Jaeger 2001; Lukoševičius, "A practical guide to applying echo state
networks", 2012): a fixed random reservoir r_{t+1} = (1 − a) r_t + a tanh(W r_t + W_in [1; z_t]),
W scaled to spectral radius ρ, and a ridge readout z_{t+1} ≈ W_out [1; r_{t+1}; z_t]. Forecasts
run the reservoir over the context (teacher forcing) and then in closed loop.

Both fit in closed form (:func:`ridge_regression`) and are vmapped over a batch of series.

Example::

    cfg = NVAR(taps=2, skip=1, ridge=1e-6)
    params = fit_forecaster(cfg, lorenz_xyz, key=jax.random.key(0))
    forecast(params, lorenz_xyz, 100)
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
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

__all__ = ["NVAR", "EchoStateNetwork"]


# --- NVAR -------------------------------------------------------------------------------------------
class NVARParams(eqx.Module):
    """NVAR readout ``weights`` ``(1 + kD + kD(kD+1)/2, D)`` and the standardisation."""

    config: Any = eqx.field(static=True)
    weights: Array
    mean: Array
    scale: Array


@dataclasses.dataclass(frozen=True)
class NVAR:
    """Next-generation reservoir computer: delay taps + quadratic monomials, ridge readout.

    Features of the standardised state z (Gauthier et al. 2021, Eqs. 3–5):
    O_lin = [z_t, z_{t−s}, …, z_{t−(k−1)s}] (kD numbers), O_nonlin = {O_lin,i O_lin,j : i ≤ j},
    φ_t = [1, O_lin, O_nonlin]; the model is z_{t+1} = z_t + W φ_t with W from
    :func:`ridge_regression`.

    Args:
        taps: k ≥ 1 delay taps (the current state counts as one).
        skip: s ≥ 1 steps between taps.
        ridge: λ ≥ 0.

    Example::

        params = fit_forecaster(NVAR(taps=2), y, key=key)
        forecast(params, y, 200)
    """

    taps: int = 2
    skip: int = 1
    ridge: float = 1e-6
    name = "NVAR"

    def __post_init__(self) -> None:
        check_int(self.taps, "taps")
        check_int(self.skip, "skip")
        check_positive(self.ridge, "ridge", allow_zero=True)

    @property
    def memory(self) -> int:
        """Points of history one prediction needs, (k − 1)s + 1."""
        return (self.taps - 1) * self.skip + 1

    def num_features(self, dim: int) -> int:
        """1 + kD + kD(kD + 1)/2."""
        lin = self.taps * dim
        return 1 + lin + lin * (lin + 1) // 2

    def _features(self, w: Array) -> Array:
        lin = w[::-1][:: self.skip][: self.taps].reshape(-1)
        i, j = np.triu_indices(lin.shape[0])
        return jnp.concatenate([jnp.ones((1,), w.dtype), lin, lin[i] * lin[j]])

    def _fit_batch(self, series: Array, key: PRNGKeyArray) -> NVARParams:
        if series.shape[1] <= self.memory:
            raise ValueError(
                f"series needs more than (taps-1)*skip+1 = {self.memory} points, got {series.shape[1]}"
            )
        return _fit_nvar(self, series)

    def _predict(self, params: NVARParams, context: Array, horizon: int) -> Array:
        z = (check_context(context, params, self.memory) - params.mean) / params.scale

        def step(w: Array) -> Array:
            return w[-1] + self._features(w) @ params.weights

        zs = rollout(step, z[-self.memory :], horizon)
        return zs * params.scale + params.mean


@functools.partial(jax.jit, static_argnums=0)
def _fit_nvar(cfg: NVAR, series: Array) -> NVARParams:
    def one(y: Array) -> tuple[Array, Array, Array]:
        mean, scale = standardizer(y)
        z = (y - mean) / scale
        w, target = windows(z, cfg.memory)
        phi = jax.vmap(cfg._features)(w)
        return ridge_regression(phi, target - w[:, -1], cfg.ridge), mean, scale

    weights, mean, scale = jax.vmap(one)(series)
    return NVARParams(cfg, weights, mean, scale)


# --- echo-state network -----------------------------------------------------------------------------
class ESNParams(eqx.Module):
    """Echo-state network: reservoir ``w`` ``(N, N)``, input weights ``w_in`` ``(N, 1 + D)``,
    readout ``w_out`` ``(1 + N + D, D)`` and the standardisation."""

    config: Any = eqx.field(static=True)
    w: Array
    w_in: Array
    w_out: Array
    mean: Array
    scale: Array


@dataclasses.dataclass(frozen=True)
class EchoStateNetwork:
    """Leaky echo-state network with a fixed random reservoir and a ridge readout.

    r_{t+1} = (1 − a) r_t + a tanh(W r_t + W_in [1; z_t]),   ẑ_{t+1} = W_out [1; r_{t+1}; z_t].

    W has i.i.d. normal entries on a random ``density`` fraction of positions, rescaled so that
    its spectral radius (largest |eigenvalue|, computed in float64 with LAPACK when the reservoir
    is drawn) is exactly ρ; W_in is uniform on [−σ, σ]. The first ``washout`` states are not used
    to fit W_out. The reservoir depends only on the key (and D), so ``fit_forecasters`` shares
    one reservoir across the batch and fits one readout per series.

    Args:
        size: N reservoir units.
        spectral_radius: ρ > 0 (ρ < 1 with a = 1 gives the echo-state property for tanh units
            in practice; tested).
        input_scaling: σ > 0.
        leak: a ∈ (0, 1].
        density: fraction of nonzero entries of W, in (0, 1].
        ridge: λ ≥ 0 of the readout.
        washout: initial states discarded, ≥ 0.

    Example::

        cfg = EchoStateNetwork(size=200, spectral_radius=0.9)
        params = fit_forecaster(cfg, y, key=jax.random.key(0))
    """

    size: int = 200
    spectral_radius: float = 0.9
    input_scaling: float = 0.5
    leak: float = 1.0
    density: float = 0.1
    ridge: float = 1e-6
    washout: int = 20
    name = "EchoStateNetwork"

    def __post_init__(self) -> None:
        check_int(self.size, "size")
        check_positive(self.spectral_radius, "spectral_radius")
        check_positive(self.input_scaling, "input_scaling")
        check_int(self.washout, "washout", minimum=0)
        for field in ("leak", "density"):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
                raise ValueError(f"{field} must be a number in (0, 1], got {v!r}")
        check_positive(self.ridge, "ridge", allow_zero=True)

    def reservoir(
        self, dim: int, *, key: PRNGKeyArray, dtype: Any = None
    ) -> tuple[Float[Array, "N N"], Float[Array, "N 1+D"]]:
        """Draw ``(W, W_in)`` for inputs of dimension ``dim`` (eager: not traceable, because the
        spectral radius is computed on the host in float64).

        Example::

            w, w_in = EchoStateNetwork(size=100).reservoir(3, key=jax.random.key(0))
        """
        check_int(dim, "dim")
        dtype = jnp.zeros(()).dtype if dtype is None else dtype
        k_w, k_mask, k_in = jax.random.split(key, 3)
        n = self.size
        raw = np.asarray(jax.random.normal(k_w, (n, n)), np.float64)
        mask = np.asarray(jax.random.uniform(k_mask, (n, n)) < self.density)
        raw = raw * mask
        radius = float(np.max(np.abs(np.linalg.eigvals(raw))))
        if not radius > 0:
            raise ValueError(
                f"the drawn reservoir has spectral radius 0 (size={n}, density={self.density}): "
                "increase size or density"
            )
        w = jnp.asarray(raw * (self.spectral_radius / radius), dtype)
        w_in = jax.random.uniform(
            k_in, (n, 1 + dim), dtype, -self.input_scaling, self.input_scaling
        )
        return w, w_in

    def drive(
        self,
        w: Float[Array, "N N"],
        w_in: Float[Array, "N 1+D"],
        inputs: Float[Array, "T D"],
        state: Float[Array, " N"],
    ) -> Float[Array, "T N"]:
        """Reservoir states r_1 … r_T driven by ``inputs`` z_0 … z_{T−1} from r_0 = ``state``.

        Example::

            states = cfg.drive(w, w_in, z, jnp.zeros(cfg.size))    # (T, N)
        """

        return _drive(self, w, w_in, inputs, state)

    def _update(self, w: Array, w_in: Array, r: Array, u: Array) -> Array:
        pre = w @ r + w_in[:, 0] + w_in[:, 1:] @ u
        return (1 - self.leak) * r + self.leak * jnp.tanh(pre)

    def _fit_batch(self, series: Array, key: PRNGKeyArray) -> ESNParams:
        if series.shape[1] <= self.washout + 1:
            raise ValueError(
                f"series needs more than washout+1 = {self.washout + 1} points, got {series.shape[1]}"
            )
        w, w_in = self.reservoir(series.shape[2], key=key, dtype=series.dtype)
        return _fit_esn(self, w, w_in, series)

    def _predict(self, params: ESNParams, context: Array, horizon: int) -> Array:
        z = (check_context(context, params, 1) - params.mean) / params.scale
        r0 = jnp.zeros((self.size,), z.dtype)
        r = self.drive(params.w, params.w_in, z, r0)[-1]

        def readout(r: Array, u: Array) -> Array:
            return jnp.concatenate([jnp.ones((1,), r.dtype), r, u]) @ params.w_out

        def body(carry: tuple[Array, Array], _: None) -> tuple[tuple[Array, Array], Array]:
            r, u = carry
            y = readout(r, u)
            return (self._update(params.w, params.w_in, r, y), y), y

        _, zs = jax.lax.scan(body, (r, z[-1]), None, length=horizon)
        return zs * params.scale + params.mean


@functools.partial(jax.jit, static_argnums=0)
def _drive(cfg: EchoStateNetwork, w: Array, w_in: Array, inputs: Array, state: Array) -> Array:
    def body(r: Array, u: Array) -> tuple[Array, Array]:
        r = cfg._update(w, w_in, r, u)
        return r, r

    return jax.lax.scan(body, state, inputs)[1]


@functools.partial(jax.jit, static_argnums=0)
def _fit_esn(cfg: EchoStateNetwork, w: Array, w_in: Array, series: Array) -> ESNParams:
    def one(y: Array) -> tuple[Array, Array, Array]:
        mean, scale = standardizer(y)
        z = (y - mean) / scale
        states = cfg.drive(w, w_in, z[:-1], jnp.zeros((cfg.size,), z.dtype))  # r_1 … r_{T−1}
        ones = jnp.ones((states.shape[0], 1), z.dtype)
        phi = jnp.concatenate([ones, states, z[:-1]], axis=1)[cfg.washout :]
        return ridge_regression(phi, z[1:][cfg.washout :], cfg.ridge), mean, scale

    w_out, mean, scale = jax.vmap(one)(series)
    b = series.shape[0]
    stack = lambda a: jnp.broadcast_to(a, (b, *a.shape))  # noqa: E731
    return ESNParams(cfg, stack(w), stack(w_in), w_out, mean, scale)
