"""Getting data into TFMA: a quiet import, in-process Beam options, and a DataFrame written as tf.Examples."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# Importing TFMA imports Google's cloud client libraries (through Beam's GCP extras), which announce on
# import that they will drop this Python and grpcio release in the future. These notices are about the
# installed libraries, not about anything a lab does, so exactly these two are silenced.
GOOGLE_CLIENT_NOTICES = (
    r"grpcio < [0-9.]+ does not support Post-Quantum Cryptography",
    r"You are using a Python version \([0-9.]+\) which Google will stop supporting",
)


def import_tfma() -> Any:
    """Import and return ``tensorflow_model_analysis`` with Fairness Indicators' metrics registered,
    without the Google client libraries' FutureWarnings (``GOOGLE_CLIENT_NOTICES``) on the way, nor
    numpy's notice when TFMA's confusion metrics divide by zero.

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    for message in GOOGLE_CLIENT_NOTICES:
        warnings.filterwarnings("ignore", message=message, category=FutureWarning)
    # TFMA's confusion-matrix metrics divide 0 by 0 for thresholds where nothing is predicted negative (or
    # positive), and store NaN there on purpose; numpy's notice about it says nothing about the evaluation.
    warnings.filterwarnings("ignore", message="invalid value encountered in divide", category=RuntimeWarning,
                            module=r"tensorflow_model_analysis\.metrics")
    try:
        import tensorflow_model_analysis as tfma
        from fairness_indicators import fairness_indicators_metrics  # noqa: F401  (registers FairnessIndicators)
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            f"{error.name} is missing: TFMA and Fairness Indicators are installed without their dependencies "
            "(they pin IPython and ipywidgets below JupyterLab 4's); in a checkout run "
            "`pip install --no-deps -r requirements-nodeps.txt` after `pip install -r requirements.txt` "
            "(`make lab` does both), then restart the kernel") from error

    return tfma


def beam_options(args: Sequence[str] = ("--runner=DirectRunner",)) -> Any:
    """Beam ``PipelineOptions`` from command-line style ``args``; the DirectRunner runs in this process,
    on one worker, unless ``args`` say otherwise.

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    from apache_beam.options.pipeline_options import PipelineOptions

    if isinstance(args, str):
        raise TypeError(f"args must be a list of options such as ['--runner=DirectRunner'], got {args!r}")
    args = list(args)
    if not any(a.startswith("--runner=") and a != "--runner=DirectRunner" for a in args):
        for default in ("--direct_num_workers=1", "--direct_running_mode=in_memory"):
            if not any(a.split("=")[0] == default.split("=")[0] for a in args):
                args.append(default)
    return PipelineOptions(args)


def write_examples(frame: "pd.DataFrame", path: str | Path, floats: Sequence[str] = (),
                   strings: Sequence[str] = (), ints: Sequence[str] = ()) -> Path:
    """Write each row of ``frame`` as a serialized ``tf.train.Example`` to the TFRecord file ``path``.

    ``floats``, ``strings`` and ``ints`` name the columns stored as float, bytes and int64 features; each
    feature holds one value per example. Returns the path.

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb.
    """
    import tensorflow as tf

    from helpers.data import require_columns

    columns = [*floats, *strings, *ints]
    if not columns:
        raise ValueError("name at least one column in floats, strings or ints")
    if len(set(columns)) != len(columns):
        raise ValueError(f"a column is named twice in floats/strings/ints: {columns}")
    require_columns(frame, dict.fromkeys(columns), "write_examples")
    values = {c: frame[c].tolist() for c in columns}

    def feature(column: str, value: Any) -> Any:
        if column in floats:
            return tf.train.Feature(float_list=tf.train.FloatList(value=[float(value)]))
        if column in strings:
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(value).encode()]))
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for i in range(len(frame)):
            example = tf.train.Example(features=tf.train.Features(
                feature={c: feature(c, values[c][i]) for c in columns}))
            writer.write(example.SerializeToString())
    return path
