"""Argument checks shared by the active_sampling entry points."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array


def check_finite(x: Array, name: str) -> Array:
    """``x`` if it is all finite; ValueError when concrete, a runtime error when traced."""
    x = jnp.asarray(x)
    if isinstance(x, jax.core.Tracer):
        return eqx.error_if(x, ~jnp.all(jnp.isfinite(x)), f"{name} contains NaN or inf")
    if not bool(jnp.all(jnp.isfinite(x))):
        raise ValueError(f"{name} must be finite, got NaN or inf values")
    return x


def count_selected(mask: Any) -> int | None:
    """The number of True entries of a concrete mask; None for a traced one (unknown)."""
    if isinstance(mask, jax.core.Tracer):
        return None
    return int(np.count_nonzero(np.asarray(mask)))


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def check_positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a float > 0, got {value!r}")
    return float(value)


def check_budget(budget: Any, num_locations: int, already: int | None = 0) -> int:
    """``budget`` new locations must fit in the ``num_locations − already`` still free."""
    check_positive_int(budget, "budget")
    free = num_locations - (already or 0)
    if budget > free:
        taken = f" ({already} already in the initial mask)" if already else ""
        raise ValueError(
            f"budget = {budget} exceeds the {free} locations available: the operator has "
            f"{num_locations} locations{taken}"
        )
    return budget
