"""Checks of the pipeline steps of ``C2_W2_Assignment_Feature_Engineering`` (exercises 1-5): the hash split
written as tf.Examples, decoding them, statistics, schema and validation (the Transform module's checks are in
``feature_transforms``).

Check cells name the notebook's variables and hand over the full data (``df``, ``split_buckets``): each check
recomputes the hash split and verifies what the earlier exercises made (the splits, the statistics, the
schema) before its own exercise, so a mistake fails where it is, with a hint naming that exercise.

Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
"""

from __future__ import annotations

from collections.abc import Mapping
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

__all__ = ["check_examples", "check_get_records", "check_split_statistics", "check_inferred_schema",
           "check_eval_validation"]


def _read_records(pattern: str) -> Any:
    """The gzipped tf.Examples matching ``pattern``, decoded by the check itself (one value per feature)."""
    import pandas as pd
    import tensorflow as tf

    rows = []
    for serialized in tf.data.TFRecordDataset(sorted(tf.io.gfile.glob(pattern)), compression_type="GZIP"):
        example = tf.train.Example.FromString(serialized.numpy())
        rows.append({name: getattr(f, f.WhichOneof("kind")).value[0] for name, f in example.features.feature.items()})
    return pd.DataFrame(rows)


def _files(folder: Path, what: str, hint: str) -> list[Path]:
    """The ``*.gz`` files in ``folder``, written by this kernel; fail if there are none or they are old."""
    files = sorted(folder.glob("*.gz")) if folder.is_dir() else []
    if not files:
        raise _Failed(f"there are no {what} in {folder.name} of the step's output folder", hint)
    for path in files:
        _written_now(path, f"{folder.name}/{path.name}", "write the files in this exercise's cell, then run this check")
    return files


def _keys(rows: Any) -> list[str]:
    return sorted(rows.astype(str).agg("|".join, axis=1))


def _expected_splits(df: Any, buckets: Mapping[str, int]) -> dict:
    from helpers.pipeline import hash_split

    return hash_split(_frame(df, "the ingested data"), buckets)


EXERCISE_1 = "make Exercise 1 pass first, run the cells after it again, then this one"
EXERCISE_3 = "stats come from Exercise 3: make it pass, run its cell again, then this one"


def _verify_splits(splits: Any, df: Any, buckets: Mapping[str, int], hint: str = EXERCISE_1) -> dict:
    """``splits`` are the hash split of ``df`` (the same rows in each split), or fail with ``hint``."""
    expected = _expected_splits(df, buckets)
    if not isinstance(splits, Mapping) or sorted(splits) != sorted(buckets):
        got = sorted(splits) if isinstance(splits, Mapping) else type(splits).__name__
        raise _Failed(f"splits should be a dict with the splits {sorted(buckets)}, got {got}", hint)
    for split, rows in splits.items():
        rows = _frame(rows, f"the {split!r} split")
        if len(rows) != len(expected[split]):
            raise _Failed(f"the {split!r} split has {len(rows):,} rows; a hash split of the {len(df):,} rows "
                          f"{':'.join(map(str, buckets.values()))} gives it {len(expected[split]):,}", hint)
        if _keys(rows[list(df.columns)] if set(df.columns) <= set(rows.columns) else rows) != _keys(expected[split]):
            raise _Failed(f"the {split!r} split does not hold the rows the hash split puts there", hint)
    return expected


def _verify_statistics(statistics: Any, expected: dict, only: tuple[str, ...] = (), hint: str = EXERCISE_3) -> None:
    """``statistics`` (split name -> statistics) describe the rows of each expected split (or of the splits
    ``only`` names), or fail with ``hint``."""
    if not isinstance(statistics, Mapping) or sorted(statistics) != sorted(expected):
        got = sorted(statistics) if isinstance(statistics, Mapping) else type(statistics).__name__
        raise _Failed(f"stats should be a dict with the splits {sorted(expected)}, got {got}", hint)
    for split, rows in expected.items():
        if only and split not in only:
            continue
        _describes(statistics[split], rows, f"stats[{split!r}]", split, hint)


