import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from helpers import env, validation

env.quiet()
tfdv = pytest.importorskip("tensorflow_data_validation")
from tensorflow_metadata.proto.v0 import schema_pb2  # noqa: E402


@pytest.fixture(scope="module")
def stats():
    train = pd.DataFrame({"age": [20, 30, 40, 50] * 5, "job": ["a", "b", "a", "c"] * 5})
    serve = pd.DataFrame({"age": [0, 30, 40, 100000] * 5, "job": ["a", "b", "zz", "c"] * 5})
    return tfdv.generate_statistics_from_dataframe(train), tfdv.generate_statistics_from_dataframe(serve)


def test_statistics_frame_has_the_overview_numbers(stats):
    train, _ = stats
    numeric = validation.statistics_frame(train, "numeric")
    assert numeric.loc["age", ["count", "min", "max", "mean"]].tolist() == [20, 20, 50, 35]
    categorical = validation.statistics_frame(train, "categorical")
    assert categorical.loc["job", "unique"] == 3 and categorical.loc["job", "top"] == "a"
    assert categorical.loc["job", "top freq %"] == 50.0
    assert set(validation.statistics_frame(train).index) == {"age", "job"}


def test_compare_statistics_puts_the_datasets_side_by_side(stats):
    table = validation.compare_statistics(*stats, "train", "serving")
    assert table.loc["age", ("max", "train")] == 50 and table.loc["age", ("max", "serving")] == 100000


def test_compare_statistics_needs_two_names(stats):
    with pytest.raises(ValueError, match="different names"):
        validation.compare_statistics(*stats, "x", "x")


def test_new_values_and_frequencies(stats):
    assert validation.new_values(*stats, "job") == ["zz"]
    assert validation.value_frequencies(stats[0], "job").to_dict() == {"a": 0.5, "b": 0.25, "c": 0.25}


def test_value_frequencies_rejects_numeric_features(stats):
    with pytest.raises(ValueError, match="is numeric"):
        validation.value_frequencies(stats[0], "age")


def test_unknown_feature_names_the_available_ones(stats):
    with pytest.raises(KeyError, match=r"no statistics for feature\(s\) \['salary'\].*'age', 'job'"):
        validation.plot_statistics(*stats, ["age", "salary"])


def test_wrong_inputs_say_what_is_expected(stats):
    with pytest.raises(TypeError, match="DatasetFeatureStatisticsList"):
        validation.statistics_frame(pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match="'numeric', 'categorical' or None"):
        validation.statistics_frame(stats[0], "text")
    with pytest.raises(ValueError, match="at least one feature"):
        validation.plot_statistics(*stats, [])


def test_empty_statistics_are_refused():
    from tensorflow_metadata.proto.v0 import statistics_pb2

    with pytest.raises(ValueError, match="no dataset"):
        validation.statistics_frame(statistics_pb2.DatasetFeatureStatisticsList())


def test_plot_statistics_draws_one_panel_per_feature(stats):
    fig = validation.plot_statistics(*stats, ["age", "job"], "train", "serving", columns=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["age", "job"]
    assert visible[0].get_xscale() == "symlog"  # 100,000 vs 50: the outlier must not hide the other split
    labels = [t.get_text() for t in visible[1].get_yticklabels()]
    assert "zz (new)" in labels


def test_anomalies_frame_is_sorted_by_feature(stats):
    train, serve = stats
    schema = tfdv.infer_schema(train)
    tfdv.set_domain(schema, "age", schema_pb2.IntDomain(min=18, max=90))
    frame = validation.anomalies_frame(tfdv.validate_statistics(serve, schema))
    assert list(frame.index) == ["'age'", "'job'"]
    assert "zz" in frame.loc["'job'", "Anomaly long description"]


def test_plot_statistics_log_scale_shows_missing_values_and_units():
    train = pd.DataFrame({"age": [20, 30, 40, 50] * 5, "job": ["a", "b", "a", "c"] * 5})
    serve = pd.DataFrame({"age": [25, 35, 45, 55] * 5, "job": ["a", "b", None, "zz"] * 5})
    lhs, rhs = tfdv.generate_statistics_from_dataframe(train), tfdv.generate_statistics_from_dataframe(serve)
    fig = validation.plot_statistics(lhs, rhs, ["age", "job"], "train", "serving", columns=2, log=True,
                                     units={"age": "years"})
    age, job = [ax for ax in fig.axes if ax.get_visible()]
    assert age.get_yscale() == "log" and age.get_xlabel() == "age (years)"
    assert job.get_xscale() == "log" and job.get_xlabel() == "fraction of rows (log scale)"
    labels = [t.get_text() for t in job.get_yticklabels()]
    assert labels[0] == "a" and set(labels[1:3]) == {"b", "c"} and labels[3:] == ["zz (new)", "(missing)"]
    serving_bars = job.containers[1]  # fractions of all rows, the missing ones included
    heights = dict(zip(labels, (bar.get_width() for bar in serving_bars)))
    assert heights["(missing)"] == pytest.approx(0.25) and heights["a"] == pytest.approx(0.25)


def test_plot_value_range_counts_and_marks_out_of_range_values():
    train = pd.Series([20, 30, 40, 50] * 50)
    evaluation = pd.Series([20, 30, 40, 0, 1000, None])
    fig = validation.plot_value_range({"train": train, "eval": evaluation}, 17, 90, "age", "years", bins=50)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "age (years)"
    assert ax.get_xlim()[0] <= 0 and ax.get_xlim()[1] >= 1000  # the axis spans every value
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["valid range 17 to 90", "train: 200 rows, 0 outside the range",
                      "eval: 5 rows, 2 outside the range"]
    notes = sorted(t.get_text() for t in ax.texts)
    assert notes == ["0 (1 eval row)", "1000 (1 eval row)"]


def test_plot_value_range_rejects_bad_input():
    with pytest.raises(TypeError, match="dict of split name -> values"):
        validation.plot_value_range([1, 2, 3], 0, 1, "x")
    with pytest.raises(TypeError, match="an empty dict"):
        validation.plot_value_range({}, 0, 1, "x")
    with pytest.raises(ValueError, match="low < high"):
        validation.plot_value_range({"a": [1]}, 5, 5, "x")
    with pytest.raises(ValueError, match="bins must be an int of at least 1, got"):
        validation.plot_value_range({"a": [1]}, 0, 5, "x", bins=0)
    with pytest.raises(ValueError, match="split 'a' has no numeric x values"):
        validation.plot_value_range({"a": ["n/a", None]}, 0, 5, "x")
