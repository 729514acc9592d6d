"""Checks of ``C2_W2_Assignment_Feature_Engineering``: a pipeline's statistics, schema and validation, and a
tf.Transform module (z-scores, 0-1 scaling, quantile buckets, vocabularies with OOV buckets, a derived label).

The transform checks run the learner's function through a small real tf.Transform analysis
(``run_preprocessing``: a few hundred training rows, Beam's DirectRunner, in memory) and compare the
result with what pandas computes from the same rows.

Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from . import _anomalous, _check, _Failed, _feature_names, _frame, _listing, _schema, _stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "run_preprocessing", "check_split_statistics", "check_eval_validation", "check_numeric_transforms",
    "check_vocabularies", "check_label", "check_transformed_records",
]

_ROW = "__row__"  # a row number threaded through a check's transform run, to line outputs up with inputs


def _suffixed(key: str) -> str:
    return key + "_xf"


def _instances(rows: "pd.DataFrame", schema: Any) -> list[dict[str, list]]:
    from tensorflow_metadata.proto.v0 import schema_pb2

    kinds = {f.name: f.type for f in schema.feature}
    missing = [name for name in kinds if name not in rows.columns]
    if missing:
        raise _Failed(f"the rows lack the schema's column(s) {_listing(missing)}", "pass rows of the train split")
    out = []
    for number, record in enumerate(rows[list(kinds)].to_dict("records")):
        instance = {_ROW: [number]}
        for name, value in record.items():
            if kinds[name] == schema_pb2.BYTES:
                instance[name] = [str(value).encode()]
            elif kinds[name] == schema_pb2.INT:
                instance[name] = [int(value)]
            else:
                instance[name] = [float(value)]
        out.append(instance)
    return out


def run_preprocessing(function: Callable[[dict], dict], rows: "pd.DataFrame", schema: Any,
                      unseen: "pd.DataFrame | None" = None) -> tuple["pd.DataFrame", "pd.DataFrame | None"]:
    """Analyze ``rows`` with tf.Transform, transform them (and ``unseen`` rows the analysis never saw).

    ``function`` is a ``preprocessing_fn`` (or one part of it); ``schema`` describes the raw rows. Returns
    the transformed rows as DataFrames (one column per output, in the order of the input rows; the first
    one's ``attrs["vocabularies"]`` names the vocabulary files written). Runs on Beam's DirectRunner in
    memory, in a temporary folder.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    import tempfile

    import pandas as pd
    import tensorflow as tf
    import tensorflow_transform.beam as tft_beam
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tensorflow_transform.tf_metadata import dataset_metadata

    with_row = schema_pb2.Schema()
    with_row.CopyFrom(schema)
    feature = with_row.feature.add(name=_ROW, type=schema_pb2.INT)
    feature.shape.dim.add(size=1)
    feature.presence.min_fraction = 1.0
    metadata = dataset_metadata.DatasetMetadata(with_row)

    def numbered(inputs: dict) -> dict:
        outputs = dict(function({k: v for k, v in inputs.items() if k != _ROW}))
        outputs[_ROW] = tf.identity(inputs[_ROW])
        return outputs

    def frame(instances: list[dict]) -> "pd.DataFrame":
        records = [{k: (v.tolist()[0] if getattr(v, "size", 0) == 1 else v) for k, v in i.items()} for i in instances]
        df = pd.DataFrame(records).sort_values(_ROW).set_index(_ROW)
        df.index.name = None
        return df

    with tempfile.TemporaryDirectory() as tmp, tft_beam.Context(temp_dir=tmp):
        (transformed, _), transform_fn = (
            (_instances(rows, schema), metadata) | tft_beam.AnalyzeAndTransformDataset(numbered))
        extra = None
        if unseen is not None:
            extra, _ = ((_instances(unseen, schema), metadata), transform_fn) | tft_beam.TransformDataset()
        path = transform_fn[0][0] if isinstance(transform_fn[0], list) else transform_fn[0]  # in memory: [path]
        assets = Path(path) / "assets"
        vocabularies = sorted(p.name for p in assets.iterdir()) if assets.is_dir() else []
    out = frame(transformed)
    out.attrs["vocabularies"] = vocabularies
    return out, None if extra is None else frame(extra)


def _module(module: Any) -> ModuleType:
    if not isinstance(module, ModuleType):
        raise _Failed(f"pass the transform module (what pipeline.load_module_file returns), got "
                      f"{type(module).__name__}")
    return module


def _run(module: Any, name: str, exercise_rows: "pd.DataFrame", schema: Any,
         unseen: "pd.DataFrame | None" = None) -> tuple["pd.DataFrame", "pd.DataFrame | None"]:
    """Run ``module.<name>`` through ``run_preprocessing``, turning each way it can fail into a verdict."""
    function = getattr(module, name, None)
    if not callable(function):
        raise _Failed(f"the transform module has no function {name}()",
                      "run the exercise's %%writefile -a cell, then reload the module (the cell above this one)")
    _frame(exercise_rows, "the rows to analyze")
    _schema(schema)
    try:
        return run_preprocessing(function, exercise_rows, schema, unseen)
    except NotImplementedError as error:
        raise _Failed(f"{name}() still raises NotImplementedError ({error})",
                      "replace the stub with your code, run that %%writefile -a cell, then the cells below it"
                      ) from None
    except Exception as error:  # what tf.Transform says about the learner's code, on one line
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise _Failed(f"tf.Transform could not run {name}(): {type(error).__name__}: {first}"[:400],
                      "each output must be a tensor computed from inputs[key] with tf/tft functions") from None


def _column(outputs: "pd.DataFrame", key: str, how: str) -> Any:
    name = _suffixed(key)
    if name not in outputs.columns:
        have = _listing(sorted(outputs.columns)) or "nothing"
        raise _Failed(f"the outputs have no {name!r} (they have {have})",
                      f"set outputs[transformed_name({key!r})] = {how}")
    return outputs[name]


def _is_integer(values: Any) -> bool:
    import pandas as pd

    return pd.api.types.is_integer_dtype(values)


def _zscore(out: Any, raw: Any, key: str) -> None:
    import numpy as np

    x, r = np.asarray(out, dtype=float), np.asarray(raw, dtype=float)
    if np.allclose(x, (r - r.mean()) / r.std(), atol=2e-3):
        return
    if np.allclose(x, r, atol=1e-3):
        raise _Failed(f"{key}_xf is the raw {key}, unchanged", f"tft.scale_to_z_score(inputs[{key!r}])")
    if x.min() >= -1e-6 and x.max() <= 1 + 1e-6:
        raise _Failed(f"{key}_xf lies within 0-1 (mean {x.mean():.2f}): scaled to 0-1, not z-scored",
                      "DENSE_FLOAT_FEATURE_KEYS take tft.scale_to_z_score")
    raise _Failed(f"{key}_xf has mean {x.mean():.3f} and std {x.std():.3f}; a z-score has mean 0 and std 1",
                  f"tft.scale_to_z_score(inputs[{key!r}]) subtracts the mean and divides by the std")


def _zero_one(out: Any, raw: Any, key: str) -> None:
    import numpy as np

    x, r = np.asarray(out, dtype=float), np.asarray(raw, dtype=float)
    if np.allclose(x, (r - r.min()) / (r.max() - r.min()), atol=2e-3):
        return
    if abs(x.mean()) < 1e-2 and abs(x.std() - 1) < 1e-2:
        raise _Failed(f"{key}_xf has mean 0 and std 1: z-scored, not scaled to 0-1",
                      "RANGE_FEATURE_KEYS take tft.scale_to_0_1")
    raise _Failed(f"{key}_xf ranges over {x.min():.3f}..{x.max():.3f}; scaled to 0-1 the minimum of {key} "
                  "becomes 0 and the maximum 1", f"tft.scale_to_0_1(inputs[{key!r}])")


def _buckets(out: Any, raw: Any, key: str, count: int) -> None:
    import numpy as np

    if not _is_integer(out):
        raise _Failed(f"{key}_xf holds {out.dtype} values, not bucket ids",
                      "tft.bucketize returns integer ids 0 .. num_buckets - 1")
    ids, r = np.asarray(out), np.asarray(raw, dtype=float)
    if ids.min() < 0 or ids.max() >= count or len(np.unique(ids)) < 2:
        raise _Failed(f"{key}_xf has bucket ids {sorted(set(ids.tolist()))[:8]}, expected ids within 0..{count - 1}",
                      f"tft.bucketize(inputs[{key!r}], FEATURE_BUCKET_COUNT[{key!r}]) makes {count} buckets")
    order = np.argsort(r, kind="stable")
    if (np.diff(ids[order]) < 0).any():
        raise _Failed(f"{key}_xf does not grow with {key}: a larger {key} got a smaller bucket id",
                      f"bucketize the raw inputs[{key!r}]")


@_check
def check_split_statistics(statistics: Any, splits: Any) -> str:
    """Exercise: TFDV statistics for every split of the examples (StatisticsGen).

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    if not isinstance(statistics, Mapping) or not isinstance(splits, Mapping):
        raise _Failed(f"statistics should be a dict from split name to statistics, got {type(statistics).__name__}",
                      "{split: tfdv.generate_statistics_from_tfrecord(...) for split in splits}")
    if sorted(statistics) != sorted(splits):
        raise _Failed(f"statistics has the splits {sorted(statistics)}, expected {sorted(splits)}",
                      "compute statistics for every split ExampleGen wrote")
    for split, rows in splits.items():
        dataset = _stats(statistics[split], f"the statistics of {split!r}")
        if dataset.num_examples != len(rows):
            raise _Failed(f"the statistics of {split!r} describe {dataset.num_examples:,} examples, but the split "
                          f"has {len(rows):,}", f"read the files of Split-{split}, and only those")
        missing = sorted(set(rows.columns) - set(_feature_names(dataset)))
        if missing:
            raise _Failed(f"the statistics of {split!r} lack {_listing(missing)}", "describe every feature")
    return ", ".join(f"{s}: {statistics[s].datasets[0].num_examples:,} examples" for s in splits)


@_check
def check_eval_validation(anomalies: Any, eval_statistics: Any, schema: Any) -> str:
    """Exercise: the evaluation statistics validated against the schema (ExampleValidator).

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    if not isinstance(anomalies, anomalies_pb2.Anomalies):
        raise _Failed(f"anomalies should be the Anomalies that tfdv.validate_statistics returns, got "
                      f"{type(anomalies).__name__}", "tfdv.validate_statistics(statistics=..., schema=schema)")
    _stats(eval_statistics, "the evaluation statistics")
    expected = tfdv.validate_statistics(statistics=eval_statistics, schema=_schema(schema))
    if _anomalous(anomalies) != _anomalous(expected):
        raise _Failed(f"the anomalies name {_listing(_anomalous(anomalies)) or 'no feature'}; validating the "
                      f"evaluation statistics names {_listing(_anomalous(expected)) or 'no feature'}",
                      "validate the 'eval' statistics against the schema inferred from 'train'")
    found = _listing(_anomalous(anomalies))
    return f"anomalies in {found}" if found else "the evaluation split matches the schema (no anomalies)"


@_check
def check_numeric_transforms(module: Any, rows: Any, schema: Any) -> str:
    """Exercise: ``scale_numeric_features`` z-scores, scales to 0-1 and bucketizes the module's feature lists.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    outputs, _ = _run(_module(module), "scale_numeric_features", rows, schema)
    for key in module.DENSE_FLOAT_FEATURE_KEYS:
        _zscore(_column(outputs, key, f"tft.scale_to_z_score(inputs[{key!r}])"), rows[key], key)
    for key in module.RANGE_FEATURE_KEYS:
        _zero_one(_column(outputs, key, f"tft.scale_to_0_1(inputs[{key!r}])"), rows[key], key)
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


@_check
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


@_check
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
                      "compare the volume with tft.mean(volume) and cast the result")
    if (got == expected).all():
        return f"{expected.mean():.1%} of the {len(raw):,} rows are above the mean volume {raw.mean():.1f}"
    if max((got == (raw > np.median(raw))).mean(), (got == (raw >= np.median(raw))).mean()) > 0.98:
        raise _Failed(f"{key}_xf compares the volume with its median", "the label is 'above the mean': tft.mean")
    if (got == 1 - expected).all():
        raise _Failed(f"{key}_xf is inverted: 1 where the volume is at or below the mean",
                      "tf.greater(volume, tft.mean(volume))")
    raise _Failed(f"{key}_xf is 1 for {got.mean():.1%} of the rows; above the mean volume ({raw.mean():.1f}) "
                  f"are {expected.mean():.1%}", "tf.greater(volume, tft.mean(volume)), with the mean from tft")


@_check
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
