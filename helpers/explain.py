"""Explainability plumbing: SHAP values per class as tables and plots, permutation importances as frames.

What the labs are about (the explainers, ``permutation_importance``) stays in the notebooks; this module
only reshapes their results into tables and draws the comparison plots. It imports no heavy library at
module level.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from helpers.arguments import whole

__all__ = ["per_class", "class_sums", "importances_frame", "plot_importance_boxes", "plot_shap_images",
           "top_features"]


def _as_array(values: Any, what: str) -> "np.ndarray":  # noqa: F821
    import numpy as np

    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(f"{what} must be an array of SHAP values, got {type(values).__name__}")
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} must be numeric SHAP values: {error}") from None
    return array


def per_class(shap_values: Any, n_classes: int | None = None) -> "list[np.ndarray]":  # noqa: F821
    """Split SHAP values of shape ``(images, height, width, channels, classes)`` into one array per class.

    SHAP >= 0.45 returns one array with the classes on the last axis; ``shap.image_plot`` draws one column
    per element of a list. A list (the older layout) is returned unchanged after its shapes are checked.

    Raises:
        TypeError: the values are not numeric.
        ValueError: not 5-D (or a list of 4-D arrays), or the class axis does not have ``n_classes`` entries.

    Introduced in course3_modeling/C3_W5_Lab_1_SHAP.ipynb.
    """
    if isinstance(shap_values, list):
        arrays = [_as_array(v, "each element of shap_values") for v in shap_values]
        if not arrays or any(a.ndim != 4 or a.shape != arrays[0].shape for a in arrays):
            raise ValueError("a list of SHAP values must hold one (images, height, width, channels) array per "
                             "class, all of the same shape")
    else:
        array = _as_array(shap_values, "shap_values")
        if array.ndim != 5:
            raise ValueError(f"shap_values must have shape (images, height, width, channels, classes), got "
                             f"{array.shape}; pass the explainer's shap_values(...) result unchanged")
        arrays = [array[..., k] for k in range(array.shape[-1])]
    if n_classes is not None and len(arrays) != n_classes:
        raise ValueError(f"expected SHAP values for {n_classes} classes, got {len(arrays)}: "
                         "explain the model's full output layer")
    return arrays


def class_sums(shap_values: Any, class_names: Sequence[str],
               row_names: Sequence[str] | None = None) -> "pd.DataFrame":  # noqa: F821
    """The sum of each image's SHAP values for each class: one row per image, one column per class.

    The sum is how far the image moves that class's output from its average over the background; for a
    well-trained classifier the true class's column holds the largest value of each row.

    Raises:
        TypeError / ValueError: as ``per_class``; ``row_names`` of the wrong length.

    Introduced in course3_modeling/C3_W5_Lab_1_SHAP.ipynb.
    """
    import numpy as np
    import pandas as pd

    arrays = per_class(shap_values, n_classes=len(class_names))
    sums = np.stack([a.reshape(a.shape[0], -1).sum(axis=1) for a in arrays], axis=1)
    if row_names is not None and len(row_names) != sums.shape[0]:
        raise ValueError(f"row_names has {len(row_names)} names for {sums.shape[0]} explained images")
    return pd.DataFrame(sums, columns=list(class_names), index=list(row_names) if row_names is not None else None)


def plot_shap_images(shap_values: Any, images: Any, class_names: Sequence[str],
                     row_names: Sequence[str] | None = None, reference: Any = None,
                     true_classes: Sequence[int] | None = None, percentile: float = 99.0,
                     title: str = "", cell: float = 0.95) -> "plt.Figure":  # noqa: F821
    """SHAP values of images as a grid: one row per image, one column per class, evidence in red and blue.

    What ``shap.image_plot`` draws, sized for a notebook: each image (left) and, per class, its SHAP values
    over a faint copy of it, red where the pixels push that class up and blue where they push it down,
    transparent where they do nothing. The colour scale is shared and clipped at the ``percentile`` of the
    absolute values, so a few extreme pixels do not wash out the rest. ``reference`` (one image per class)
    adds a top row showing what each column's class looks like; ``true_classes`` frames each row's own
    class; the colour bar sits at the right, so no band is left below the grid.

    Raises:
        TypeError / ValueError: as ``per_class``; images, names or reference of the wrong length.

    Introduced in course3_modeling/C3_W5_Lab_1_SHAP.ipynb.
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import LinearSegmentedColormap, Normalize

    arrays = per_class(shap_values, n_classes=len(class_names))
    n_images, n_classes = arrays[0].shape[0], len(class_names)
    pictures = np.asarray(images, dtype=float)
    if pictures.size != arrays[0][..., 0].size:
        raise ValueError(f"images must hold {n_images} images of {arrays[0].shape[1:3]} pixels, "
                         f"got an array of shape {pictures.shape}")
    pictures = pictures.reshape(n_images, *arrays[0].shape[1:3])
    if row_names is not None and len(row_names) != n_images:
        raise ValueError(f"row_names has {len(row_names)} names for {n_images} images")
    if true_classes is not None and len(true_classes) != n_images:
        raise ValueError(f"true_classes has {len(true_classes)} entries for {n_images} images")
    if reference is not None:
        reference = np.asarray(reference, dtype=float)
        if reference.shape[0] != n_classes:
            raise ValueError(f"reference must hold one image per class ({n_classes}), got {reference.shape[0]}")
        reference = reference.reshape(n_classes, *pictures.shape[1:])
    values = np.stack([a.sum(axis=-1) for a in arrays], axis=-1)  # (images, height, width, classes)
    limit = float(np.percentile(np.abs(values), percentile)) or 1.0
    colours = [(0.0, 0.54, 0.9, 1.0), (1.0, 1.0, 1.0, 0.0), (1.0, 0.0, 0.32, 1.0)]  # blue, clear, red
    cmap = LinearSegmentedColormap.from_list("blue_clear_red", colours)
    norm = Normalize(-limit, limit)

    top = 1 if reference is not None else 0
    n_rows, n_cols = n_images + top, n_classes + 1
    height = cell * n_rows + 0.7
    fig, axes = plt.subplots(n_rows, n_cols, squeeze=False, figsize=(cell * n_cols + 1.6, height),
                             gridspec_kw={"wspace": 0.06, "hspace": 0.1})
    fig.subplots_adjust(top=1 - 0.55 / height, bottom=0.15 / height)  # no empty band above or below the grid
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    if reference is not None:
        axes[0, 0].text(0.95, 0.5, "reference", ha="right", va="center", transform=axes[0, 0].transAxes)
        for k in range(n_classes):
            axes[0, k + 1].imshow(reference[k], cmap="gray_r", interpolation="nearest")
    for k, name in enumerate(class_names):
        axes[0, k + 1].set_title(name, fontsize=9)
    for i in range(n_images):
        row = axes[i + top]
        row[0].imshow(pictures[i], cmap="gray_r", interpolation="nearest")
        if row_names is not None:
            row[0].set_ylabel(row_names[i], rotation=0, ha="right", va="center", fontsize=9)
        for k in range(n_classes):
            row[k + 1].imshow(pictures[i], cmap="gray_r", alpha=0.25, interpolation="nearest")
            row[k + 1].imshow(values[i, ..., k], cmap=cmap, norm=norm, interpolation="nearest")
            if true_classes is not None and int(true_classes[i]) == k:
                for spine in row[k + 1].spines.values():
                    spine.set_visible(True)
                    spine.set_color("0.2")
                    spine.set_linewidth(1.5)
    colorbar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes.ravel().tolist(),
                            fraction=0.02, pad=0.01, extend="both")
    colorbar.set_label(f"SHAP value (clipped at the {percentile:g}th percentile of |value|)")
    if title:
        fig.suptitle(title, y=1 - 0.1 / height, va="top")
    return fig


