"""C2_W1's checks given names, not values, and checked against the data: a name an unsolved exercise never
defined is a verdict; a split that is not shuffled or keeps its index, a lazy split, statistics of the wrong
rows and a schema file an earlier run left behind each fail at the exercise where the mistake is."""

import os
import time
from pathlib import Path

import pytest

from helpers import checks, data, env

env.quiet()
pytestmark = pytest.mark.filterwarnings("ignore:np.find_common_type is deprecated:DeprecationWarning")
tfdv = pytest.importorskip("tensorflow_data_validation")

LABEL = "readmitted"


def split(df, shuffle=True, reset=True):
    train_len = int(len(df) * 0.7)
    eval_len = (len(df) - train_len) // 2
    parts = [df.iloc[:train_len], df.iloc[train_len:train_len + eval_len], df.iloc[train_len + eval_len:]]
    parts = [p.sample(frac=1, random_state=48) if shuffle else p for p in parts]
    parts = [p.reset_index(drop=True) if reset else p for p in parts]
    return parts[0], parts[1], parts[2].drop(columns=[LABEL])


def diabetes_lab(rows: int, seed: int) -> dict:
    """The solution of C2_W1_Assignment_Data_Validation up to the statistics, on generated data: the frame, its
    three splits, the allow-list, the options and each split's statistics."""
    import numpy as np

    df = data.load_diabetes(n_rows=rows, seed=seed).replace("?", np.nan)
    train_df, eval_df, serving_df = split(df)
    cols = [c for c in df.columns if c not in ("encounter_id", "patient_nbr")]
    options = tfdv.StatsOptions(feature_allowlist=cols)
    stats = {name: tfdv.generate_statistics_from_dataframe(frame, stats_options=options)
             for name, frame in (("train", train_df), ("eval", eval_df), ("serving", serving_df))}
    return {"df": df, "train_df": train_df, "eval_df": eval_df, "serving_df": serving_df, "cols": cols,
            "options": options, **{f"{k}_stats": v for k, v in stats.items()}}


@pytest.fixture(scope="module")
def lab():
    return diabetes_lab(2000, 5)


def fails(verdict, *fragments):
    text = str(verdict)
    assert not verdict.passed and text.startswith(f"✗ Exercise {verdict.exercise}: "), text
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


def test_a_name_never_defined_is_a_verdict_not_a_name_error(lab):
    df = lab["df"]  # noqa: F841 - the checks look names up in this frame
    verdict = checks.check_splits("train_df", "eval_df", "serving_df", data="df", label=LABEL, exercise=1)
    assert str(verdict).startswith("✗ Exercise 1: run the exercise cell above first (`train_df` is not defined)")
    train_df, eval_df, serving_df = lab["train_df"], lab["eval_df"], lab["serving_df"]  # noqa: F841
    assert checks.check_splits("train_df", "eval_df", "serving_df", data="df", label=LABEL, order_by="encounter_id",
                               exercise=1).passed
    fails(checks.check_schema("schema", "train_stats", data="df", exercise=3), "(`schema` is not defined)")
    fails(checks.check_frozen_schema("schema_file", lab["train_stats"], exercise=11), "`schema_file` is not defined")


def test_exercise_1_wants_each_split_shuffled_with_a_fresh_index(lab):
    df = lab["df"]
    fails(checks.check_splits(*split(df, shuffle=False), df, LABEL, order_by="encounter_id", exercise=1),
          "train_df is still in file order: it was not shuffled", "random_state")
    fails(checks.check_splits(*split(df, reset=False), df, LABEL, order_by="encounter_id", exercise=1),
          "train_df keeps the index of df", "new index")
    assert "reset_index" not in str(checks.check_splits(*split(df, reset=False), df, LABEL, order_by="encounter_id",
                                                        exercise=1))


