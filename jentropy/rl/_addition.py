"""Multi-digit addition as a verifiable-reward RL task: tokenizer, problem pools, exact-match reward.

A problem a + b with d-digit operands (zero-padded) is the prompt ``a_{d-1}…a_0 + b_{d-1}…b_0 =``
(2d + 2 tokens); the answer is the d + 1 digits of the sum followed by EOS. By default the sum is
written least-significant digit first (``reverse=True``), so that each digit depends only on
digits already seen and the carry from the previous output digit — the standard way to make
addition learnable for a small causal transformer; ``reverse=False`` writes it the usual way.

A problem "has a carry" when some column sums to 10 or more (equivalently, when a carry is ever
generated); the others are the "no-carry" problems. The RL reproduction fine-tunes on no-carry
sums only (so carries must be learned from reward), and reports carry and no-carry accuracy apart.

The problems are split once, by a fixed permutation, into a training pool and a held-out pool.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

__all__ = ["AdditionPools", "AdditionTask"]

PLUS, EQUALS, EOS, PAD = 10, 11, 12, 13
_SYMBOLS = "0123456789+=$_"  # $ = EOS, _ = PAD


class AdditionPools(NamedTuple):
    """Operand pairs (int32 arrays): ``train_*`` all training problems, ``no_carry_*`` the training
    problems without a carry, ``test_*`` the held-out problems.

    Example: ``p = AdditionTask().pools(); p.test_a.shape  # (1000,)``.
    """

    train_a: Array
    train_b: Array
    no_carry_a: Array
    no_carry_b: Array
    test_a: Array
    test_b: Array


@dataclasses.dataclass(frozen=True)
class AdditionTask:
    """d-digit addition (module docstring). Hashable, so it can be a static jit argument.

    Attributes:
        n_digits: digits per operand d (1–4).
        reverse: write the sum least-significant digit first.
        test_fraction: share of problems held out.
        max_problems: problems in the pools (all 10^(2d) pairs when fewer than this; otherwise a
            random sample of this many pairs).
        split_seed: seed of the train/test split.

    Example::

        task = AdditionTask(n_digits=2)
        pools = task.pools()
        prompts = task.prompts(pools.test_a[:4], pools.test_b[:4])       # (4, 6)
        task.decode(task.answers(pools.test_a[:1], pools.test_b[:1])[0])  # e.g. "701$"
    """

    n_digits: int = 2
    reverse: bool = True
    test_fraction: float = 0.1
    max_problems: int = 1_000_000
    split_seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.n_digits <= 4:
            raise ValueError(f"n_digits must be in 1..4, got {self.n_digits}")
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")

    vocab_size = 14
    eos_id = EOS
    pad_id = PAD

    @property
    def prompt_len(self) -> int:
        return 2 * self.n_digits + 2

    @property
    def completion_len(self) -> int:
        return self.n_digits + 2

    @property
    def seq_len(self) -> int:
        return self.prompt_len + self.completion_len

    def _digits(self, x: Array, n: int) -> Array:
        """Most-significant first, (…, n)."""
        powers = 10 ** jnp.arange(n - 1, -1, -1, dtype=jnp.int32)
        return (x[..., None] // powers) % 10

    def prompts(self, a: Int[Array, " n"], b: Int[Array, " n"]) -> Int[Array, "n P"]:
        """Prompt tokens ``a + b =`` (n, 2d + 2)."""
        a, b = jnp.asarray(a, jnp.int32), jnp.asarray(b, jnp.int32)
        d = self.n_digits
        ops = jnp.full((*a.shape, 1), PLUS, jnp.int32)
        eq = jnp.full((*a.shape, 1), EQUALS, jnp.int32)
        return jnp.concatenate([self._digits(a, d), ops, self._digits(b, d), eq], axis=-1)

    def answers(self, a: Int[Array, " n"], b: Int[Array, " n"]) -> Int[Array, "n N"]:
        """Target completions: the d + 1 sum digits (reversed if ``reverse``) then EOS."""
        a, b = jnp.asarray(a, jnp.int32), jnp.asarray(b, jnp.int32)
        digits = self._digits(a + b, self.n_digits + 1)
        if self.reverse:
            digits = digits[..., ::-1]
        eos = jnp.full((*a.shape, 1), EOS, jnp.int32)
        return jnp.concatenate([digits, eos], axis=-1)

    def has_carry(self, a: Int[Array, " n"], b: Int[Array, " n"]) -> Bool[Array, " n"]:
        """True when some column a_i + b_i ≥ 10 (then, and only then, a carry occurs)."""
        d = self.n_digits
        col = self._digits(jnp.asarray(a, jnp.int32), d) + self._digits(
            jnp.asarray(b, jnp.int32), d
        )
        return jnp.any(col >= 10, axis=-1)

    def rewards(
        self, completions: Int[Array, "n N"], a: Int[Array, " n"], b: Int[Array, " n"]
    ) -> Float[Array, " n"]:
        """Exact-match reward: 1.0 when the completion equals the answer (digits and EOS)."""
        ok = jnp.all(completions == self.answers(a, b), axis=-1)
        return ok.astype(jnp.result_type(float))

    def parseable(self, completions: Int[Array, "n N"]) -> Bool[Array, " n"]:
        """Completions of the answer's shape: d + 1 digits, then EOS (for semantic clustering)."""
        c = jnp.asarray(completions)
        d1 = self.n_digits + 1
        return jnp.all(c[..., :d1] < 10, axis=-1) & (c[..., d1] == EOS)

    def decode(self, tokens: Int[Array, " T"]) -> str:
        """Tokens as text: digits, ``+``, ``=``, ``$`` (EOS) and ``_`` (pad)."""
        return "".join(_SYMBOLS[int(t)] for t in np.asarray(tokens))

    def pools(self) -> AdditionPools:
        """The training / no-carry / held-out operand pools (computed once per task)."""
        return _pools(self)

    def sample(
        self, key: PRNGKeyArray, a_pool: Array, b_pool: Array, n: int
    ) -> tuple[Int[Array, " n"], Int[Array, " n"]]:
        """n problems drawn uniformly (with replacement) from a pool; jit-able."""
        idx = jax.random.randint(key, (n,), 0, a_pool.shape[0])
        return a_pool[idx], b_pool[idx]

    def sft_pool(self, carry_fraction: float = 0.0, *, seed: int = 0) -> tuple[Array, Array]:
        """Supervised fine-tuning problems: the no-carry training problems, plus carry problems
        making up ``carry_fraction`` of the pool (0: none, the default)."""
        if not 0 <= carry_fraction < 1:
            raise ValueError(f"carry_fraction must be in [0, 1), got {carry_fraction}")
        p = self.pools()
        if carry_fraction == 0:
            return p.no_carry_a, p.no_carry_b
        carry = np.asarray(self.has_carry(p.train_a, p.train_b))
        ca, cb = np.asarray(p.train_a)[carry], np.asarray(p.train_b)[carry]
        n_nc = p.no_carry_a.shape[0]
        n_c = min(len(ca), round(carry_fraction * n_nc / (1 - carry_fraction)))
        pick = np.random.default_rng(seed).permutation(len(ca))[:n_c]
        return (
            jnp.concatenate([p.no_carry_a, jnp.asarray(ca[pick])]),
            jnp.concatenate([p.no_carry_b, jnp.asarray(cb[pick])]),
        )


@functools.lru_cache(maxsize=8)
def _pools(task: AdditionTask) -> AdditionPools:
    rng = np.random.default_rng(task.split_seed)
    top = 10**task.n_digits
    if top * top <= task.max_problems:
        a, b = np.divmod(np.arange(top * top, dtype=np.int64), top)
    else:
        a = rng.integers(0, top, task.max_problems)
        b = rng.integers(0, top, task.max_problems)
    order = rng.permutation(len(a))
    n_test = max(1, round(task.test_fraction * len(a)))
    test, train = order[:n_test], np.sort(order[n_test:])
    a, b = a.astype(np.int32), b.astype(np.int32)
    carry = np.asarray(task.has_carry(jnp.asarray(a[train]), jnp.asarray(b[train])))
    nc = train[~carry]
    return AdditionPools(
        *(jnp.asarray(x) for x in (a[train], b[train], a[nc], b[nc], a[test], b[test]))
    )
