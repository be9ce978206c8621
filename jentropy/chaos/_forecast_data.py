"""The forecasting benchmark's data protocol (Gilpin 2021, Sec. 4 "Forecasting").

Per system, two series of ``periods`` = 12 dominant periods at ``pts_per_period`` = 15 (coarse,
180 points) or 100 (fine, 1200 points), made with :func:`make_trajectory` from two different
initial conditions on the attractor:

* ``train`` — for choosing hyperparameters: fit on its first ``fit_periods`` = 10 periods,
  validate on the last 2;
* ``test`` — for scoring: fit on its first 10 periods, forecast the last 2 (30 / 200 points)
  and compare.

Univariate series are the first coordinate (for delay equations: the first column of the delay
embedding); multivariate series are all coordinates. The noisy variant adds Gaussian
observation noise of standard deviation ``noise`` × (each coordinate's std over the fitted part)
to both series, as the paper's benchmark code does (it used the whole series' std; the fitted
part's keeps the test points out of the noise scale).

Initial conditions: with ``ics="random"`` both start from random points on the attractor
(:func:`random_initial_conditions`, the paper's protocol: one more short solve per system);
with ``ics="trajectory"`` (cheaper: one solve per system) one trajectory starts at the stored
initial condition, ``train`` is its first 12 periods and ``test`` the 12 periods that begin
``gap_periods`` later, so the test series starts from a different point on the attractor, many
Lyapunov times away for chaotic systems.

Example::

    from jentropy import chaos
    tasks = chaos.make_forecast_tasks(["Lorenz", "Rossler"], granularity="coarse",
                                      key=jax.random.key(0))
    tasks[0].test.shape, tasks[0].split          # (180, 1), 150
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import numpy as np
from jaxtyping import PRNGKeyArray

from ._system import System, get, list_systems

__all__ = ["GRANULARITIES", "ForecastTask", "forecast_systems", "make_forecast_tasks"]

#: Points per period of the paper's two granularities.
GRANULARITIES = {"coarse": 15, "fine": 100}

#: A series further than this many stored standard deviations from the stored mean (in a
#: bounded coordinate) has escaped the attractor and is reported as failed.
ESCAPE_SIGMAS = 100.0

#: Continuous systems added to dysts after the paper (its 131 are the other ones).
ADDED_AFTER_PAPER = (
    "AtmosphericRegime",
    "GlycolyticOscillation",
    "InteriorSquirmer",
    "LidDrivenCavityFlow",
)


class ForecastTask(NamedTuple):
    """One system's benchmark data.

    Attributes:
        system: the system name.
        train: ``(T, D)`` series for hyperparameter selection (numpy).
        test: ``(T, D)`` series for scoring, from another initial condition (numpy).
        split: points used for fitting (``fit_periods · pts_per_period``); the rest is forecast.
        pts_per_period: sampling of the series.
        max_lyapunov: the stored ``maximum_lyapunov_estimated`` (NaN if missing).
        success: whether both trajectories were integrated to the end with finite values that
            stay within ``ESCAPE_SIGMAS`` stored standard deviations of the stored mean.
    """

    system: str
    train: np.ndarray
    test: np.ndarray
    split: int
    pts_per_period: int
    max_lyapunov: float
    success: bool

    @property
    def horizon(self) -> int:
        """Number of forecast points, ``T − split``."""
        return int(self.test.shape[0] - self.split)


def forecast_systems(paper_only: bool = False) -> list[str]:
    """The benchmark's systems: every continuous system (flows and delay equations), sorted;
    ``paper_only=True`` leaves out the four added to dysts after the paper (→ its 131).

    Example::

        len(forecast_systems(paper_only=True))
    """
    names = sorted(list_systems("flow") + list_systems("delay"))
    if paper_only:
        names = [n for n in names if n not in ADDED_AFTER_PAPER]
    return names


def _pts_per_period(granularity: str | int) -> int:
    if isinstance(granularity, str):
        if granularity not in GRANULARITIES:
            raise ValueError(
                f"granularity must be one of {list(GRANULARITIES)} or an int, got {granularity!r}"
            )
        return GRANULARITIES[granularity]
    if isinstance(granularity, bool) or not isinstance(granularity, int) or granularity < 2:
        raise ValueError(
            f"granularity must be 'coarse', 'fine' or an int >= 2, got {granularity!r}"
        )
    return granularity


def _trajectories(
    system: System, n: int, ppp: int, ics: str, gap: int, key: PRNGKeyArray, kwargs: dict
) -> tuple[np.ndarray, np.ndarray, bool]:
    train, test, ok = _solve_pair(system, n, ppp, ics, gap, key, kwargs)
    if not ok and kwargs.get("solver") == "rk4":
        # a fixed step can be too coarse for a stiff system: retry it with the adaptive default
        adaptive = {k: v for k, v in kwargs.items() if k != "solver"}
        train, test, ok = _solve_pair(system, n, ppp, ics, gap, key, adaptive)
    return train, test, ok


def _solve_pair(
    system: System, n: int, ppp: int, ics: str, gap: int, key: PRNGKeyArray, kwargs: dict
) -> tuple[np.ndarray, np.ndarray, bool]:
    from ._trajectory import make_trajectory

    if ics == "random":
        traj = make_trajectory(system, n, pts_per_period=ppp, key=key, n_ics=2, **kwargs)
        ys = np.asarray(traj.ys)
        return ys[0], ys[1], bool(np.all(np.asarray(traj.success)))
    traj = make_trajectory(system, 2 * n + gap, pts_per_period=ppp, **kwargs)
    ys = np.asarray(traj.ys)
    return ys[:n], ys[n + gap :], bool(np.all(np.asarray(traj.success)))


def make_forecast_tasks(
    systems: Sequence[str] | None = None,
    *,
    granularity: str | int = "coarse",
    periods: int = 12,
    fit_periods: int = 10,
    multivariate: bool = False,
    noise: float = 0.0,
    ics: str = "random",
    gap_periods: int = 12,
    key: PRNGKeyArray,
    show_progress: bool = True,
    **trajectory_kwargs: Any,
) -> list[ForecastTask]:
    """Build the benchmark's train/test series for each system (see the module docstring).

    Args:
        systems: system names (default :func:`forecast_systems`, all continuous systems).
        granularity: ``"coarse"`` (15 points per period), ``"fine"`` (100) or an int.
        periods: periods per series (12).
        fit_periods: periods fitted (10); the remaining ``periods − fit_periods`` are forecast.
        multivariate: all coordinates (True) or the first one (False).
        noise: observation-noise level (0.2 in the paper's noisy benchmark), ≥ 0.
        ics: ``"random"`` (two random points on the attractor) or ``"trajectory"``
            (train and test cut from one trajectory, ``gap_periods`` apart).
        gap_periods: see ``ics="trajectory"``.
        key: PRNG key for the initial conditions and the noise (system i uses
            ``fold_in(key, i)``); same key, same tasks.
        show_progress: progress bar over systems.
        **trajectory_kwargs: passed to :func:`make_trajectory` (e.g. ``solver``, ``rtol``);
            with ``solver="rk4"`` (fixed steps of the stored ``dt``: fast to compile) a system
            whose integration fails is retried with the adaptive default solver.

    Returns:
        a list of :class:`ForecastTask`, in the order of ``systems``. Failed integrations and
        trajectories that escape the attractor (e.g. to ±1e25 while finite) are kept with
        ``success=False`` (zero series) and a warning, so the runner reports them.

    Example::

        tasks = make_forecast_tasks(granularity="fine", multivariate=True, key=key)
    """
    from jentropy.reproduce import progress

    ppp = _pts_per_period(granularity)
    for name, v, lo in (("periods", periods, 2), ("fit_periods", fit_periods, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
    if fit_periods >= periods:
        raise ValueError(f"fit_periods must be < periods={periods}, got {fit_periods}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    if ics not in ("random", "trajectory"):
        raise ValueError(f"ics must be 'random' or 'trajectory', got {ics!r}")
    names = forecast_systems() if systems is None else list(systems)
    n, split, gap = periods * ppp, fit_periods * ppp, gap_periods * ppp
    tasks, escaped = [], []
    for i, name in enumerate(progress(names, desc="forecast data", disable=not show_progress)):
        system = get(name)
        if system.kind == "map":
            raise ValueError(f"systems: {name} is a map; the benchmark uses continuous systems")
        k_ic, k_noise = jax.random.split(jax.random.fold_in(key, i))
        train, test, ok = _trajectories(system, n, ppp, ics, gap, k_ic, trajectory_kwargs)
        if not multivariate:
            train, test = train[:, :1], test[:, :1]
        ok = ok and bool(np.all(np.isfinite(train)) and np.all(np.isfinite(test)))
        if ok and _escaped(system, train, test):
            escaped.append(name)
            ok = False
        if not ok:
            train, test = np.zeros_like(train), np.zeros_like(test)
        if noise > 0:
            train, test = (
                _add_noise(s, split, noise, k)
                for s, k in zip((train, test), jax.random.split(k_noise))
            )
        lyap = system.metadata.get("maximum_lyapunov_estimated")
        lyap = float("nan") if lyap is None else float(lyap)
        tasks.append(ForecastTask(name, train, test, split, ppp, lyap, ok))
    if escaped:
        warnings.warn(
            f"make_forecast_tasks: {escaped} left the stored attractor (|x - mean| > "
            f"{ESCAPE_SIGMAS} std); marked success=False",
            RuntimeWarning,
            stacklevel=2,
        )
    return tasks


def _escaped(system: System, *series: np.ndarray) -> bool:
    """Whether a bounded coordinate strays more than ``ESCAPE_SIGMAS`` stored standard deviations
    from the stored mean (a trajectory that escaped to infinity while staying finite)."""
    mean, std = system.metadata.get("mean"), system.metadata.get("std")
    if mean is None or std is None:
        return False
    mean, std = np.atleast_1d(np.asarray(mean, float)), np.atleast_1d(np.asarray(std, float))
    for s in series:
        d = s.shape[1]
        if mean.shape[0] < d:
            return False
        keep = [i for i in range(d) if i not in system.unbounded_indices and std[i] > 0]
        z = np.abs(s[:, keep] - mean[keep]) / std[keep]
        if z.size and float(np.max(z)) > ESCAPE_SIGMAS:
            return True
    return False


def _add_noise(series: np.ndarray, split: int, level: float, key: PRNGKeyArray) -> np.ndarray:
    std = np.std(series[:split], axis=0)
    z = np.asarray(jax.random.normal(key, series.shape, series.dtype))
    return series + level * std * z


def stack_tasks(tasks: Sequence[ForecastTask]) -> dict[str, Any]:
    """Stack tasks of equal shape: ``{"train": (B, T, D), "test": (B, T, D), "split": int}``."""
    shapes = {t.test.shape for t in tasks} | {t.train.shape for t in tasks}
    splits = {t.split for t in tasks}
    if len(shapes) != 1 or len(splits) != 1:
        raise ValueError(f"tasks must share one shape and split, got {shapes} and {splits}")
    return {
        "train": np.stack([t.train for t in tasks]),
        "test": np.stack([t.test for t in tasks]),
        "split": splits.pop(),
    }


def tasks_summary(tasks: Sequence[ForecastTask]) -> dict[str, Any]:
    """A JSON-able description of a task list (names, shapes, a hash of the data's bytes)."""
    h = hashlib.sha256()
    for t in tasks:
        h.update(t.system.encode())
        h.update(np.ascontiguousarray(t.train).tobytes())
        h.update(np.ascontiguousarray(t.test).tobytes())
    return {
        "systems": [t.system for t in tasks],
        "shapes": sorted({str(t.test.shape) for t in tasks}),
        "splits": sorted({t.split for t in tasks}),
        "data_sha256": h.hexdigest(),
    }
