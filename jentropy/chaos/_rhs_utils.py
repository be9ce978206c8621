"""Helpers shared by the registry and the equation files.

``follow_state_dtype`` wraps a raw right-hand side so that time and parameters take the state's
dtype; ``trig_coordinates`` builds the common postprocessing of angles and forcing phases.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike


def floating(x: ArrayLike) -> Array:
    """``x`` as a JAX array, promoted to the default float dtype if it is not inexact."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(float))
    return x


def _cast_params(p: Mapping[str, Any], dtype: Any) -> dict[str, Array]:
    return {k: jnp.asarray(v, dtype=dtype) for k, v in p.items()}


def follow_state_dtype(kind: str, fn: Callable[..., Array]) -> Callable[..., Array]:
    """Wrap a raw right-hand side so that time and parameters follow the state's dtype.

    Parameters stored as float64 would otherwise clash with a float32 state under strict dtype
    promotion; casting them (and ``t``) to the state's dtype is what "follow the input dtype"
    means here. Under jit the casts are free when the dtypes already agree.
    """
    if kind == "map":

        @functools.wraps(fn)
        def map_fn(x, p):
            x = floating(x)
            return fn(x, _cast_params(p, x.dtype))

        return map_fn
    if kind == "delay":

        @functools.wraps(fn)
        def delay_fn(x, xd, t, p):
            x = floating(x)
            xd = jnp.asarray(xd, dtype=x.dtype)
            return fn(x, xd, jnp.asarray(t, dtype=x.dtype), _cast_params(p, x.dtype))

        return delay_fn

    @functools.wraps(fn)
    def flow_fn(x, t, p):
        x = floating(x)
        return fn(x, jnp.asarray(t, dtype=x.dtype), _cast_params(p, x.dtype))

    return flow_fn


def trig_coordinates(sin: Sequence[int] = (), cos: Sequence[int] = ()) -> Callable[..., Array]:
    """A ``postprocess(x, p)`` replacing the coordinates ``sin`` by their sines and ``cos`` by
    their cosines (angles and forcing phases to bounded observables); others pass through."""

    def post(x: Array, p: Mapping[str, Any]) -> Array:
        return jnp.stack(
            [
                jnp.sin(x[i]) if i in sin else jnp.cos(x[i]) if i in cos else x[i]
                for i in range(x.shape[-1])
            ]
        )

    return post
