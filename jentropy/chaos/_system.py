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
    J = lorenz.jacobian(lorenz.ic)      # (3, 3), from jax.jacfwd
    chaos.list_systems(kind="map")
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import json
import os
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ._rhs_utils import floating, follow_state_dtype

Kind = Literal["flow", "delay", "map"]
KINDS: tuple[str, ...] = ("flow", "delay", "map")

_DATA = os.path.join(os.path.dirname(__file__), "data")
# Keyed by (kind, name): one name, "Duffing", is both a flow and a map in dysts.
_REGISTRY: dict[tuple[str, str], System] = {}


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


def _param_value(name: str, value: Any, like: Any = None) -> float | np.ndarray:
    """A parameter as stored: a float for scalars, a read-only float64 array otherwise."""
    arr = np.array(value, dtype=np.float64)
    if like is not None and arr.shape != np.shape(like):
        raise ValueError(
            f"parameter {name!r} must have shape {np.shape(like)}, got shape {arr.shape}"
        )
    if arr.ndim == 0:
        return float(arr)
    arr.setflags(write=False)
    return arr


@dataclasses.dataclass(frozen=True, eq=False)
class System:
    """A named dynamical system: equations in JAX plus its metadata.

    Attributes:
        name: the dysts name (e.g. ``"Lorenz"``).
        kind: ``"flow"`` (ODE ``dx/dt = f(x, t, p)``), ``"delay"`` (scalar delay equation
            ``dx/dt = f(x(t), x(t − τ), t, p)``) or ``"map"`` (``x_{k+1} = f(x_k, p)``).
        dim: state dimension (for delay equations 1; the delay embedding is an output choice).
        params: read-only mapping of parameter name → value, sorted by name; scalars are
            floats, vector/matrix parameters (e.g. BeerRNN's ``w``) read-only float64 arrays.
        ic: default initial condition, shape (dim,) (read-only numpy array); for delay
            equations the stored delay-embedded state, shape (embedding_dimension,), whose first
            entry is the constant history.
        metadata: read-only dict of everything else in the JSON entry (``dt``, ``period``,
            ``lyapunov_spectrum_estimated``, ``citation``, ``unbounded_indices`` …).
        fn: the right-hand side, see ``kind``; ``p`` is a dict of parameter arrays. Time and
            parameters are cast to the state's dtype before the equations run.
        inverse: for invertible maps, the inverse ``x_k = inverse(x_{k+1}, p)``; else ``None``.
        postprocess: for systems with unbounded coordinates (angles, phases, polar radii), the
            map ``postprocess(x, p)`` of one state (dim,) to bounded observables, as dysts's
            ``_postprocessing`` (e.g. a forcing phase z ↦ sin z); else ``None``.
    """

    name: str
    kind: str
    dim: int
    params: Mapping[str, Any]
    ic: np.ndarray
    metadata: Mapping[str, Any]
    fn: Callable[..., Array]
    inverse: Callable[..., Array] | None = None
    postprocess: Callable[..., Array] | None = None

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
        """Whether dysts flags the system as forced (it then carries its phase as a state)."""
        return bool(self.metadata.get("nonautonomous", False))

    @property
    def hamiltonian(self) -> bool:
        """Whether dysts flags the system as Hamiltonian (volume-preserving)."""
        return bool(self.metadata.get("hamiltonian", False))

    @property
    def unbounded_indices(self) -> tuple[int, ...]:
        """State coordinates that grow without bound (angles, phases)."""
        return tuple(self.metadata.get("unbounded_indices", ()))

    @property
    def citation(self) -> str:
        """The source reference stored in the metadata (may be empty for some maps)."""
        return str(self.metadata.get("citation", "")).strip()

    @property
    def param_array(self) -> dict[str, Array]:
        """Parameters as a dict of JAX arrays (the pytree passed to the right-hand side)."""
        return {k: jnp.asarray(v) for k, v in self.params.items()}

    # --- evaluation -------------------------------------------------------------------------
    def _check_state(self, x: ArrayLike, name: str = "x") -> Array:
        x = floating(x)
        if x.shape[-1:] != (self.dim,):
            raise ValueError(
                f"{name} must have trailing dimension {self.dim} for {self.name}, "
                f"got shape {x.shape}"
            )
        return x

    def rhs(
        self,
        x: ArrayLike,
        t: ArrayLike = 0.0,
        params: Mapping[str, Any] | None = None,
        x_delayed: ArrayLike | None = None,
    ) -> Array:
        """Evaluate the right-hand side at a state of shape (dim,) or a batch (..., dim).

        Flows: ``f(x, t, p)``; delay equations: ``f(x, x_delayed, t, p)`` (``x_delayed`` defaults to
        ``x``); maps: the next state ``f(x, p)`` (``t`` ignored). ``params`` overrides the stored
        parameters (a dict of arrays; may be traced). Batched states are vmapped over their
        leading axes with one shared ``t`` and ``params``.
        """
        p = self.param_array if params is None else dict(params)
        x = self._check_state(x)
        if self.kind == "map":
            fn = lambda xi: self.fn(xi, p)  # noqa: E731
            args: tuple[Array, ...] = (x,)
        elif self.kind == "delay":
            xd = x if x_delayed is None else self._check_state(x_delayed, "x_delayed")
            xd = jnp.broadcast_to(xd, x.shape)
            fn = lambda xi, xdi: self.fn(xi, xdi, t, p)  # noqa: E731
            args = (x, xd)
        else:
            fn = lambda xi: self.fn(xi, t, p)  # noqa: E731
            args = (x,)
        for _ in range(x.ndim - 1):
            fn = jax.vmap(fn)
        return fn(*args)

    def rhs_inv(self, x: ArrayLike, params: Mapping[str, Any] | None = None) -> Array:
        """The preimage ``f⁻¹(x)`` of an invertible map, for x of shape (dim,) or (..., dim).

        Raises ``ValueError`` for systems without an inverse (see :attr:`inverse`).
        """
        if self.inverse is None:
            raise ValueError(f"{self.name} has no inverse (only some maps are invertible)")
        p = self.param_array if params is None else dict(params)
        x = self._check_state(x)
        fn = lambda xi: self.inverse(xi, p)  # noqa: E731
        for _ in range(x.ndim - 1):
            fn = jax.vmap(fn)
        return fn(x)

    def jacobian(
        self,
        x: ArrayLike,
        t: ArrayLike = 0.0,
        params: Mapping[str, Any] | None = None,
    ) -> Array:
        """The Jacobian ∂f/∂x at one state, shape (dim, dim), by forward-mode autodiff.

        For delay equations this is the derivative with respect to the current state x(t)
        (the delayed state held fixed at x).
        """
        x = self._check_state(x)
        if x.ndim != 1:
            raise ValueError(f"x must have shape ({self.dim},), got {x.shape}")
        return jax.jacfwd(lambda y: self.rhs(y, t, params, x_delayed=x))(x)

    def vector_field(self, t: ArrayLike, y: Array, args: Mapping[str, Any] | None) -> Array:
        """diffrax-style ``(t, y, args) -> dy/dt`` for flows, with ``args`` the parameter dict."""
        if self.kind != "flow":
            raise TypeError(f"{self.name} is a {self.kind}, not a flow: it has no vector field")
        return self.fn(y, t, self.param_array if args is None else args)

    def with_params(self, **overrides: Any) -> System:
        """A copy with some parameters replaced (unknown names or wrong shapes raise
        ``ValueError``). Array-valued parameters take arrays of the same shape."""
        unknown = sorted(set(overrides) - set(self.params))
        if unknown:
            raise ValueError(
                f"{self.name} has no parameter(s) {unknown}; parameters: {sorted(self.params)}"
            )
        new = dict(self.params)
        new.update({k: _param_value(k, v, like=self.params[k]) for k, v in overrides.items()})
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


