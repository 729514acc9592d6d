"""The small tf.Transform run behind the transform checks: a learner's function analyzed on a few hundred rows
(Beam's DirectRunner, in memory), with each way it can fail turned into a verdict.

Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .core import _Broken, _Failed, _frame, _listing, _one_line, _schema

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["run_preprocessing"]

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
    """The transform module: the module itself, or imported here from its file (as it stands now)."""
    if isinstance(module, (str, Path)):
        from helpers.pipeline import load_module_file

        hint = "run the module cells of the notebook in order, from the one that starts the file"
        try:
            module = load_module_file(module, Path(module).stem)
        except FileNotFoundError:
            raise _Failed(f"there is no module file {Path(module).name}", hint) from None
        except Exception as error:
            raise _Failed(f"the module file does not import ({_one_line(error, 200)})",
                          "fix the exercise cell that appends the failing code, then " + hint) from None
    if not isinstance(module, ModuleType):
        raise _Failed(f"pass the transform module (what pipeline.load_module_file returns), got "
                      f"{type(module).__name__}")
    return module


def _run(module: Any, name: str, exercise_rows: "pd.DataFrame", schema: Any,
         unseen: "pd.DataFrame | None" = None) -> tuple["pd.DataFrame", "pd.DataFrame | None"]:
    """Run ``module.<name>`` through ``run_preprocessing``, turning each way it can fail into a verdict.

    What the learner's function raises, or returns instead of a dict of tensors, and a TensorFlow op of its
    graph failing on the data, are the learner's mistakes (``_Failed``); anything else that stops the Beam
    job (a runner, pickling or file error) is the check's own failure (``_Broken``).
    """
    import tensorflow as tf

    function = getattr(module, name, None)
    if not callable(function):
        raise _Failed(f"the transform module has no function {name}()",
                      "run the exercise's %%writefile -a cell, then reload the module (the cell above this one)")
    _frame(exercise_rows, "the rows to analyze")
    _schema(schema)
    raised: list[BaseException] = []

    def learners(inputs: dict) -> dict:
        try:
            outputs = function(inputs)
            if not isinstance(outputs, Mapping):
                raise TypeError(f"{name}() returned {type(outputs).__name__}, expected a dict of tensors")
            wrong = sorted(str(k) for k, v in outputs.items() if not isinstance(v, (tf.Tensor, tf.SparseTensor,
                                                                                     tf.RaggedTensor)))
            if wrong:
                raise TypeError(f"{name}() returned non-tensor values for {_listing(wrong)}")
        except Exception as error:
            raised.append(error)
            raise
        return outputs

    try:
        return run_preprocessing(learners, exercise_rows, schema, unseen)
    except Exception as error:
        if raised and isinstance(raised[0], NotImplementedError):
            raise _Failed(f"{name}() still raises NotImplementedError ({raised[0]})",
                          "replace the stub with your code, run that %%writefile -a cell, then the cells below it"
                          ) from None
        if raised:
            raise _Failed(f"tf.Transform could not run {name}(): {_one_line(raised[0], 300)}",
                          "each output must be a tensor computed from inputs[key] with tf/tft functions") from None
        if isinstance(error, tf.errors.OpError):
            raise _Failed(f"the graph {name}() builds failed on the data: {_one_line(error, 300)}",
                          "each output must be a tensor computed from inputs[key] with tf/tft functions") from None
        raise _Broken(f"Beam could not run the small tf.Transform job that tests {name}(): {_one_line(error)}",
                      "re-run this cell; if it fails again, restart the kernel and run the notebook from the top"
                      ) from None


def _column(outputs: "pd.DataFrame", key: str, how: str) -> Any:
    name = _suffixed(key)
    if name not in outputs.columns:
        have = _listing(sorted(outputs.columns)) or "nothing"
        raise _Failed(f"the outputs have no {name!r} (they have {have})",
                      f"set outputs[transformed_name({key!r})] to {how}")
    return outputs[name]


def _is_integer(values: Any) -> bool:
    import pandas as pd

    return pd.api.types.is_integer_dtype(values)
