"""The self-checks of C2_W3_Assignment_Data_Pipeline: a pass on the solution, a specific verdict on typical
wrong answers (the transform check reads records made by a real tf.Transform run's arithmetic)."""

import numpy as np
import pandas as pd
import pytest

from helpers import checks, data, env

env.quiet()
pytestmark = pytest.mark.filterwarnings("ignore:np.find_common_type is deprecated:DeprecationWarning")
tfdv = pytest.importorskip("tensorflow_data_validation")

from ml_metadata.proto import metadata_store_pb2  # noqa: E402
from sklearn.feature_selection import SelectKBest, f_classif  # noqa: E402
from tensorflow_metadata.proto.v0 import schema_pb2  # noqa: E402

from helpers import pipeline  # noqa: E402

LABEL = "Cover_Type"


@pytest.fixture(scope="module")
def df():
    return data.load("covertype", n_rows=1500)


def _selected(df, k=8):
    numeric = df.select_dtypes("number").columns.drop(LABEL)
    return list(numeric[SelectKBest(f_classif, k=k).fit(df[numeric], df[LABEL]).get_support()])


def test_feature_selection_passes_the_solution_and_names_wrong_answers(df):
    good = _selected(df)
    verdict = checks.check_feature_selection(good, df, LABEL, 8, exercise=1)
    assert verdict and "dropped" in str(verdict)
    text = "Elevation"  # a learner's variable holding a string: the check cell names it  # noqa: F841
    assert "got str" in str(checks.check_feature_selection("text", df, LABEL, 8, exercise=1))
    assert "7 features selected" in str(checks.check_feature_selection(good[:7], df, LABEL, 8, exercise=1))
    assert "the label" in str(checks.check_feature_selection([*good[:7], LABEL], df, LABEL, 8, exercise=1))
    worst = [c for c in df.select_dtypes("number").columns.drop(LABEL) if c not in good]
    wrong = checks.check_feature_selection([*good[:7], worst[0]], df, LABEL, 8, exercise=1)
    assert not wrong and "missing" in str(wrong)
    assert "column order" in str(checks.check_feature_selection(good[::-1], df, LABEL, 8, exercise=1))
    assert "empty" in str(checks.check_feature_selection(good, df.iloc[:0], LABEL, 8, exercise=1))


@pytest.fixture()
def schema(df):
    return tfdv.infer_schema(tfdv.generate_statistics_from_dataframe(df))


RANGES = {"Hillshade_Noon": (0, 255), "Slope": (0, 90)}


def _curate(schema, categorical=True, high=6):
    for name, (low, top) in RANGES.items():
        tfdv.set_domain(schema, name, schema_pb2.IntDomain(name=name, min=low, max=top))
    tfdv.set_domain(schema, LABEL, schema_pb2.IntDomain(name=LABEL, min=0, max=high, is_categorical=categorical))
    return schema


def test_curated_schema_check(schema):
    assert "has no integer domain" in str(checks.check_curated_schema(schema, RANGES, LABEL, 7, exercise=2))
    assert checks.check_curated_schema(_curate(schema), RANGES, LABEL, 7, exercise=2)
    assert "not marked categorical" in str(
        checks.check_curated_schema(_curate(schema, categorical=False), RANGES, LABEL, 7, exercise=2))
    assert "domain 0..6" in str(checks.check_curated_schema(_curate(schema, high=7), RANGES, LABEL, 7, exercise=2))
    off = _curate(schema)
    tfdv.set_domain(off, "Slope", schema_pb2.IntDomain(name="Slope", min=0, max=66))
    assert "range 0..66, expected 0..90" in str(checks.check_curated_schema(off, RANGES, LABEL, 7, exercise=2))
    assert "no feature 'Nope'" in str(checks.check_curated_schema(schema, {"Nope": (0, 1)}, LABEL, 7, exercise=2))
    assert "Schema protocol buffer" in str(checks.check_curated_schema({}, RANGES, LABEL, 7, exercise=2))


def _transformed(raw, numeric, categorical):
    out = pd.DataFrame({f"{k}_xf": (raw[k] - raw[k].mean()) / raw[k].std(ddof=0) for k in numeric})
    for key in categorical:
        order = {v: i for i, v in enumerate(raw[key].value_counts().index)}
        out[f"{key}_xf"] = raw[key].map(order).astype("int64")
    out[f"{LABEL}_xf"] = raw[LABEL].to_numpy()
    return out


