"""PECCARY: permutation entropy and statistical complexity (the complexity–entropy plane).

Hyman, Daniel & Schaffner, "PECCARY: A novel approach for characterizing orbital complexity,
stochasticity, and regularity", ApJ 987:195 (2025), arXiv:2407.11970.

A series is cut into windows of ``n`` values spaced by the sampling interval ℓ (``delay``); each
window becomes its ordinal pattern (stable argsort, ties in time order), one of n!. From the
pattern distribution P: the normalised permutation entropy H and the Jensen–Shannon statistical
complexity C place the series in the H–C plane, whose regions separate regular, complex
(chaotic) and stochastic behaviour.

* patterns: :func:`ordinal_patterns`, :func:`pattern_counts`, :func:`ordinal_distribution`,
  :func:`all_patterns` (the pattern order, = ordpy's), images: :func:`image_pattern_counts`, …
* H and C: :func:`entropy_complexity`, :func:`permutation_entropy`,
  :func:`statistical_complexity` — a series (T,) or batch (B, T), one delay or many;
* the plane: :func:`minimum_complexity_curve`, :func:`maximum_complexity_curve`,
  :func:`max_complexity`, :func:`periodic_entropy_bounds`, :func:`classify`;
* the sampling interval: :func:`natural_timescale`, :func:`recommended_delay`,
  :func:`suggest_delay`, :func:`entropy_complexity_vs_delay`;
* variants: weighted, Rényi, Tsallis, missing patterns;
* the paper's signals: sines, coloured noise, logistic/Hénon/tent maps, double pendulum.

Example::

    from jentropy import ordinal
    H, C = ordinal.entropy_complexity(x, n=5, delay=1)          # x: (T,) or (B, T)
    ordinal.REGIONS[int(ordinal.classify(H, C, n=5))]          # 'regular' | 'complex' | ...
"""

from ._complexity import entropy_complexity as entropy_complexity
from ._complexity import (
    entropy_complexity_from_distribution as entropy_complexity_from_distribution,
)
from ._complexity import js_complexity_normalization as js_complexity_normalization
from ._complexity import permutation_entropy as permutation_entropy
from ._complexity import statistical_complexity as statistical_complexity
from ._curves import REGIONS as REGIONS
from ._curves import classify as classify
from ._curves import max_complexity as max_complexity
from ._curves import maximum_complexity_curve as maximum_complexity_curve
from ._curves import minimum_complexity_curve as minimum_complexity_curve
from ._curves import periodic_entropy_bounds as periodic_entropy_bounds
from ._images import image_entropy_complexity as image_entropy_complexity
from ._images import image_ordinal_distribution as image_ordinal_distribution
from ._images import image_pattern_counts as image_pattern_counts
from ._patterns import all_patterns as all_patterns
from ._patterns import ordinal_distribution as ordinal_distribution
from ._patterns import ordinal_patterns as ordinal_patterns
from ._patterns import pattern_counts as pattern_counts
from ._signals import NOISE_EXPONENTS as NOISE_EXPONENTS
from ._signals import DoublePendulum as DoublePendulum
from ._signals import colored_noise as colored_noise
from ._signals import double_pendulum as double_pendulum
from ._signals import henon_map as henon_map
from ._signals import logistic_map as logistic_map
from ._signals import sine_wave as sine_wave
from ._signals import sum_of_sines as sum_of_sines
from ._signals import tent_map as tent_map
from ._timescale import TIMESCALE_METHODS as TIMESCALE_METHODS
from ._timescale import entropy_complexity_vs_delay as entropy_complexity_vs_delay
from ._timescale import natural_timescale as natural_timescale
from ._timescale import pattern_time as pattern_time
from ._timescale import recommended_delay as recommended_delay
from ._timescale import recommended_delay_range as recommended_delay_range
from ._timescale import suggest_delay as suggest_delay
from ._variants import missing_patterns as missing_patterns
from ._variants import renyi_entropy_complexity as renyi_entropy_complexity
from ._variants import renyi_permutation_entropy as renyi_permutation_entropy
from ._variants import tsallis_entropy_complexity as tsallis_entropy_complexity
from ._variants import tsallis_permutation_entropy as tsallis_permutation_entropy
from ._variants import weighted_entropy_complexity as weighted_entropy_complexity
from ._variants import weighted_ordinal_distribution as weighted_ordinal_distribution
from ._variants import weighted_permutation_entropy as weighted_permutation_entropy

__all__ = [
    "NOISE_EXPONENTS",
    "REGIONS",
    "TIMESCALE_METHODS",
    "DoublePendulum",
    "all_patterns",
    "classify",
    "colored_noise",
    "double_pendulum",
    "entropy_complexity",
    "entropy_complexity_from_distribution",
    "entropy_complexity_vs_delay",
    "henon_map",
    "image_entropy_complexity",
    "image_ordinal_distribution",
    "image_pattern_counts",
    "js_complexity_normalization",
    "logistic_map",
    "max_complexity",
    "maximum_complexity_curve",
    "minimum_complexity_curve",
    "missing_patterns",
    "natural_timescale",
    "ordinal_distribution",
    "ordinal_patterns",
    "pattern_counts",
    "pattern_time",
    "periodic_entropy_bounds",
    "permutation_entropy",
    "recommended_delay",
    "recommended_delay_range",
    "renyi_entropy_complexity",
    "renyi_permutation_entropy",
    "sine_wave",
    "statistical_complexity",
    "suggest_delay",
    "sum_of_sines",
    "tent_map",
    "tsallis_entropy_complexity",
    "tsallis_permutation_entropy",
    "weighted_entropy_complexity",
    "weighted_ordinal_distribution",
    "weighted_permutation_entropy",
]
