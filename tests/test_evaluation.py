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
    assert heavy_imports("helpers.evaluation", ('pandas', 'sklearn', 'fairlearn', 'tensorflow',
                                                'tensorflow_model_analysis', 'apache_beam', 'matplotlib')) == []


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


# ------------------------------------------------------------------------------ tables and plots of TFMA


class FakeEvalResult:
    """The two attributes of a TFMA EvalResult the helpers read, in TFMA's own layout."""

    def __init__(self, metrics, plots=()):
        self.slicing_metrics = [(key, {"": {"": values}}) for key, values in metrics]
        self.plots = [(key, {"": {"": values}}) for key, values in plots]


def _m(**values):
    return {name: {"doubleValue": v} for name, v in values.items()}


ERROR = {"__ERROR__": {"debugMessage": "Example count for this slice key is lower than the minimum"}}
RESULT = FakeEvalResult([
    ((("sex", "M"),), _m(example_count=60.0, auc=0.8)),
    ((), _m(example_count=100.0, auc=0.9)),
    ((("race", "b"), ("sex", "F")), ERROR),
    ((("sex", "F"),), _m(example_count=40.0, auc=0.95)),
])


def test_slice_name():
    assert ev.slice_name(()) == ("Overall", "")
    assert ev.slice_name((("sex", b"Male"),)) == ("sex", "Male")
    assert ev.slice_name((("race", "b"), ("sex", "F"))) == ("race × sex", "b × F")
    with pytest.raises(TypeError, match="slice key"):
        ev.slice_name("sex")


def test_metrics_frame_orders_slices_and_skips_dropped_ones():
    table = ev.metrics_frame(RESULT, ["example_count", "auc"])
    assert list(table.index) == [("Overall", ""), ("sex", "F"), ("sex", "M")]
    assert table["example_count"].tolist() == [100, 40, 60]
    assert table.loc[("sex", "F"), "auc"] == 0.95
    assert list(ev.dropped_slices(RESULT).index) == [("race × sex", "b × F")]
    with pytest.raises(KeyError, match="computed no"):
        ev.metrics_frame(RESULT, ["recall"])
    with pytest.raises(TypeError, match="EvalResult"):
        ev.metrics_frame(pd.DataFrame(), ["auc"])
    with pytest.raises(ValueError, match="no slice"):
        ev.metrics_frame(FakeEvalResult([((), ERROR)]))


def test_time_series_frame():
    table = ev.time_series_frame([RESULT, RESULT], labels=["day 1", "day 2"], metrics=["example_count", "auc"])
    assert list(table.index) == ["day 1", "day 2"] and table["example_count"].tolist() == [100, 100]
    with pytest.raises(ValueError, match="labels"):
        ev.time_series_frame([RESULT], labels=["a", "b"])
    with pytest.raises(ValueError, match="no evaluation"):
        ev.time_series_frame([])


def test_fairness_frame_differences_from_the_baseline_group():
    fi = "fairness_indicators_metrics/"
    result = FakeEvalResult([
        ((), _m(**{f"{fi}false_positive_rate@0.5": 0.1})),
        ((("sex", "M"),), _m(**{f"{fi}false_positive_rate@0.5": 0.2, f"{fi}false_negative_rate@0.5": 0.3,
                               f"{fi}false_positive_rate@0.22": 0.4, f"{fi}false_negative_rate@0.22": 0.1})),
        ((("sex", "F"),), _m(**{f"{fi}false_positive_rate@0.5": 0.05, f"{fi}false_negative_rate@0.5": 0.5,
                               f"{fi}false_positive_rate@0.22": 0.1, f"{fi}false_negative_rate@0.22": 0.2})),
    ])
    table = ev.fairness_frame(result, {"sex": "M"})
    assert list(table.index) == [("sex", "F", 0.22), ("sex", "F", 0.5), ("sex", "M", 0.22), ("sex", "M", 0.5)]
    assert table.loc[("sex", "F", 0.5), "false_positive_rate_diff"] == pytest.approx(-0.15)
    assert table.loc[("sex", "F", 0.22), "false_negative_rate_diff"] == pytest.approx(0.1)
    assert (table.loc["sex"].loc["M"][["false_positive_rate_diff", "false_negative_rate_diff"]] == 0).all().all()
    with pytest.raises(KeyError, match="baseline group"):
        ev.fairness_frame(result, {"sex": "X"})
    with pytest.raises(KeyError, match="FairnessIndicators"):
        ev.fairness_frame(RESULT, {"sex": "M"})
    with pytest.raises(TypeError, match="baseline"):
        ev.fairness_frame(result, "sex")


