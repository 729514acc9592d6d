import math

import numpy as np
import pandas as pd
import pytest

from helpers import evaluation as ev


@pytest.fixture
def frame():
    """Eight examples: two slicing columns, a label and a score."""
    return pd.DataFrame({
        "sex": ["F", "F", "F", "F", "M", "M", "M", "M"],
        "race": ["a", "b", "a", "b", "a", "b", "a", "b"],
        "label": [1, 0, 1, 0, 1, 0, 0, 0],
        "score": [0.9, 0.2, 0.4, 0.6, 0.8, 0.1, 0.7, 0.3],
    })


@pytest.fixture
def sliced(frame):
    return ev.sliced_metrics(frame, "label", "score", ["sex", ("sex", "race")],
                             ["example_count", "accuracy", "auc", "false_positive_rate"])


def test_importing_the_module_loads_no_heavy_library(heavy_imports):
    assert heavy_imports("helpers.evaluation", ('pandas', 'sklearn', 'fairlearn', 'tensorflow')) == []


def test_sliced_metrics_overall_slices_and_crosses(sliced):
    assert list(sliced.index[:3]) == [("Overall", ""), ("sex", "F"), ("sex", "M")]
    assert ("sex × race", "F × a") in sliced.index and len(sliced) == 7
    overall = sliced.loc[("Overall", "")]
    assert overall["example_count"] == 8 and sliced["example_count"].dtype.kind == "i"
    assert overall["accuracy"] == pytest.approx(5 / 8)  # wrong: 0.4 (label 1), 0.6 and 0.7 (label 0)
    assert overall["false_positive_rate"] == pytest.approx(2 / 5)
    assert sliced.loc[("sex", "F"), "accuracy"] == pytest.approx(0.5)
    assert math.isnan(sliced.loc[("sex × race", "F × b"), "auc"])  # one class only: AUC undefined


def test_sliced_metrics_threshold_changes_class_metrics_only(frame):
    low = ev.sliced_metrics(frame, "label", "score", metrics=["accuracy", "auc"], threshold=0.35)
    high = ev.sliced_metrics(frame, "label", "score", metrics=["accuracy", "auc"], threshold=0.5)
    assert low.loc[("Overall", ""), "auc"] == high.loc[("Overall", ""), "auc"]
    assert low.loc[("Overall", ""), "accuracy"] != high.loc[("Overall", ""), "accuracy"]


def test_sliced_metrics_bad_input(frame):
    with pytest.raises(KeyError, match=r"needs the column\(s\) \['age'\], which the DataFrame lacks"):
        ev.sliced_metrics(frame, "label", "score", ["age"])
    with pytest.raises(KeyError, match=r"unknown metric name\(s\) \['f1'\]; known metrics"):
        ev.sliced_metrics(frame, "label", "score", ["sex"], ["accuracy", "f1"])
    with pytest.raises(ValueError, match="empty DataFrame"):
        ev.sliced_metrics(frame.iloc[:0], "label", "score")
    with pytest.raises(TypeError, match="needs a pandas DataFrame"):
        ev.sliced_metrics(frame.to_dict(), "label", "score")
    with pytest.raises(ValueError, match="must hold 0/1"):
        ev.sliced_metrics(frame.assign(label=np.where(frame["label"] == 1, ">50K", "<=50K")), "label", "score")
    with pytest.raises(ValueError, match="threshold must be a number between 0 and 1"):
        ev.sliced_metrics(frame, "label", "score", threshold=2)
    with pytest.raises(ValueError, match="non-empty list of metric names"):
        ev.sliced_metrics(frame, "label", "score", metrics="accuracy")
    with pytest.raises(TypeError, match="a slice is a column name or a tuple"):
        ev.sliced_metrics(frame, "label", "score", [("sex", 3)])


def test_value_threshold_checks_and_contradictions():
    t = ev.ValueThreshold(lower_bound=0.5, upper_bound=0.9)
    assert t.check(0.7) and not t.check(0.4) and not t.check(0.95) and not t.check(math.nan)
    assert t.describe() == "value >= 0.5 and <= 0.9"
    with pytest.raises(ValueError, match="lower_bound 0.9 is above upper_bound 0.8: no value can pass"):
        ev.ValueThreshold(lower_bound=0.9, upper_bound=0.8)
    with pytest.raises(ValueError, match="needs a lower_bound, an upper_bound or both"):
        ev.ValueThreshold()
    with pytest.raises(TypeError, match="lower_bound must be a number"):
        ev.ValueThreshold(lower_bound="0.9")
    with pytest.raises(TypeError, match="upper_bound must be a number"):
        ev.ValueThreshold(upper_bound=math.nan)


