"""jentropy.chaos — the chaotic-systems database on JAX.

Reference: W. Gilpin, "Chaos as an interpretable benchmark for forecasting and data-driven
modelling", NeurIPS 2021 Datasets and Benchmarks (the `dysts` database; metadata carried over from
dysts 0.96 under Apache-2.0, see ``jentropy/chaos/data/NOTICE.md``).

Example::

    from jentropy import chaos
    lorenz = chaos.get("Lorenz")
    chaos.list_systems("flow", dim=3)
"""

from ._ensemble import make_ensemble as make_ensemble
from ._ensemble import random_initial_conditions as random_initial_conditions
from ._lyapunov import LyapunovResult as LyapunovResult
from ._lyapunov import kaplan_yorke_dimension as kaplan_yorke_dimension
from ._lyapunov import lyapunov_spectrum as lyapunov_spectrum
from ._lyapunov import max_lyapunov_exponent as max_lyapunov_exponent
from ._lyapunov import pesin_entropy as pesin_entropy
from ._system import KINDS as KINDS
from ._system import System as System
from ._system import get as get
from ._system import list_systems as list_systems
from ._trajectory import Trajectory as Trajectory
from ._trajectory import make_trajectory as make_trajectory

__all__ = [
    "KINDS",
    "LyapunovResult",
    "System",
    "Trajectory",
    "get",
    "kaplan_yorke_dimension",
    "list_systems",
    "lyapunov_spectrum",
    "make_ensemble",
    "make_trajectory",
    "max_lyapunov_exponent",
    "pesin_entropy",
    "random_initial_conditions",
]
