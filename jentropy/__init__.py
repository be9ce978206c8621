"""jentropy: entropy-centred research methods as pure, composable JAX functions.

Subpackages are imported lazily, so ``import jentropy`` stays cheap::

    import jentropy
    H, C = jentropy.ordinal.entropy_complexity(x, n=5)   # imports jentropy.ordinal on first use
"""

import importlib
from typing import Any

__version__ = "0.1.0"

#: Core modules shared by every paper module.
CORE_MODULES = ("tree", "info", "integrate", "train", "nn", "parallel", "reproduce", "plotting")

#: Paper modules (one subpackage per paper). Not all of them need to be built yet:
#: ``jentropy.reproduce.built_modules()`` lists the ones that are.
PAPER_MODULES = (
    "ordinal",
    "chaos",
    "alignment",
    "rl",
    "diffusion",
    "active_sampling",
    "active_matter",
    "hamiltonian",
    "continual",
    "clustering",
    "coolcore",
    "consciousness",
)

__all__ = ["CORE_MODULES", "PAPER_MODULES", "__version__", *CORE_MODULES, *PAPER_MODULES]


def __getattr__(name: str) -> Any:
    if name in CORE_MODULES or name in PAPER_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'jentropy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