def test_a_lazy_split_fails_at_exercise_1_and_every_later_check_names_it(lab):
    df, cols = lab["df"], lab["cols"]
    fails(checks.check_splits(df, df, df, df, LABEL, order_by="encounter_id", exercise=1),
          "train_df has 2,000 rows, expected 1,400")
    whole = tfdv.generate_statistics_from_dataframe(df, stats_options=lab["options"])
    fails(checks.check_statistics(whole, df, cols, data=df, exercise=2),
          "train_df is not the train split of Exercise 1", "make Exercise 1 pass first")
    fails(checks.check_statistics(whole, df, cols, "eval_stats", data=df, split="eval", exercise=4),
          "eval_df is not the eval split of Exercise 1")
    schema = tfdv.infer_schema(whole)
    for verdict in (checks.check_schema(schema, whole, data=df, exercise=3),
                    checks.check_eval_anomalies_fixed(schema, whole, whole, data=df, exercise=6),
                    checks.check_frozen_schema(Path("nowhere.pbtxt"), schema, train_stats=whole, data=df, exercise=11)):
        fails(verdict, "describe 2,000 examples; the train split of Exercise 1 has 1,400", "Exercise 2")
    fails(checks.check_anomalies_function(lambda s, sc: tfdv.validate_statistics(s, sc), whole, schema, data=df,
                                          exercise=5), "eval_stats describe 2,000 examples", "Exercise 4")
    fails(checks.check_serving_statistics(whole, df, cols, LABEL, data=df, exercise=7),
          "serving_df is not the serving split of Exercise 1")


def test_statistics_of_other_rows_of_the_right_size_fail(lab):
    df, cols = lab["df"], lab["cols"]
    other = df.iloc[300:1700]  # as many rows as the training split, not the same ones
    stats = tfdv.generate_statistics_from_dataframe(other, stats_options=lab["options"])
    fails(checks.check_schema(tfdv.infer_schema(stats), stats, data=df, exercise=3),
          "train_stats do not describe the train split: the mean of", "Exercise 2")
    assert checks.check_statistics(lab["train_stats"], lab["train_df"], cols, data=df, exercise=2).passed


def test_skew_and_drift_are_measured_again_from_the_statistics(lab):
    df = lab["df"]
    schema = tfdv.infer_schema(lab["train_stats"])
    tfdv.get_feature(schema, "diabetesMed").skew_comparator.infinity_norm.threshold = 0.03
    tfdv.get_feature(schema, "payer_code").drift_comparator.infinity_norm.threshold = 0.03
    given = {"train_stats": lab["train_stats"], "eval_stats": lab["eval_stats"],
             "serving_stats": lab["serving_stats"], "data": df}
    right = tfdv.validate_statistics(lab["train_stats"], schema, previous_statistics=lab["eval_stats"],
                                     serving_statistics=lab["serving_stats"])
    assert checks.check_skew_and_drift(schema, right, "diabetesMed", "payer_code", **given, exercise=10).passed
    swapped = tfdv.validate_statistics(lab["train_stats"], schema, previous_statistics=lab["serving_stats"],
                                       serving_statistics=lab["eval_stats"])
    fails(checks.check_skew_and_drift(schema, swapped, "diabetesMed", "payer_code", **given, exercise=10),
          "training against serving data gives")


def test_a_schema_file_an_earlier_run_left_cannot_pass(lab, tmp_path):
    schema = tfdv.infer_schema(lab["train_stats"])
    path = tmp_path / "schema.pbtxt"
    tfdv.write_schema_text(schema, str(path))
    assert checks.check_frozen_schema(path, schema, train_stats=lab["train_stats"], data=lab["df"], exercise=11)
    old = time.time() - 10 * 24 * 3600  # written before this process (the kernel) started
    os.utime(path, (old, old))
    verdict = checks.check_frozen_schema(path, schema, exercise=11)
    fails(verdict, "'schema.pbtxt' was written before this kernel started: an earlier run left it")
    assert "write_schema_text" not in str(verdict)
