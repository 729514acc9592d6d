"""Checks of ``C2_W2_Assignment_Feature_Engineering``: a pipeline's statistics, schema and validation, and a
tf.Transform module (z-scores, 0-1 scaling, quantile buckets, vocabularies with OOV buckets, a derived label).

The transform checks run the learner's function through a small real tf.Transform analysis
(``run_preprocessing``: a few hundred training rows, Beam's DirectRunner, in memory) and compare the
result with what pandas computes from the same rows.

Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import _anomalous, _calling, _check, _Failed, _feature_names, _frame, _listing, _schema, _stats
from .transform_run import _column, _is_integer, _module, _run, _suffixed

__all__ = [
    "check_examples", "check_get_records", "check_split_statistics", "check_eval_validation",
    "check_numeric_transforms", "check_vocabularies", "check_label", "check_transformed_records",
]


def _zscore(out: Any, raw: Any, key: str) -> None:
    import numpy as np

    x, r = np.asarray(out, dtype=float), np.asarray(raw, dtype=float)
    if np.allclose(x, (r - r.mean()) / r.std(), atol=2e-3):
        return
    if np.allclose(x, r, atol=1e-3):
        raise _Failed(f"{key}_xf is the raw {key}, unchanged", "z-score DENSE_FLOAT_FEATURE_KEYS")
    if x.min() >= -1e-6 and x.max() <= 1 + 1e-6:
        raise _Failed(f"{key}_xf lies within 0-1 (mean {x.mean():.2f}): scaled to 0-1, not z-scored",
                      "DENSE_FLOAT_FEATURE_KEYS take tft.scale_to_z_score")
    raise _Failed(f"{key}_xf has mean {x.mean():.3f} and std {x.std():.3f}; a z-score has mean 0 and std 1",
                  "a z-score subtracts the mean and divides by the std: tf.Transform has a function for it")


def _zero_one(out: Any, raw: Any, key: str) -> None:
    import numpy as np

    x, r = np.asarray(out, dtype=float), np.asarray(raw, dtype=float)
    if np.allclose(x, (r - r.min()) / (r.max() - r.min()), atol=2e-3):
        return
    if abs(x.mean()) < 1e-2 and abs(x.std() - 1) < 1e-2:
        raise _Failed(f"{key}_xf has mean 0 and std 1: z-scored, not scaled to 0-1",
                      "RANGE_FEATURE_KEYS take tft.scale_to_0_1")
    raise _Failed(f"{key}_xf ranges over {x.min():.3f}..{x.max():.3f}; scaled to 0-1 the minimum of {key} "
                  "becomes 0 and the maximum 1", "tft.scale_to_0_1 maps the minimum to 0 and the maximum to 1")


def _buckets(out: Any, raw: Any, key: str, count: int) -> None:
    import numpy as np

    if not _is_integer(out):
        raise _Failed(f"{key}_xf holds {out.dtype} values, not bucket ids",
                      "tft.bucketize returns integer ids 0 .. num_buckets - 1")
    ids, r = np.asarray(out), np.asarray(raw, dtype=float)
    if ids.min() < 0 or ids.max() >= count or len(np.unique(ids)) < 2:
        raise _Failed(f"{key}_xf has bucket ids {sorted(set(ids.tolist()))[:8]}, expected ids within 0..{count - 1}",
                      f"FEATURE_BUCKET_COUNT gives {key!r} {count} buckets; tft.bucketize takes that number")
    order = np.argsort(r, kind="stable")
    if (np.diff(ids[order]) < 0).any():
        raise _Failed(f"{key}_xf does not grow with {key}: a larger {key} got a smaller bucket id",
                      f"bucketize the raw inputs[{key!r}]")


def _count_records(pattern: str) -> int:
    import tensorflow as tf

    files = sorted(tf.io.gfile.glob(pattern))
    return sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP")) if files else 0


@_check(names=("examples_dir", "splits", "df", "buckets"))
def check_examples(examples_dir: Any, splits: Any, df: Any, buckets: Mapping[str, int]) -> str:
    """Exercise: the ingest step (CsvExampleGen): ``df`` split by hash into ``buckets``, each split written
    as gzipped tf.Examples in ``examples_dir/Split-<split>/``.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    from helpers.pipeline import hash_split

    _frame(df, "the ingested data")
    if not isinstance(splits, Mapping) or sorted(splits) != sorted(buckets):
        got = sorted(splits) if isinstance(splits, Mapping) else type(splits).__name__
        raise _Failed(f"splits should be a dict with the splits {sorted(buckets)}, got {got}",
                      "split the rows read back from the CSV with pipeline.hash_split and split_buckets")
    expected = hash_split(df, buckets)
    for split, rows in splits.items():
        rows = _frame(rows, f"the {split!r} split")
        if len(rows) != len(expected[split]):
            raise _Failed(f"the {split!r} split has {len(rows):,} rows; a hash split of the {len(df):,} rows "
                          f"{':'.join(map(str, buckets.values()))} gives it {len(expected[split]):,}",
                          "pipeline.hash_split(..., split_buckets) puts each row where its hash says")
    for split, rows in splits.items():
        folder = Path(examples_dir) / f"Split-{split}"
        if not folder.is_dir():
            raise _Failed(f"there is no folder {folder.name} in the step's output folder",
                          "write each split to examples_dir / f'Split-{split}' / 'data_tfrecord-00000-of-00001.gz'")
        try:
            count = _count_records(str(folder / "*.gz"))
        except Exception as error:  # a file that is not a gzipped TFRecord
            raise _Failed(f"the files in {folder.name} cannot be read as gzipped TFRecords ({type(error).__name__})",
                          "pipeline.write_examples(rows, path) writes them; name them *.gz") from None
        if count != len(rows):
            raise _Failed(f"{folder.name} holds {count:,} tf.Examples, but the {split!r} split has {len(rows):,} rows",
                          "write every row of each split, once (re-run the cell from a fresh step)")
    return ", ".join(f"{s}: {len(r):,} tf.Examples in Split-{s}" for s, r in splits.items())


