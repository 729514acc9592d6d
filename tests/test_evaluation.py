import numpy as np
import pandas as pd
import pytest

from helpers import evaluation as ev


def test_importing_the_module_loads_no_heavy_library(heavy_imports):
    assert heavy_imports("helpers.evaluation", ('pandas', 'sklearn', 'fairlearn', 'tensorflow',
                                                'tensorflow_model_analysis', 'apache_beam', 'matplotlib')) == []


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
    with pytest.raises(ValueError, match="bins must be an int of at least 1, got 0"):
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
    with pytest.raises(TypeError, match="validation_result must be a ValidationResult from tfma.load_validation"):
        ev.validation_frame({"validation_ok": True})
