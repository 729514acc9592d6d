"""Checks of the Transform module of ``C2_W2_Assignment_Feature_Engineering`` (exercises 6-9): z-scores, 0-1
scaling, quantile buckets, vocabularies with OOV buckets, a derived label, and the transformed examples the
Beam run wrote.

The function checks run the learner's function through a small real tf.Transform analysis
(``run_preprocessing``: a few hundred training rows, Beam's DirectRunner, in memory) and compare the
result with what pandas computes from the same rows; the last check reads the transformed examples back
itself and recomputes every feature from the raw splits.

Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .core import _check, _Failed, _frame, _listing
from .feature_engineering import _files, _read_records, _verify_splits
from .transform_run import _column, _is_integer, _module, _run, _suffixed
from .transformed import vocabulary, zero_one, zscore

__all__ = ["check_numeric_transforms", "check_vocabularies", "check_label", "check_transformed_records"]


def _buckets(out: Any, raw: Any, key: str, count: int) -> None:
    import numpy as np

    hint = f"FEATURE_BUCKET_COUNT[{key!r}] is {count}: give tft.bucketize that number of buckets"
    if not _is_integer(out):
        raise _Failed(f"{key}_xf holds {out.dtype} values, not bucket ids",
                      "tft.bucketize returns integer ids 0 .. num_buckets - 1")
    ids, r = np.asarray(out), np.asarray(raw, dtype=float)
    if ids.min() < 0 or ids.max() >= count or len(np.unique(ids)) < 2:
        raise _Failed(f"{key}_xf has bucket ids {sorted(set(ids.tolist()))[:8]}, expected ids within 0..{count - 1}",
                      hint)
    if len(np.unique(ids)) < min(count, len(np.unique(r))):
        raise _Failed(f"{key}_xf uses {len(np.unique(ids))} bucket(s), {sorted(set(ids.tolist()))}; "
                      f"{key} has {count} quantile buckets", hint)
    order = np.argsort(r, kind="stable")
    if (np.diff(ids[order]) < 0).any():
        raise _Failed(f"{key}_xf does not grow with {key}: a larger {key} got a smaller bucket id",
                      f"bucketize the raw value of {key!r}")


@_check(names=("module", "rows", "schema"))
def check_numeric_transforms(module: Any, rows: Any, schema: Any) -> str:
    """Exercise: ``scale_numeric_features`` z-scores, scales to 0-1 and bucketizes the module's feature lists.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    module = _module(module)
    outputs, _ = _run(module, "scale_numeric_features", rows, schema)
    for key in module.DENSE_FLOAT_FEATURE_KEYS:
        zscore(_column(outputs, key, "its z-score (tft.scale_to_z_score)"), rows[key], key,
               "DENSE_FLOAT_FEATURE_KEYS take a z-score: tf.Transform has a function for it")
    for key in module.RANGE_FEATURE_KEYS:
        zero_one(_column(outputs, key, "the feature scaled to 0-1 (tft.scale_to_0_1)"), rows[key], key,
                 "RANGE_FEATURE_KEYS are scaled to 0-1: the minimum becomes 0 and the maximum 1")
    for key in module.BUCKET_FEATURE_KEYS:
        count = module.FEATURE_BUCKET_COUNT[key]
        _buckets(_column(outputs, key, "its quantile bucket id (tft.bucketize)"), rows[key], key, count)
    return (f"z-scores of {_listing(module.DENSE_FLOAT_FEATURE_KEYS)}, 0-1 for {_listing(module.RANGE_FEATURE_KEYS)}, "
            f"buckets of {_listing(module.BUCKET_FEATURE_KEYS)} on {len(rows):,} rows")


