"""Asymptotics of language-model alignment: exact KL-RL optimum, exact best-of-N, large deviations.

Paper: J. Q. Yang, S. Salamatian, Z. Sun, A. T. Suresh, A. Beirami, "Asymptotics of Language Model
Alignment", ISIT 2024 (arXiv 2404.01730); exact best-of-N after Beirami et al., arXiv 2401.01879.

A base model p and a reward r on an enumerated outcome set (a vocabulary, a list of answers) are an
:class:`Outcomes` (built and validated by :func:`outcomes`). Then:

* the KL-constrained RL optimum φ_λ ∝ p e^{λr}: :func:`cumulant_generating_function` Λ,
  :func:`tilt_log_probs`, :func:`tilt_reward` Λ', :func:`tilt_kl` λΛ' − Λ,
  :func:`tilt_cumulants` Λ^{(k)}, :func:`max_kl`, the budget solver :func:`solve_lambda` and
  :func:`closeness_identity` (any policy with a comparable trade-off is close to φ);
* exact best-of-N in log space, ties exact, N real ≥ 1 or given as log N:
  :func:`best_of_n_log_probs`, :func:`best_of_n_stats` (KL, reward, win rate, bound) and its
  single-quantity forms, :func:`best_of_n_kl_bound`, Monte Carlo :func:`sample_best_of_n`;
* a memoryless LM with a linear reward: :func:`sequence_tilt`, :func:`rate_function` I(x)
  (:func:`bernoulli_rate_function` in closed form), the Rényi link
  :func:`renyi_cumulant_generating_function`, the exact law of the sequence reward
  :func:`sum_reward_log_pmf`, exact best-of-N at N = e^{nδ} :func:`sequence_best_of_n`, and
  sharded sampling :func:`sample_sequence_rewards`, :func:`sample_best_of_n_sequences`.

Everything is jit/vmap/grad-compatible and follows the input dtype; the far tails of long
sequences (probabilities like e^{−500}) need float64 (``with jax.enable_x64(True):``).

Example::

    import jax.numpy as jnp
    from jentropy import alignment as al

    o = al.outcomes(jnp.array([0.0, 1.0]), probs=jnp.array([0.7, 0.3]))  # Bernoulli(0.3) token
    lam = al.solve_lambda(o, 0.1)                    # 0.905831 (β = 1/λ)
    al.tilt_reward(o, lam)                           # x* = 0.514629
    al.best_of_n_stats(o, 16).kl                     # exact KL(π_16 ‖ p) ≤ log 16 − 15/16
    al.sequence_best_of_n(o, 1000, 0.1)              # reward/n 0.5113, KL(bon‖φ)/n 2.0e-3
"""

from ._best_of_n import BestOfNStats as BestOfNStats
from ._best_of_n import Levels as Levels
from ._best_of_n import best_of_n_kl as best_of_n_kl
from ._best_of_n import best_of_n_kl_bound as best_of_n_kl_bound
from ._best_of_n import best_of_n_log_probs as best_of_n_log_probs
from ._best_of_n import best_of_n_reward as best_of_n_reward
from ._best_of_n import best_of_n_stats as best_of_n_stats
from ._best_of_n import best_of_n_win_rate as best_of_n_win_rate
from ._best_of_n import reward_levels as reward_levels
from ._memoryless import SequenceTilt as SequenceTilt
from ._memoryless import bernoulli_rate_function as bernoulli_rate_function
from ._memoryless import rate_function as rate_function
from ._memoryless import (
    renyi_cumulant_generating_function as renyi_cumulant_generating_function,
)
from ._memoryless import sequence_tilt as sequence_tilt
from ._outcomes import Outcomes as Outcomes
from ._outcomes import outcomes as outcomes
from ._sampling import sample_best_of_n as sample_best_of_n
from ._sampling import sample_best_of_n_sequences as sample_best_of_n_sequences
from ._sampling import sample_sequence_rewards as sample_sequence_rewards
from ._sequence_bon import SequenceBestOfN as SequenceBestOfN
from ._sequence_bon import sequence_best_of_n as sequence_best_of_n
from ._sums import lattice_levels as lattice_levels
from ._sums import sum_reward_log_pmf as sum_reward_log_pmf
from ._tilt import Closeness as Closeness
from ._tilt import closeness_identity as closeness_identity
from ._tilt import cumulant_generating_function as cumulant_generating_function
from ._tilt import max_kl as max_kl
from ._tilt import solve_lambda as solve_lambda
from ._tilt import tilt_cumulants as tilt_cumulants
from ._tilt import tilt_for_mean as tilt_for_mean
from ._tilt import tilt_kl as tilt_kl
from ._tilt import tilt_log_probs as tilt_log_probs
from ._tilt import tilt_reward as tilt_reward

__all__ = [
    "BestOfNStats",
    "Closeness",
    "Levels",
    "Outcomes",
    "SequenceBestOfN",
    "SequenceTilt",
    "bernoulli_rate_function",
    "best_of_n_kl",
    "best_of_n_kl_bound",
    "best_of_n_log_probs",
    "best_of_n_reward",
    "best_of_n_stats",
    "best_of_n_win_rate",
    "closeness_identity",
    "cumulant_generating_function",
    "lattice_levels",
    "max_kl",
    "outcomes",
    "rate_function",
    "renyi_cumulant_generating_function",
    "reward_levels",
    "sample_best_of_n",
    "sample_best_of_n_sequences",
    "sample_sequence_rewards",
    "sequence_best_of_n",
    "sequence_tilt",
    "solve_lambda",
    "sum_reward_log_pmf",
    "tilt_cumulants",
    "tilt_for_mean",
    "tilt_kl",
    "tilt_log_probs",
    "tilt_reward",
]
