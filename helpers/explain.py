"""Explainability plumbing: SHAP values per class as tables and plots, permutation importances as frames.

What the labs are about (the explainers, ``permutation_importance``) stays in the notebooks; this module
only reshapes their results into tables and draws the comparison plots. It imports no heavy library at
module level.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["per_class", "class_sums", "importances_frame", "plot_importance_boxes", "top_features"]


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
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(feature_names):
        raise ValueError(f"k must be an int from 1 to {len(feature_names)} (the number of features), got {k!r}")
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
