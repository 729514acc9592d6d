"""Checks of ``C2_W1_Assignment_Data_Validation``: data validation with TFDV.

Check cells name the notebook's variables (``checks.check_splits("train_df", ..., data="df", exercise=1)``):
a name an unsolved exercise never defined gives a verdict instead of a NameError. Every check after the
split is given the full DataFrame (``data``) and recomputes from it what it needs, so a wrong split or
statistics of the wrong rows fail with a hint naming the exercise where the mistake is, not later.

Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .core import (
    _anomalous,
    _as_inferred,
    _calling,
    _check,
    _describes,
    _Failed,
    _feature_names,
    _frame,
    _listing,
    _schema,
    _stats,
    _written_now,
)

__all__ = [
    "check_splits", "check_statistics", "check_schema", "check_anomalies_function", "check_eval_anomalies_fixed",
    "check_serving_statistics", "check_domains_modified", "check_environments", "check_skew_and_drift",
    "check_frozen_schema",
]

LABEL, ORDER = "readmitted", "encounter_id"  # the assignment's label, and the column that follows file order
SPLITS = {"train": ("train_df", 2), "eval": ("eval_df", 4), "serving": ("serving_df", 7)}  # name, stats exercise


def _reference(data: Any, split: str, label: str = LABEL) -> Any:
    """The rows of ``split`` as Exercise 1 asks for them, in file order (serving without the label)."""
    data = _frame(data, "df")
    n = len(data)
    train_len = int(n * 0.7)
    eval_len = (n - train_len) // 2
    bounds = {"train": (0, train_len), "eval": (train_len, train_len + eval_len), "serving": (train_len + eval_len, n)}
    start, stop = bounds[split]
    part = data.iloc[start:stop]
    return part.drop(columns=[label]) if split == "serving" and label in part.columns else part


def _verify_split(frame: Any, data: Any, split: str, label: str = LABEL) -> Any:
    """``frame`` holds exactly the rows of ``split`` (any order), or fail naming Exercise 1."""
    name = SPLITS[split][0]
    reference = _reference(data, split, label)
    frame = _frame(frame, name)
    if ORDER not in frame.columns or len(frame) != len(reference) or \
            set(frame[ORDER]) != set(reference[ORDER]):
        raise _Failed(f"{name} is not the {split} split of Exercise 1 ({len(frame):,} rows; expected "
                      f"{len(reference):,}, the {split} slice of df in file order)",
                      "make Exercise 1 pass first, run the cells after it again, then this one")
    return frame


def _verify_stats(stats: Any, data: Any, split: str, name: str, label: str = LABEL) -> Any:
    """``stats`` describe the rows of ``split``: their count and every numeric mean, or fail naming the
    exercise that made them."""
    frame_name, made_in = SPLITS[split]
    hint = (f"{name} come from Exercise {made_in}, on {frame_name} from Exercise 1: make those pass, "
            "run their cells again, then this one")
    return _describes(stats, _reference(data, split, label), name, split, hint, " of Exercise 1")


@_check(names=("train", "evaluation", "serving", "data"))
def check_splits(train: Any, evaluation: Any, serving: Any, data: Any, label: str,
                 order_by: str | None = None) -> str:
    """Exercise: a 70/15/15 split in file order (``order_by`` grows with it), each split shuffled within
    itself with a fresh index, the label dropped from serving.
    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb."""
    import pandas as pd

    data = _frame(data, "the full DataFrame")
    parts = {"train_df": train, "eval_df": evaluation, "serving_df": serving}
    for name, part in parts.items():
        _frame(part, name)
    n = len(data)
    references = dict(zip(parts, (_reference(data, split, label) for split in SPLITS)))
    for name, part in parts.items():
        if len(part) != len(references[name]):
            raise _Failed(f"{name} has {len(part):,} rows, expected {len(references[name]):,} "
                          f"(70 % / 15 % / 15 % of {n:,})",
                          "train = the first 70 % of the rows (rounded down); eval = half of the rest "
                          "(rounded down); serving = the remainder")
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
        for name, part in parts.items():
            if set(part[order_by]) != set(references[name][order_by]):
                raise _Failed(f"{name} does not hold the rows of its slice of the file: rows were shuffled (or "
                              "mixed) before splitting",
                              "cut the three slices in file order first, then shuffle within each split")
        for name, part in parts.items():
            if list(part[order_by]) == list(references[name][order_by]):
                raise _Failed(f"{name} is still in file order: it was not shuffled",
                              "shuffle each split within itself, with the random_state the docstring gives")
    for name, part in parts.items():
        if not part.index.equals(pd.RangeIndex(len(part))):
            raise _Failed(f"{name} keeps the index of df (it starts {list(part.index[:3])}), not a fresh one "
                          "from 0", "after shuffling, give each split a new index and drop the old one")
    return f"{len(train):,} / {len(evaluation):,} / {len(serving):,} rows, each shuffled with a fresh index; " \
           f"{label!r} only in train and eval"


@_check(names=("stats", "frame", "features", "data"))
def check_statistics(stats: Any, frame: Any, features: Sequence[str], name: str = "train_stats",
                     data: Any = None, split: str = "train") -> str:
    """Exercise: statistics of one split computed with the feature allow-list (the split checked against
    ``data``, the full DataFrame, when given).
    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb."""
    frame = _frame(frame, "the split") if data is None else _verify_split(frame, data, split)
    dataset = _stats(stats, name)
    if dataset.num_examples != len(frame):
        raise _Failed(f"{name} describe {dataset.num_examples:,} examples, but the split has {len(frame):,}",
                      "generate the statistics from this split's DataFrame, not another one")
    have = _feature_names(dataset)
    extra = [f for f in have if f not in features]
    if extra:
        raise _Failed(f"{name} include {_listing(extra)}, which the allow-list leaves out",
                      "pass the StatsOptions made above (its feature_allowlist drops the ID columns)")
    missing = [f for f in features if f not in have]
    if missing:
        raise _Failed(f"{name} lack {_listing(missing)}", "compute them from the whole split")
    if data is not None:
        _verify_stats(stats, data, split, name)
    return f"{len(have)} features, {dataset.num_examples:,} examples"


@_check(names=("schema", "train_stats", "data"))
def check_schema(schema: Any, train_stats: Any, data: Any = None) -> str:
    """Exercise: the schema inferred from the training statistics.
    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb."""
    schema = _schema(schema)
    _stats(train_stats, "train_stats") if data is None else _verify_stats(train_stats, data, "train", "train_stats")
    _as_inferred(schema, train_stats, "train_stats")
    domains = sum(f.HasField("domain") for f in schema.feature)
    return f"{len(schema.feature)} features, {domains} with a string domain"


@_check(names=("function", "statistics", "schema", "data"))
def check_anomalies_function(function: Any, statistics: Any, schema: Any, data: Any = None) -> str:
    """Exercise: a function that validates statistics against a schema, displays and returns the anomalies.
    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb."""
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    if not callable(function):
        raise _Failed(f"expected your function, got {type(function).__name__}")
    _stats(statistics, "the statistics") if data is None else _verify_stats(statistics, data, "eval", "eval_stats")
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
                      "validate the statistics the function is given, against the schema it is given")
    return f"it finds the anomalies in {_listing(expected) or 'no feature'}"


@_check(names=("schema", "train_stats", "eval_stats", "data"))
def check_eval_anomalies_fixed(schema: Any, train_stats: Any, eval_stats: Any, data: Any = None) -> str:
    """Exercise: the evaluation anomalies fixed by adding the new values to their features' domains.
    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb."""
    import tensorflow_data_validation as tfdv

    from helpers import validation

    _schema(schema)
    if data is None:
        _stats(train_stats, "train_stats")
        _stats(eval_stats, "eval_stats")
    else:
        _verify_stats(train_stats, data, "train", "train_stats")
        _verify_stats(eval_stats, data, "eval", "eval_stats")
    left = _anomalous(tfdv.validate_statistics(statistics=eval_stats, schema=schema))
    if left:
        raise _Failed(f"the evaluation data still has anomalies in {_listing(left)}",
                      "add each unexpected value to the value list of its feature's domain")
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


@_check(names=("stats", "frame", "features", "data"))
def check_serving_statistics(stats: Any, frame: Any, features: Sequence[str], label: str, data: Any = None) -> str:
    """Exercise: statistics of the serving split (schema-aware options), which has no label.
    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb."""
    frame = _frame(frame, "serving_df") if data is None else _verify_split(frame, data, "serving", label)
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
                      "use the options made above, whose allow-list is approved_cols")
    if data is not None:
        _verify_stats(stats, data, "serving", "serving_stats", label)
    return f"{len(have)} features (no {label!r}), {dataset.num_examples:,} examples"


def _upstream(data: Any, **stats: Any) -> None:
    """Verify the statistics an exercise's schema was built from, when the check cell hands them over."""
    if data is not None:
        for split, value in stats.items():
            if value is not None:
                _verify_stats(value, data, split, f"{split}_stats")


