"""TFMA's results as pandas tables: metrics per slice, Fairness Indicators per threshold and group,
metrics over several runs, and the failures of a ``ValidationResult``."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from helpers.validation import proto_field

if TYPE_CHECKING:
    import pandas as pd

OVERALL = "Overall"
CROSS = " × "
FAIRNESS_PREFIX = "fairness_indicators_metrics/"
ERROR = "__ERROR__"  # TFMA's only "metric" for a slice it did not compute


def slice_name(slice_key: Any) -> tuple[str, str]:
    """(slice, value) of a TFMA slice key: ``()`` is ``("Overall", "")``, ``(("sex", "Male"),)`` is
    ``("sex", "Male")``, a cross joins its columns and values with `` × ``.

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    if slice_key in ((), None):
        return OVERALL, ""
    if not isinstance(slice_key, (tuple, list)) or not all(
            isinstance(p, (tuple, list)) and len(p) == 2 for p in slice_key):
        raise TypeError(f"a slice key is a tuple of (column, value) pairs, got {slice_key!r}")
    columns = [str(c) for c, _ in slice_key]
    values = [v.decode() if isinstance(v, bytes) else str(v) for _, v in slice_key]
    return CROSS.join(columns), CROSS.join(values)


def _number(value: Any) -> float:
    if isinstance(value, Mapping):
        for key in ("doubleValue", "value"):
            if key in value:
                return float(value[key])
        if "boundedValue" in value:
            return float(value["boundedValue"]["value"])
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    return math.nan


def _slices(eval_result: Any) -> list[tuple[Any, dict[str, Any]]]:
    rows = getattr(eval_result, "slicing_metrics", None)
    if rows is None:
        raise TypeError("expected a TFMA EvalResult (from run_model_analysis or load_eval_result), got "
                        f"{type(eval_result).__name__}; for a run of several models, load one with "
                        "tfma.load_eval_result(output_path, model_name=...)")
    return [(key, by_output.get("", {}).get("", {})) for key, by_output in rows]


def _sort_key(index: tuple[str, str]) -> tuple[int, str, str]:
    return (index[0] != OVERALL, index[0], index[1])


def metrics_frame(eval_result: Any, metrics: Sequence[str] | None = None) -> "pd.DataFrame":
    """One row per slice of a TFMA ``EvalResult``, indexed by (``slice``, ``value``), ``Overall`` first;
    one column per metric (``metrics``, or all of them but Fairness Indicators'). A metric TFMA did not
    compute for a slice is NaN; ``example_count`` is an int.

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    import pandas as pd

    rows = {}
    for key, values in _slices(eval_result):
        if ERROR in values:
            continue  # a slice below min_slice_size: see dropped_slices
        names = metrics if metrics is not None else [m for m in values if not m.startswith(FAIRNESS_PREFIX)]
        rows[slice_name(key)] = {m: _number(values.get(m)) for m in names}
    if not rows:
        raise ValueError("the EvalResult holds no slice: did TFMA drop them all (min_slice_size)?")
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame = frame.loc[sorted(frame.index, key=_sort_key)]
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["slice", "value"])
    if metrics is not None:
        missing = [m for m in metrics if frame[m].isna().all()]
        if missing:
            raise KeyError(f"TFMA computed no {missing} for any slice; computed: {sorted(_slices(eval_result)[0][1])}")
    for column in [c for c in frame.columns if c.startswith("example_count")]:
        frame[column] = frame[column].round().astype(int)
    return frame


def dropped_slices(eval_result: Any) -> "pd.DataFrame":
    """The slices TFMA computed no metrics for (fewer examples than the ``EvalConfig``'s
    ``min_slice_size``), with TFMA's message: one row each, indexed by (``slice``, ``value``).

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    import pandas as pd

    rows = {slice_name(key): values[ERROR].get("debugMessage", "") for key, values in _slices(eval_result)
            if ERROR in values}
    index = pd.MultiIndex.from_tuples(sorted(rows, key=_sort_key), names=["slice", "value"])
    return pd.DataFrame({"message": [rows[k] for k in index]}, index=index)


