"""SEED-GRPO: answer extraction, clustering, semantic entropy estimators, modulation."""

from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import rl


@pytest.mark.parametrize(
    "text,answer",
    [
        (r"so $x = \boxed{\frac{1}{2}}$.", r"\frac{1}{2}"),
        (r"first \boxed{3} then \boxed{ 4 }", "4"),
        ("The answer is: 42.", "42"),
        ("answer = 7\nmore text", "7"),
        ("Answer: $-3$", "-3"),
        ("no idea", None),
        (r"\boxed{}", None),
    ],
)
def test_extract_final_answer(text, answer):
    assert rl.extract_final_answer(text) == answer


def test_cluster_answers_default_and_pluggable():
    np.testing.assert_array_equal(rl.cluster_answers(["4", "5", None, "4", None]), [0, 1, 2, 0, 3])
    np.testing.assert_array_equal(rl.cluster_answers(["1 / 2", "1/2"]), [0, 0])

    def same_number(a, b):
        try:
            return Fraction(a) == Fraction(b)
        except ValueError:
            return False

    np.testing.assert_array_equal(
        rl.cluster_answers(["0.5", "1/2", "2/4", "1"], same_number), [0, 0, 0, 1]
    )
    with pytest.raises(TypeError):
        rl.cluster_answers("45")


def test_token_clusters_match_text_clusters():
    toks = jnp.array(
        [[[1, 2, 0], [3, 0, 0], [1, 2, 0], [3, 0, 0]], [[5, 5, 5], [5, 5, 5], [4, 4, 4], [5, 5, 5]]]
    )
    valid = jnp.array([[True, True, True, False], [True, True, True, True]])
    ids = jax.jit(rl.cluster_token_answers)(toks, valid)
    np.testing.assert_array_equal(ids, [[0, 1, 0, 3], [0, 0, 2, 0]])
    # same partition as the text path (labels differ, entropies agree)
    text = [["12", "3", "12", None], ["555", "555", "444", "555"]]
    for row_ids, row_txt in zip(ids, text):
        c = rl.cluster_answers(row_txt)
        assert float(
            rl.semantic_entropy(None, row_ids[None], estimator="count")[0]
        ) == pytest.approx(
            float(rl.semantic_entropy(None, jnp.asarray(c)[None], estimator="count")[0]), rel=1e-6
        )


_se = jax.jit(rl.semantic_entropy, static_argnames="estimator")


def test_semantic_entropy_hand_values():
    ids = jnp.array([[0, 1, 1], [0, 0, 0], [0, 1, 2]])
    # likelihood-weighted: masses .5 | .25 + .25 → log 2
    ll = jnp.log(jnp.array([[0.5, 0.25, 0.25], [0.2, 0.3, 0.5], [0.2, 0.2, 0.2]]))
    np.testing.assert_allclose(_se(ll, ids), [np.log(2), 0, np.log(3)], rtol=1e-6, atol=1e-7)
    # count-based: 1/3, 2/3
    h = -(1 / 3 * np.log(1 / 3) + 2 / 3 * np.log(2 / 3))
    np.testing.assert_allclose(
        _se(None, ids, estimator="count"), [h, 0, np.log(3)], rtol=1e-6, atol=1e-7
    )
    # Monte-Carlo form −(1/K) Σ log p_k
    np.testing.assert_allclose(_se(ll, ids, estimator="monte_carlo")[0], np.log(2), rtol=1e-6)
    assert rl.semantic_entropy_max(8) == pytest.approx(np.log(8))