def test_transformed_features_check(df):
    numeric, categorical = ["Elevation", "Slope"], ["Soil_Type", "Wilderness_Area"]
    good = _transformed(df, numeric, categorical)
    assert checks.check_transformed_features(good, df, numeric, categorical, LABEL, exercise=4)
    zero_one = good.assign(Slope_xf=(df["Slope"] - df["Slope"].min()) / (df["Slope"].max() - df["Slope"].min()))
    assert "Slope_xf lies within 0-1 (mean 0.28): scaled to 0-1, not z-scored" in str(
        checks.check_transformed_features(zero_one, df, numeric, categorical, LABEL, exercise=4))
    missing = good.drop(columns="Soil_Type_xf")
    assert "no transformed feature 'Soil_Type_xf'" in str(
        checks.check_transformed_features(missing, df, numeric, categorical, LABEL, exercise=4))
    strings = good.assign(Soil_Type_xf=df["Soil_Type"])
    assert "Soil_Type_xf holds object values, not integer vocabulary ids" in str(
        checks.check_transformed_features(strings, df, numeric, categorical, LABEL, exercise=4))
    reversed_ids = good.assign(Wilderness_Area_xf=3 - good["Wilderness_Area_xf"])
    assert "the most frequent Wilderness_Area does not get id 0" in str(
        checks.check_transformed_features(reversed_ids, df, numeric, categorical, LABEL, exercise=4))
    label = good.assign(Cover_Type_xf=np.zeros(len(df), dtype=int))
    assert "differs from the raw label" in str(
        checks.check_transformed_features(label, df, numeric, categorical, LABEL, exercise=4))
    assert "for 1,500 raw" in str(
        checks.check_transformed_features(good.head(10), df, numeric, categorical, LABEL, exercise=4))


def test_transformed_features_check_with_each_scaling(df):
    numeric, categorical = ["Elevation"], ["Wilderness_Area"]
    good = _transformed(df, numeric, categorical)
    for key in ("Slope", "Hillshade_Noon"):
        good[f"{key}_xf"] = (df[key] - df[key].min()) / (df[key].max() - df[key].min())
    kinds = {"zero_one": ["Hillshade_Noon"], "min_max": ["Slope"]}
    assert str(checks.check_transformed_features(good, df, numeric, categorical, LABEL, **kinds, exercise=4)) == (
        "✓ Exercise 4 passed: 1,500 records: 1 min-max scaled, 1 scaled to 0-1, 1 z-scored, 1 vocabularies, "
        "the label unchanged")
    z = good.assign(Slope_xf=(df["Slope"] - df["Slope"].mean()) / df["Slope"].std(ddof=0))
    assert "Slope_xf has mean 0 and std 1: z-scored, not scaled to 0-1" in str(
        checks.check_transformed_features(z, df, numeric, categorical, LABEL, **kinds, exercise=4))
    raw = good.assign(Hillshade_Noon_xf=df["Hillshade_Noon"])
    verdict = str(checks.check_transformed_features(raw, df, numeric, categorical, LABEL, **kinds, exercise=4))
    assert "Hillshade_Noon_xf spans" in verdict and "SCALE_01_FEATURE_KEYS are scaled to 0-1" in verdict
    text = good.assign(Slope_xf=df["Soil_Type"])
    assert "'Slope_xf' holds object values, expected numbers" in str(
        checks.check_transformed_features(text, df, numeric, categorical, LABEL, **kinds, exercise=4))


@pytest.fixture()
def store(tmp_path):
    store = pipeline.open_store(tmp_path / "m.sqlite")
    pipeline.register_types(store, artifact_types={"Examples": {}, "Schema": {}},
                            execution_types={"Importer": {}, "Transform": {}})
    _, out = pipeline.record_execution(store, "Importer", {}, {
        "examples": pipeline.new_artifact(store, "Examples", tmp_path / "e"),
        "schema": pipeline.new_artifact(store, "Schema", tmp_path / "s")})
    _, made = pipeline.record_execution(store, "Transform", {"examples": out["examples"], "schema": out["schema"]},
                                        {"transformed": pipeline.new_artifact(store, "Examples", tmp_path / "t")})
    return store, made["transformed"].id, [out["examples"].id, out["schema"].id]


def _parents(store, artifact_id, kind=metadata_store_pb2.Event.INPUT):
    [producer] = [e.execution_id for e in store.get_events_by_artifact_ids([artifact_id])
                  if e.type == metadata_store_pb2.Event.OUTPUT]
    return store.get_artifacts_by_id([e.artifact_id for e in store.get_events_by_execution_ids([producer])
                                      if e.type == kind])


def test_parent_artifacts_check(store):
    store, artifact_id, expected = store
    verdict = checks.check_parent_artifacts(_parents, store, artifact_id, expected, exercise=5)
    assert verdict and "Examples 1, Schema 2" in str(verdict)
    outputs = lambda s, a: _parents(s, a, metadata_store_pb2.Event.OUTPUT)  # noqa: E731
    assert "the artifact itself" in str(checks.check_parent_artifacts(outputs, store, artifact_id, expected,
                                                                      exercise=5))
    ids = lambda s, a: [p.id for p in _parents(s, a)]  # noqa: E731
    assert "expected artifacts" in str(checks.check_parent_artifacts(ids, store, artifact_id, expected, exercise=5))
    one = lambda s, a: _parents(s, a)[:1]  # noqa: E731
    assert "expected [1, 2]" in str(checks.check_parent_artifacts(one, store, artifact_id, expected, exercise=5))
    assert "should be a function" in str(checks.check_parent_artifacts(None, store, artifact_id, expected,
                                                                        exercise=5))
    broken = lambda s, a: 1 / 0  # noqa: E731
    assert "calling get_parent_artifacts raised ZeroDivisionError" in str(
        checks.check_parent_artifacts(broken, store, artifact_id, expected, exercise=5))