@_check(names=("function", "schema", "features", "train_stats", "data"))
def check_domains_modified(function: Any, schema: Any, features: Sequence[str], domain: str,
                           train_stats: Any = None, data: Any = None) -> str:
    """Exercise: a function that points a list of features at an existing global string domain.
    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb."""
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import schema_pb2

    if not callable(function):
        raise _Failed(f"expected your function, got {type(function).__name__}")
    _schema(schema)
    _upstream(data, train=train_stats)
    wrong = [f for f in features if tfdv.get_feature(schema, f).domain != domain]
    if wrong:
        raise _Failed(f"{_listing(wrong[:4])}{' ...' if len(wrong) > 4 else ''} do not use the {domain!r} domain",
                      f"set the domain of each feature in the list to the name {domain!r}, then run the cell "
                      "that calls your function")
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


@_check(names=("schema", "anomalies", "serving_stats", "data"))
def check_environments(schema: Any, anomalies: Any, label: str, variable: str = "serving_anomalies_with_env",
                       serving_stats: Any = None, data: Any = None) -> str:
    """Exercise: TRAINING and SERVING environments, the label not expected when serving.

    ``variable`` is the notebook's name for the anomalies, which the verdict names. With ``serving_stats``,
    the check validates them itself too, in the SERVING environment.
    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb."""
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    _schema(schema)
    _upstream(data, serving=serving_stats)
    environments = list(schema.default_environment)
    if not {"TRAINING", "SERVING"} <= set(environments):
        raise _Failed(f"the schema's default environments are {environments}, expected TRAINING and SERVING",
                      "add both names to the schema's default_environment list")
    if label not in [f.name for f in schema.feature]:
        raise _Failed(f"the schema has no feature {label!r}", "keep the label in the schema: the environments say "
                                                               "where it is expected")
    if "SERVING" not in tfdv.get_feature(schema, label).not_in_environment:
        raise _Failed(f"{label!r} is still expected in the SERVING environment",
                      f"add 'SERVING' to the not_in_environment list of the feature {label!r}")
    if not isinstance(anomalies, anomalies_pb2.Anomalies):
        raise _Failed(f"{variable} should be the Anomalies that tfdv.validate_statistics returns, got "
                      f"{type(anomalies).__name__}", "validate the serving statistics in the SERVING environment")
    left = _anomalous(anomalies)
    if serving_stats is not None and not left:
        left = _anomalous(tfdv.validate_statistics(serving_stats, schema, environment="SERVING"))
        if left and label not in left:  # the learner's anomalies are empty, the serving statistics' are not
            raise _Failed(f"validating serving_stats in the SERVING environment finds anomalies in {_listing(left)}",
                          f"{variable} must come from the serving statistics")
    if left and label not in left:
        raise _Failed(f"the serving statistics have anomalies in {_listing(left)}, which no environment fixes",
                      "an earlier exercise fixes them in the schema (a domain, a constraint): make its check pass")
    if left:
        raise _Failed(f"validating the serving statistics still finds anomalies in {_listing(left)}",
                      "tell validate_statistics which environment to use")
    return f"no anomalies in serving; {label!r} is required in TRAINING only"


