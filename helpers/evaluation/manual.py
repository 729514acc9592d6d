"""Sliced metrics and threshold checks by hand, for the validation gate's pipeline step
(course3_modeling/C3_W4_Lab_2_Model_Validation_Gate.ipynb), whose scikit-learn models TFMA cannot
score in a baseline comparison (``tfma.analyze_raw_data`` drops the baseline and its change thresholds).

The slicing is done by fairlearn's ``MetricFrame`` and the thresholds are small dataclasses that mirror
TFMA's ``GenericValueThreshold`` (a lower and/or upper bound) and ``GenericChangeThreshold`` (a least
change, absolute and/or relative, in the direction that is better). ``validate`` returns one row per check
(metric, slice, value, threshold, verdict), so a learner sees why a validation failed.

Nothing heavy is imported at module level: pandas, scikit-learn and fairlearn are imported inside the
functions that need them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "METRICS", "OVERALL", "ValueThreshold", "ChangeThreshold", "MetricThreshold",
    "sliced_metrics", "validate", "validation_ok",
]

OVERALL = "Overall"
CROSS = " × "
Slice = Union[str, Sequence[str]]
DIRECTIONS = ("higher_is_better", "lower_is_better")


# ------------------------------------------------------------------------------------------ the metrics


def _labels(y_score: "np.ndarray", threshold: float) -> "np.ndarray":
    return (y_score >= threshold).astype(int)


def _auc(y_true: Any, y_score: Any, threshold: float) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y_true, y_score)) if len(set(y_true)) == 2 else math.nan  # one class: undefined


def _rate(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def _confusion(y_true: Any, y_score: Any, threshold: float) -> tuple[int, int, int, int]:
    import numpy as np

    t, p = np.asarray(y_true).astype(int), _labels(np.asarray(y_score), threshold)
    return (int(((t == 1) & (p == 1)).sum()), int(((t == 0) & (p == 1)).sum()),
            int(((t == 0) & (p == 0)).sum()), int(((t == 1) & (p == 0)).sum()))


def _metric(kind: str) -> Callable[[Any, Any, float], float]:
    import numpy as np

    def fn(y_true: Any, y_score: Any, threshold: float) -> float:
        if kind == "example_count":
            return float(len(y_true))
        if kind == "mean_label":
            return float(np.mean(y_true))
        if kind == "mean_prediction":
            return float(np.mean(y_score))
        if kind == "calibration":  # TFMA's Calibration: mean prediction / mean label (1 = calibrated)
            return _rate(float(np.mean(y_score)), float(np.mean(y_true)))
        tp, fp, tn, fn_ = _confusion(y_true, y_score, threshold)
        return {
            "accuracy": lambda: _rate(tp + tn, tp + fp + tn + fn_),
            "precision": lambda: _rate(tp, tp + fp),
            "recall": lambda: _rate(tp, tp + fn_),
            "false_positive_rate": lambda: _rate(fp, fp + tn),
            "false_negative_rate": lambda: _rate(fn_, fn_ + tp),
            "selection_rate": lambda: _rate(tp + fp, tp + fp + tn + fn_),
        }[kind]()

    fn.__name__ = kind
    return fn


METRICS: dict[str, Callable[[Any, Any, float], float]] = {
    name: _metric(name) for name in (
        "example_count", "accuracy", "precision", "recall", "false_positive_rate", "false_negative_rate",
        "selection_rate", "mean_label", "mean_prediction", "calibration")
}
METRICS["auc"] = _auc


def _slice_name(spec: Slice) -> str:
    return spec if isinstance(spec, str) else CROSS.join(spec)


def _slice_columns(spec: Slice) -> list[str]:
    if isinstance(spec, str):
        return [spec]
    if not isinstance(spec, (list, tuple)) or not spec or not all(isinstance(c, str) for c in spec):
        raise TypeError(f"a slice is a column name or a tuple of column names (a cross), got {spec!r}")
    return list(spec)


def sliced_metrics(
    data: "pd.DataFrame",
    label: str,
    score: str,
    slices: Sequence[Slice] = (),
    metrics: Sequence[str] = ("example_count", "accuracy", "auc"),
    threshold: float = 0.5,
) -> "pd.DataFrame":
    """Metrics overall and for every value of each slice, computed by fairlearn's ``MetricFrame``.

    Args:
        data: one row per example, with the label (0/1), the model's score (probability of 1) and the
            slice columns.
        label, score: the columns holding the label and the score.
        slices: column names (``"sex"``) and tuples of column names for crosses (``("sex", "race")``),
            like TFMA's ``SlicingSpec(feature_keys=[...])``.
        metrics: names from ``METRICS``; the ones that need a class use ``score >= threshold``.

    Returns:
        A frame indexed by (``slice``, ``value``): ``("Overall", "")`` first, then each slice's values in
        sorted order (a cross's values joined with `` × ``), one column per metric.

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    import pandas as pd
    from fairlearn.metrics import MetricFrame

    from helpers.data import require_columns

    if isinstance(metrics, str) or not metrics:
        raise ValueError(f"metrics must be a non-empty list of metric names, got {metrics!r}")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise KeyError(f"unknown metric name(s) {unknown}; known metrics: {sorted(METRICS)}")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a number between 0 and 1, got {threshold!r}")
    if isinstance(slices, str):
        slices = [slices]
    columns = [c for spec in slices for c in _slice_columns(spec)]
    require_columns(data, dict.fromkeys([label, score, *columns]),
                    "sliced_metrics (check the slice, label and score names)")
    if not set(pd.unique(data[label])) <= {0, 1}:
        found = sorted(map(str, pd.unique(data[label])))[:5]
        raise ValueError(f"the label column {label!r} must hold 0/1, got values such as {found}; map the "
                         "classes to 0/1 first")
    fns = {m: (lambda fn: lambda t, s: fn(t, s, threshold))(METRICS[m]) for m in metrics}
    y_true, y_score = data[label].to_numpy(), data[score].to_numpy(dtype=float)
    rows = [{"slice": OVERALL, "value": "",
             **{m: fn(y_true, y_score) for m, fn in fns.items()}}]
    for spec in slices:
        cols = _slice_columns(spec)
        frame = MetricFrame(metrics=fns, y_true=y_true, y_pred=y_score,
                            sensitive_features=data[cols].astype(str).reset_index(drop=True))
        by_group = frame.by_group
        for key, values in sorted(by_group.iterrows(), key=lambda kv: str(kv[0])):
            value = CROSS.join(key) if isinstance(key, tuple) else str(key)
            rows.append({"slice": _slice_name(spec), "value": value,
                         **{m: float(values[m]) for m in metrics}})
    frame = pd.DataFrame(rows).set_index(["slice", "value"])
    if "example_count" in frame.columns:
        frame["example_count"] = frame["example_count"].astype(int)
    return frame


# ---------------------------------------------------------------------------------------- the thresholds


def _number(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise TypeError(f"{name} must be a number (or None), got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ValueThreshold:
    """The metric must lie within [lower_bound, upper_bound] (either may be None): TFMA's
    ``GenericValueThreshold``.

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """

    lower_bound: float | None = None
    upper_bound: float | None = None

    def __post_init__(self) -> None:
        lower, upper = _number("lower_bound", self.lower_bound), _number("upper_bound", self.upper_bound)
        if lower is None and upper is None:
            raise ValueError("a ValueThreshold needs a lower_bound, an upper_bound or both")
        if lower is not None and upper is not None and lower > upper:
            raise ValueError(f"lower_bound {lower} is above upper_bound {upper}: no value can pass; "
                             "swap them or drop one")

    def describe(self) -> str:
        parts = ([f">= {self.lower_bound:g}"] if self.lower_bound is not None else []) + (
            [f"<= {self.upper_bound:g}"] if self.upper_bound is not None else [])
        return "value " + " and ".join(parts)

    def check(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return ((self.lower_bound is None or value >= self.lower_bound)
                and (self.upper_bound is None or value <= self.upper_bound))


@dataclass(frozen=True)
class ChangeThreshold:
    """The candidate compared with the baseline: TFMA's ``GenericChangeThreshold``.

    ``absolute`` is the least change (candidate - baseline) allowed in the better ``direction``, and
    ``relative`` the same as a share of the baseline. A negative value tolerates that much worsening:
    ``ChangeThreshold("higher_is_better", absolute=-0.01)`` lets AUC drop by at most 0.01; ``absolute=0``
    demands no drop at all; a positive value demands an improvement.

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """

    direction: str = "higher_is_better"
    absolute: float | None = None
    relative: float | None = None

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        absolute, relative = _number("absolute", self.absolute), _number("relative", self.relative)
        if absolute is None and relative is None:
            raise ValueError("a ChangeThreshold needs an absolute or a relative change (or both)")
        if relative is not None and relative <= -1:
            raise ValueError(f"relative change {relative} allows a drop of 100 % or more, which every model "
                             "passes; use a value above -1 (e.g. -0.02 for at most 2 % worse)")

    def _gain(self, candidate: float, baseline: float) -> float:
        diff = candidate - baseline
        return diff if self.direction == "higher_is_better" else -diff

    def describe(self) -> str:
        better = "higher" if self.direction == "higher_is_better" else "lower"
        parts = ([f"{self.absolute:+g}"] if self.absolute is not None else []) + (
            [f"{self.relative:+.0%} relative"] if self.relative is not None else [])
        return f"change ({better} is better) >= " + " and ".join(parts)

    def check(self, candidate: float, baseline: float) -> bool:
        if math.isnan(candidate) or math.isnan(baseline):
            return False
        gain = self._gain(candidate, baseline)
        if self.absolute is not None and gain < self.absolute - 1e-12:
            return False
        if self.relative is not None and baseline and gain / abs(baseline) < self.relative - 1e-12:
            return False
        return True


@dataclass(frozen=True)
class MetricThreshold:
    """The checks on one metric, for one slicing (``"Overall"``, a column, or a cross of columns): every
    value of that slicing is checked, as TFMA's ``per_slice_thresholds`` do.

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """

    metric: str
    value: ValueThreshold | None = None
    change: ChangeThreshold | None = None
    slice: Slice = OVERALL
    slice_name: str = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str) or not self.metric:
            raise TypeError(f"metric must be a metric's name, got {self.metric!r}")
        if self.value is None and self.change is None:
            raise ValueError(f"the threshold on {self.metric!r} has neither a value nor a change threshold")
        if self.value is not None and not isinstance(self.value, ValueThreshold):
            raise TypeError(f"value must be a ValueThreshold, got {type(self.value).__name__}")
        if self.change is not None and not isinstance(self.change, ChangeThreshold):
            raise TypeError(f"change must be a ChangeThreshold, got {type(self.change).__name__}")
        _slice_columns(self.slice)
        object.__setattr__(self, "slice_name", _slice_name(self.slice))


def _check_consistent(thresholds: Sequence[MetricThreshold]) -> None:
    bounds: dict[tuple[str, str], list[float]] = {}
    directions: dict[tuple[str, str], str] = {}
    for t in thresholds:
        key = (t.metric, t.slice_name)
        low, high = bounds.setdefault(key, [-math.inf, math.inf])
        if t.value is not None:
            low = max(low, t.value.lower_bound if t.value.lower_bound is not None else -math.inf)
            high = min(high, t.value.upper_bound if t.value.upper_bound is not None else math.inf)
            if low > high:
                raise ValueError(f"the thresholds on {t.metric!r} for slice {t.slice_name!r} contradict each "
                                 f"other: one needs >= {low:g}, another <= {high:g}; no model can pass both")
            bounds[key] = [low, high]
        if t.change is not None:
            if directions.setdefault(key, t.change.direction) != t.change.direction:
                raise ValueError(f"the change thresholds on {t.metric!r} for slice {t.slice_name!r} contradict "
                                 "each other: one says higher_is_better, another lower_is_better")


def validate(
    candidate: "pd.DataFrame",
    thresholds: Sequence[MetricThreshold],
    baseline: "pd.DataFrame | None" = None,
    decimals: int = 3,
) -> "pd.DataFrame":
    """Check a candidate's ``sliced_metrics`` against thresholds (and a baseline's, for change thresholds).

    Returns one row per check: metric, slice, value, the candidate's and baseline's metric, the
    threshold in words, and ``verdict`` (``PASS``/``FAIL``). A NaN metric (e.g. AUC on a one-class slice)
    fails. ``validation_ok(table)`` is True when every check passes: TFMA's ``validation_ok``.

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    import pandas as pd

    def check_frame(frame: Any, what: str) -> None:
        if not isinstance(frame, pd.DataFrame) or list(frame.index.names) != ["slice", "value"]:
            raise TypeError(f"the {what} must be a sliced_metrics() frame (indexed by slice and value), "
                            f"got {type(frame).__name__}")

    check_frame(candidate, "candidate")
    if isinstance(thresholds, MetricThreshold):
        thresholds = [thresholds]
    if not thresholds or not all(isinstance(t, MetricThreshold) for t in thresholds):
        raise TypeError("thresholds must be a non-empty list of MetricThreshold")
    if baseline is not None:
        check_frame(baseline, "baseline")
    _check_consistent(thresholds)
    have = sorted(set(candidate.index.get_level_values("slice")))
    rows = []
    for t in thresholds:
        if t.metric not in candidate.columns:
            raise KeyError(f"the threshold names the metric {t.metric!r}, which was not computed; computed "
                           f"metrics: {list(candidate.columns)} (add it to sliced_metrics(metrics=...))")
        if t.slice_name not in have:
            raise KeyError(f"the threshold on {t.metric!r} names the slice {t.slice_name!r}, which was not "
                           f"computed; computed slices: {have} (add it to sliced_metrics(slices=...))")
        if t.change is not None and baseline is None:
            raise ValueError(f"the threshold on {t.metric!r} has a change threshold, which needs a baseline: "
                             "pass baseline=sliced_metrics(...) of the baseline model")
        for (slice_name, value), metrics in candidate.loc[[t.slice_name]].iterrows():
            cand = float(metrics[t.metric])
            checks = []
            if t.value is not None:
                checks.append((t.value.describe(), t.value.check(cand), math.nan))
            if t.change is not None:
                if (slice_name, value) not in baseline.index or t.metric not in baseline.columns:
                    raise KeyError(f"the baseline has no {t.metric!r} for slice {slice_name!r} = {value!r}; "
                                   "compute both models' metrics with the same slices and metrics")
                base = float(baseline.loc[(slice_name, value), t.metric])
                checks.append((t.change.describe(), t.change.check(cand, base), base))
            for text, ok, base in checks:
                rows.append({"metric": t.metric, "slice": slice_name, "value": value or "(all)",
                             "candidate": round(cand, decimals),
                             "baseline": round(base, decimals) if not math.isnan(base) else math.nan,
                             "change": round(cand - base, decimals) if not math.isnan(base) else math.nan,
                             "threshold": text, "verdict": "PASS" if ok else "FAIL"})
    return pd.DataFrame(rows)


def validation_ok(table: "pd.DataFrame") -> bool:
    """True when every check in a ``validate`` table passed (TFMA's ``validation_result.validation_ok``).

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    if getattr(table, "empty", True) or "verdict" not in table.columns:
        raise ValueError("validation_ok needs the non-empty table that validate() returns")
    return bool((table["verdict"] == "PASS").all())
