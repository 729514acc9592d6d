"""Checks of ``C2_W1_Assignment_Data_Validation``: data validation with TFDV.

Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import _anomalous, _calling, _check, _Failed, _feature_names, _frame, _listing, _schema, _stats

__all__ = [
    "check_splits", "check_statistics", "check_schema", "check_anomalies_function", "check_eval_anomalies_fixed",
    "check_serving_statistics", "check_domains_modified", "check_environments", "check_skew_and_drift",
    "check_frozen_schema",
]


@_check
def check_splits(train: Any, evaluation: Any, serving: Any, data: Any, label: str,
                 order_by: str | None = None) -> str:
    """Exercise: a 70/15/15 split in file order (``order_by`` grows with it), the label dropped from serving.

    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
    """
    data = _frame(data, "the full DataFrame")
    parts = {"train_df": train, "eval_df": evaluation, "serving_df": serving}
    for name, part in parts.items():
        _frame(part, name)
    n = len(data)
    train_len = int(n * 0.7)
    eval_len = (n - train_len) // 2
    expected = {"train_df": train_len, "eval_df": eval_len, "serving_df": n - train_len - eval_len}
    for name, part in parts.items():
        if len(part) != expected[name]:
            raise _Failed(f"{name} has {len(part):,} rows, expected {expected[name]:,} "
                          f"(70 % / 15 % / 15 % of {n:,})",
                          "train = first int(0.7 * n) rows; eval = half of the rest; serving = the remainder")
    if label in serving.columns:
        raise _Failed(f"serving_df still has the label column {label!r}",
                      "serving data comes from users, who do not send the answer: drop the label column")
    for name in ("train_df", "eval_df"):
        if label not in parts[name].columns:
            raise _Failed(f"{name} lost the label column {label!r}", "only the serving split drops it")
    features = [c for c in data.columns if c != label]
    for name, part in parts.items():
        missing = [c for c in features if c not in part.columns]
        if missing:
            raise _Failed(f"{name} lacks the column(s) {_listing(missing)}", "keep every column but the label")
    if order_by:
        cut_train, cut_eval = data[order_by].iloc[train_len], data[order_by].iloc[train_len + eval_len]
        if not (train[order_by].max() < cut_train <= evaluation[order_by].min()
                and evaluation[order_by].max() < cut_eval <= serving[order_by].min()):
            raise _Failed("the splits are not consecutive slices of the file: rows were shuffled before "
                          "splitting", "take df.iloc[...] ranges first, then shuffle within each split")
    return f"{len(train):,} / {len(evaluation):,} / {len(serving):,} rows; {label!r} only in train and eval"


@_check
def check_statistics(stats: Any, frame: Any, features: Sequence[str], name: str = "train_stats") -> str:
    """Exercise: statistics of one split computed with the feature allow-list.

    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
    """
    frame = _frame(frame, "the split")
    dataset = _stats(stats, name)
    if dataset.num_examples != len(frame):
        raise _Failed(f"{name} describe {dataset.num_examples:,} examples, but the split has {len(frame):,}",
                      "generate the statistics from this split's DataFrame, not another one")
    have = _feature_names(dataset)
    extra = [f for f in have if f not in features]
    if extra:
        raise _Failed(f"{name} include {_listing(extra)}, which the allow-list leaves out",
                      "pass stats_options=stats_options (its feature_allowlist drops the ID columns)")
    missing = [f for f in features if f not in have]
    if missing:
        raise _Failed(f"{name} lack {_listing(missing)}", "compute them from the whole split")
    return f"{len(have)} features, {dataset.num_examples:,} examples"


@_check
def check_schema(schema: Any, train_stats: Any) -> str:
    """Exercise: the schema inferred from the training statistics.

    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
    """
    import tensorflow_data_validation as tfdv

    schema = _schema(schema)
    _stats(train_stats, "train_stats")
    reference = tfdv.infer_schema(statistics=train_stats)
    if len(schema.feature) != len(reference.feature):
        raise _Failed(f"the schema has {len(schema.feature)} features; the training statistics have "
                      f"{len(reference.feature)}", "infer it from train_stats: tfdv.infer_schema(statistics=...)")
    if schema != reference:
        differ = sorted(f.name for f, g in zip(schema.feature, reference.feature) if f != g)
        raise _Failed(f"the schema differs from the one inferred from train_stats ({_listing(differ[:5])})",
                      "infer it from the training statistics only, and do not edit it yet")
    domains = sum(f.HasField("domain") for f in schema.feature)
    return f"{len(schema.feature)} features, {domains} with a string domain"


@_check
def check_anomalies_function(function: Any, statistics: Any, schema: Any) -> str:
    """Exercise: a function that validates statistics against a schema, displays and returns the anomalies.

    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
    """
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    if not callable(function):
        raise _Failed(f"expected your function, got {type(function).__name__}")
    _stats(statistics, "the statistics")
    before = _schema(schema).SerializeToString()
    with _calling("your function"):
        result = function(statistics, schema)
    if result is None:
        raise _Failed("the function returns nothing", "return the anomalies after displaying them")
    if not isinstance(result, anomalies_pb2.Anomalies):
        raise _Failed(f"the function returns a {type(result).__name__}, not the Anomalies that "
                      "tfdv.validate_statistics gives")
    if schema.SerializeToString() != before:
        raise _Failed("the function changed the schema", "validation only reads the schema")
    expected = _anomalous(tfdv.validate_statistics(statistics=statistics, schema=schema))
    if _anomalous(result) != expected:
        raise _Failed(f"it reports anomalies in {_listing(_anomalous(result)) or 'no feature'}; validating "
                      f"these statistics against this schema finds {_listing(expected) or 'none'}",
                      "tfdv.validate_statistics(statistics=statistics, schema=schema)")
    return f"it finds the anomalies in {_listing(expected) or 'no feature'}"


@_check
def check_eval_anomalies_fixed(schema: Any, train_stats: Any, eval_stats: Any) -> str:
    """Exercise: the evaluation anomalies fixed by adding the new values to their features' domains.

    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
    """
    import tensorflow_data_validation as tfdv

    from helpers import validation

    _schema(schema)
    _stats(train_stats, "train_stats")
    _stats(eval_stats, "eval_stats")
    left = _anomalous(tfdv.validate_statistics(statistics=eval_stats, schema=schema))
    if left:
        raise _Failed(f"the evaluation data still has anomalies in {_listing(left)}",
                      "append each unexpected value to tfdv.get_domain(schema, feature).value")
    added = []
    for feature in schema.feature:
        if feature.HasField("domain"):
            for value in validation.new_values(train_stats, eval_stats, feature.name):
                if value not in tfdv.get_domain(schema, feature.name).value:
                    raise _Failed(f"{value!r} of {feature.name!r} passes, but not because it is in the domain "
                                  "(was a constraint relaxed, or the domain removed?)",
                                  "this exercise fixes the schema by adding the value to the domain")
                added.append(f"{feature.name}={value}")
    return f"no anomalies; domains now accept {', '.join(added) or 'the values they had'}"


@_check
def check_serving_statistics(stats: Any, frame: Any, features: Sequence[str], label: str) -> str:
    """Exercise: statistics of the serving split (schema-aware options), which has no label.

    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
    """
    frame = _frame(frame, "serving_df")
    dataset = _stats(stats, "serving_stats")
    if dataset.num_examples != len(frame):
        raise _Failed(f"serving_stats describe {dataset.num_examples:,} examples, but serving_df has "
                      f"{len(frame):,}", "generate them from serving_df")
    have = _feature_names(dataset)
    if label in have:
        raise _Failed(f"serving_stats include the label {label!r}", "serving_df must not have the label column")
    missing = [f for f in features if f != label and f not in have]
    if missing:
        raise _Failed(f"serving_stats lack {_listing(missing)}, which the schema expects in serving data",
                      "only the label may be missing from serving_df; check how the split dropped columns")
    extra = [f for f in have if f not in features]
    if extra:
        raise _Failed(f"serving_stats include {_listing(extra)}, which the allow-list leaves out",
                      "pass the options with feature_allowlist=approved_cols")
    return f"{len(have)} features (no {label!r}), {dataset.num_examples:,} examples"


@_check
def check_domains_modified(function: Any, schema: Any, features: Sequence[str], domain: str) -> str:
    """Exercise: a function that points a list of features at an existing global string domain.

    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
    """
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import schema_pb2

    if not callable(function):
        raise _Failed(f"expected your function, got {type(function).__name__}")
    _schema(schema)
    wrong = [f for f in features if tfdv.get_feature(schema, f).domain != domain]
    if wrong:
        raise _Failed(f"{_listing(wrong[:4])}{' ...' if len(wrong) > 4 else ''} do not use the {domain!r} domain",
                      f"tfdv.set_domain(schema, feature, {domain!r}) for each feature in the list")
    trial = schema_pb2.Schema()
    trial.CopyFrom(schema)
    for f in features:  # undo, then see what the function does on its own
        tfdv.set_domain(trial, f, schema_pb2.StringDomain(name=f, value=["No"]))
    with _calling("your function"):
        returned = function(list(features), trial, domain)
    if not isinstance(returned, schema_pb2.Schema):
        raise _Failed(f"the function returns a {type(returned).__name__}", "return the schema it modified")
    if any(tfdv.get_feature(returned, f).domain != domain for f in features):
        raise _Failed("the function does not set the domain of every feature in the list it is given",
                      "loop over features_list, not over a fixed list")
    values = list(tfdv.get_domain(schema, features[0]).value)
    return f"{len(features)} features now share the {domain!r} domain {values}"


@_check
def check_environments(schema: Any, anomalies: Any, label: str, variable: str = "serving_anomalies_with_env") -> str:
    """Exercise: TRAINING and SERVING environments, the label not expected when serving.

    ``variable`` is the notebook's name for the anomalies, which the verdict names.

    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
    """
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    _schema(schema)
    environments = list(schema.default_environment)
    if not {"TRAINING", "SERVING"} <= set(environments):
        raise _Failed(f"the schema's default environments are {environments}, expected TRAINING and SERVING",
                      "schema.default_environment.append('TRAINING') and the same for 'SERVING'")
    if "SERVING" not in tfdv.get_feature(schema, label).not_in_environment:
        raise _Failed(f"{label!r} is still expected in the SERVING environment",
                      f"tfdv.get_feature(schema, {label!r}).not_in_environment.append('SERVING')")
    if not isinstance(anomalies, anomalies_pb2.Anomalies):
        raise _Failed(f"{variable} should be the Anomalies that tfdv.validate_statistics returns, got "
                      f"{type(anomalies).__name__}", "tfdv.validate_statistics(..., environment='SERVING')")
    if anomalies.anomaly_info:
        raise _Failed(f"validating the serving statistics still finds anomalies in "
                      f"{_listing(_anomalous(anomalies))}", "pass environment='SERVING' to validate_statistics")
    return f"no anomalies in serving; {label!r} is required in TRAINING only"


@_check
def check_skew_and_drift(schema: Any, anomalies: Any, skew_feature: str, drift_feature: str,
                         threshold: float = 0.03) -> str:
    """Exercise: an L-infinity skew comparator and a drift comparator, and the anomalies they raise.

    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
    """
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    _schema(schema)
    skew = tfdv.get_feature(schema, skew_feature).skew_comparator.infinity_norm.threshold
    drift = tfdv.get_feature(schema, drift_feature).drift_comparator.infinity_norm.threshold
    if abs(skew - threshold) > 1e-9:
        raise _Failed(f"the skew threshold of {skew_feature!r} is {skew:g}, expected {threshold:g}",
                      f"tfdv.get_feature(schema, {skew_feature!r}).skew_comparator.infinity_norm.threshold")
    if abs(drift - threshold) > 1e-9:
        raise _Failed(f"the drift threshold of {drift_feature!r} is {drift:g}, expected {threshold:g}",
                      f"tfdv.get_feature(schema, {drift_feature!r}).drift_comparator.infinity_norm.threshold")
    if not isinstance(anomalies, anomalies_pb2.Anomalies):
        raise _Failed(f"skew_drift_anomalies should be Anomalies, got {type(anomalies).__name__}")
    measured = {".".join(i.path.step): i for i in anomalies.drift_skew_info}
    for feature, kind, arg in ((skew_feature, "skew", "serving_statistics=serving_stats"),
                               (drift_feature, "drift", "previous_statistics=eval_stats")):
        info = measured.get(feature)
        if info is None or not getattr(info, f"{kind}_measurements"):
            raise _Failed(f"no {kind} was measured for {feature!r}",
                          f"validate train_stats with {arg} (and the other comparison's statistics)")
    return f"skew of {skew_feature!r} and drift of {drift_feature!r} measured against {threshold:g}"


@_check
def check_frozen_schema(path: Any, schema: Any) -> str:
    """Exercise: the curated schema written to a text file that reads back to the same schema.

    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
    """
    from helpers.pipeline import load_schema

    _schema(schema)
    path = Path(path)
    try:
        frozen = load_schema(path)
    except FileNotFoundError:
        raise _Failed(f"there is no file {path.name!r} in the output folder",
                      "tfdv.write_schema_text(schema, str(schema_file))") from None
    except ValueError as error:
        raise _Failed(f"{path.name!r} is not a schema in text format ({str(error).splitlines()[0]})",
                      "write it with tfdv.write_schema_text, not str() or pickle") from None
    if frozen != schema:
        raise _Failed(f"{path.name!r} differs from the schema in memory",
                      "write the file after the last change to the schema")
    return f"{path.name} holds {len(frozen.feature)} features and environments {list(frozen.default_environment)}"
