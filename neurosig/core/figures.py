"""Figures written to files: one way to open them and one way to save them.

The figures are plain :class:`matplotlib.figure.Figure` objects, drawn by the Agg renderer when saved
to PNG. They never go through ``pyplot``: no window opens, the user's backend (a notebook's, say) is
left alone, nothing has to be closed, and figures may be drawn from several threads. matplotlib is
imported only when a figure is made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["save_figure", "subplots"]


def subplots(
    nrows: int = 1,
    ncols: int = 1,
    *,
    figsize: tuple[float, float] | None = None,
    layout: str | None = None,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """A new figure and its grid of axes, as ``matplotlib.pyplot.subplots`` but outside pyplot.

    Parameters
    ----------
    nrows, ncols : int
        Rows and columns of axes.
    figsize : (float, float) | None
        Width and height in inches (default: matplotlib's).
    layout : {"constrained", "tight"} | None
        The figure's layout engine.
    **kwargs
        Passed to :meth:`matplotlib.figure.Figure.subplots` (``squeeze``, ``gridspec_kw``, ...).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure; write it with :func:`save_figure`.
    axes : matplotlib.axes.Axes or ndarray of Axes
        As ``Figure.subplots`` returns them.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def save_figure(fig: Any, path: str | Path, dpi: float = 100) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix, e.g. PNG).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, from :func:`subplots`.
    path : str | Path
        The file to write; its folder must exist.
    dpi : float
        Resolution in dots per inch.

    Returns
    -------
    path : Path
        The file written.
    """
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    return path