@_check(names=("function", "rows"))
def check_get_records(function: Any, file_pattern: str, rows: Any) -> str:
    """Exercise: ``get_records(file_pattern, num_records)`` decodes the first tf.Examples into dictionaries of
    plain values (str, int, float), which match the first rows written.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    import math

    if not callable(function):
        raise _Failed(f"get_records should be a function, got {type(function).__name__}")
    rows = _frame(rows, "the rows written")
    for count in (1, 3):
        with _calling("get_records"):
            records = function(file_pattern, count)
        if not isinstance(records, list) or len(records) != count:
            got = f"{len(records)} items" if isinstance(records, list) else type(records).__name__
            raise _Failed(f"get_records(pattern, {count}) returned {got}, expected a list of {count} dictionaries",
                          "dataset.take(num_records), one dictionary per record")
    for number, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise _Failed(f"record {number} is a {type(record).__name__}, expected a dict of feature -> value")
        expected = {k: v for k, v in rows.iloc[number].items() if not (isinstance(v, float) and math.isnan(v))}
        missing = sorted(set(expected) - set(record))
        if missing:
            raise _Failed(f"record {number} lacks {_listing(missing)}", "one entry per feature of the tf.Example")
        for key, want in expected.items():
            got = record[key]
            if isinstance(got, (list, tuple)):
                raise _Failed(f"record {number}[{key!r}] is a list ({got!r}); each feature holds one value",
                              "take the single value: values[0]")
            if isinstance(got, bytes):
                raise _Failed(f"record {number}[{key!r}] is bytes ({got!r})", "decode strings: value.decode()")
            same = (str(got) == str(want) if isinstance(want, str)
                    else isinstance(got, (int, float)) and abs(float(got) - float(want)) <= 1e-3 * max(1, abs(want)))
            if not same:
                raise _Failed(f"record {number}[{key!r}] is {got!r}; the row written has {want!r}",
                              "read the records in file order, the first num_records of them")
    return f"3 records decoded, {len(rows.columns)} features each, equal to the first rows written"


@_check(names=("statistics", "splits", "statistics_dir"))
def check_split_statistics(statistics: Any, splits: Any, statistics_dir: Any = None) -> str:
    """Exercise: TFDV statistics for every split of the examples (StatisticsGen), and (when
    ``statistics_dir`` is given) written to ``statistics_dir/Split-<split>/FeatureStats.tfrecord``.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
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
    for split, rows in splits.items():
        dataset = _stats(statistics[split], f"the statistics of {split!r}")
        if dataset.num_examples != len(rows):
            raise _Failed(f"the statistics of {split!r} describe {dataset.num_examples:,} examples, but the split "
                          f"has {len(rows):,}", f"read the files of Split-{split}, and only those")
        missing = sorted(set(rows.columns) - set(_feature_names(dataset)))
        if missing:
            raise _Failed(f"the statistics of {split!r} lack {_listing(missing)}", "describe every feature")
    return ", ".join(f"{s}: {statistics[s].datasets[0].num_examples:,} examples" for s in splits)