def test_transform_schema_check(schema):
    curated = _curate(schema)
    tfdv.get_feature(curated, LABEL).not_in_environment.append("SERVING")
    copy = schema_pb2.Schema()
    copy.CopyFrom(curated)
    assert "not in ['SERVING']" in str(checks.check_transform_schema(copy, curated, LABEL, exercise=6))
    inferred = tfdv.infer_schema(tfdv.generate_statistics_from_dataframe(data.load("covertype", n_rows=100)))
    assert "differs from the curated" in str(checks.check_transform_schema(inferred, curated, LABEL, exercise=6))
    path = "schema.pbtxt"  # noqa: F841 - a learner's variable holding a path, named by the check cell
    assert "Schema protocol buffer" in str(checks.check_transform_schema("path", curated, LABEL, exercise=6))


# each mistake fails at its own exercise; the later checks name it ------------------------------------------


@pytest.fixture()
def train_stats(df):
    return tfdv.generate_statistics_from_dataframe(df)


def _copy(schema):
    copy = schema_pb2.Schema()
    copy.CopyFrom(schema)
    return copy


def test_a_curated_schema_changes_only_the_ranges_and_the_label(schema, train_stats):
    assert checks.check_curated_schema(_curate(_copy(schema)), RANGES, LABEL, 7, train_stats=train_stats, exercise=2)
    loosened = _curate(_copy(schema))
    tfdv.get_feature(loosened, "Elevation").presence.min_fraction = 0.5
    result = checks.check_curated_schema(loosened, RANGES, LABEL, 7, train_stats=train_stats, exercise=2)
    assert not result and "apart from the ranges and the label, the schema differs" in str(result)
    assert "'Elevation'" in str(result) and "change only the features RANGES lists" in str(result)
    later = _curate(_copy(schema))  # the check cell run again after Exercise 3 added the environments
    later.default_environment.extend(["TRAINING", "SERVING"])
    tfdv.get_feature(later, LABEL).not_in_environment.append("SERVING")
    assert checks.check_curated_schema(later, RANGES, LABEL, 7, train_stats=train_stats, exercise=2)


def test_a_wrong_selection_fails_exercise_1_and_the_later_checks_name_it(df, schema, train_stats):
    first_k = list(df.select_dtypes("number").columns.drop(LABEL)[:8])  # the first k columns, not the best k
    assert "missing" in str(checks.check_feature_selection(first_k, df, LABEL, 8, exercise=1))
    later = checks.check_curated_schema(_curate(schema), RANGES, LABEL, 7, train_stats=train_stats, selected=first_k,
                                        df=df, k=8, exercise=2)
    assert not later and "the selection comes from Exercise 1" in str(later)
    good = _transformed(df, ["Elevation"], ["Wilderness_Area"])
    later = checks.check_transformed_features(good, df, ["Elevation"], ["Wilderness_Area"], LABEL, selected=first_k,
                                              df=df, k=8, exercise=4)
    assert not later and "the selection comes from Exercise 1" in str(later)
    assert checks.check_transformed_features(good, df, ["Elevation"], ["Wilderness_Area"], LABEL,
                                             selected=_selected(df), df=df, k=8, exercise=4)


def test_vocabulary_files_are_named_after_their_features(df, tmp_path):
    good = _transformed(df, ["Elevation"], ["Wilderness_Area"])
    assets = tmp_path / "transform_fn" / "assets"
    assets.mkdir(parents=True)
    (assets / "vocab_compute_and_apply_vocabulary_vocabulary").write_text("Neota\n")
    result = checks.check_transformed_features(good, df, ["Elevation"], ["Wilderness_Area"], LABEL, graph_dir=tmp_path,
                                               exercise=4)
    assert not result and "no vocabulary file is named 'Wilderness_Area'" in str(result)
    (assets / "Wilderness_Area").write_text("Neota\n")
    assert checks.check_transformed_features(good, df, ["Elevation"], ["Wilderness_Area"], LABEL, graph_dir=tmp_path,
                                             exercise=4)


def test_the_transform_schema_must_be_read_back_not_the_object_in_memory(schema):
    curated = _curate(schema)
    result = checks.check_transform_schema(curated, curated, LABEL, exercise=6)
    assert not result and "the schema object in memory, not the one read back" in str(result)


def test_a_schema_without_the_label_is_the_learners_verdict(schema):
    schema.default_environment.extend(["TRAINING", "SERVING"])
    del schema.feature[[f.name for f in schema.feature].index(LABEL)]
    result = checks.check_environments(schema, None, LABEL, exercise=3)
    assert str(result).startswith("✗ Exercise 3: the schema has no feature 'Cover_Type'"), str(result)
