"""PECCARY: permutation entropy and statistical complexity (the complexity–entropy plane)."""

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
from ._patterns import all_patterns as all_patterns
from ._patterns import ordinal_distribution as ordinal_distribution
from ._patterns import ordinal_patterns as ordinal_patterns
from ._patterns import pattern_counts as pattern_counts

__all__ = ["all_patterns", "ordinal_distribution", "ordinal_patterns", "pattern_counts"]
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