@_check(names=("module", "rows", "schema"))
def check_vocabularies(module: Any, rows: Any, schema: Any) -> str:
    """Exercise: ``encode_categorical_features``: vocabulary ids, with OOV buckets for values never seen.

    Twenty made-up values per feature are transformed after the analysis: they must land in the
    ``OOV_SIZE`` buckets after the vocabulary (ids ``V .. V + OOV_SIZE - 1``), spread over several of them.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    module = _module(module)
    keys, oov = module.VOCAB_FEATURE_KEYS, module.OOV_SIZE
    unseen = _frame(rows, "the rows to analyze").head(1).loc[[rows.index[0]] * 20].reset_index(drop=True)
    for key in keys:
        unseen[key] = [f"never seen {key} {i}" for i in range(20)]
    outputs, extra = _run(module, "encode_categorical_features", rows, schema, unseen)
    sizes = {}
    for key in keys:
        how = "its vocabulary ids (tft.compute_and_apply_vocabulary)"
        sizes[key] = size = vocabulary(_column(outputs, key, how), rows[key], key,
                                       "give each value a vocabulary id: tf.Transform has a function for it")
        if key not in outputs.attrs.get("vocabularies", []):
            raise _Failed(f"no vocabulary file is named {key!r} (files: {_listing(outputs.attrs['vocabularies'])})",
                          "name each vocabulary file after its feature, as the instructions say, so the ids can be "
                          "decoded by name")
        new = sorted(set(extra[_suffixed(key)].tolist()))
        if new == [-1]:
            raise _Failed(f"values of {key} never seen in training get id -1: there are no OOV buckets",
                          f"OOV_SIZE ({oov}) says how many out-of-vocabulary buckets to ask for")
        if min(new) < size or max(new) >= size + oov:
            raise _Failed(f"unseen values of {key} get ids {new}; with {size} known values and {oov} OOV buckets "
                          f"they belong in {size}..{size + oov - 1}", "ask for OOV_SIZE out-of-vocabulary buckets")
        if len(new) <= oov // 2:
            raise _Failed(f"20 unseen values of {key} share only {len(new)} id(s) {new}: fewer OOV buckets than "
                          f"OOV_SIZE ({oov})", "ask for OOV_SIZE out-of-vocabulary buckets")
    detail = ", ".join(f"{k}: {n} values + {oov} OOV buckets" for k, n in sizes.items())
    return f"{detail}; unseen values land in the OOV buckets"


@_check(names=("module", "rows", "schema"))
def check_label(module: Any, rows: Any, schema: Any) -> str:
    """Exercise: ``derive_label``: 1 where the volume is above the mean volume of the analyzed rows, else 0.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    import numpy as np

    module = _module(module)
    key = module.VOLUME_KEY
    outputs, _ = _run(module, "derive_label", rows, schema)
    label = _column(outputs, key, "the label: 1 above the mean volume, else 0")
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
        raise _Failed(f"{key}_xf compares the volume with its median",
                      "the label is 'above the mean': tf.Transform computes a mean")
    if (got == 1 - expected).all():
        raise _Failed(f"{key}_xf is inverted: 1 where the volume is at or below the mean",
                      "the label is 1 where the volume is greater than the mean")
    raise _Failed(f"{key}_xf is 1 for {got.mean():.1%} of the rows; above the mean volume ({raw.mean():.1f}) "
                  f"are {expected.mean():.1%}", "compare with the mean tf.Transform computes over the training split")


def _same_values(got: Any, want: Any) -> bool:
    """The same numbers in any order (float32 precision)."""
    import numpy as np

    got, want = np.sort(np.asarray(got, dtype=float)), np.sort(np.asarray(want, dtype=float))
    return len(got) == len(want) and np.allclose(got, want, atol=2e-3)


def _scalings(module: Any, fit: Any, rows: Any) -> dict[str, Any]:
    """What the module's numeric features and label should be for ``rows``, analyzed on ``fit``."""
    out = {}
    for key in module.DENSE_FLOAT_FEATURE_KEYS:
        out[key] = (rows[key] - fit[key].mean()) / fit[key].std(ddof=0)
    for key in module.RANGE_FEATURE_KEYS:
        out[key] = (rows[key] - fit[key].min()) / (fit[key].max() - fit[key].min())
    volume = module.VOLUME_KEY
    out[volume] = (rows[volume] > fit[volume].mean()).astype(int)
    return out


