"""The self-checks of C2_W2_Assignment_Feature_Engineering: a pass on the solution, a specific verdict on
typical wrong answers (each transform check runs a small real tf.Transform analysis)."""

import textwrap

import numpy as np
import pandas as pd
import pytest

from helpers import checks, data, env

env.quiet()
pytestmark = pytest.mark.filterwarnings("ignore:np.find_common_type is deprecated:DeprecationWarning")
tfdv = pytest.importorskip("tensorflow_data_validation")
pytest.importorskip("tensorflow_transform")

from helpers import pipeline  # noqa: E402

HEAD = '''
import tensorflow as tf
import tensorflow_transform as tft

DENSE_FLOAT_FEATURE_KEYS = ["temp"]
RANGE_FEATURE_KEYS = ["humidity"]
BUCKET_FEATURE_KEYS = ["wind_speed"]
FEATURE_BUCKET_COUNT = {"wind_speed": 3}
VOCAB_FEATURE_KEYS = ["holiday", "weather_main"]
VOCAB_SIZE = 1000
OOV_SIZE = 10
VOLUME_KEY = "traffic_volume"


def transformed_name(key):
    return key + "_xf"
'''

NUMERIC = '''
def scale_numeric_features(inputs):
    outputs = {}
    for key in DENSE_FLOAT_FEATURE_KEYS:
        outputs[transformed_name(key)] = tft.scale_to_z_score(inputs[key])
    for key in RANGE_FEATURE_KEYS:
        outputs[transformed_name(key)] = tft.scale_to_0_1(inputs[key])
    for key in BUCKET_FEATURE_KEYS:
        outputs[transformed_name(key)] = tft.bucketize(inputs[key], FEATURE_BUCKET_COUNT[key])
    return outputs
'''

VOCAB = '''
def encode_categorical_features(inputs):
    outputs = {}
    for key in VOCAB_FEATURE_KEYS:
        outputs[transformed_name(key)] = tft.compute_and_apply_vocabulary(
            inputs[key], top_k=VOCAB_SIZE, num_oov_buckets=OOV_SIZE, vocab_filename=key)
    return outputs
'''

LABEL = '''
def derive_label(inputs):
    volume = tf.cast(inputs[VOLUME_KEY], tf.float32)
    return {transformed_name(VOLUME_KEY): tf.cast(tf.greater(volume, tft.mean(volume)), tf.int64)}
'''


@pytest.fixture(scope="module")
def lab():
    df = data.load("traffic")
    splits = pipeline.hash_split(df, {"train": 2, "eval": 1})
    stats = {s: tfdv.generate_statistics_from_dataframe(rows) for s, rows in splits.items()}
    schema = tfdv.infer_schema(stats["train"])
    return {"splits": splits, "stats": stats, "schema": schema,
            "rows": splits["train"].sample(150, random_state=0).reset_index(drop=True)}


@pytest.fixture
def module(tmp_path):
    count = iter(range(1000))

    def make(*parts):
        path = tmp_path / f"transform_{next(count)}.py"
        path.write_text(HEAD + "".join(textwrap.dedent(p) for p in parts))
        return pipeline.load_module_file(path, path.stem)

    return make


def verdict(result, ok, *fragments):
    assert isinstance(result, checks.Verdict) and bool(result) is ok, str(result)
    for fragment in fragments:
        assert fragment in str(result), str(result)


# the loader --------------------------------------------------------------------------------------------


def test_traffic_is_the_bike_counts_under_the_metro_columns():
    df, bikes = data.load("traffic"), data.load_bikeshare()
    assert list(df.columns) == ["holiday", "temp", "humidity", "wind_speed", "weather_main", "date_time",
                                "traffic_volume", "hour", "day", "day_of_week", "month"]
    assert len(df) == len(bikes) == 8645 and (df["traffic_volume"] == bikes["bikers"]).all()
    assert set(df["holiday"]) == {"None", "Holiday"} and set(df["weather_main"]) == set(data.TRAFFIC_WEATHER.values())
    assert df["date_time"].iloc[0] == "2011-01-01 00:00:00" and df["date_time"].is_monotonic_increasing
    assert np.allclose(df["temp"], (bikes["temp"] * 41).round(2)) and df["humidity"].between(0, 100).all()
    assert df["day_of_week"].iloc[0] == 5  # 1 January 2011 was a Saturday (Monday = 0)
    assert data.load_traffic is data.LOADERS["traffic"]


