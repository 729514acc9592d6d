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