def _check_result(result: Any, feature_names: Sequence[str], what: str) -> None:
    importances = getattr(result, "importances", None)
    if importances is None or not hasattr(result, "importances_mean"):
        raise TypeError(f"{what} must be the result of sklearn.inspection.permutation_importance (a Bunch with "
                        f"importances and importances_mean), got {type(result).__name__}")
    if getattr(importances, "ndim", 0) != 2 or importances.shape[0] != len(feature_names):
        raise ValueError(f"{what} holds importances for {getattr(importances, 'shape', ('?',))[0]} features but "
                         f"{len(feature_names)} feature names were given: pass the columns of the X you scored")
    if len(feature_names) == 0:
        raise ValueError("feature_names is empty")


def importances_frame(result: Any, feature_names: Sequence[str]) -> "pd.DataFrame":  # noqa: F821
    """Mean and standard deviation of each feature's permutation importance, most important first.

    Ties are broken by feature name, so the order is the same on every machine.

    Raises:
        TypeError: ``result`` is not what ``permutation_importance`` returns.
        ValueError: the number of names differs from the number of features scored, or no names.

    Introduced in course3_modeling/C3_W5_Lab_2_Permutation_Importance.ipynb.
    """
    import pandas as pd

    _check_result(result, feature_names, "result")
    frame = pd.DataFrame({"feature": list(feature_names), "mean": result.importances_mean,
                          "std": result.importances_std})
    return frame.sort_values(["mean", "feature"], ascending=[False, True]).set_index("feature")