def test_traffic_refuses_an_unknown_weather_situation(monkeypatch):
    import helpers.data.timeseries as ts

    bikes = data.load_bikeshare()
    bikes.loc[0, "weathersit"] = "volcanic ash"
    monkeypatch.setattr(ts, "load_bikeshare", lambda: bikes)
    with pytest.raises(data.DataIntegrityError, match="'volcanic ash'.*no weather_main name"):
        ts.load_traffic()


# the pipeline exercises ----------------------------------------------------------------------------------


def test_split_statistics(lab):
    stats, splits = lab["stats"], lab["splits"]
    verdict(checks.check_split_statistics(stats, splits, exercise=1), True, "train: 5,787 examples")
    verdict(checks.check_split_statistics({"train": stats["train"]}, splits, exercise=1), False,
            "has the splits ['train'], expected ['eval', 'train']")
    swapped = {"train": stats["eval"], "eval": stats["train"]}
    verdict(checks.check_split_statistics(swapped, splits, exercise=1), False, "read the files of Split-train")
    verdict(checks.check_split_statistics(stats["train"], splits, exercise=1), False, "should be a dict")


def test_split_statistics_needs_the_files_a_pipeline_reads(lab, tmp_path):
    stats, splits = lab["stats"], lab["splits"]
    for split in splits:
        (tmp_path / f"Split-{split}").mkdir()
        (tmp_path / f"Split-{split}" / "FeatureStats.tfrecord").write_bytes(b"")
    verdict(checks.check_split_statistics(stats, splits, tmp_path, exercise=3), True, "eval: 2,858 examples")
    (tmp_path / "Split-eval" / "FeatureStats.tfrecord").unlink()
    verdict(checks.check_split_statistics(stats, splits, tmp_path, exercise=3), False,
            "no statistics file Split-eval/FeatureStats.tfrecord", "output_path")


@pytest.fixture
def written(lab, tmp_path):
    """The traffic rows split and written as the ingest step writes them."""
    df = data.load("traffic")
    for split, rows in lab["splits"].items():
        pipeline.write_examples(rows, tmp_path / f"Split-{split}" / "data_tfrecord-00000-of-00001.gz")
    return df, tmp_path


