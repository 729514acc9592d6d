"""Self-checks of C2_W3_Assignment_Data_Pipeline (feature selection, curated schema, transform, ML Metadata)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import _calling, _check, _Failed, _frame, _listing, _schema

__all__ = ["check_feature_selection", "check_curated_schema", "check_transformed_features",
           "check_parent_artifacts", "check_transform_schema"]


@_check(names=("selected", "df"))
def check_feature_selection(selected: Any, df: Any, label: str, k: int) -> str:
    """Exercise: the ``k`` numeric columns ``SelectKBest(f_classif)`` keeps, in the frame's column order.

    Introduced in course2_data/solutions/C2_W3_Assignment_Data_Pipeline.ipynb.
    """
    from sklearn.feature_selection import SelectKBest, f_classif

    _frame(df, "df")
    if isinstance(selected, str) or not isinstance(selected, Sequence):
        raise _Failed(f"selected_features should be a list of column names, got {type(selected).__name__}",
                      "keep the names of the columns the fitted selector supports, as a list")
    numeric = [c for c in df.select_dtypes("number").columns if c != label]
    if label in selected:
        raise _Failed(f"the label {label!r} is among the selected features", "select among the features only")
    scorer = SelectKBest(f_classif, k=k).fit(df[numeric], df[label])
    expected = [c for c, keep in zip(numeric, scorer.get_support()) if keep]
    if len(selected) != k:
        raise _Failed(f"{len(selected)} features selected, expected k={k}", "SelectKBest(f_classif, k=k)")
    if sorted(selected) != sorted(expected):
        missing = sorted(set(expected) - set(selected))
        raise _Failed(f"expected the {k} numeric columns with the highest ANOVA F score; missing {_listing(missing)}",
                      "fit SelectKBest(f_classif, k=k) on the numeric columns (not the label) and the label")
    if list(selected) != expected:
        raise _Failed("the right features, but not in the frame's column order", "keep the order of the columns")
    dropped = [c for c in numeric if c not in expected]
    return f"{k} numeric features kept, {_listing(dropped)} dropped"


@_check(names=("schema", "ranges"))
def check_curated_schema(schema: Any, ranges: Mapping[str, tuple[int, int]], label: str, classes: int) -> str:
    """Exercise: integer ranges on the given features, and the label a categorical int in ``0..classes-1``.

    Introduced in course2_data/solutions/C2_W3_Assignment_Data_Pipeline.ipynb.
    """
    _schema(schema)
    features = {f.name: f for f in schema.feature}
    for name, (low, high) in ranges.items():
        if name not in features:
            raise _Failed(f"the schema has no feature {name!r}", "infer it from the training statistics again")
        feature = features[name]
        if feature.WhichOneof("domain_info") != "int_domain":
            raise _Failed(f"{name!r} has no integer domain",
                          f"give {name!r} an integer domain (schema_pb2.IntDomain) with the bounds RANGES lists")
        got = (feature.int_domain.min, feature.int_domain.max)
        if got != (low, high):
            raise _Failed(f"{name!r} has the range {got[0]}..{got[1]}, expected {low}..{high}")
    if label not in features:
        raise _Failed(f"the schema has no label {label!r}")
    domain = features[label].int_domain
    if features[label].WhichOneof("domain_info") != "int_domain" or (domain.min, domain.max) != (0, classes - 1):
        raise _Failed(f"{label!r} should have the integer domain 0..{classes - 1}",
                      f"give {label!r} an integer domain from 0 to {classes - 1}, marked as categorical")
    if not domain.is_categorical:
        raise _Failed(f"{label!r} has the right range but is not marked categorical", "the domain has a flag for it")
    return f"{len(ranges)} ranges set; {label!r} is a categorical 0..{classes - 1}"


@_check(names=("records", "raw", "numeric", "categorical", "zero_one", "min_max"))
def check_transformed_features(records: Any, raw: Any, numeric: Sequence[str], categorical: Sequence[str],
                               label: str, zero_one: Sequence[str] = (), min_max: Sequence[str] = ()) -> str:
    """Exercise: z-scored ``numeric`` features, ``zero_one`` and ``min_max`` ones scaled to 0-1 (the training
    minimum becomes 0, the maximum 1), vocabulary ids (most frequent value = 0) and the label passed through.

    ``records`` are the transformed training records (``<feature>_xf`` columns), ``raw`` the raw training
    rows in the same order.

    Introduced in course2_data/solutions/C2_W3_Assignment_Data_Pipeline.ipynb.
    """
    import numpy as np
    import pandas as pd

    records, raw = _frame(records, "the transformed records"), _frame(raw, "the raw training rows")
    if len(records) != len(raw):
        raise _Failed(f"{len(records):,} transformed records for {len(raw):,} raw training rows")
    for key in [*min_max, *zero_one, *numeric, *categorical, label]:
        if f"{key}_xf" not in records.columns:
            raise _Failed(f"no transformed feature {key + '_xf'!r}", f"set outputs[transformed_name({key!r})]")
        if key not in categorical and not pd.api.types.is_numeric_dtype(records[f"{key}_xf"]):
            raise _Failed(f"{key + '_xf'!r} holds {records[f'{key}_xf'].dtype} values, expected numbers",
                          "each output is a tft function of inputs[key]")
    for keys, how in ((min_max, "tft.scale_by_min_max"), (zero_one, "tft.scale_to_0_1")):
        for key in keys:
            values, r = records[f"{key}_xf"].to_numpy(dtype=float), raw[key].to_numpy(dtype=float)
            if not np.allclose(values, (r - r.min()) / (r.max() - r.min()), atol=1e-3):
                kind = ("z-scored" if abs(values.mean()) < 1e-2 and abs(values.std() - 1) < 1e-2
                        else f"spanning {values.min():.3f}..{values.max():.3f}")
                raise _Failed(f"{key + '_xf'!r} is {kind}, not scaled to 0-1 (training minimum 0, maximum 1)", how)
    for key in numeric:
        values = records[f"{key}_xf"].to_numpy(dtype=float)
        expected = (raw[key] - raw[key].mean()) / raw[key].std(ddof=0)
        if not np.allclose(values, expected, atol=1e-3):
            raise _Failed(f"{key + '_xf'!r} is not the z-score of {key!r} (mean {values.mean():.3f}, "
                          f"std {values.std():.3f})", "tf.Transform's z-score function")
    for key in categorical:
        ids = records[f"{key}_xf"]
        if not np.issubdtype(ids.dtype, np.integer):
            raise _Failed(f"{key + '_xf'!r} holds {ids.dtype} values, expected integer vocabulary ids",
                          "tf.Transform's vocabulary function")
        pairs = set(zip(raw[key], ids))
        if len(pairs) != raw[key].nunique() or ids.nunique() != raw[key].nunique():
            raise _Failed(f"{key + '_xf'!r} does not give each value of {key!r} one id of its own",
                          "tf.Transform's vocabulary function")
        if int(ids[raw[key] == raw[key].value_counts().index[0]].iloc[0]) != 0:
            raise _Failed(f"the most frequent value of {key!r} does not have id 0", "a vocabulary sorts by frequency")
    if not (records[f"{label}_xf"].to_numpy() == raw[label].to_numpy()).all():
        raise _Failed(f"{label + '_xf'!r} differs from the raw label", f"pass inputs[{label!r}] through unchanged")
    scaled = [f"{len(min_max)} min-max scaled"] * bool(min_max) + [f"{len(zero_one)} scaled to 0-1"] * bool(zero_one)
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
    """Exercise: the schema read back from the artifact the Transform used is the curated one.

    Introduced in course2_data/solutions/C2_W3_Assignment_Data_Pipeline.ipynb.
    """
    _schema(schema, "transform_schema")
    if schema != curated:
        raise _Failed("the schema read back differs from the curated schema",
                      "load the schema.pbtxt in the folder (uri) of the Schema artifact among the parents")
    envs = [f.not_in_environment for f in schema.feature if f.name == label]
    return f"{len(schema.feature)} features; {label!r} not in {list(envs[0]) if envs else []}"