def fairness_frame(eval_result: Any, baselines: Mapping[str, str],
                   metrics: Sequence[str] = ("false_positive_rate", "false_negative_rate")) -> "pd.DataFrame":
    """Fairness Indicators of a TFMA ``EvalResult`` per slice and threshold, with each group's difference
    from the baseline group of its slice, as the Fairness Indicators widget shows it.

    ``baselines`` maps each slicing column to its baseline group (``{"sex": "Male"}``); only those slices
    are kept. Returns a frame indexed by (``slice``, ``value``, ``threshold``) with, for each metric, its
    value and ``<metric>_diff`` (the group's value minus the baseline group's at the same threshold).

    Introduced in course3_modeling/C3_W4_Lab_3_Fairness.ipynb.
    """
    import pandas as pd

    if not isinstance(baselines, Mapping) or not baselines:
        raise TypeError(f"baselines maps a slicing column to its baseline group, e.g. {{'sex': 'Male'}}; "
                        f"got {baselines!r}")
    pattern = re.compile(re.escape(FAIRNESS_PREFIX) + r"(.+)@([0-9.]+)$")
    rows = []
    for key, values in _slices(eval_result):
        column, group = slice_name(key)
        if column not in baselines or ERROR in values:
            continue
        for name, value in values.items():
            match = pattern.match(name)
            if match and match.group(1) in metrics:
                rows.append({"slice": column, "value": group, "threshold": float(match.group(2)),
                             "metric": match.group(1), "rate": _number(value)})
    if not rows:
        raise KeyError(f"no Fairness Indicators {list(metrics)} for the slices {list(baselines)}: add "
                       "MetricConfig(class_name='FairnessIndicators') and those slicing specs to the EvalConfig")
    table = pd.DataFrame(rows).pivot_table(index=["slice", "value", "threshold"], columns="metric",
                                           values="rate", aggfunc="first")[list(metrics)]
    for column, group in baselines.items():
        if (column, group) not in table.droplevel("threshold").index:
            raise KeyError(f"the baseline group {group!r} of slice {column!r} is not in the results")
    for metric in metrics:
        reference = {(c, t): table.loc[(c, g, t), metric]
                     for c, g in baselines.items() for t in table.loc[(c, g)].index}
        table[f"{metric}_diff"] = [value - reference[(c, t)]
                                   for (c, _, t), value in table[metric].items()]
    table.columns.name = None
    return table


def time_series_frame(eval_results: Any, labels: Sequence[str] | None = None,
                      metrics: Sequence[str] | None = None) -> "pd.DataFrame":
    """The overall metrics of several TFMA runs (``tfma.load_eval_results(...)`` or a list of
    ``EvalResult``), one row per run, labelled by ``labels`` (default 1, 2, ...).

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    import pandas as pd

    results = eval_results.get_results() if hasattr(eval_results, "get_results") else list(eval_results)
    if not results:
        raise ValueError("no evaluation results given")
    labels = list(labels) if labels is not None else [str(i + 1) for i in range(len(results))]
    if len(labels) != len(results):
        raise ValueError(f"{len(labels)} labels for {len(results)} results")
    rows = [metrics_frame(r, metrics).loc[(OVERALL, "")].rename(label) for r, label in zip(results, labels)]
    frame = pd.DataFrame(rows)
    for column in [c for c in frame.columns if c.startswith("example_count")]:
        frame[column] = frame[column].astype(int)
    return frame


def _threshold_text(threshold: Any) -> str:
    parts = []
    if threshold.HasField("value_threshold"):
        v = threshold.value_threshold
        if v.HasField("lower_bound"):
            parts.append(f"value >= {v.lower_bound.value:g}")
        if v.HasField("upper_bound"):
            parts.append(f"value <= {v.upper_bound.value:g}")
    if threshold.HasField("change_threshold"):
        c = threshold.change_threshold
        better = "higher" if c.direction == 2 else "lower"  # MetricDirection: 2 = HIGHER_IS_BETTER
        if c.HasField("absolute"):
            parts.append(f"change >= {c.absolute.value:g} ({better} is better)")
        if c.HasField("relative"):
            parts.append(f"relative change >= {c.relative.value:g} ({better} is better)")
    return " and ".join(parts)


def validation_frame(validation_result: Any, decimals: int = 3) -> "pd.DataFrame":
    """The failures in a TFMA ``ValidationResult`` (``tfma.load_validation_result``), one row each:
    slice, value, model, metric (``_diff`` for a change threshold), the metric's value, the threshold in
    words and TFMA's message. Empty when ``validation_ok``.

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    import pandas as pd

    rows = []
    for per_slice in proto_field(validation_result, "metric_validations_per_slice", "validation_result",
                                 "a ValidationResult from tfma.load_validation_result(output_path)"):
        key = tuple((k.column, k.bytes_value.decode() if k.HasField("bytes_value") else
                     k.int64_value if k.HasField("int64_value") else k.float_value)
                    for k in per_slice.slice_key.single_slice_keys)
        column, value = slice_name(key)
        for failure in per_slice.failures:
            metric = failure.metric_key.name + ("_diff" if failure.metric_key.is_diff else "")
            number = failure.metric_value.double_value.value if failure.HasField("metric_value") else math.nan
            rows.append({"slice": column, "value": value or "(all)", "model": failure.metric_key.model_name,
                         "metric": metric, "metric_value": round(number, decimals),
                         "threshold": _threshold_text(failure.metric_threshold),
                         "message": failure.message or "out of bounds"})
    columns = ["slice", "value", "model", "metric", "metric_value", "threshold", "message"]
    rows.sort(key=lambda r: (r["slice"] != OVERALL, r["slice"], r["value"], r["metric"]))
    return pd.DataFrame(rows, columns=columns)
