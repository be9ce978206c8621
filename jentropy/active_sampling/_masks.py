"""Fixed sampling masks: the baselines ADS is compared with.

Every mask is a bool vector over an operator's L locations. ``budget`` counts the locations added
to ``initial`` (when given), so active and fixed designs compare at equal totals.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray

from ._checks import check_budget, check_positive_int, count_selected


def _initial(initial: ArrayLike | None, num_locations: int) -> tuple[Array, int]:
    if initial is None:
        return jnp.zeros((num_locations,), bool), 0
    initial = jnp.asarray(initial)
    if initial.shape != (num_locations,):
        raise ValueError(f"initial must have shape ({num_locations},), got {initial.shape}")
    return initial.astype(bool), count_selected(initial)


def _top(scores: Array, initial: Array, budget: int) -> Array:
    _, idx = jax.lax.top_k(jnp.where(initial, -jnp.inf, scores), budget)
    return initial.at[idx].set(True)


def mask_from_order(order: Int[Array, " K"], num_locations: int) -> Bool[Array, " L"]:
    """The bool mask (L,) with the locations in ``order`` set (e.g. ``ADSResult.order[:k]``).

    Example::

        mask_from_order(jnp.array([3, 0]), 5)      # [True, False, False, True, False]
    """
    check_positive_int(num_locations, "num_locations")
    return jnp.zeros((num_locations,), bool).at[jnp.asarray(order)].set(True)


def random_mask(
    key: PRNGKeyArray, num_locations: int, budget: int, initial: ArrayLike | None = None
) -> Bool[Array, " L"]:
    """``budget`` locations drawn uniformly without replacement (outside ``initial``).

    Example::

        mask = random_mask(jax.random.key(0), 64, 8)      # 8 random pixels of an 8×8 image
    """
    check_positive_int(num_locations, "num_locations")
    initial, taken = _initial(initial, num_locations)
    check_budget(budget, num_locations, taken)
    return _top(jax.random.uniform(key, (num_locations,)), initial, budget)


def top_variance_mask(
    variances: Float[Array, " L"], budget: int, initial: ArrayLike | None = None
) -> Bool[Array, " L"]:
    """The ``budget`` locations of largest (data / prior) variance: the best static design when
    locations are independent; "static (prior var)" in the spec's table.

    Example::

        mask = top_variance_mask(train_images.reshape(n, -1).var(0), 8)
    """
    variances = jnp.asarray(variances)
    initial, taken = _initial(initial, variances.shape[0])
    check_budget(budget, variances.shape[0], taken)
    return _top(variances, initial, budget)


def variance_mask(
    key: PRNGKeyArray,
    variances: Float[Array, " L"],
    budget: int,
    initial: ArrayLike | None = None,
) -> Bool[Array, " L"]:
    """``budget`` locations sampled without replacement with probability ∝ ``variances``
    (Gumbel top-k): the paper's "data-variance" baseline.

    Example::

        mask = variance_mask(key, train_images.reshape(n, -1).var(0), 8)
    """
    variances = jnp.asarray(variances)
    num_locations = variances.shape[0]
    initial, taken = _initial(initial, num_locations)
    check_budget(budget, num_locations, taken)
    gumbel = jax.random.gumbel(key, (num_locations,), variances.dtype)
    logits = jnp.log(jnp.maximum(variances, jnp.finfo(variances.dtype).tiny))
    return _top(logits + gumbel, initial, budget)


def central_lines_mask(num_lines: int, num_central: int) -> Bool[Array, " L"]:
    """The ``num_central`` lines around the centre ``num_lines // 2`` of k-space.

    Example::

        central_lines_mask(8, 3)          # lines 3, 4, 5
    """
    check_positive_int(num_lines, "num_lines")
    check_budget(num_central, num_lines)
    start = num_lines // 2 - num_central // 2
    return jnp.zeros((num_lines,), bool).at[start : start + num_central].set(True)


def central_random_lines_mask(
    key: PRNGKeyArray, num_lines: int, budget: int, num_central: int
) -> Bool[Array, " L"]:
    """``num_central`` central lines plus uniformly random others, ``budget`` lines in all: the
    fixed-mask DPS baseline of ADS's MRI experiment (10 central of 32 lines at 128×128, 4×).

    Example::

        mask = central_random_lines_mask(key, 128, 32, 10)
    """
    check_positive_int(num_lines, "num_lines")
    check_budget(budget, num_lines)
    if isinstance(num_central, bool) or not isinstance(num_central, int):
        raise ValueError(f"num_central must be an int, got {num_central!r}")
    if not 0 < num_central <= budget:
        raise ValueError(f"num_central must be in [1, budget = {budget}], got {num_central}")
    centre = central_lines_mask(num_lines, num_central)
    if num_central == budget:
        return centre
    return random_mask(key, num_lines, budget - num_central, centre)