def test_examples(lab, written):
    df, folder = written
    buckets = {"train": 2, "eval": 1}
    verdict(checks.check_examples(folder, lab["splits"], df, buckets, exercise=1), True,
            "train: 5,787 tf.Examples in Split-train, eval: 2,858 tf.Examples in Split-eval")
    halves = {"train": df.iloc[: len(df) // 2], "eval": df.iloc[len(df) // 2:]}
    verdict(checks.check_examples(folder, halves, df, buckets, exercise=1), False,
            "a hash split of the 8,645 rows 2:1 gives it 5,787", "pipeline.hash_split and split_buckets")
    verdict(checks.check_examples(folder, {"train": df}, df, buckets, exercise=1), False,
            "splits should be a dict with the splits ['eval', 'train'], got ['train']")
    verdict(checks.check_examples(folder / "elsewhere", lab["splits"], df, buckets, exercise=1), False,
            "there are no gzipped tf.Examples in Split-train")
    pipeline.write_examples(lab["splits"]["eval"].head(5), folder / "Split-eval" / "again.gz")
    verdict(checks.check_examples(folder, lab["splits"], df, buckets, exercise=1), False,
            "Split-eval holds 2,863 tf.Examples, but the 'eval' split has 2,858 rows")


def _decode(file_pattern, num_records, raw=False, lists=False):
    import tensorflow as tf

    records = []
    dataset = tf.data.TFRecordDataset(sorted(tf.io.gfile.glob(file_pattern)), compression_type="GZIP")
    for serialized in dataset.take(num_records):
        example = tf.train.Example.FromString(serialized.numpy())
        record = {}
        for name, feature in example.features.feature.items():
            values = list(getattr(feature, feature.WhichOneof("kind")).value)
            value = values if lists else values[0]
            record[name] = value.decode() if isinstance(value, bytes) and not raw else value
        records.append(record)
    return records


def test_get_records(lab, written):
    _, folder = written
    pattern, rows = folder, lab["splits"]["train"]  # the check reads Split-train/*.gz in the folder
    verdict(checks.check_get_records(_decode, pattern, rows, exercise=2), True, "3 records decoded, 11 features")
    verdict(checks.check_get_records(lambda p, n: _decode(p, n, raw=True), pattern, rows, exercise=2), False,
            "is bytes", "decode the bytes")
    verdict(checks.check_get_records(lambda p, n: _decode(p, n, lists=True), pattern, rows, exercise=2), False,
            "is a list", "single value")
    verdict(checks.check_get_records(lambda p, n: _decode(p, 2), pattern, rows, exercise=2), False,
            "get_records(pattern, 1) returned 2 items, expected a list of 1 dictionaries")
    skipped = lambda p, n: _decode(p, n + 1)[1:]  # noqa: E731
    verdict(checks.check_get_records(skipped, pattern, rows, exercise=2), False, "record 0[")

    def stub(file_pattern, num_records):
        raise NotImplementedError("Exercise 2: Decode tf.Examples back into values")

    verdict(checks.check_get_records(stub, pattern, rows, exercise=2), False,
            "get_records still raises NotImplementedError")


def test_eval_validation(lab):
    stats, schema = lab["stats"], lab["schema"]
    ok = tfdv.validate_statistics(stats["eval"], schema)
    verdict(checks.check_eval_validation(ok, stats["eval"], schema, exercise=3), True, "no anomalies")
    strict = tfdv.infer_schema(stats["eval"])  # no 'Heavy rain/snow' in eval: train breaks its domain
    wrong = tfdv.validate_statistics(stats["train"], strict)
    verdict(checks.check_eval_validation(wrong, stats["eval"], schema, exercise=3), False,
            "the anomalies name 'weather_main'", "validating the evaluation statistics names no feature")
    text = "none"  # noqa: F841 - a learner's variable holding a string, named by the check cell
    verdict(checks.check_eval_validation("text", stats["eval"], schema, exercise=3), False, "got str")


# the transform module --------------------------------------------------------------------------------------


def test_run_preprocessing_keeps_the_row_order(lab, module):
    rows = lab["rows"]
    out, extra = checks.run_preprocessing(module(LABEL).derive_label, rows, lab["schema"], rows.head(5))
    volume = rows["traffic_volume"]
    assert out["traffic_volume_xf"].tolist() == (volume > volume.mean()).astype(int).tolist()
    assert extra["traffic_volume_xf"].tolist() == (volume.head(5) > volume.mean()).astype(int).tolist()


def test_numeric_solution_passes(lab, module):
    verdict(checks.check_numeric_transforms(module(NUMERIC), lab["rows"], lab["schema"], exercise=4), True,
            "z-scores of 'temp', 0-1 for 'humidity', buckets of 'wind_speed' on 150 rows")


@pytest.mark.parametrize("wrong, fragments", [
    (("tft.scale_to_z_score(inputs[key])", "tft.scale_to_0_1(inputs[key])", 1),
     ["temp_xf lies within 0-1", "scaled to 0-1, not z-scored", "Hint: DENSE_FLOAT_FEATURE_KEYS"]),
    (("tft.scale_to_0_1(inputs[key])", "tft.scale_to_z_score(inputs[key])", 1),
     ["humidity_xf has mean 0 and std 1: z-scored, not scaled to 0-1"]),
    (("FEATURE_BUCKET_COUNT[key])", "4)", 1), ["expected ids within 0..2"]),
    (("outputs[transformed_name(key)] = tft.scale_to_z_score", "outputs[key] = tft.scale_to_z_score", 1),
     ["the outputs have no 'temp_xf'", "set outputs[transformed_name('temp')]"]),
])
def test_numeric_wrong_answers(lab, module, wrong, fragments):
    old, new, count = wrong
    verdict(checks.check_numeric_transforms(module(NUMERIC.replace(old, new, count)), lab["rows"], lab["schema"],
                                            exercise=4), False, *fragments)


def test_a_stub_or_a_missing_function_is_a_verdict(lab, module):
    stub = 'def scale_numeric_features(inputs):\n    raise NotImplementedError("Exercise 4: Scale")\n'
    verdict(checks.check_numeric_transforms(module(stub), lab["rows"], lab["schema"], exercise=4), False,
            "scale_numeric_features() still raises NotImplementedError (Exercise 4: Scale)", "Hint: replace the stub")
    verdict(checks.check_label(module(NUMERIC), lab["rows"], lab["schema"], exercise=6), False,
            "the transform module has no function derive_label()")
    name = "traffic_transform"  # noqa: F841 - a module's name where the module or its file belongs
    verdict(checks.check_label("name", lab["rows"], lab["schema"], exercise=6), False,
            "there is no module file traffic_transform")
    verdict(checks.check_label(42, lab["rows"], lab["schema"], exercise=6), False, "pass the transform module")
    broken = LABEL.replace("tf.greater(volume, tft.mean(volume))", "tf.greater(inputs[VOLUME_KEY], tft.mean(volume))")
    verdict(checks.check_label(module(broken), lab["rows"], lab["schema"], exercise=6), False,
            "tf.Transform could not run derive_label(): TypeError")


def test_vocabulary_solution_passes(lab, module):
    verdict(checks.check_vocabularies(module(VOCAB), lab["rows"], lab["schema"], exercise=5), True,
            "holiday: 2 values + 10 OOV buckets", "unseen values land in the OOV buckets")


@pytest.mark.parametrize("old, new, fragment", [
    (", num_oov_buckets=OOV_SIZE", "", "get id -1: there are no OOV buckets"),
    ("num_oov_buckets=OOV_SIZE", "num_oov_buckets=1", "share only 1 id(s)"),
    (", vocab_filename=key", "", "no vocabulary file is named 'holiday'"),
])
def test_vocabulary_wrong_answers(lab, module, old, new, fragment):
    verdict(checks.check_vocabularies(module(VOCAB.replace(old, new)), lab["rows"], lab["schema"], exercise=5),
            False, fragment)


def test_label_solution_passes(lab, module):
    verdict(checks.check_label(module(LABEL), lab["rows"], lab["schema"], exercise=6), True,
            "of the 150 rows are above the mean volume")


@pytest.mark.parametrize("old, new, fragment", [
    ("tft.mean(volume)", "tft.quantiles(volume, 2, 0.001)[0][0]", "compares the volume with its median"),
    ("tf.greater(", "tf.less_equal(", "is inverted"),
    ("tf.int64)}", "tf.float32)}", "holds float"),
])
def test_label_wrong_answers(lab, module, old, new, fragment):
    verdict(checks.check_label(module(LABEL.replace(old, new)), lab["rows"], lab["schema"], exercise=6), False,
            fragment)


# the transformed records -------------------------------------------------------------------------------------


def _records(raw, fit=None):
    """What the solution's transform writes for `raw`, analyzed on `fit` (`raw` itself by default), computed
    with pandas."""
    fit = raw if fit is None else fit
    temp, hum, volume = fit["temp"], fit["humidity"], fit["traffic_volume"]
    return pd.DataFrame({
        "temp_xf": (raw["temp"] - temp.mean()) / temp.std(ddof=0),
        "humidity_xf": (raw["humidity"] - hum.min()) / (hum.max() - hum.min()),
        "wind_speed_xf": pd.qcut(raw["wind_speed"], 3, labels=False, duplicates="drop"),
        "holiday_xf": raw["holiday"].map({"None": 0, "Holiday": 1}),
        "weather_main_xf": raw["weather_main"].map({v: i for i, v in enumerate(fit["weather_main"].value_counts().index)
                                                    }),
        "traffic_volume_xf": (raw["traffic_volume"] > volume.mean()).astype(int),
    })


def _write(folder, train, evaluation):
    for split, records in (("train", train), ("eval", evaluation)):
        pipeline.write_examples(records, folder / f"Split-{split}" / "transformed_examples-00000-of-00001.gz")
    return folder


def test_transformed_records(lab, module, tmp_path):
    splits, mod = lab["splits"], module(NUMERIC)
    train, evaluation = splits["train"], splits["eval"]
    df, buckets = data.load("traffic"), {"train": 2, "eval": 1}
    right = _write(tmp_path / "right", _records(train), _records(evaluation, train))
    verdict(checks.check_transformed_records(right, splits, mod, data=df, buckets=buckets, exercise=9), True,
            "5,787 training and 2,858 evaluation records")
    separately = _write(tmp_path / "separately", _records(train), _records(evaluation))  # eval analyzed on its own
    verdict(checks.check_transformed_records(separately, splits, mod, exercise=9), False,
            "temp_xf of the evaluation split was not computed with the training split's statistics")
    on_eval = _write(tmp_path / "on_eval", _records(train, evaluation), _records(evaluation))
    verdict(checks.check_transformed_records(on_eval, splits, mod, exercise=9), False,
            "computed with the evaluation split's statistics", "analyze the training split only")
    shifted = _write(tmp_path / "shifted", _records(train).assign(temp_xf=lambda d: d["temp_xf"] / 2),
                     _records(evaluation, train))
    verdict(checks.check_transformed_records(shifted, splits, mod, exercise=9), False,
            "temp_xf of the training split is not what Exercise 6 asks for", "make Exercise 6 pass")
    two = _write(tmp_path / "two", _records(train).assign(wind_speed_xf=lambda d: d["wind_speed_xf"].clip(0, 1)),
                 _records(evaluation, train))
    verdict(checks.check_transformed_records(two, splits, mod, exercise=9), False,
            "wind_speed_xf has the bucket ids [0, 1], expected 0..2", "Exercise 6")
    short = _write(tmp_path / "short", _records(train).head(10), _records(evaluation, train))
    verdict(checks.check_transformed_records(short, splits, mod, exercise=9), False,
            "Split-train of the transformed examples holds 10 records; the train split has 5,787 rows")
    verdict(checks.check_transformed_records(tmp_path / "nowhere", splits, mod, exercise=9), False,
            "there are no transformed examples in Split-train", "run the notebook's cells in order")
    halves = {"train": df.iloc[: len(df) // 2], "eval": df.iloc[len(df) // 2:]}
    verdict(checks.check_transformed_records(right, halves, mod, data=df, buckets=buckets, exercise=9), False,
            "a hash split of the 8,645 rows 2:1 gives it 5,787", "make Exercise 1 pass first")


# each mistake fails at its own exercise; the later checks name it ------------------------------------------


def test_a_wrong_split_fails_exercise_1_and_the_later_checks_name_it(lab, written):
    df, folder = written
    buckets, stats = {"train": 2, "eval": 1}, lab["stats"]
    halves = {"train": df.iloc[: len(df) // 2].reset_index(drop=True), "eval": df.iloc[len(df) // 2:]}
    verdict(checks.check_examples(folder, halves, df, buckets, exercise=1), False, "gives it 5,787")
    same_size = {"train": df.head(5787), "eval": lab["splits"]["eval"]}
    verdict(checks.check_examples(folder, same_size, df, buckets, exercise=1), False,
            "the 'train' split does not hold the rows the hash split puts there")
    for result in (checks.check_get_records(_decode, folder, halves["train"], halves,
                                            data=df, buckets=buckets, exercise=2),
                   checks.check_split_statistics(stats, halves, data=df, buckets=buckets, exercise=3)):
        verdict(result, False, "the 'train' split has 4,322 rows", "make Exercise 1 pass first")


def test_examples_files_must_hold_their_splits_rows(lab, tmp_path):
    df, splits = data.load("traffic"), lab["splits"]
    pipeline.write_examples(df.head(len(splits["train"])), tmp_path / "Split-train" / "data.gz")
    pipeline.write_examples(splits["eval"], tmp_path / "Split-eval" / "data.gz")
    verdict(checks.check_examples(tmp_path, splits, df, {"train": 2, "eval": 1}, exercise=1), False,
            "Split-train does not hold the rows of the 'train' split")


def test_statistics_of_the_wrong_files_fail_exercise_3_and_validation_names_it(lab):
    df, buckets, splits, stats = data.load("traffic"), {"train": 2, "eval": 1}, lab["splits"], lab["stats"]
    verdict(checks.check_split_statistics(stats, splits, data=df, buckets=buckets, exercise=3), True)
    all_train = {"train": stats["train"], "eval": stats["train"]}  # every split read from Split-train
    verdict(checks.check_split_statistics(all_train, splits, data=df, buckets=buckets, exercise=3), False,
            "the statistics of 'eval' describe 5,787 examples, but the split has 2,858", "Split-eval")
    anomalies = tfdv.validate_statistics(stats["train"], lab["schema"])
    verdict(checks.check_eval_validation(anomalies, all_train, lab["schema"], data=df, buckets=buckets, exercise=5),
            False, "stats['eval'] describe 5,787 examples; the eval split has 2,858", "Exercise 3")


def test_a_schema_from_the_wrong_statistics_fails_exercise_4_and_validation_names_it(lab):
    df, buckets, stats = data.load("traffic"), {"train": 2, "eval": 1}, lab["stats"]
    verdict(checks.check_inferred_schema(lab["schema"], stats, df, buckets, exercise=4), True,
            "11 features, 2 with a string domain")
    from_eval = tfdv.infer_schema(stats["eval"])
    verdict(checks.check_inferred_schema(from_eval, stats, df, buckets, exercise=4), False,
            "differs from the one inferred from the training statistics (the values of the domain(s) 'weather_main')")
    anomalies = tfdv.validate_statistics(stats["eval"], from_eval)
    verdict(checks.check_eval_validation(anomalies, stats, from_eval, data=df, buckets=buckets, exercise=5), False,
            "the schema comes from Exercise 4")
    assert checks.check_eval_validation(tfdv.validate_statistics(stats["eval"], lab["schema"]), stats, lab["schema"],
                                        data=df, buckets=buckets, exercise=5)


def test_a_statistics_file_an_earlier_run_left_cannot_pass(lab, tmp_path):
    import os

    for split in lab["splits"]:
        (tmp_path / f"Split-{split}").mkdir()
        (tmp_path / f"Split-{split}" / "FeatureStats.tfrecord").write_bytes(b"")
    os.utime(tmp_path / "Split-eval" / "FeatureStats.tfrecord", (0, 0))  # from a run long before this kernel
    verdict(checks.check_split_statistics(lab["stats"], lab["splits"], tmp_path, exercise=3), False,
            "Split-eval/FeatureStats.tfrecord was written before this kernel started")


def test_buckets_must_be_as_many_as_the_module_says(lab, module):
    two = NUMERIC.replace("FEATURE_BUCKET_COUNT[key])", "2)")
    verdict(checks.check_numeric_transforms(module(two), lab["rows"], lab["schema"], exercise=6), False,
            "wind_speed_xf uses 2 bucket(s), [0, 1]; wind_speed has 3 quantile buckets", "FEATURE_BUCKET_COUNT")


def test_a_module_file_is_imported_by_the_check_itself(lab, tmp_path):
    path = tmp_path / "traffic_transform.py"
    verdict(checks.check_label(path, lab["rows"], lab["schema"], exercise=8), False,
            "there is no module file traffic_transform.py")
    path.write_text(HEAD + textwrap.dedent(LABEL))
    verdict(checks.check_label(path, lab["rows"], lab["schema"], exercise=8), True, "above the mean volume")
    path.write_text(HEAD + "\ndef derive_label(inputs)\n    return {}\n")  # a colon forgotten
    verdict(checks.check_label(path, lab["rows"], lab["schema"], exercise=8), False,
            "the module file does not import (SyntaxError", "fix the exercise cell that appends the failing code")
