"""The files a pipeline's steps exchange: a DataFrame split by a hash of its rows and written as tf.Examples,
a schema file read with a clear error, a transform module file imported by path."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from helpers.arguments import whole

if TYPE_CHECKING:
    import pandas as pd
    from tensorflow_metadata.proto.v0 import schema_pb2

__all__ = ["hash_split", "write_examples", "load_schema", "load_module_file"]

def hash_split(df: "pd.DataFrame", buckets: Mapping[str, int]) -> dict[str, "pd.DataFrame"]:
    """Split rows by a hash of their content into named splits, e.g. ``{"train": 2, "eval": 1}`` (2:1).

    Like TFX's ExampleGen: a row lands in the same split on every run and on every machine, whatever the
    order of the file. Raises ``ValueError`` for an empty frame or a split that would get no rows.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"hash_split needs a pandas DataFrame, got {type(df).__name__}")
    if df.empty:
        raise ValueError("hash_split got an empty DataFrame (0 rows); check the data that was loaded")
    if not buckets:
        raise ValueError(f"buckets must map each split name to its number of buckets, got {buckets!r}")
    for name, size in buckets.items():
        whole(f"buckets[{name!r}]", size)
    total = sum(buckets.values())
    keys = df.astype(str).agg("|".join, axis=1)
    slot = keys.map(lambda s: int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "big") % total)
    splits, start = {}, 0
    for name, size in buckets.items():
        part = df[(slot >= start) & (slot < start + size)].reset_index(drop=True)
        if part.empty:
            raise ValueError(f"split {name!r} got no rows out of {len(df)}; use more rows or a larger share")
        splits[name], start = part, start + size
    return splits


def write_examples(df: "pd.DataFrame", path: str | Path) -> int:
    """Write each row of ``df`` as a ``tf.train.Example`` to a gzipped TFRecord file; returns the count.

    Integer columns become ``int64_list`` features, floats ``float_list``, everything else ``bytes_list``
    (UTF-8); a missing value (NaN/None) leaves the feature out of that example, as TFX's ExampleGen does.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    import pandas as pd
    import tensorflow as tf

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"write_examples needs a pandas DataFrame, got {type(df).__name__}")
    if df.empty:
        raise ValueError(f"write_examples got an empty DataFrame (0 rows) for {Path(path).name}; "
                         "an empty split would give the next steps nothing to read")
    kinds = {c: "int" if pd.api.types.is_integer_dtype(t) else "float" if pd.api.types.is_float_dtype(t)
             else "bytes" for c, t in df.dtypes.items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for row in df.itertuples(index=False, name=None):
            features = {}
            for (column, kind), value in zip(kinds.items(), row):
                if value is None or (isinstance(value, float) and value != value):
                    continue
                if kind == "int":
                    features[column] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
                elif kind == "float":
                    features[column] = tf.train.Feature(float_list=tf.train.FloatList(value=[float(value)]))
                else:
                    features[column] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(value).encode()]))
            writer.write(tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString())
    return len(df)


def load_schema(path: str | Path) -> "schema_pb2.Schema":
    """Read a schema written by ``tfdv.write_schema_text``, with a clear error for a missing or broken file.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no schema file at {path}; run the schema step first (tfdv.write_schema_text)")
    try:
        schema = text_format.Parse(path.read_text(), schema_pb2.Schema())
    except (text_format.ParseError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name} is not a text-format Schema protocol buffer ({exc}); regenerate it "
                         "with tfdv.write_schema_text, or fix the line named") from None
    if not schema.feature:
        raise ValueError(f"{path.name} parses but declares no feature; regenerate it from statistics "
                         "(tfdv.infer_schema)")
    return schema


def load_module_file(path: str | Path, name: str = "module_file") -> ModuleType:
    """Import a Python file by path, as TFX's Transform and Trainer import their ``module_file``.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    path = Path(path)
    if path.suffix != ".py" or not path.is_file():
        raise FileNotFoundError(f"no Python module file at {path}; write it first (e.g. with %%writefile)")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Beam pickles functions by module name
    spec.loader.exec_module(module)
    return module