@_check(names=("transformed_dir", "splits", "module", "data", "buckets"))
def check_transformed_records(transformed_dir: Any, splits: Any, module: Any, data: Any = None,
                              buckets: Mapping[str, int] | None = None) -> str:
    """Exercise: the Transform run: the training split analyzed, both splits transformed with what the analysis
    found. The check reads the transformed examples in ``transformed_dir/Split-<split>/`` itself (written by
    this run) and compares each numeric feature and the label, in any order, with pandas' arithmetic on the
    raw ``splits`` (checked against the hash split of ``data`` first, when given), using the training split's
    mean, standard deviation, minimum and maximum for both splits; bucket ids and vocabulary ids per value.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    import numpy as np

    if data is not None:
        _verify_splits(splits, data, buckets)
    module = _module(module)
    train, evaluation = _frame(splits["train"], "the train split"), _frame(splits["eval"], "the eval split")
    records = {}
    for split, rows in (("train", train), ("eval", evaluation)):
        folder = Path(transformed_dir) / f"Split-{split}"
        _files(folder, "transformed examples", "run the notebook's cells in order from the top; the exercise cell "
                                                "above writes them")
        records[split] = _read_records(str(folder / "*.gz"))
        if len(records[split]) != len(rows):
            raise _Failed(f"Split-{split} of the transformed examples holds {len(records[split]):,} records; the "
                          f"{split} split has {len(rows):,} rows",
                          "analyze and transform the training split; transform the evaluation split with what "
                          "that analysis found")
    missing = [k for k in [*module.DENSE_FLOAT_FEATURE_KEYS, *module.RANGE_FEATURE_KEYS, *module.BUCKET_FEATURE_KEYS,
                           *module.VOCAB_FEATURE_KEYS, module.VOLUME_KEY] if _suffixed(k) not in records["train"]]
    if missing:
        raise _Failed(f"the transformed examples lack {_listing([_suffixed(k) for k in missing])}",
                      "make Exercises 6-8 pass, run the module cells again, then this exercise")
    expected = _scalings(module, train, train)
    for key, want in expected.items():
        if not _same_values(records["train"][_suffixed(key)], want):
            if _same_values(records["train"][_suffixed(key)], _scalings(module, evaluation, train)[key]):
                raise _Failed(f"{key}_xf of the training split was computed with the evaluation split's "
                              "statistics", "analyze the training split only")
            number = 8 if key == module.VOLUME_KEY else 6
            raise _Failed(f"{key}_xf of the training split is not what Exercise {number} asks for",
                          f"make Exercise {number} pass, run the module cells again, then this exercise")
    for key, want in _scalings(module, train, evaluation).items():
        if not _same_values(records["eval"][_suffixed(key)], want):
            raise _Failed(f"{key}_xf of the evaluation split was not computed with the training split's statistics",
                          "transform the evaluation split with the transform function the training split's "
                          "analysis gave")
    for key in module.BUCKET_FEATURE_KEYS:
        ids, count = np.asarray(records["train"][_suffixed(key)]), module.FEATURE_BUCKET_COUNT[key]
        if ids.min() < 0 or ids.max() >= count or len(np.unique(ids)) < min(count, train[key].nunique()):
            raise _Failed(f"{key}_xf has the bucket ids {sorted(set(ids.tolist()))}, expected 0..{count - 1}",
                          "make Exercise 6 pass, run the module cells again, then this exercise")
    for key in module.VOCAB_FEATURE_KEYS:
        ids = records["train"][_suffixed(key)]
        if sorted(ids.value_counts()) != sorted(train[key].value_counts()) or ids.min() < 0:
            raise _Failed(f"the ids of {key}_xf are not one per {key} value of the training split",
                          "make Exercise 7 pass, run the module cells again, then this exercise")
    return (f"{len(records['train']):,} training and {len(records['eval']):,} evaluation records: z-scores, 0-1, "
            "buckets, vocabulary ids and the label as the training split's analysis gives them")