def test_semantic_entropy_stable_for_very_negative_loglik_and_bounded():
    ll = jnp.array([[-2000.0, -2000.0, -2001.0, -5000.0]])  # e^ℓ underflows: needs log-sum-exp
    se = _se(ll, jnp.array([[0, 1, 1, 3]]))
    p1 = 1 / (1 + 1 + np.exp(-1.0))
    p2 = 1 - p1
    assert float(se[0]) == pytest.approx(-(p1 * np.log(p1) + p2 * np.log(p2)), rel=1e-5)
    rng = np.random.default_rng(0)
    ll = jnp.asarray(rng.normal(-3, 2, (50, 8)), jnp.float32)
    ids = jnp.asarray(rng.integers(0, 8, (50, 8)), jnp.int32)
    se = np.asarray(_se(ll, ids))
    assert np.all(se >= -1e-6) and np.all(se <= np.log(8) + 1e-5)


def test_zero_likelihood_group_falls_back_to_counts():
    # every answer at ℓ = −∞: no likelihood weights, so equal weights (count estimator), not NaN
    ids = jnp.array([[0, 1, 1, 2], [0, 0, 1, 1]])
    ll = jnp.array([[-jnp.inf] * 4, [-jnp.inf, -jnp.inf, 0.0, -jnp.inf]])
    se = np.asarray(_se(ll, ids))
    count = np.asarray(_se(None, ids, estimator="count"))
    np.testing.assert_allclose(se[0], count[0], rtol=1e-6)
    assert se[1] == 0.0  # one answer holds all the mass


def test_sequence_log_likelihood_ignores_masked_inf():
    lp = jnp.array([[-1.0, -3.0, -jnp.inf]])
    m = jnp.array([[1.0, 1.0, 0.0]])
    assert float(rl.sequence_log_likelihood(lp, m)[0]) == -2.0
    assert float(rl.sequence_log_likelihood(lp, m, normalize=False)[0]) == -4.0


def test_modulation_forms():
    g = 8
    se = jnp.array([0.0, np.log(8) / 2, np.log(8)])
    np.testing.assert_allclose(
        rl.seed_advantage_scale(se, g, alpha=1.0, modulation="linear"), [1, 0.5, 0], atol=1e-6
    )
    np.testing.assert_allclose(
        rl.seed_advantage_scale(se, g, alpha=1.0, modulation="exp"),
        np.exp([0, -0.5, -1]),
        rtol=1e-6,
    )
    # third-party form Â = A / (1 + (α / ln G) SE)
    np.testing.assert_allclose(
        rl.seed_advantage_scale(se, g), 1 / (1 + 0.0417 / np.log(8) * np.asarray(se)), rtol=1e-6
    )
    np.testing.assert_allclose(
        rl.seed_advantage_scale(se, g, alpha=2.0, modulation=lambda x: 1 - x / 4),
        [1, 0.75, 0.5],
        rtol=1e-6,
    )
    np.testing.assert_allclose(rl.seed_advantage_scale(se[:1], 1), [1.0])  # G = 1


def test_seed_grpo_advantages_scale_confident_groups_less():
    r = jnp.array([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    ids = jnp.array([[0, 0, 0, 1], [0, 1, 2, 3]])  # confident vs all-different
    ll = jnp.zeros((2, 4))
    adv, se = rl.seed_grpo_advantages(r, ll, ids, alpha=1.0, modulation="linear")
    base = rl.dr_grpo_advantages(r)
    np.testing.assert_allclose(
        se, [-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)), np.log(4)], rtol=1e-6
    )
    np.testing.assert_allclose(adv[0], base[0] * (1 - se[0] / np.log(4)), rtol=1e-6)
    np.testing.assert_allclose(
        adv[1], 0, atol=1e-6
    )  # maximal uncertainty, linear f, α = 1 → no update


def test_errors():
    with pytest.raises(ValueError, match="estimator"):
        rl.semantic_entropy(None, jnp.zeros((1, 2), jnp.int32), estimator="plugin")
    with pytest.raises(ValueError, match="needs seq_log_likelihood"):
        rl.semantic_entropy(None, jnp.zeros((1, 2), jnp.int32))
    with pytest.raises(ValueError, match="modulation"):
        rl.seed_advantage_scale(jnp.zeros(1), 4, modulation="focal")