@_check(names=("examples_dir", "splits", "df", "buckets"))
def check_examples(examples_dir: Any, splits: Any, df: Any, buckets: Mapping[str, int]) -> str:
    """Exercise: the ingest step (CsvExampleGen): ``df`` split by hash into ``buckets``, each split written
    as gzipped tf.Examples in ``examples_dir/Split-<split>/``; the files hold the split's rows.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    expected = _verify_splits(splits, df, buckets, "split the rows of the CSV with pipeline.hash_split and "
                                                   "split_buckets, as the instructions say")
    for split, rows in splits.items():
        folder = Path(examples_dir) / f"Split-{split}"
        hint = "write each split to its own Split-<split> folder, with the file name the instructions give"
        _files(folder, "gzipped tf.Examples", hint)
        try:
            written = _read_records(str(folder / "*.gz"))
        except Exception as error:  # a file that is not a gzipped TFRecord
            raise _Failed(f"the files in {folder.name} cannot be read as gzipped TFRecords ({type(error).__name__})",
                          "pipeline.write_examples writes them; name them *.gz") from None
        if len(written) != len(rows):
            raise _Failed(f"{folder.name} holds {len(written):,} tf.Examples, but the {split!r} split has "
                          f"{len(rows):,} rows", "write every row of each split, once, to its own folder")
        columns = [c for c in expected[split].columns if c in written.columns]
        if _comparable(written[columns]) != _comparable(expected[split][columns]):
            raise _Failed(f"{folder.name} does not hold the rows of the {split!r} split",
                          "write each split's rows to the folder named after that split")
    return ", ".join(f"{s}: {len(r):,} tf.Examples in Split-{s}" for s, r in splits.items())


def _comparable(rows: Any) -> list[str]:
    """Rows as sorted text, the way a tf.Example holds them: strings decoded, floats in float32."""
    import numpy as np

    out = rows.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(lambda v: v.decode() if isinstance(v, bytes) else str(v))
        elif out[column].dtype.kind == "f":
            out[column] = out[column].astype(np.float32)
    return sorted(map(str, out.itertuples(index=False)))


@_check(names=("function", "examples_dir", "rows", "splits", "data", "buckets"))
def check_get_records(function: Any, examples_dir: Any, rows: Any, splits: Any = None, data: Any = None,
                      buckets: Mapping[str, int] | None = None) -> str:
    """Exercise: ``get_records(file_pattern, num_records)`` decodes the first tf.Examples into dictionaries of
    plain values (str, int, float), which match the first rows written to ``examples_dir/Split-train``
    (``splits`` checked against the hash split of ``data`` first, when given).

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    import math

    if data is not None:
        _verify_splits(splits, data, buckets)
    if not callable(function):
        raise _Failed(f"get_records should be a function, got {type(function).__name__}")
    rows = _frame(rows, "the rows written")
    file_pattern = str(Path(examples_dir) / "Split-train" / "*.gz")
    for count in (1, 3):
        with _calling("get_records"):
            records = function(file_pattern, count)
        if not isinstance(records, list) or len(records) != count:
            got = f"{len(records)} items" if isinstance(records, list) else type(records).__name__
            raise _Failed(f"get_records(pattern, {count}) returned {got}, expected a list of {count} dictionaries",
                          "take the first num_records records of the dataset, one dictionary per record")
    for number, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise _Failed(f"record {number} is a {type(record).__name__}, expected a dict of feature -> value")
        expected = {k: v for k, v in rows.iloc[number].items() if not (isinstance(v, float) and math.isnan(v))}
        missing = sorted(set(expected) - set(record))
        if missing:
            raise _Failed(f"record {number} lacks {_listing(missing)}", "one entry per feature of the tf.Example")
        for key, want in expected.items():
            got = record[key]
            if isinstance(got, (list, tuple)) or type(got).__name__.endswith("Container"):
                raise _Failed(f"record {number}[{key!r}] is a list ({list(got)!r}); each feature holds one value",
                              "take the feature's single value, not the list of its values")
            if isinstance(got, bytes):
                raise _Failed(f"record {number}[{key!r}] is bytes ({got!r})", "decode the bytes into a str")
            same = (str(got) == str(want) if isinstance(want, str)
                    else isinstance(got, (int, float)) and abs(float(got) - float(want)) <= 1e-3 * max(1, abs(want)))
            if not same:
                raise _Failed(f"record {number}[{key!r}] is {got!r}; the row written has {want!r}",
                              "read the records in file order, the first num_records of them")
    return f"3 records decoded, {len(rows.columns)} features each, equal to the first rows written"


