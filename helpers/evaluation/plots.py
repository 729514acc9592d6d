"""TFMA's plot data drawn with matplotlib: the calibration plot and the confusion matrix at a threshold.

TFMA draws them with its own Jupyter widget; these read the same numbers from an ``EvalResult``'s
``plots`` (``CalibrationPlot``, ``ConfusionMatrixPlot`` in the ``EvalConfig``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from helpers.arguments import whole
from helpers.evaluation.tables import slice_name

if TYPE_CHECKING:
    import matplotlib.axes


def _plot_data(eval_result: Any, key: str, slice_key: Any) -> dict[str, Any]:
    plots = getattr(eval_result, "plots", None)
    if plots is None:
        raise TypeError(f"expected a TFMA EvalResult, got {type(eval_result).__name__}")
    for candidate, by_output in plots:
        if tuple(candidate) == tuple(slice_key):
            data = by_output.get("", {}).get("", {})
            if key not in data:
                raise KeyError(f"the EvalResult has no {key!r} for this slice: add the plot's MetricConfig "
                               "to the EvalConfig")
            return data[key]
    have = sorted(" / ".join(slice_name(k)) for k, _ in plots)
    raise KeyError(f"no plots for slice {slice_name(slice_key)}; slices with plots: {have}")


def plot_calibration(eval_result: Any, slice_key: Any = (), bins: int = 10,
                     ax: "matplotlib.axes.Axes | None" = None, label: str | None = None) -> "matplotlib.axes.Axes":
    """Draw TFMA's calibration histogram for one slice, merged into ``bins`` equal-width score bins: each
    bin's mean predicted score against its share of positive labels (the diagonal is calibrated).

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    whole("bins", bins)
    buckets = _plot_data(eval_result, "calibrationHistogramBuckets", slice_key)["buckets"]
    count, labels, scores = np.zeros(bins), np.zeros(bins), np.zeros(bins)
    for b in buckets:
        low = b.get("lowerThresholdInclusive", 0.0)
        low = 0.0 if low == "-Infinity" else min(max(float(low), 0.0), 1.0)
        i = min(int(low * bins + 1e-9), bins - 1)
        count[i] += b.get("numWeightedExamples", 0.0)
        labels[i] += b.get("totalWeightedLabel", 0.0)
        scores[i] += b.get("totalWeightedRefinedPrediction", 0.0)
    keep = count > 0
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    if not ax.lines:
        ax.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
    ax.plot(scores[keep] / count[keep], labels[keep] / count[keep], "o-",
            label=label or " / ".join(p for p in slice_name(slice_key) if p))
    ax.set_xlabel("mean predicted score in the bin")
    ax.set_ylabel("share of positive labels in the bin")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    return ax


def confusion_at(eval_result: Any, slice_key: Any = (), threshold: float = 0.5) -> dict[str, int]:
    """The confusion counts (tp, fp, tn, fn) TFMA computed for one slice at the threshold nearest
    ``threshold``.

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    matrices = _plot_data(eval_result, "confusionMatrixAtThresholds", slice_key)["matrices"]
    nearest = min(matrices, key=lambda m: abs(float(m.get("threshold", 0.0)) - threshold))
    if abs(float(nearest.get("threshold", 0.0)) - threshold) > 1e-3 or math.isnan(threshold):
        raise ValueError(f"TFMA computed no confusion matrix near threshold {threshold}")
    return {name: int(nearest.get(key, 0.0)) for name, key in (
        ("tp", "truePositives"), ("fp", "falsePositives"), ("tn", "trueNegatives"), ("fn", "falseNegatives"))}


def plot_confusion(eval_result: Any, slice_key: Any = (), threshold: float = 0.5,
                   ax: "matplotlib.axes.Axes | None" = None,
                   class_names: tuple[str, str] = ("0", "1")) -> "matplotlib.axes.Axes":
    """Draw the confusion matrix TFMA computed for one slice at ``threshold`` (rows: true label, columns:
    predicted label, cells: examples).

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    c = confusion_at(eval_result, slice_key, threshold)
    cells = np.array([[c["tn"], c["fp"]], [c["fn"], c["tp"]]])
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(cells, cmap="Blues")
    for (i, j), n in np.ndenumerate(cells):
        ax.text(j, i, f"{n:,}", ha="center", va="center", color="white" if n > cells.max() / 2 else "black")
    ax.set_xticks([0, 1], [f"predicted {class_names[0]}", f"predicted {class_names[1]}"])
    ax.set_yticks([0, 1], [f"true {class_names[0]}", f"true {class_names[1]}"])
    return ax