def top_features(result: Any, feature_names: Sequence[str], k: int) -> list[str]:
    """The names of the ``k`` features with the largest mean permutation importance.

    Raises:
        ValueError: ``k`` is not a positive int no larger than the number of features; as ``importances_frame``.

    Introduced in course3_modeling/C3_W5_Lab_2_Permutation_Importance.ipynb.
    """
    whole("k", k, 1, len(feature_names), "the number of features")
    return list(importances_frame(result, feature_names).index[:k])


def plot_importance_boxes(results: Mapping[str, Any], feature_names: Sequence[str], title: str,
                          xlabel: str = "drop in accuracy when the feature is shuffled") -> "plt.Figure":  # noqa: F821
    """Box plots of permutation importances, one panel per named result (e.g. train and test).

    Every panel lists the features in the order of the first result (most important on top), so the same
    feature sits on the same row in each panel and a learner can compare them by eye.

    Raises:
        ValueError: no results; as ``importances_frame`` for each result.

    Introduced in course3_modeling/C3_W5_Lab_2_Permutation_Importance.ipynb.
    """
    import matplotlib.pyplot as plt

    if not isinstance(results, Mapping) or not results:
        raise ValueError("results must be a non-empty dict such as {'train': result, 'test': result}")
    for name, result in results.items():
        _check_result(result, feature_names, f"results[{name!r}]")
    first = next(iter(results.values()))
    order = list(importances_frame(first, feature_names).index)[::-1]  # boxplot draws bottom-up
    rows = [list(feature_names).index(f) for f in order]
    # matplotlib 3.10 added orientation= and 3.11 deprecates vert=; support both sides of that line.
    horizontal = ({"orientation": "horizontal"} if "orientation" in inspect.signature(plt.Axes.boxplot).parameters
                  else {"vert": False})
    fig, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 0.35 * len(order) + 1.5),
                             sharex=True, squeeze=False)
    for ax, (name, result) in zip(axes[0], results.items()):
        ax.boxplot([result.importances[r] for r in rows], **horizontal)
        ax.set_yticks(range(1, len(order) + 1), order)  # not boxplot's labels=, renamed in matplotlib 3.9
        ax.axvline(0, color="grey", linestyle="--", linewidth=1)
        ax.set_title(name)
        ax.set_xlabel(xlabel)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
