"""Clustering sampled answers by meaning, for semantic entropy (SEED-GRPO, Kuhn et al. 2023).

Two paths:

- text (host side, any Python equivalence): :func:`extract_final_answer` pulls the final answer out
  of a math solution (``\\boxed{…}``, else an "answer:" line) and :func:`cluster_answers` groups
  answers with a pluggable equivalence (exact match by default; e.g. bidirectional entailment with
  an NLI model for free text). Unparseable answers (None) become singleton clusters.
- tokens (inside ``jit``): :func:`cluster_token_answers` groups token sequences by exact match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Int

__all__ = ["cluster_answers", "cluster_token_answers", "exact_match", "extract_final_answer"]

_ANSWER_RE = re.compile(r"answer\s*(?:is)?\s*[:=]\s*(.+)", re.IGNORECASE)


def _boxed_contents(text: str) -> list[str]:
    out = []
    for m in re.finditer(r"\\(?:boxed|fbox)\s*\{", text):
        depth, start = 1, m.end()
        for i in range(start, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    out.append(text[start:i])
                    break
    return out


def extract_final_answer(text: str) -> str | None:
    """The final answer of a solution: the last ``\\boxed{…}`` (nested braces allowed), else the
    text after the last "answer:" / "answer is:" / "answer =" (to the end of that line, trailing
    full stop removed), else None (unparseable).

    Example: ``extract_final_answer("so $x = \\boxed{\\frac{1}{2}}$")`` → ``"\\frac{1}{2}"``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    boxed = _boxed_contents(text)
    if boxed:
        ans = boxed[-1].strip()
        return ans or None
    matches = _ANSWER_RE.findall(text)
    if matches:
        ans = matches[-1].strip().rstrip(".").strip().strip("$").strip()
        return ans or None
    return None


def exact_match(a: str, b: str) -> bool:
    """Default equivalence: equal after stripping whitespace at the ends and inside.

    Example: ``exact_match("1 / 2", "1/2")  # True``.
    """
    return "".join(a.split()) == "".join(b.split())


def cluster_answers(
    answers: Sequence[str | None], equivalent: Callable[[str, str], bool] = exact_match
) -> Int[np.ndarray, " G"]:
    """Cluster ids (0, 1, … in order of first appearance) for G answers.

    Each answer joins the first cluster whose representative (its first member) is
    ``equivalent`` to it, as in Kuhn et al.'s bidirectional-entailment clustering; None (no
    extractable answer) always gets a cluster of its own. ``equivalent`` should be symmetric.

    Example: ``cluster_answers(["4", "5", None, "4"])`` → ``[0, 1, 2, 0]``.
    """
    if isinstance(answers, str):
        raise TypeError("answers must be a sequence of str | None, got a single str")
    reps: list[tuple[int, str]] = []  # (cluster id, first member) of the parseable clusters
    ids = np.empty(len(answers), np.int32)
    n = 0
    for i, a in enumerate(answers):
        if a is not None and not isinstance(a, str):
            raise TypeError(f"answers[{i}] must be a str or None, got {type(a).__name__}")
        cid = None
        if a is not None:
            cid = next((k for k, r in reps if equivalent(a, r)), None)
        if cid is None:
            cid, n = n, n + 1
            if a is not None:
                reps.append((cid, a))
        ids[i] = cid
    return ids


def cluster_token_answers(
    tokens: Int[ArrayLike, "... G T"], valid: Bool[ArrayLike, "... G"] | None = None
) -> Int[Array, "... G"]:
    """Exact-match clusters of G token sequences, jit-able: id_i = the first j with o_j == o_i.

    Sequences must be padded identically after their end (e.g. everything after EOS set to the pad
    id) so that equal answers compare equal. ``valid`` False (unparseable) gives a singleton:
    id_i = i. Ids lie in [0, G) (not compacted), which is all :func:`semantic_entropy` needs.

    Example: ``cluster_token_answers(jnp.array([[[1, 2], [3, 4], [1, 2]]]))  # [[0, 1, 0]]``.
    """
    t = jnp.asarray(tokens)
    if t.ndim < 2:
        raise ValueError(f"tokens must be (..., G, T), got shape {t.shape}")
    g = t.shape[-2]
    v = jnp.ones(t.shape[:-1], bool) if valid is None else jnp.asarray(valid).astype(bool)
    if v.shape != t.shape[:-1]:
        raise ValueError(f"valid must have shape {t.shape[:-1]}, got {v.shape}")
    same = jnp.all(t[..., :, None, :] == t[..., None, :, :], axis=-1)
    same = same & v[..., :, None] & v[..., None, :]
    same = same | jnp.eye(g, dtype=bool)
    return jnp.argmax(same, axis=-1).astype(jnp.int32)
