"""jentropy.chaos — the chaotic-systems database on JAX.

Reference: W. Gilpin, "Chaos as an interpretable benchmark for forecasting and data-driven
modelling", NeurIPS 2021 Datasets and Benchmarks (the `dysts` database; metadata carried over from
dysts 0.96 under Apache-2.0, see ``jentropy/chaos/data/NOTICE.md``).

Example::

    from jentropy import chaos
    lorenz = chaos.get("Lorenz")
    chaos.list_systems("flow", dim=3)
"""

from ._system import KINDS as KINDS
from ._system import System as System
from ._system import get as get
from ._system import list_systems as list_systems

__all__ = ["KINDS", "System", "get", "list_systems"]