def test_confusion_and_calibration_plots_read_tfma_plot_data():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = {"confusionMatrixAtThresholds": {"matrices": [
        {"threshold": 0.25, "truePositives": 9.0, "falsePositives": 5.0, "trueNegatives": 5.0, "falseNegatives": 1.0},
        {"threshold": 0.5, "truePositives": 7.0, "falsePositives": 2.0, "trueNegatives": 8.0}]},
        "calibrationHistogramBuckets": {"buckets": [
            {"lowerThresholdInclusive": "-Infinity", "upperThresholdExclusive": 0.0},
            {"lowerThresholdInclusive": 0.1, "numWeightedExamples": 10.0, "totalWeightedLabel": 1.0,
             "totalWeightedRefinedPrediction": 1.5},
            {"lowerThresholdInclusive": 0.95, "numWeightedExamples": 4.0, "totalWeightedLabel": 4.0,
             "totalWeightedRefinedPrediction": 3.9}]}}
    result = FakeEvalResult([((), _m(example_count=20.0))], plots=[((), plots)])
    assert ev.confusion_at(result, (), 0.5) == {"tp": 7, "fp": 2, "tn": 8, "fn": 0}
    with pytest.raises(ValueError, match="near threshold"):
        ev.confusion_at(result, (), 0.75)
    with pytest.raises(KeyError, match="no plots for slice"):
        ev.confusion_at(result, (("sex", "M"),), 0.5)
    ax = ev.plot_calibration(result, (), bins=10)
    xs, ys = ax.lines[1].get_data()
    assert list(np.round(xs, 3)) == [0.15, 0.975] and list(np.round(ys, 3)) == [0.1, 1.0]
    ax = ev.plot_confusion(result, (), 0.25, class_names=("no", "yes"))
    assert [t.get_text() for t in ax.texts] == ["5", "5", "1", "9"]
    with pytest.raises(ValueError, match="bins"):
        ev.plot_calibration(result, (), bins=0)
    plt.close("all")


def test_beam_options_keep_the_direct_runner_in_process():
    pytest.importorskip("apache_beam")
    options = ev.beam_options().get_all_options()
    assert options["direct_num_workers"] == 1 and options["direct_running_mode"] == "in_memory"
    assert ev.beam_options(["--runner=DirectRunner", "--direct_num_workers=2"]).get_all_options()[
        "direct_num_workers"] == 2
    with pytest.raises(TypeError, match="list of options"):
        ev.beam_options("--runner=DirectRunner")


def test_write_examples_round_trip(tmp_path):
    tf = pytest.importorskip("tensorflow")
    frame = pd.DataFrame({"age": [30, 41], "sex": ["F", "M"], "label": [0, 1]})
    path = ev.write_examples(frame, tmp_path / "x" / "data.tfrecord", floats=["age"], strings=["sex"], ints=["label"])
    examples = [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(path))]
    assert [e.features.feature["sex"].bytes_list.value[0] for e in examples] == [b"F", b"M"]
    assert [e.features.feature["age"].float_list.value[0] for e in examples] == [30.0, 41.0]
    assert [e.features.feature["label"].int64_list.value[0] for e in examples] == [0, 1]
    with pytest.raises(ValueError, match="at least one column"):
        ev.write_examples(frame, tmp_path / "y.tfrecord")
    with pytest.raises(ValueError, match="named twice"):
        ev.write_examples(frame, tmp_path / "y.tfrecord", floats=["age"], ints=["age"])
    with pytest.raises(Exception, match="nope"):
        ev.write_examples(frame, tmp_path / "y.tfrecord", floats=["nope"])


def test_validation_frame_reads_a_validation_result():
    pytest.importorskip("tensorflow_model_analysis")
    from tensorflow_model_analysis.proto import validation_result_pb2

    result = validation_result_pb2.ValidationResult(validation_ok=False)
    per_slice = result.metric_validations_per_slice.add()
    per_slice.slice_key.single_slice_keys.add(column="sex", bytes_value=b"Male")
    failure = per_slice.failures.add()
    failure.metric_key.name = "auc"
    failure.metric_key.model_name = "candidate"
    failure.metric_key.is_diff = True
    failure.metric_threshold.change_threshold.direction = 2
    failure.metric_threshold.change_threshold.absolute.value = -0.01
    failure.metric_value.double_value.value = -0.0234
    table = ev.validation_frame(result)
    assert table.to_dict("records") == [{
        "slice": "sex", "value": "Male", "model": "candidate", "metric": "auc_diff", "metric_value": -0.023,
        "threshold": "change >= -0.01 (higher is better)", "message": "out of bounds"}]
    assert ev.validation_frame(validation_result_pb2.ValidationResult(validation_ok=True)).empty
    with pytest.raises(TypeError, match="ValidationResult"):
        ev.validation_frame({"validation_ok": True})