def _register(
    kind: str,
    name: str,
    dim: int | None,
    fn: Callable[..., Array],
    inverse: Callable[..., Array] | None = None,
    postprocess: Callable[..., Array] | None = None,
) -> System:
    meta = dict(_metadata(kind).get(name, {}))
    if not meta:
        raise KeyError(f"no metadata for {kind} {name!r} in data/")
    if kind != "map" and bool(meta.get("delay", False)) != (kind == "delay"):
        raise KeyError(f"{name!r} registered as a {kind} but its metadata says otherwise")
    params = {k: _param_value(k, v) for k, v in sorted(meta.pop("parameters", {}).items())}
    ic = np.atleast_1d(np.array(meta.pop("initial_conditions"), dtype=np.float64))
    if dim is None:
        dim = int(ic.shape[-1])
    ic.setflags(write=False)
    wrapped_inverse = None if inverse is None else follow_state_dtype("map", inverse)
    wrapped_post = None if postprocess is None else follow_state_dtype("map", postprocess)
    system = System(
        name,
        kind,
        dim,
        MappingProxyType(params),
        ic,
        _frozen(meta),
        follow_state_dtype(kind, fn),
        wrapped_inverse,
        wrapped_post,
    )
    _REGISTRY[(kind, name)] = system
    return system


