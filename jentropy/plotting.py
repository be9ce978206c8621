"""Matplotlib helpers shared by the reproductions (matplotlib is imported only when used).

Reproductions build figures with :func:`subplots` so every module gets the same look, and headless
machines (CI, a GPU box) never need a display: without ``MPLBACKEND`` or a display, the non-
interactive Agg backend is selected.

Example::

    from jentropy import plotting
    fig, axes = plotting.subplots(1, 2, width=9)
    plotting.label(axes[0], "permutation entropy H", "complexity C", "H–C plane")
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["colors", "label", "subplots"]


def _pyplot() -> Any:
    import matplotlib

    if "MPLBACKEND" not in os.environ and not os.environ.get("DISPLAY"):
        # inside Jupyter the inline backend is already active and must be kept
        if "inline" not in matplotlib.get_backend().lower():
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def subplots(
    nrows: int = 1,
    ncols: int = 1,
    *,
    width: float | None = None,
    height: float | None = None,
    squeeze: bool = True,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """``plt.subplots`` with jentropy's defaults (constrained layout, ~3.6 in per panel).

    Returns ``(fig, axes)`` as matplotlib does; extra keyword arguments go to ``plt.subplots``.
    """
    if nrows < 1 or ncols < 1:
        raise ValueError(f"nrows and ncols must be >= 1, got {nrows}, {ncols}")
    plt = _pyplot()
    width = 3.8 * ncols if width is None else width
    height = 3.2 * nrows if height is None else height
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(width, height), squeeze=squeeze, **kwargs)


def label(
    ax: Any,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    *,
    legend: bool = False,
    grid: bool = True,
) -> Any:
    """Set axis labels and title (and a small legend / light grid) in one call; returns ``ax``."""
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize="medium")
    if grid:
        ax.grid(alpha=0.25, linewidth=0.6)
    if legend:
        ax.legend(fontsize="small", frameon=False)
    return ax


def colors(n: int, cmap: str = "viridis") -> list[Any]:
    """``n`` evenly spaced colours from ``cmap`` (tab10 for n ≤ 10 when ``cmap='categorical'``)."""
    import matplotlib

    if n < 1:
        return []
    if cmap == "categorical" and n <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(n)]
    cm = matplotlib.colormaps["viridis" if cmap == "categorical" else cmap]
    return [cm(x) for x in ([0.5] if n == 1 else [i / (n - 1) for i in range(n)])]