@_check(names=("anomalies", "eval_statistics", "schema"))
def check_eval_validation(anomalies: Any, eval_statistics: Any, schema: Any) -> str:
    """Exercise: the evaluation statistics validated against the schema (ExampleValidator).

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    if not isinstance(anomalies, anomalies_pb2.Anomalies):
        raise _Failed(f"anomalies should be the Anomalies that tfdv.validate_statistics returns, got "
                      f"{type(anomalies).__name__}", "validate the evaluation statistics against the schema")
    _stats(eval_statistics, "the evaluation statistics")
    expected = tfdv.validate_statistics(statistics=eval_statistics, schema=_schema(schema))
    if _anomalous(anomalies) != _anomalous(expected):
        raise _Failed(f"the anomalies name {_listing(_anomalous(anomalies)) or 'no feature'}; validating the "
                      f"evaluation statistics names {_listing(_anomalous(expected)) or 'no feature'}",
                      "validate the 'eval' statistics against the schema inferred from 'train'")
    found = _listing(_anomalous(anomalies))
    return f"anomalies in {found}" if found else "the evaluation split matches the schema (no anomalies)"


@_check(names=("module", "rows", "schema"))
def check_numeric_transforms(module: Any, rows: Any, schema: Any) -> str:
    """Exercise: ``scale_numeric_features`` z-scores, scales to 0-1 and bucketizes the module's feature lists.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    outputs, _ = _run(_module(module), "scale_numeric_features", rows, schema)
    for key in module.DENSE_FLOAT_FEATURE_KEYS:
        _zscore(_column(outputs, key, "z-score DENSE_FLOAT_FEATURE_KEYS"), rows[key], key)
    for key in module.RANGE_FEATURE_KEYS:
        _zero_one(_column(outputs, key, "tft.scale_to_0_1 maps the minimum to 0 and the maximum to 1"), rows[key], key)
    for key in module.BUCKET_FEATURE_KEYS:
        count = module.FEATURE_BUCKET_COUNT[key]
        _buckets(_column(outputs, key, f"tft.bucketize(inputs[{key!r}], {count})"), rows[key], key, count)
    return (f"z-scores of {_listing(module.DENSE_FLOAT_FEATURE_KEYS)}, 0-1 for {_listing(module.RANGE_FEATURE_KEYS)}, "
            f"buckets of {_listing(module.BUCKET_FEATURE_KEYS)} on {len(rows):,} rows")