@_check(names=("schema", "anomalies", "train_stats", "eval_stats", "serving_stats", "data"))
def check_skew_and_drift(schema: Any, anomalies: Any, skew_feature: str, drift_feature: str,
                         threshold: float = 0.03, train_stats: Any = None, eval_stats: Any = None,
                         serving_stats: Any = None, data: Any = None) -> str:
    """Exercise: an L-infinity skew comparator and a drift comparator, and the anomalies they raise. With the
    three statistics, the check measures skew and drift itself and compares.
    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb."""
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    _schema(schema)
    _upstream(data, train=train_stats, eval=eval_stats, serving=serving_stats)
    skew = tfdv.get_feature(schema, skew_feature).skew_comparator.infinity_norm.threshold
    drift = tfdv.get_feature(schema, drift_feature).drift_comparator.infinity_norm.threshold
    if abs(skew - threshold) > 1e-9:
        raise _Failed(f"the skew threshold of {skew_feature!r} is {skew:g}, expected {threshold:g}",
                      f"set the infinity-norm threshold of the skew comparator of {skew_feature!r}")
    if abs(drift - threshold) > 1e-9:
        raise _Failed(f"the drift threshold of {drift_feature!r} is {drift:g}, expected {threshold:g}",
                      f"set the infinity-norm threshold of the drift comparator of {drift_feature!r}")
    if not isinstance(anomalies, anomalies_pb2.Anomalies):
        raise _Failed(f"skew_drift_anomalies should be Anomalies, got {type(anomalies).__name__}")
    measured = {".".join(i.path.step): i for i in anomalies.drift_skew_info}
    expected = {}
    if None not in (train_stats, eval_stats, serving_stats):
        mine = tfdv.validate_statistics(train_stats, schema, previous_statistics=eval_stats,
                                        serving_statistics=serving_stats)
        expected = {".".join(i.path.step): i for i in mine.drift_skew_info}
    for feature, kind, other in ((skew_feature, "skew", "serving"), (drift_feature, "drift", "evaluation")):
        info = measured.get(feature)
        if info is None or not getattr(info, f"{kind}_measurements"):
            raise _Failed(f"no {kind} was measured for {feature!r}",
                          f"validate the training statistics with the {other} statistics as well")
        if feature in expected:
            value, want = (getattr(i, f"{kind}_measurements")[0].value for i in (info, expected[feature]))
            if abs(value - want) > 1e-6:
                raise _Failed(f"the {kind} of {feature!r} is {value:.3f}; training against {other} data gives "
                              f"{want:.3f}", f"{kind} compares the training statistics with the {other} ones")
    return f"skew of {skew_feature!r} and drift of {drift_feature!r} measured against {threshold:g}"


@_check(names=("path", "schema", "train_stats", "data"))
def check_frozen_schema(path: Any, schema: Any, train_stats: Any = None, data: Any = None) -> str:
    """Exercise: the curated schema written to a text file, by this run, that reads back to the same schema.
    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb."""
    from helpers.pipeline import load_schema

    _schema(schema)
    _upstream(data, train=train_stats)
    path = Path(path)
    try:
        frozen = load_schema(path)
    except FileNotFoundError:
        raise _Failed(f"there is no file {path.name!r} in the output folder",
                      "write the schema with the TFDV function the instructions name, to schema_file") from None
    except ValueError as error:
        raise _Failed(f"{path.name!r} is not a schema in text format ({str(error).splitlines()[0]})",
                      "TFDV has a function that writes a schema as text: str() or pickle do not") from None
    _written_now(path, repr(path.name), "write the file in this exercise's cell, then run this check")
    if frozen != schema:
        raise _Failed(f"{path.name!r} differs from the schema in memory",
                      "write the file after the last change to the schema")
    return f"{path.name} holds {len(frozen.feature)} features and environments {list(frozen.default_environment)}"
