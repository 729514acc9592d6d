"""Self-checks of C2_W3_Assignment_Data_Pipeline (feature selection, curated schema, transform, ML Metadata).

Check cells name the notebook's variables; the checks after the feature selection are also handed the data
and ``select_k``, recompute the selection, and fail naming Exercise 1 when a later exercise was built on a
wrong one.

Introduced in course2_data/solutions/C2_W3_Assignment_Data_Pipeline.ipynb.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import transformed
from .core import _as_inferred, _calling, _check, _Failed, _frame, _listing, _schema, _stats, _written_now

__all__ = ["check_feature_selection", "check_curated_schema", "check_transformed_features",
           "check_parent_artifacts", "check_transform_schema"]

EXERCISE_1 = "the selection comes from Exercise 1: make it pass, run the cells after it again, then this one"


def _selection(selected: Any, df: Any, label: str, k: int, hint: str | None = None) -> list[str]:
    """``selected`` is what ``SelectKBest(f_classif, k)`` keeps of ``df``'s numeric columns, in their order; returns
    the numeric columns it drops. ``hint`` replaces every hint (a later exercise's check names Exercise 1)."""
    from sklearn.feature_selection import SelectKBest, f_classif

    def fail(problem: str, own: str = "") -> _Failed:
        return _Failed(problem, hint or own)

    _frame(df, "df")
    if isinstance(selected, str) or not isinstance(selected, Sequence):
        raise fail(f"selected_features should be a list of column names, got {type(selected).__name__}",
                   "keep the names of the columns the fitted selector supports, as a list")
    numeric = [c for c in df.select_dtypes("number").columns if c != label]
    if label in selected:
        raise fail(f"the label {label!r} is among the selected features", "select among the features only")
    scorer = SelectKBest(f_classif, k=k).fit(df[numeric], df[label])
    expected = [c for c, keep in zip(numeric, scorer.get_support()) if keep]
    if len(selected) != k:
        raise fail(f"{len(selected)} features selected, expected k={k}", "keep exactly k features")
    if sorted(selected) != sorted(expected):
        missing = sorted(set(expected) - set(selected))
        raise fail(f"expected the {k} numeric columns with the highest ANOVA F score; missing {_listing(missing)}",
                   "fit the selector on the numeric columns (not the label) and the label")
    if list(selected) != expected:
        raise fail("the right features, but not in the frame's column order", "keep the order of the columns")
    return [c for c in numeric if c not in expected]


def _upstream_selection(selected: Any, df: Any, label: str, k: int | None) -> None:
    if df is not None and k is not None:
        _selection(selected, df, label, k, EXERCISE_1)


@_check(names=("selected", "df"))
def check_feature_selection(selected: Any, df: Any, label: str, k: int) -> str:
    """Exercise: the ``k`` numeric columns ``SelectKBest(f_classif)`` keeps, in the frame's column order.

    Introduced in course2_data/solutions/C2_W3_Assignment_Data_Pipeline.ipynb.
    """
    dropped = _selection(selected, df, label, k)
    return f"{k} numeric features kept, {_listing(dropped)} dropped"


@_check(names=("schema", "ranges", "train_stats", "selected", "df"))
def check_curated_schema(schema: Any, ranges: Mapping[str, tuple[int, int]], label: str, classes: int,
                         train_stats: Any = None, selected: Any = None, df: Any = None, k: int | None = None) -> str:
    """Exercise: integer ranges on the given features, and the label a categorical int in ``0..classes-1``; with
    ``train_stats``, every other feature as inferred from them (nothing else edited); with ``selected``, ``df``
    and ``k``, the selection of Exercise 1 checked first.

    Introduced in course2_data/solutions/C2_W3_Assignment_Data_Pipeline.ipynb.
    """
    from tensorflow_metadata.proto.v0 import schema_pb2

    _upstream_selection(selected, df, label, k)
    _schema(schema)
    features = {f.name: f for f in schema.feature}
    for name, (low, high) in ranges.items():
        if name not in features:
            raise _Failed(f"the schema has no feature {name!r}", "infer it from the training statistics again")
        feature = features[name]
        if feature.WhichOneof("domain_info") != "int_domain":
            raise _Failed(f"{name!r} has no integer domain",
                          f"give {name!r} an integer domain with the bounds RANGES lists")
        got = (feature.int_domain.min, feature.int_domain.max)
        if got != (low, high):
            raise _Failed(f"{name!r} has the range {got[0]}..{got[1]}, expected {low}..{high}",
                          "use the bounds RANGES lists")
    if label not in features:
        raise _Failed(f"the schema has no label {label!r}", "keep the label in the schema; give it a domain")
    domain = features[label].int_domain
    if features[label].WhichOneof("domain_info") != "int_domain" or (domain.min, domain.max) != (0, classes - 1):
        raise _Failed(f"{label!r} should have the integer domain 0..{classes - 1}",
                      f"give {label!r} an integer domain from 0 to {classes - 1}, marked as categorical")
    if not domain.is_categorical:
        raise _Failed(f"{label!r} has the right range but is not marked categorical", "the domain has a flag for it")
    if train_stats is not None:
        _stats(train_stats, "the training statistics")
        rest = schema_pb2.Schema()
        rest.CopyFrom(schema)
        rest.ClearField("default_environment")  # Exercise 3 adds environments; this check may run after it
        for feature in rest.feature:
            feature.ClearField("not_in_environment")
            if feature.name in ranges or feature.name == label:
                feature.ClearField("int_domain")
        try:
            _as_inferred(rest, train_stats)
        except _Failed as changed:
            raise _Failed(changed.problem.replace("the schema differs", "apart from the ranges and the label, the "
                                                  "schema differs"),
                          "change only the features RANGES lists and the label") from None
    return f"{len(ranges)} ranges set; {label!r} is a categorical 0..{classes - 1}"


def _vocabulary_files(graph_dir: Any, keys: Sequence[str]) -> None:
    assets = Path(graph_dir) / "transform_fn" / "assets"
    files = sorted(p.name for p in assets.iterdir()) if assets.is_dir() else []
    missing = [k for k in keys if k not in files]
    if missing:
        raise _Failed(f"no vocabulary file is named {_listing(missing)} in the transform graph (files: "
                      f"{_listing(files) or 'none'})", "name each vocabulary file after its feature, as the "
                                                        "instructions say")
    for path in assets.iterdir():
        _written_now(path, f"the vocabulary file {path.name!r}", "run the Transform cell after this exercise")


@_check(names=("records", "raw", "numeric", "categorical", "zero_one", "min_max", "graph_dir", "selected", "df"))
def check_transformed_features(records: Any, raw: Any, numeric: Sequence[str], categorical: Sequence[str],
                               label: str, zero_one: Sequence[str] = (), min_max: Sequence[str] = (),
                               graph_dir: Any = None, selected: Any = None, df: Any = None,
                               k: int | None = None) -> str:
    """Exercise: z-scored ``numeric`` features, ``zero_one`` and ``min_max`` ones scaled to 0-1 (the training
    minimum becomes 0, the maximum 1), vocabulary ids (most frequent value = 0; with ``graph_dir``, each
    vocabulary file named after its feature) and the label passed through.

    ``records`` are the transformed training records (``<feature>_xf`` columns), ``raw`` the raw training
    rows in the same order; with ``selected``, ``df`` and ``k``, the selection of Exercise 1 is checked first.

    Introduced in course2_data/solutions/C2_W3_Assignment_Data_Pipeline.ipynb.
    """
    import pandas as pd

    _upstream_selection(selected, df, label, k)
    records, raw = _frame(records, "the transformed records"), _frame(raw, "the raw training rows")
    if len(records) != len(raw):
        raise _Failed(f"{len(records):,} transformed records for {len(raw):,} raw training rows",
                      "analyze and transform the training split")
    for key in [*min_max, *zero_one, *numeric, *categorical, label]:
        if f"{key}_xf" not in records.columns:
            raise _Failed(f"no transformed feature {key + '_xf'!r}", f"set outputs[transformed_name({key!r})]")
        if key not in categorical and not pd.api.types.is_numeric_dtype(records[f"{key}_xf"]):
            raise _Failed(f"{key + '_xf'!r} holds {records[f'{key}_xf'].dtype} values, expected numbers",
                          "each output is a tf.Transform function of the feature's input")
    for keys, how in ((min_max, "SCALE_MINMAX_FEATURE_KEYS are min-max scaled, to the default range 0-1"),
                      (zero_one, "SCALE_01_FEATURE_KEYS are scaled to 0-1: tf.Transform has a function for it")):
        for key in keys:
            transformed.zero_one(records[f"{key}_xf"], raw[key], key, how)
    for key in numeric:
        transformed.zscore(records[f"{key}_xf"], raw[key], key,
                           "SCALE_Z_FEATURE_KEYS take a z-score: tf.Transform has a function for it")
    for key in categorical:
        transformed.vocabulary(records[f"{key}_xf"], raw[key], key,
                               "give each value a vocabulary id: tf.Transform has a function for it")
    if graph_dir is not None:
        _vocabulary_files(graph_dir, categorical)
    if not (records[f"{label}_xf"].to_numpy() == raw[label].to_numpy()).all():
        raise _Failed(f"{label + '_xf'!r} differs from the raw label", "pass the label's input through unchanged")
    scaled = [f"{len(min_max)} min-max scaled"] * bool(min_max) + \
        [f"{len(zero_one)} scaled to 0-1"] * bool(zero_one)
    return (f"{len(records):,} records: {', '.join([*scaled, f'{len(numeric)} z-scored'])}, "
            f"{len(categorical)} vocabularies, the label unchanged")


@_check(names=("function", "store", "artifact_id", "expected_ids"))
def check_parent_artifacts(function: Any, store: Any, artifact_id: int, expected_ids: Sequence[int]) -> str:
    """Exercise: a function returning the input artifacts of the execution that produced an artifact.

    Introduced in course2_data/solutions/C2_W3_Assignment_Data_Pipeline.ipynb.
    """
    if not callable(function):
        raise _Failed(f"get_parent_artifacts should be a function, got {type(function).__name__}")
    with _calling("get_parent_artifacts"):
        parents = function(store, artifact_id)
    if isinstance(parents, (str, bytes)) or not isinstance(parents, Sequence):
        raise _Failed(f"get_parent_artifacts returned {type(parents).__name__}, expected a list of artifacts",
                      "return the artifacts themselves: the store looks them up by id")
    ids = []
    for artifact in parents:
        if not hasattr(artifact, "type_id") or not hasattr(artifact, "id"):
            raise _Failed(f"get_parent_artifacts returned a {type(artifact).__name__}, expected artifacts",
                          "return the artifacts the store looks up by id, not the ids or the events")
        ids.append(artifact.id)
    if sorted(ids) == [artifact_id]:
        raise _Failed("it returned the artifact itself", "keep the INPUT events of the producing execution, "
                                                         "not its OUTPUT events")
    if sorted(ids) != sorted(expected_ids):
        raise _Failed(f"it returned the artifacts {sorted(ids)}, expected {sorted(expected_ids)}",
                      "find the execution of the artifact's OUTPUT event, then the artifacts of that "
                      "execution's INPUT events")
    types = {t.id: t.name for t in store.get_artifact_types()}
    return f"artifact {artifact_id} came from " + ", ".join(f"{types[a.type_id]} {a.id}" for a in parents)


@_check(names=("schema", "curated"))
def check_transform_schema(schema: Any, curated: Any, label: str) -> str:
    """Exercise: the schema read back from the artifact the Transform used is the curated one (a copy read from
    the file, not the schema object in memory).

    Introduced in course2_data/solutions/C2_W3_Assignment_Data_Pipeline.ipynb.
    """
    _schema(schema, "transform_schema")
    if schema is curated:
        raise _Failed("transform_schema is the schema object in memory, not the one read back from the artifact",
                      "read the schema file in the folder (uri) of the Schema artifact among the parents")
    if schema != curated:
        raise _Failed("the schema read back differs from the curated schema",
                      "read the schema file in the folder (uri) of the Schema artifact among the parents")
    envs = [f.not_in_environment for f in schema.feature if f.name == label]
    return f"{len(schema.feature)} features; {label!r} not in {list(envs[0]) if envs else []}"