def _vocabulary(out: Any, raw: Any, key: str) -> int:
    """Check the ids of the analyzed rows; return the vocabulary size (distinct values)."""
    import numpy as np

    if not _is_integer(out):
        raise _Failed(f"{key}_xf holds {out.dtype} values, not vocabulary ids",
                      f"tft.compute_and_apply_vocabulary(inputs[{key!r}], ...) returns integer ids")
    ids, values = np.asarray(out), np.asarray(raw).astype(str)
    counts = {v: int((values == v).sum()) for v in np.unique(values)}
    mapping = {v: sorted(set(ids[values == v].tolist())) for v in counts}
    if any(len(m) != 1 for m in mapping.values()) or len({m[0] for m in mapping.values()}) != len(counts):
        raise _Failed(f"{key}_xf does not give each {key} value one id of its own", "use a vocabulary, not a hash")
    if min(ids) < 0 or max(ids) >= len(counts):
        raise _Failed(f"{key}_xf gives seen values the ids {sorted(set(ids.tolist()))}: some training values "
                      "have no place in the vocabulary", "top_k=VOCAB_SIZE keeps up to 1,000 values")
    if mapping[max(counts, key=counts.get)][0] != 0:
        raise _Failed(f"the most frequent {key} does not get id 0", "tft.compute_and_apply_vocabulary orders "
                      "the vocabulary by frequency; do not pass frequency_threshold or a custom order")
    return len(counts)


@_check(names=("module", "rows", "schema"))
def check_vocabularies(module: Any, rows: Any, schema: Any) -> str:
    """Exercise: ``encode_categorical_features``: vocabulary ids, with OOV buckets for values never seen.

    Twenty made-up values per feature are transformed after the analysis: they must land in the
    ``OOV_SIZE`` buckets after the vocabulary (ids ``V .. V + OOV_SIZE - 1``), spread over several of them.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    keys, oov = _module(module).VOCAB_FEATURE_KEYS, module.OOV_SIZE
    unseen = _frame(rows, "the rows to analyze").head(1).loc[[rows.index[0]] * 20].reset_index(drop=True)
    for key in keys:
        unseen[key] = [f"never seen {key} {i}" for i in range(20)]
    outputs, extra = _run(module, "encode_categorical_features", rows, schema, unseen)
    sizes = {}
    for key in keys:
        how = (f"tft.compute_and_apply_vocabulary(inputs[{key!r}], top_k=VOCAB_SIZE, num_oov_buckets=OOV_SIZE, "
               "vocab_filename=key)")
        sizes[key] = size = _vocabulary(_column(outputs, key, how), rows[key], key)
        if key not in outputs.attrs.get("vocabularies", []):
            raise _Failed(f"no vocabulary file is named {key!r} (files: {_listing(outputs.attrs['vocabularies'])})",
                          f"pass vocab_filename={key!r} (vocab_filename=key), so the ids can be decoded by name")
        new = sorted(set(extra[_suffixed(key)].tolist()))
        if new == [-1]:
            raise _Failed(f"values of {key} never seen in training get id -1: there are no OOV buckets",
                          f"pass num_oov_buckets=OOV_SIZE ({oov}) to tft.compute_and_apply_vocabulary")
        if min(new) < size or max(new) >= size + oov:
            raise _Failed(f"unseen values of {key} get ids {new}; with {size} known values and {oov} OOV buckets "
                          f"they belong in {size}..{size + oov - 1}", "num_oov_buckets=OOV_SIZE")
        if len(new) <= oov // 2:
            raise _Failed(f"20 unseen values of {key} share only {len(new)} id(s) {new}: fewer OOV buckets than "
                          f"OOV_SIZE ({oov})", "num_oov_buckets=OOV_SIZE")
    detail = ", ".join(f"{k}: {n} values + {oov} OOV buckets" for k, n in sizes.items())
    return f"{detail}; unseen values land in the OOV buckets"


@_check(names=("module", "rows", "schema"))
def check_label(module: Any, rows: Any, schema: Any) -> str:
    """Exercise: ``derive_label``: 1 where the volume is above the mean volume of the analyzed rows, else 0.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    import numpy as np

    key = _module(module).VOLUME_KEY
    outputs, _ = _run(module, "derive_label", rows, schema)
    label = _column(outputs, key, "tf.cast(tf.greater(volume, tft.mean(volume)), tf.int64)")
    raw = np.asarray(rows[key], dtype=float)
    expected = (raw > raw.mean()).astype(int)
    if not _is_integer(label):
        raise _Failed(f"{key}_xf holds {label.dtype} values", "cast the comparison to tf.int64 (a class id)")
    got = np.asarray(label)
    if set(np.unique(got).tolist()) - {0, 1}:
        raise _Failed(f"{key}_xf takes values other than 0 and 1 (e.g. {int(got.max())}): it is not a label",
                      "compare the volume with its mean (tf.Transform computes it) and cast the result")
    if (got == expected).all():
        return f"{expected.mean():.1%} of the {len(raw):,} rows are above the mean volume {raw.mean():.1f}"
    if max((got == (raw > np.median(raw))).mean(), (got == (raw >= np.median(raw))).mean()) > 0.98:
        raise _Failed(f"{key}_xf compares the volume with its median", "the label is 'above the mean': tft.mean")
    if (got == 1 - expected).all():
        raise _Failed(f"{key}_xf is inverted: 1 where the volume is at or below the mean",
                      "the label is 1 where the volume is greater than the mean")
    raise _Failed(f"{key}_xf is 1 for {got.mean():.1%} of the rows; above the mean volume ({raw.mean():.1f}) "
                  f"are {expected.mean():.1%}", "compare with the mean tf.Transform computes over the training split")