@_check(names=("statistics", "splits", "statistics_dir", "data", "buckets"))
def check_split_statistics(statistics: Any, splits: Any, statistics_dir: Any = None, data: Any = None,
                           buckets: Mapping[str, int] | None = None) -> str:
    """Exercise: TFDV statistics for every split of the examples (StatisticsGen), and (when
    ``statistics_dir`` is given) written to ``statistics_dir/Split-<split>/FeatureStats.tfrecord`` by this run.
    With ``data``, the splits are checked against its hash split, and each split's statistics against its rows.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    expected = splits if data is None else _verify_splits(splits, data, buckets)
    if not isinstance(statistics, Mapping) or not isinstance(splits, Mapping):
        raise _Failed(f"statistics should be a dict from split name to statistics, got {type(statistics).__name__}",
                      "a dictionary with one entry per split: the statistics of that split's TFRecord files")
    if sorted(statistics) != sorted(splits):
        raise _Failed(f"statistics has the splits {sorted(statistics)}, expected {sorted(splits)}",
                      "compute statistics for every split ExampleGen wrote")
    for split in splits if statistics_dir is not None else []:
        written = Path(statistics_dir) / f"Split-{split}" / "FeatureStats.tfrecord"
        if not written.is_file():
            raise _Failed(f"no statistics file Split-{split}/FeatureStats.tfrecord in the step's output folder: the "
                          "next steps of a pipeline read the statistics from there",
                          "TFDV writes what it computes to its output_path: give it this file under statistics_dir")
        _written_now(written, f"Split-{split}/FeatureStats.tfrecord", "compute the statistics in this exercise's "
                                                                      "cell, with the output_path it names")
    for split, rows in expected.items():
        hint = f"read the files of Split-{split}, and only those"
        dataset = _stats(statistics[split], f"the statistics of {split!r}")
        if dataset.num_examples != len(rows):
            raise _Failed(f"the statistics of {split!r} describe {dataset.num_examples:,} examples, but the split "
                          f"has {len(rows):,}", hint)
        missing = sorted(set(rows.columns) - set(_feature_names(dataset)))
        if missing:
            raise _Failed(f"the statistics of {split!r} lack {_listing(missing)}", "describe every feature")
        _describes(statistics[split], rows, f"the statistics of {split!r}", split, hint)
    return ", ".join(f"{s}: {statistics[s].datasets[0].num_examples:,} examples" for s in splits)


@_check(names=("schema", "statistics", "data", "buckets"))
def check_inferred_schema(schema: Any, statistics: Any, data: Any, buckets: Mapping[str, int]) -> str:
    """Exercise: SchemaGen: the schema inferred from the training statistics, unedited (``statistics``, one per
    split, checked against the hash split of ``data`` first).

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    _verify_statistics(statistics, _expected_splits(data, buckets), only=("train",))
    schema = _as_inferred(schema, statistics["train"], "the training statistics")
    domains = sum(f.HasField("domain") for f in schema.feature)
    return f"{len(schema.feature)} features, {domains} with a string domain"


@_check(names=("anomalies", "statistics", "schema", "data", "buckets"))
def check_eval_validation(anomalies: Any, statistics: Any, schema: Any, data: Any = None,
                          buckets: Mapping[str, int] | None = None) -> str:
    """Exercise: the evaluation statistics validated against the schema (ExampleValidator). ``statistics``
    holds one per split; with ``data``, they and the schema are first checked against the data.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    if data is not None:
        _verify_statistics(statistics, _expected_splits(data, buckets))
        try:
            _as_inferred(schema, statistics["train"], "the training statistics")
        except _Failed as wrong:
            raise _Failed(wrong.problem, "the schema comes from Exercise 4: make it pass, run its cell again, then "
                                         "this one") from None
    if not isinstance(anomalies, anomalies_pb2.Anomalies):
        raise _Failed(f"anomalies should be the Anomalies that tfdv.validate_statistics returns, got "
                      f"{type(anomalies).__name__}", "validate the evaluation statistics against the schema")
    eval_statistics = statistics["eval"] if isinstance(statistics, Mapping) else statistics
    _stats(eval_statistics, "the evaluation statistics")
    expected = tfdv.validate_statistics(statistics=eval_statistics, schema=_schema(schema))
    if _anomalous(anomalies) != _anomalous(expected):
        raise _Failed(f"the anomalies name {_listing(_anomalous(anomalies)) or 'no feature'}; validating the "
                      f"evaluation statistics names {_listing(_anomalous(expected)) or 'no feature'}",
                      "validate the 'eval' statistics against the schema inferred from 'train'")
    found = _listing(_anomalous(anomalies))
    return f"anomalies in {found}" if found else "the evaluation split matches the schema (no anomalies)"
