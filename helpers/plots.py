"""Plots the labs share: a grid of images and training curves side by side.

matplotlib is imported inside the functions, so ``import helpers.plots`` stays cheap. Each function
returns the figure; the notebook calls ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def image_grid(images, titles: Sequence[str] | None = None, ncols: int = 8, title: str = "",
               size: float = 1.3) -> "Figure":
    """Show greyscale images (``N x H x W`` or ``N x H x W x 1``, any value range) in a grid.

    Args:
        images: the images, as an array or a sequence of 2-D arrays.
        titles: one short caption per image (optional).
        ncols: images per row.
        title: the figure's title.
        size: inches per image.

    Introduced in course1_intro/C1_W2_Lab_1_Journey_Through_Data.ipynb.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")
    arr = np.asarray(images, dtype=float)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 3 or len(arr) == 0:
        raise ValueError(f"images must be a non-empty N x H x W array (or N x H x W x 1), got shape {arr.shape}")
    if titles is not None and len(titles) != len(arr):
        raise ValueError(f"got {len(titles)} titles for {len(arr)} images")
    ncols = min(ncols, len(arr))
    nrows = -(-len(arr) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.5), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(arr):
            ax.imshow(arr[i], cmap="gray_r")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# What the y axis of a metric measures, in its unit; other metrics are labelled with their name.
METRIC_LABELS = {
    "accuracy": "accuracy (share of images right)",
    "loss": "loss (cross-entropy, nats)",
}


def training_curves(histories: Mapping[str, Mapping[str, Sequence[float]]],
                    metrics: Sequence[str] = ("accuracy", "loss"), title: str = "") -> "Figure":
    """Plot training and validation curves of several runs: one panel per run and metric.

    Args:
        histories: run name -> a Keras ``History.history`` dict (``accuracy``, ``val_accuracy``, ...).
        metrics: the metrics to plot; each needs its ``val_`` counterpart in every history.
        title: the figure's title.

    Panels of the same metric share their y axis, so runs compare at a glance; the epochs are numbered
    from 1, as Keras prints them.

    Introduced in course1_intro/C1_W2_Lab_1_Journey_Through_Data.ipynb.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not isinstance(histories, Mapping) or not histories:
        raise ValueError("histories must be a non-empty dict of run name -> History.history")
    if isinstance(metrics, str) or not metrics:
        raise ValueError(f"metrics must be a non-empty list of metric names, got {metrics!r}")
    for run, history in histories.items():
        if not isinstance(history, Mapping):
            raise TypeError(f"the history of {run!r} must be a dict such as History.history, "
                            f"got {type(history).__name__}; pass model.fit(...).history")
        missing = [k for m in metrics for k in (m, f"val_{m}") if k not in history]
        if missing:
            raise KeyError(f"the history of {run!r} lacks {missing}; it has {sorted(history)}")
        for metric in metrics:
            n, n_val = len(history[metric]), len(history[f"val_{metric}"])
            if n == 0 or n != n_val:
                raise ValueError(f"the history of {run!r} has {n} values of {metric!r} and {n_val} of "
                                 f"'val_{metric}'; both need one value per epoch (at least one epoch)")
    fig, axes = plt.subplots(len(metrics), len(histories), figsize=(4.6 * len(histories), 3.2 * len(metrics)),
                             squeeze=False, sharey="row")
    for col, (run, history) in enumerate(histories.items()):
        for row, metric in enumerate(metrics):
            ax = axes[row][col]
            epochs = range(1, len(history[metric]) + 1)
            ax.plot(epochs, history[metric], label="training")
            ax.plot(epochs, history[f"val_{metric}"], label="validation")
            ax.set_title(f"{run}: {metric}")
            ax.set_xlabel("epoch")
            ax.set_ylabel(METRIC_LABELS.get(metric, metric))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
            ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


if TYPE_CHECKING:
    import pandas as pd


def correlation_heatmap(corr: "pd.DataFrame", title: str, cell_inches: float = 0.42,
                        fontsize: float = 6.0) -> "Figure":
    """Draw a correlation matrix as a heatmap with each coefficient written in its cell (two decimals).

    Args:
        corr: a square correlation matrix (``DataFrame.corr()``), the same labels on both axes.
        title: the figure's title.
        cell_inches: the size of one cell; the figure grows with the number of features.
        fontsize: the size of the numbers and of the feature names.

    The colour scale runs from -1 (blue) to +1 (red); numbers are white on dark cells, black elsewhere.

    Introduced in course2_data/C2_W2_Lab_3_Feature_Selection.ipynb.
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    if not isinstance(corr, pd.DataFrame) or corr.empty:
        raise ValueError("corr must be a non-empty DataFrame, such as df.corr()")
    if corr.shape[0] != corr.shape[1] or list(corr.index) != list(corr.columns):
        raise ValueError(f"corr must be square with the same labels on both axes, got shape {corr.shape}")
    values = corr.to_numpy(dtype=float)
    if np.nanmax(np.abs(values)) > 1 + 1e-9:
        raise ValueError("corr holds values outside -1..1: pass a correlation matrix, not raw data")
    n = len(corr)
    side = max(4.0, cell_inches * n + 2.5)
    fig, ax = plt.subplots(figsize=(side + 1.2, side))
    image = ax.imshow(values, cmap="RdBu_r", vmin=-1, vmax=1)
    for i in range(n):
        for j in range(n):
            if not np.isnan(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=fontsize,
                        color="white" if abs(values[i, j]) > 0.6 else "black")
    ax.set_xticks(range(n), corr.columns, rotation=90, fontsize=fontsize + 1)
    ax.set_yticks(range(n), corr.index, fontsize=fontsize + 1)
    ax.set_xlabel("feature")
    ax.set_ylabel("feature")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="Pearson correlation coefficient (unitless)", shrink=0.8)
    fig.tight_layout()
    return fig