@_check(names=("records", "raw", "module"))
def check_transformed_records(records: Any, raw: Any, module: Any) -> str:
    """Exercise: the transformed training split, as read back from its TFRecords, checked feature by feature.

    Order-free: z-scores with mean 0 and std 1, 0-1 columns spanning 0..1, bucket ids in range, one
    vocabulary id per raw value (same counts), and the label's share of 1s equal to the share of raw rows
    above the mean volume.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    import numpy as np

    records, raw = _frame(records, "the transformed records"), _frame(raw, "the raw training split")
    _module(module)
    if len(records) != len(raw):
        raise _Failed(f"{len(records):,} transformed records for {len(raw):,} raw rows",
                      "read every record of the transformed train split")
    for key in module.DENSE_FLOAT_FEATURE_KEYS:
        x = np.asarray(_column(records, key, "tft.scale_to_z_score"), dtype=float)
        if abs(x.mean()) > 1e-3 or abs(x.std() - 1) > 1e-3:
            raise _Failed(f"{key}_xf has mean {x.mean():.4f} and std {x.std():.4f} over the training split",
                          "analyze (and z-score with) the training split only")
    for key in module.RANGE_FEATURE_KEYS:
        x = np.asarray(_column(records, key, "tft.scale_to_0_1"), dtype=float)
        if abs(x.min()) > 1e-6 or abs(x.max() - 1) > 1e-6:
            raise _Failed(f"{key}_xf spans {x.min():.4f}..{x.max():.4f} over the training split, not 0..1",
                          "analyze the training split, whose minimum and maximum define 0 and 1")
    for key in module.BUCKET_FEATURE_KEYS:
        ids, count = np.asarray(_column(records, key, "tft.bucketize")), module.FEATURE_BUCKET_COUNT[key]
        if ids.min() < 0 or ids.max() >= count:
            raise _Failed(f"{key}_xf has ids {ids.min()}..{ids.max()}, outside 0..{count - 1}", "tft.bucketize")
    for key in module.VOCAB_FEATURE_KEYS:
        ids = _column(records, key, "tft.compute_and_apply_vocabulary")
        if sorted(ids.value_counts()) != sorted(raw[key].value_counts()) or ids.min() < 0:
            raise _Failed(f"the ids of {key}_xf are not one per {key} value of the training split",
                          "transform with the vocabulary computed on the training split")
    volume = np.asarray(raw[module.VOLUME_KEY], dtype=float)
    label = np.asarray(_column(records, module.VOLUME_KEY, "the derived label"))
    if label.sum() != (volume > volume.mean()).sum():
        raise _Failed(f"{label.sum():,} records have label 1; {(volume > volume.mean()).sum():,} raw rows are "
                      "above the mean volume", "derive the label from the mean of the training split")
    return f"{len(records):,} records: z-scores, 0-1, buckets, vocabulary ids and the label all as expected"