def flow(
    name: str,
    dim: int | None = None,
    *,
    postprocess: Callable[..., Array] | None = None,
) -> Callable[[Callable[..., Array]], Callable[..., Array]]:
    """Register ``fn(x, t, p) -> dx/dt`` as the continuous system ``name`` (metadata from JSON),
    with an optional ``postprocess(x, p)`` to bounded coordinates.

    Decorators stack: one function may serve several names (e.g. Thomas and ThomasLabyrinth).
    """

    def deco(fn: Callable[..., Array]) -> Callable[..., Array]:
        _register("flow", name, dim, fn, postprocess=postprocess)
        return fn

    return deco


def delay(name: str) -> Callable[[Callable[..., Array]], Callable[..., Array]]:
    """Register ``fn(x, x_delayed, t, p) -> dx/dt`` as the scalar delay equation ``name``."""

    def deco(fn: Callable[..., Array]) -> Callable[..., Array]:
        _register("delay", name, 1, fn)
        return fn

    return deco


def map_(
    name: str,
    dim: int | None = None,
    *,
    inverse: Callable[..., Array] | None = None,
) -> Callable[[Callable[..., Array]], Callable[..., Array]]:
    """Register ``fn(x, p) -> x_next`` as the discrete map ``name``, with an optional inverse
    ``inverse(x_next, p) -> x``."""

    def deco(fn: Callable[..., Array]) -> Callable[..., Array]:
        _register("map", name, dim, fn, inverse)
        return fn

    return deco


def _load_all() -> None:
    # Importing the equation files fills the registry (they import this file, not vice versa).
    from . import _equations  # noqa: F401


def get(name: str, kind: str | None = None) -> System:
    """The system called ``name`` (dysts's spelling), optionally of a given ``kind``.

    One name is shared between kinds, as in dysts: ``"Duffing"`` is both the forced Duffing
    oscillator (``dysts.flows.Duffing``) and the Holmes–Duffing map (``dysts.maps.Duffing``).
    Without ``kind`` the continuous system is returned; ``get("Duffing", kind="map")`` gives the
    map. Unknown names raise ``ValueError`` listing close matches.

    Example: ``chaos.get("Lorenz")``, ``chaos.get("Henon", kind="map")``.
    """
    _load_all()
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS} or None, got {kind!r}")
    for k in (kind,) if kind is not None else KINDS:
        if (k, name) in _REGISTRY:
            return _REGISTRY[(k, name)]
    other = [k for k in KINDS if (k, name) in _REGISTRY]
    if other:
        raise ValueError(f"{name!r} is a {other[0]}, not a {kind}")
    names = sorted({n for (k, n) in _REGISTRY if kind is None or k == kind})
    import difflib

    close = difflib.get_close_matches(name, names, n=5)
    if not close:  # case-insensitive fallback: "lorenz" -> Lorenz, "henonmap" -> Henon
        low = name.lower()
        close = [n for n in names if n.lower() in low or low in n.lower()][:5]
    what = "system" if kind is None else kind
    raise ValueError(
        f"unknown {what} {name!r}; did you mean {close}? "
        f"(chaos.list_systems() lists all {len(_REGISTRY)} systems)"
    )


def list_systems(
    kind: str | Sequence[str] | None = None,
    *,
    dim: int | None = None,
    hamiltonian: bool | None = None,
    nonautonomous: bool | None = None,
    unbounded: bool | None = None,
) -> list[str]:
    """Names of registered systems (sorted), filtered by kind, dimension and metadata flags.

    ``kind`` is one of ``"flow"``, ``"delay"``, ``"map"``, a sequence of them (e.g.
    ``("flow", "delay")`` for every continuous system), or ``None`` for all. The list has one
    entry per system, so ``"Duffing"`` (a flow and a map) appears twice when both kinds are
    listed; fetch such names with ``get(name, kind=...)``.

    Example: ``list_systems("flow", dim=3, nonautonomous=False)``.
    """
    _load_all()
    kinds = (kind,) if isinstance(kind, str) else kind
    if kinds is not None and (not kinds or any(k not in KINDS for k in kinds)):
        raise ValueError(f"kind must be one of {KINDS}, a sequence of them, or None; got {kind!r}")
    out = []
    for (_, name), s in _REGISTRY.items():
        if kinds is not None and s.kind not in kinds:
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
