"""The chaotic-systems registry: one immutable :class:`System` per named system.

A system couples a right-hand side written in JAX (in the ``_flows_*.py``, ``_delay.py`` and
``_maps.py`` files) with the metadata shipped in ``data/`` (carried over from dysts 0.96; see
``data/NOTICE.md``). Parameters travel as a dict pytree, so right-hand sides can be differentiated
with respect to them, vmapped over parameter sets, and overridden immutably::

    from jentropy import chaos
    lorenz = chaos.get("Lorenz")
    lorenz.params                       # {'beta': 2.667, 'rho': 28.0, 'sigma': 10.0}
    faster = lorenz.with_params(rho=35.0)
    dx = lorenz.rhs(lorenz.ic)          # f(x, t=0, params)
    chaos.list_systems(kind="map")
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import json
import os
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

Kind = Literal["flow", "delay", "map"]
KINDS: tuple[str, ...] = ("flow", "delay", "map")

_DATA = os.path.join(os.path.dirname(__file__), "data")
_REGISTRY: dict[str, System] = {}


@functools.cache
def _metadata(kind: str) -> dict[str, dict[str, Any]]:
    fname = "discrete_maps.json" if kind == "map" else "chaotic_attractors.json"
    path = os.path.join(_DATA, fname)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return json.load(f)


def _frozen(x: Any) -> Any:
    if isinstance(x, Mapping):
        return MappingProxyType({k: _frozen(v) for k, v in x.items()})
    if isinstance(x, list):
        return tuple(_frozen(v) for v in x)
    return x


@dataclasses.dataclass(frozen=True, eq=False)
class System:
    """A named dynamical system: equations in JAX plus its metadata.

    Attributes:
        name: the dysts name (e.g. ``"Lorenz"``).
        kind: ``"flow"`` (ODE ``dx/dt = f(x, t, p)``), ``"delay"`` (scalar delay equation
            ``dx/dt = f(x(t), x(t − τ), t, p)``) or ``"map"`` (``x_{k+1} = f(x_k, p)``).
        dim: state dimension (for delay equations 1; the delay embedding is an output choice).
        params: read-only mapping of parameter name → value, sorted by name.
        ic: default initial condition, shape (dim,) (read-only numpy array); for delay
            equations the stored delay-embedded state, shape (embedding_dimension,), whose first
            entry is the constant history.
        metadata: read-only dict of everything else in the JSON entry (``dt``, ``period``,
            ``lyapunov_spectrum_estimated``, ``citation``, ``unbounded_indices`` …).
        fn: the raw right-hand side, see ``kind``; ``p`` is a dict of parameter arrays.
    """

    name: str
    kind: str
    dim: int
    params: Mapping[str, float]
    ic: np.ndarray
    metadata: Mapping[str, Any]
    fn: Callable[..., Array]

    # --- metadata shortcuts -------------------------------------------------------------
    @property
    def dt(self) -> float:
        """The integration / sampling step stored in the metadata (1 for maps)."""
        return float(self.metadata.get("dt", 1.0))

    @property
    def period(self) -> float:
        """The dominant period stored in the metadata (1 for maps)."""
        return float(self.metadata.get("period", 1.0))

    @property
    def nonautonomous(self) -> bool:
        return bool(self.metadata.get("nonautonomous", False))

    @property
    def hamiltonian(self) -> bool:
        return bool(self.metadata.get("hamiltonian", False))

    @property
    def unbounded_indices(self) -> tuple[int, ...]:
        return tuple(self.metadata.get("unbounded_indices", ()))

    @property
    def param_array(self) -> dict[str, Array]:
        """Parameters as a dict of JAX scalars (the pytree passed to the right-hand side)."""
        return {k: jnp.asarray(v) for k, v in self.params.items()}

    # --- evaluation -------------------------------------------------------------------------
    def rhs(
        self,
        x: ArrayLike,
        t: ArrayLike = 0.0,
        params: Mapping[str, Any] | None = None,
        x_delayed: ArrayLike | None = None,
    ) -> Array:
        """Evaluate the right-hand side at one state.

        Flows: ``f(x, t, p)``; delay equations: ``f(x, x_delayed, t, p)`` (``x_delayed`` defaults to
        ``x``); maps: the next state ``f(x, p)`` (``t`` ignored). ``params`` overrides the stored
        parameters (a dict of arrays; may be traced).
        """
        p = self.param_array if params is None else dict(params)
        x = jnp.asarray(x)
        if x.shape[-1:] != (self.dim,):
            raise ValueError(
                f"x must have trailing dimension {self.dim} for {self.name}, got shape {x.shape}"
            )
        if self.kind == "map":
            return self.fn(x, p)
        if self.kind == "delay":
            xd = x if x_delayed is None else jnp.asarray(x_delayed)
            return self.fn(x, xd, t, p)
        return self.fn(x, t, p)

    def vector_field(self, t: ArrayLike, y: Array, args: Mapping[str, Any] | None) -> Array:
        """diffrax-style ``(t, y, args) -> dy/dt`` for flows, with ``args`` the parameter dict."""
        if self.kind != "flow":
            raise TypeError(f"{self.name} is a {self.kind}, not a flow: it has no vector field")
        return self.fn(y, t, self.param_array if args is None else args)

    def with_params(self, **overrides: float) -> System:
        """A copy with some parameters replaced (unknown names raise ``ValueError``)."""
        unknown = sorted(set(overrides) - set(self.params))
        if unknown:
            raise ValueError(
                f"{self.name} has no parameter(s) {unknown}; parameters: {sorted(self.params)}"
            )
        new = dict(self.params)
        new.update({k: float(v) for k, v in overrides.items()})
        return dataclasses.replace(self, params=MappingProxyType(dict(sorted(new.items()))))

    def with_ic(self, ic: ArrayLike) -> System:
        """A copy with a different default initial condition (shape (dim,))."""
        arr = np.array(ic, dtype=np.float64)
        if arr.shape != self.ic.shape:
            raise ValueError(f"ic must have shape {self.ic.shape} for {self.name}, got {arr.shape}")
        arr.setflags(write=False)
        return dataclasses.replace(self, ic=arr)

    def __repr__(self) -> str:
        return f"System({self.name!r}, kind={self.kind!r}, dim={self.dim})"


def _register(kind: str, name: str, dim: int | None, fn: Callable[..., Array]) -> System:
    meta = dict(_metadata(kind).get(name, {}))
    if not meta:
        raise KeyError(f"no metadata for {kind} {name!r} in data/")
    params = {
        k: float(v) if not isinstance(v, (list, tuple)) else tuple(v)
        for k, v in sorted(meta.pop("parameters", {}).items())
    }
    ic = np.asarray(meta.pop("initial_conditions"), dtype=np.float64)
    ic = np.atleast_1d(ic)
    if dim is None:
        dim = int(ic.shape[-1])
    ic.setflags(write=False)
    system = System(name, kind, dim, MappingProxyType(params), ic, _frozen(meta), fn)
    _REGISTRY[name] = system
    return system


def flow(
    name: str, dim: int | None = None
) -> Callable[[Callable[..., Array]], Callable[..., Array]]:
    """Register ``fn(x, t, p) -> dx/dt`` as the continuous system ``name`` (metadata from JSON)."""

    def deco(fn: Callable[..., Array]) -> Callable[..., Array]:
        _register("flow", name, dim, fn)
        return fn

    return deco


def delay(name: str) -> Callable[[Callable[..., Array]], Callable[..., Array]]:
    """Register ``fn(x, x_delayed, t, p) -> dx/dt`` as the scalar delay equation ``name``."""

    def deco(fn: Callable[..., Array]) -> Callable[..., Array]:
        _register("delay", name, 1, fn)
        return fn

    return deco


def map_(
    name: str, dim: int | None = None
) -> Callable[[Callable[..., Array]], Callable[..., Array]]:
    """Register ``fn(x, p) -> x_next`` as the discrete map ``name``."""

    def deco(fn: Callable[..., Array]) -> Callable[..., Array]:
        _register("map", name, dim, fn)
        return fn

    return deco


def _load_all() -> None:
    # Importing the equation files fills the registry (they import this file, not vice versa).
    from . import _equations  # noqa: F401


def get(name: str) -> System:
    """The system called ``name`` (dysts's spelling). Unknown names raise ``ValueError``
    listing close matches."""
    _load_all()
    if name not in _REGISTRY:
        import difflib

        close = difflib.get_close_matches(name, list(_REGISTRY), n=5)
        raise ValueError(
            f"unknown system {name!r}; did you mean {close}? "
            f"(chaos.list_systems() lists all {len(_REGISTRY)})"
        )
    return _REGISTRY[name]


def list_systems(
    kind: str | None = None,
    *,
    dim: int | None = None,
    hamiltonian: bool | None = None,
    nonautonomous: bool | None = None,
    unbounded: bool | None = None,
) -> list[str]:
    """Names of registered systems (sorted), filtered by kind, dimension and metadata flags.

    Example: ``list_systems("flow", dim=3, nonautonomous=False)``.
    """
    _load_all()
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS} or None, got {kind!r}")
    out = []
    for name, s in _REGISTRY.items():
        if kind is not None and s.kind != kind:
            continue
        if dim is not None and s.dim != dim:
            continue
        if hamiltonian is not None and s.hamiltonian != hamiltonian:
            continue
        if nonautonomous is not None and s.nonautonomous != nonautonomous:
            continue
        if unbounded is not None and bool(s.unbounded_indices) != unbounded:
            continue
        out.append(name)
    return sorted(out)