def test_change_threshold_both_directions():
    higher = ev.ChangeThreshold("higher_is_better", absolute=-0.01)
    assert higher.check(0.895, 0.9) and not higher.check(0.88, 0.9)
    lower = ev.ChangeThreshold("lower_is_better", absolute=0)
    assert lower.check(0.1, 0.2) and not lower.check(0.3, 0.2)
    relative = ev.ChangeThreshold("higher_is_better", relative=-0.1)
    assert relative.check(0.91, 1.0) and not relative.check(0.85, 1.0)
    assert not higher.check(math.nan, 0.9)
    with pytest.raises(ValueError, match="direction must be one of"):
        ev.ChangeThreshold("up", absolute=0)
    with pytest.raises(ValueError, match="needs an absolute or a relative change"):
        ev.ChangeThreshold("higher_is_better")
    with pytest.raises(ValueError, match="allows a drop of 100 % or more"):
        ev.ChangeThreshold("higher_is_better", relative=-1.5)


def test_metric_threshold_needs_a_check():
    with pytest.raises(ValueError, match="neither a value nor a change threshold"):
        ev.MetricThreshold("auc")
    with pytest.raises(TypeError, match="value must be a ValueThreshold"):
        ev.MetricThreshold("auc", value=0.9)
    with pytest.raises(TypeError, match="metric must be a metric's name"):
        ev.MetricThreshold("", value=ev.ValueThreshold(lower_bound=0.9))
    assert ev.MetricThreshold("auc", value=ev.ValueThreshold(0.5), slice=("sex", "race")).slice_name == "sex × race"


def test_validate_table_and_verdicts(frame, sliced):
    baseline = ev.sliced_metrics(frame.assign(score=0.5), "label", "score", ["sex", ("sex", "race")],
                                 ["example_count", "accuracy", "auc", "false_positive_rate"])
    thresholds = [
        ev.MetricThreshold("accuracy", value=ev.ValueThreshold(lower_bound=0.6),
                           change=ev.ChangeThreshold("higher_is_better", absolute=0)),
        ev.MetricThreshold("false_positive_rate", value=ev.ValueThreshold(upper_bound=0.5), slice="sex"),
    ]
    table = ev.validate(sliced, thresholds, baseline=baseline)
    assert list(table.columns) == ["metric", "slice", "value", "candidate", "baseline", "change", "threshold",
                                   "verdict"]
    assert len(table) == 4  # overall value + change, then the two sex values
    assert table["verdict"].tolist() == ["PASS", "PASS", "PASS", "PASS"]
    assert ev.validation_ok(table)
    strict = ev.validate(sliced, [ev.MetricThreshold("accuracy", value=ev.ValueThreshold(lower_bound=0.9))])
    assert strict["verdict"].tolist() == ["FAIL"] and not ev.validation_ok(strict)
    nan_auc = ev.validate(sliced, [ev.MetricThreshold("auc", value=ev.ValueThreshold(lower_bound=0),
                                                      slice=("sex", "race"))])
    assert "FAIL" in nan_auc["verdict"].tolist()  # the one-class slice has no AUC: it cannot pass


def test_validate_bad_input(sliced):
    auc = ev.MetricThreshold("auc", value=ev.ValueThreshold(lower_bound=0.5))
    with pytest.raises(KeyError, match="names the metric 'f1', which was not computed"):
        ev.validate(sliced, [ev.MetricThreshold("f1", value=ev.ValueThreshold(lower_bound=0.5))])
    with pytest.raises(KeyError, match="names the slice 'race', which was not computed"):
        ev.validate(sliced, [ev.MetricThreshold("auc", value=ev.ValueThreshold(lower_bound=0.5), slice="race")])
    with pytest.raises(ValueError, match="needs a baseline"):
        ev.validate(sliced, [ev.MetricThreshold("auc", change=ev.ChangeThreshold(absolute=0))])
    with pytest.raises(ValueError, match="contradict each other: one needs >= 0.9, another <= 0.8"):
        ev.validate(sliced, [ev.MetricThreshold("auc", value=ev.ValueThreshold(lower_bound=0.9)),
                             ev.MetricThreshold("auc", value=ev.ValueThreshold(upper_bound=0.8))])
    with pytest.raises(ValueError, match="one says higher_is_better, another lower_is_better"):
        ev.validate(sliced, [ev.MetricThreshold("auc", change=ev.ChangeThreshold("higher_is_better", absolute=0)),
                             ev.MetricThreshold("auc", change=ev.ChangeThreshold("lower_is_better", absolute=0))],
                    baseline=sliced)
    with pytest.raises(TypeError, match="must be a sliced_metrics"):
        ev.validate(pd.DataFrame({"auc": [0.9]}), [auc])
    with pytest.raises(TypeError, match="non-empty list of MetricThreshold"):
        ev.validate(sliced, [])
    with pytest.raises(KeyError, match="the baseline has no 'auc'"):
        ev.validate(sliced, [ev.MetricThreshold("auc", change=ev.ChangeThreshold(absolute=0))],
                    baseline=sliced[["accuracy"]])
    with pytest.raises(ValueError, match="needs the non-empty table"):
        ev.validation_ok(pd.DataFrame())
